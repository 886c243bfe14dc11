"""The training loop end to end on a tiny dataset: files, stop, pause, resume, divergence, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gan_core.config import ConfigError, make_config
from gan_core.data import DatasetError
from gan_core.runs import RunStore
from gan_core.trainer import (
    TrainControl,
    Trainer,
    create_run,
    load_gan,
    load_training_data,
    resume_run,
    start_run,
    train_run,
)


def tiny_config(folder: Path, **overrides):
    settings = dict(dataset=str(folder), batch_size=8, steps=6, sample_every=3, checkpoint_every=3, grid_size=4,
                    latent_dim=8)
    settings.update(overrides)
    return make_config("dcgan32", **settings)


def stop_at(step: int, control: TrainControl):
    def on_event(event):
        if event.kind == "step" and event.step == step:
            control.request_stop()

    return on_event


def test_short_run_writes_every_file_of_the_run_store(tiny_folder, tmp_path):
    events = []
    run = start_run(tiny_config(tiny_folder), RunStore(tmp_path / "runs"), on_event=events.append)

    record = json.loads((run.path / "config.json").read_text())
    assert record["config"]["steps"] == 6
    assert record["class_names"] == ["battery", "shoes"]
    assert record["dataset_fingerprint"]
    assert {"tensorflow", "keras"} <= set(record["versions"])
    status = json.loads((run.path / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 6
    metrics = pd.read_csv(run.path / "metrics.csv")
    assert list(metrics["step"]) == [1, 2, 3, 4, 5, 6]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "images_per_sec"} <= set(metrics.columns)
    assert np.isfinite(metrics[["d_loss", "g_loss", "d_real", "d_fake"]].to_numpy()).all()
    assert [step for step, _ in run.samples()] == [3, 6]
    assert [step for step, _ in run.checkpoints()] == [3, 6]
    kinds = [event.kind for event in events]
    assert kinds[0] == "started" and kinds[-1] == "finished" and kinds.count("step") == 6


def test_same_config_and_seed_give_the_same_run(tiny_folder, tmp_path):
    store = RunStore(tmp_path / "runs")
    first = start_run(tiny_config(tiny_folder, steps=4), store).read_metrics()
    second = start_run(tiny_config(tiny_folder, steps=4), store).read_metrics()
    columns = ["d_loss", "g_loss", "d_real", "d_fake"]
    np.testing.assert_allclose(first[columns], second[columns], rtol=1e-6)


def test_stop_checkpoints_within_one_step_and_resume_matches_an_uninterrupted_run(tiny_folder, tmp_path):
    store = RunStore(tmp_path / "runs")
    config = tiny_config(tiny_folder, checkpoint_every=100)  # only stop and end write checkpoints
    straight = start_run(config, store)

    control = TrainControl()
    interrupted = start_run(config, store, on_event=stop_at(2, control), control=control)
    assert interrupted.status().state == "stopped"
    assert interrupted.status().step == 2
    assert [step for step, _ in interrupted.checkpoints()] == [2]

    assert resume_run(interrupted) == "finished"
    columns = ["d_loss", "g_loss", "d_real", "d_fake"]
    np.testing.assert_allclose(interrupted.read_metrics()[columns], straight.read_metrics()[columns], rtol=1e-5)
    assert list(interrupted.read_metrics()["step"]) == [1, 2, 3, 4, 5, 6]


def test_a_crash_between_checkpoints_resumes_from_the_last_one(tiny_folder, tmp_path):
    store = RunStore(tmp_path / "runs")
    config = tiny_config(tiny_folder, steps=5, checkpoint_every=2)
    dataset = load_training_data(config)
    run = create_run(config, store, dataset)

    def crash(event):
        if event.kind == "step" and event.step == 3:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError):
        train_run(run, dataset, on_event=crash)
    assert run.status().state == "failed" and "simulated crash" in run.status().error
    assert run.latest_checkpoint()[0] == 2
    assert resume_run(run, dataset=dataset) == "finished"
    assert list(run.read_metrics()["step"]) == [1, 2, 3, 4, 5]


def test_a_run_is_not_trained_further_on_changed_images(tiny_folder, tmp_path):
    store = RunStore(tmp_path / "runs")
    control = TrainControl()
    run = start_run(tiny_config(tiny_folder), store, on_event=stop_at(3, control), control=control)
    (tiny_folder / "shoes" / "shoes_000.png").unlink()  # the folder the run started on changes
    changed = load_training_data(run.config())
    for train_further in (lambda: resume_run(run), lambda: train_run(run, changed)):
        with pytest.raises(ConfigError, match="changed since run .* started.*Restore the original files"):
            train_further()
    status = run.status()
    assert status.state == "stopped" and status.step == 3  # refused before anything was touched
    assert run.latest_checkpoint()[0] == 3 and list(run.read_metrics()["step"]) == [1, 2, 3]


def test_pause_then_resume_continues_the_same_job(tiny_folder, tmp_path):
    control = TrainControl()
    seen = []

    def on_event(event):
        seen.append(event.kind)
        if event.kind == "step" and event.step == 2:
            control.request_pause()
        if event.kind == "paused":
            threading.Timer(0.3, control.request_resume).start()

    run = start_run(tiny_config(tiny_folder), RunStore(tmp_path / "runs"), on_event=on_event, control=control)
    assert run.status().state == "finished"
    assert seen.index("paused") < seen.index("resumed")
    assert 2 in [step for step, _ in run.checkpoints()] or run.latest_checkpoint()[0] == 6


def test_nan_loss_marks_the_run_diverged_and_keeps_the_last_good_checkpoint(tiny_folder, tmp_path):
    config = tiny_config(tiny_folder, checkpoint_every=2)
    dataset = load_training_data(config)
    run = create_run(config, RunStore(tmp_path / "runs"), dataset)

    def poison_after_first_checkpoint(event):
        if event.kind == "checkpoint" and event.step == 2:
            for variable in trainer.gan.discriminator.trainable_variables:
                variable.assign(np.full(variable.shape, np.nan, np.float32))

    trainer = Trainer(run, dataset, on_event=poison_after_first_checkpoint)
    assert trainer.fit() == "diverged"
    status = run.status()
    assert status.state == "diverged" and status.step == 3
    assert "diverged at step 3" in status.error
    assert [step for step, _ in run.checkpoints()] == [2]


def test_conditional_run_generates_each_class_on_demand(tiny_folder, tmp_path):
    config = tiny_config(tiny_folder, conditional=True, steps=2)
    run = start_run(config, RunStore(tmp_path / "runs"))
    assert run.status().state == "finished"
    gan, step = load_gan(run)
    assert step == 2 and gan.conditional
    z = np.random.default_rng(0).standard_normal((3, config.latent_dim)).astype(np.float32)
    as_battery = gan.generate(z, np.zeros(3))
    as_shoes = gan.generate(z, np.ones(3))
    assert as_battery.shape == (3, 32, 32, 3)
    assert np.abs(as_battery - as_shoes).mean() > 1e-4


def test_bad_settings_fail_before_training_and_name_the_setting(tiny_folder):
    with pytest.raises(ConfigError, match="batch_size"):
        load_training_data(tiny_config(tiny_folder, batch_size=64))
    with pytest.raises(DatasetError, match="metal"):
        load_training_data(tiny_config(tiny_folder, classes=("metal",)))
    with pytest.raises(ConfigError, match="latent_dim"):
        tiny_config(tiny_folder, latent_dim=0)
    with pytest.raises(ConfigError, match="lr_g"):
        tiny_config(tiny_folder, lr_g=0.0)
    with pytest.raises(ConfigError, match="image_size"):
        make_config("paper", image_size=64)


def test_mirrored_strategy_on_two_logical_cpus(tiny_folder, tmp_path):
    """The step runs under MirroredStrategy with two replicas (needs a fresh process to split the CPU)."""
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from gan_core.config import make_config
        from gan_core.runs import RunStore
        from gan_core.trainer import start_run
        from gan_core.distribute import make_strategy
        config = make_config("dcgan32", dataset={str(tiny_folder)!r}, batch_size=8, steps=3, sample_every=3,
                             checkpoint_every=3, grid_size=4, latent_dim=8, distribute="mirrored")
        strategy = make_strategy(config)
        print("replicas", strategy.num_replicas_in_sync)
        # each replica gets its half of the very batch one device would see
        from gan_core.trainer import batch_for_step, batches, load_training_data
        dataset = load_training_data(config)
        parts = next(batches(dataset, config, 1, strategy))
        for split, whole in zip(parts, batch_for_step(dataset.images, dataset.labels, config, 1), strict=True):
            halves = [t.numpy() for t in strategy.experimental_local_results(split)]
            assert [len(h) for h in halves] == [4, 4] and (tf.concat(halves, 0).numpy() == whole.numpy()).all()
        print("batches split")
        run = start_run(config, RunStore({str(tmp_path / "runs")!r}))
        print("state", run.status().state, len(run.read_metrics()))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas 2" in result.stdout and "batches split" in result.stdout
    assert "state finished 3" in result.stdout


def test_samples_come_from_a_moving_average_of_the_generator(tiny_folder, tmp_path):
    config = tiny_config(tiny_folder, steps=3, g_ema=0.9, conditional=False)
    dataset = load_training_data(config)
    trainer = Trainer(create_run(config, RunStore(tmp_path / "runs"), dataset), dataset)
    gan = trainer.gan
    expected = gan.generator.weights[0].numpy()
    live_after_step = []
    trainer.on_event = lambda event: event.kind == "step" and live_after_step.append(gan.generator.weights[0].numpy())
    trainer.fit()

    for updates, live in enumerate(live_after_step, start=1):  # the decay ramps up: min(0.9, (1+n)/(10+n))
        decay = min(0.9, (1 + updates) / (10 + updates))
        expected = decay * expected + (1 - decay) * live
    np.testing.assert_allclose(gan.generator_ema.weights[0].numpy(), expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(expected, live_after_step[-1])
    for average, live in zip(gan.generator_ema.weights, gan.generator.weights, strict=True):
        if not average.trainable:  # batch-norm statistics are the live generator's
            np.testing.assert_array_equal(average.numpy(), live.numpy())
    z = np.random.default_rng(0).standard_normal((2, config.latent_dim)).astype(np.float32)
    np.testing.assert_allclose(gan.generate(z), gan.generator_ema(z, training=False), atol=1e-6)


def test_without_a_moving_average_samples_come_from_the_live_generator(tiny_folder, tmp_path):
    config = tiny_config(tiny_folder, steps=2, g_ema=0.0, conditional=False)
    gan, _ = load_gan(start_run(config, RunStore(tmp_path / "runs")))
    assert gan.generator_ema is None
    z = np.random.default_rng(0).standard_normal((2, config.latent_dim)).astype(np.float32)
    np.testing.assert_allclose(gan.generate(z), gan.generator(z, training=False), atol=1e-6)
