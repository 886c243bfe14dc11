"""Learning-rate groups: identical starts and batches, lockstep, stability figures, verdict, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gan_core.compare import (
    comparison_table,
    create_group,
    differing_settings,
    group_runs,
    groups,
    parse_learning_rates,
    stability,
    train_group,
    verdict,
)
from gan_core.config import ConfigError, make_config
from gan_core.runs import RunStore
from gan_core.trainer import GAN, Trainer, batch_for_step, load_training_data


def base_config(folder, **overrides):
    settings = dict(dataset=str(folder), batch_size=8, steps=4, sample_every=2, checkpoint_every=2, grid_size=4,
                    latent_dim=8)
    return make_config("dcgan32", **{**settings, **overrides})


def test_runs_of_a_group_start_from_identical_weights_and_see_identical_batches(tiny_folder, tmp_path):
    config = base_config(tiny_folder)
    dataset = load_training_data(config)
    slow, fast = create_group(config, [1e-4, 2e-4], RunStore(tmp_path), dataset)
    trainers = [Trainer(run, dataset) for run in (slow, fast)]
    for a, b in zip(trainers[0].gan.generator.weights, trainers[1].gan.generator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(trainers[0].gan.discriminator.weights, trainers[1].gan.discriminator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for step in range(3):
        batches = [batch_for_step(dataset.images, dataset.labels, run.config(), step) for run in (slow, fast)]
        for a, b in zip(*batches, strict=True):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(trainers[0].control_z, trainers[1].control_z)
    assert (slow.config().lr_g, fast.config().lr_g) == (1e-4, 2e-4)
    assert differing_settings([slow, fast]) == {"lr_d": [1e-4, 2e-4], "lr_g": [1e-4, 2e-4]}


def test_a_different_seed_gives_different_initial_weights(tiny_folder):
    first = GAN(base_config(tiny_folder, seed=1), 2, _default_strategy())
    second = GAN(base_config(tiny_folder, seed=2), 2, _default_strategy())
    assert not np.array_equal(first.generator.weights[0].numpy(), second.generator.weights[0].numpy())


def _default_strategy():
    import tensorflow as tf

    return tf.distribute.get_strategy()


def test_group_trains_in_lockstep_and_only_the_learning_rate_differs(tiny_folder, tmp_path):
    store = RunStore(tmp_path)
    config = base_config(tiny_folder)
    dataset = load_training_data(config)
    runs = create_group(config, [1e-4, 5e-4], store, dataset)
    order = []
    outcome = train_group(runs, dataset, on_event=lambda e: order.append((e.step, e.run_id)) if e.kind == "step"
                          else None)
    assert set(outcome.values()) == {"finished"}
    # Lockstep: each step is taken by every run before any run takes the next.
    assert [step for step, _ in order] == [1, 1, 2, 2, 3, 3, 4, 4]
    [(group_id, _)] = groups(store).items()
    assert [run.id for run in group_runs(store, group_id)] == [run.id for run in runs]
    table = comparison_table(runs)
    assert list(table["step"]) == [4, 4]
    assert table["g_stability"].notna().all()
    slow, fast = (run.read_metrics() for run in runs)
    assert slow.loc[0, "d_loss"] == pytest.approx(fast.loc[0, "d_loss"], rel=1e-6)  # same start, same first batch
    assert not np.allclose(slow["g_loss"].iloc[1:], fast["g_loss"].iloc[1:])  # then the learning rate tells


def test_stability_is_the_spread_of_step_to_step_changes():
    steady = np.linspace(1.0, 2.0, 50)  # constant change -> zero spread
    assert stability(steady) == pytest.approx(0.0, abs=1e-12)
    zigzag = np.array([0.0, 1.0] * 25 + [0.0])  # 50 changes alternating +1/-1 -> std 1
    assert stability(zigzag) == pytest.approx(1.0)
    assert stability(np.concatenate([np.full(100, 7.0), zigzag]), window=51) == pytest.approx(1.0)
    assert np.isnan(stability([1.0, 2.0]))


def test_verdict_names_the_most_stable_rate_and_by_how_much():
    table = pd.DataFrame({"lr_g": [1e-4, 2e-4], "lr_d": [1e-4, 2e-4], "step": [500, 500],
                          "g_stability": [0.01, 0.04]})
    text = verdict(table)
    assert "learning rate 0.0001 is the most stable" in text
    assert "0.0002" in text and "4.0×" in text
    flipped = table.assign(g_stability=[0.05, 0.01])
    assert "learning rate 0.0002 is the most stable" in verdict(flipped)
    assert "Not enough" in verdict(table.assign(g_stability=[np.nan, np.nan]))


def test_learning_rate_lists_are_checked():
    assert parse_learning_rates("1e-4, 2e-4") == (1e-4, 2e-4)
    for bad, message in [("1e-4", "2 to 6"), ("1e-4,1e-4", "only once"), ("fast,slow", "numbers"),
                         (",".join(["1e-4", "2e-4", "3e-4", "4e-4", "5e-4", "6e-4", "7e-4"]), "2 to 6")]:
        with pytest.raises(ConfigError, match=message):
            parse_learning_rates(bad)


def test_sweep_cli_runs_a_group_and_prints_the_verdict(tiny_folder, tmp_path, capsys):
    from gan_core.cli import main

    code = main(["sweep", "--dataset", str(tiny_folder), "--lr", "1e-4,3e-4", "--steps", "3", "--batch-size", "8",
                 "--latent-dim", "8", "--runs-dir", str(tmp_path / "runs")])
    output = capsys.readouterr().out
    assert code == 0
    assert "most stable" in output
    assert len(RunStore(tmp_path / "runs").runs()) == 2
