"""The dashboard's Dataset, Train and Runs pages, driven by Streamlit's AppTest.

Every test runs against its own cache and run folders (``isolated_storage`` in
conftest) and a tiny two-class folder of 40 px PNGs instead of the demo.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gan_core.config import ConfigError, make_config
from gan_core.paths import runs_dir
from gan_core.runs import Run, RunStore
from gan_core.trainer import create_run, load_training_data
from ui import charts, datasets, state, widgets
from ui.metrics import MetricsTail

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TRAIN, RUNS = "app_pages/train.py", "app_pages/runs.py"
JOB_TIMEOUT_S = 120
TRAIN_KEYS = ("train_preset", "train_image_size", "train_latent_dim", "train_batch_size", "train_steps",
              "train_separate_lr", "train_lr", "train_conditional", "train_sample_every",
              "train_checkpoint_every", "train_seed")


@pytest.fixture
def app(tiny_folder: Path) -> Iterator[AppTest]:
    """The app with the tiny folder as this session's dataset; stops any job it started."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["dataset_source"] = str(tiny_folder)
    yield at.run()
    assert "Something went wrong" not in texts(at.error)  # an unexpected exception, caught for the user
    manager = state._job_manager(str(runs_dir().resolve()))
    for job in manager.active_jobs():
        manager.stop(job.id)
        manager.wait(job.id, timeout=JOB_TIMEOUT_S)


def wait_for(condition, what: str, timeout: float = JOB_TIMEOUT_S) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def wait_for_progress(app: AppTest, text: str) -> None:
    """Rerun the page until its progress line says ``text`` (the job ends just after the run's status does)."""
    wait_for(lambda: text in texts(app.run().get("progress")), f"the page to show '{text}'")


def only_run() -> Run:
    [run] = RunStore(runs_dir()).runs()
    return run


def small_settings(at: AppTest, steps: int) -> AppTest:
    at.switch_page(TRAIN).run()
    for key, value in (("train_steps", steps), ("train_batch_size", 8), ("train_sample_every", 2),
                       ("train_checkpoint_every", 2)):
        at.number_input(key=key).set_value(value)
    return at.run()


def texts(elements) -> str:
    return " ".join(str(getattr(element, "text", None) or element.value) for element in elements)


# -- app and Dataset page ------------------------------------------------------------


def test_the_app_opens_on_the_demo_without_drawing_it():
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception
    assert "drawn on this computer the first time" in texts(at.info)
    assert at.button(key="load_demo").label == "Use the demo dataset"
    assert at.radio(key="dataset_kind").value == "Built-in demo"
    assert "TensorFlow computes on" in texts(at.sidebar.caption)
    assert "Nothing is training" in texts(at.sidebar.caption)


def test_dataset_page_shows_counts_classes_and_warnings(app):
    assert not app.exception
    assert app.multiselect(key="dataset_classes").value == ["battery", "shoes"]
    assert {m.label: m.value for m in app.metric}["Images picked"] == "32"
    assert "Use KID" in texts(app.warning)
    assert "not photographs" not in texts(app.warning)
    assert len(app.get("plotly_chart")) == 1


def test_picking_classes_changes_the_training_data(app):
    app.multiselect(key="dataset_classes").unselect("shoes").run()
    assert {m.label: m.value for m in app.metric}["Images picked"] == "16"
    app.switch_page(TRAIN).run()
    assert "battery" in texts(app.markdown) and "shoes" not in texts(app.markdown)


@pytest.mark.parametrize(("path", "message"), [
    ("/no/such/folder", "No folder at"),
    ("bad.zip", "not a readable .zip archive"),
])
def test_a_bad_folder_or_zip_shows_a_readable_error(app, tmp_path, path, message):
    if path == "bad.zip":
        path = str(tmp_path / "bad.zip")
        Path(path).write_bytes(b"this is not a zip file")
    app.radio(key="dataset_kind").set_value("Folder on the server").run()
    app.text_input(key="dataset_folder").input(path).run()
    app.button(key="load_folder").click().run()
    assert not app.exception
    assert message in texts(app.error)
    assert "Traceback" not in texts(app.error)
    assert app.multiselect(key="dataset_classes").value == ["battery", "shoes"]  # the old dataset stays


def test_an_uploaded_zip_is_stored_by_content_in_the_cache(tmp_path):
    first = datasets.save_upload(io.BytesIO(b"zip bytes"), "My Garbage (1).zip")
    again = datasets.save_upload(io.BytesIO(b"zip bytes"), "My Garbage (1).zip")
    assert first == again and first.read_bytes() == b"zip bytes"
    assert first.parent.name == "uploads" and first.name.startswith("My_Garbage_1_")


def test_warnings_name_imbalance_small_classes_and_the_demo():
    found = " ".join(datasets.warnings_for({"metal": 4000, "paper": 900}, is_demo=True))
    assert "not photographs" in found
    assert "unbalanced" in found and "'metal' has 4,000" in found
    assert "'paper' has fewer than 2,048" in found and "KID" in found
    assert datasets.warnings_for({"metal": 3000, "paper": 2500}, is_demo=False) == []


# -- Train page ----------------------------------------------------------------------------


def test_train_page_has_every_setting_with_help_text(app):
    app.switch_page(TRAIN).run()
    assert not app.exception
    widgets_by_key = {w.key: w for kind in ("selectbox", "number_input", "toggle") for w in getattr(app, kind)}
    for key in TRAIN_KEYS:
        assert widgets_by_key[key].help, f"{key} has no help text"
    assert app.selectbox(key="train_preset").value == "dcgan32"
    assert not app.button(key="start_training").disabled


def test_a_preset_fills_in_its_defaults(app):
    app.switch_page(TRAIN).run()
    app.selectbox(key="train_preset").select("dcgan64").run()
    assert app.selectbox(key="train_image_size").value == 64
    assert app.number_input(key="train_batch_size").value == 32


@pytest.mark.parametrize(("key", "value", "label"), [
    ("train_lr", 5.0, "Learning rate"),
    ("train_latent_dim", 0, "Latent dimension"),
    ("train_steps", 0, "Training steps"),
])
def test_a_setting_out_of_range_is_named_and_blocks_start(app, key, value, label):
    app.switch_page(TRAIN).run()
    app.number_input(key=key).set_value(value).run()
    assert not app.exception
    assert f"**{label}**" in texts(app.error)
    assert app.button(key="start_training").disabled


def test_separate_learning_rates_are_validated_separately(app):
    app.switch_page(TRAIN).run()
    app.toggle(key="train_separate_lr").set_value(True).run()
    app.number_input(key="train_lr_d").set_value(2.0).run()
    assert "**Discriminator learning rate**" in texts(app.error)


def test_starting_with_no_class_picked_is_refused(app):
    app.multiselect(key="dataset_classes").set_value([]).run()
    assert "No class is picked" in texts(app.error)
    app.switch_page(TRAIN).run()
    assert "no class is picked" in texts(app.error)
    assert app.button(key="start_training").disabled


def test_a_batch_larger_than_the_dataset_is_refused_at_start(app):
    small_settings(app, steps=5)
    app.number_input(key="train_batch_size").set_value(64).run()
    app.button(key="start_training").click().run()
    assert "**Batch size**" in texts(app.error) and "larger than the dataset" in texts(app.error)
    assert RunStore(runs_dir()).runs() == []


def test_start_a_tiny_job_stop_it_and_find_it_in_runs(app):
    small_settings(app, steps=2000)
    app.button(key="start_training").click().run()
    assert not app.exception
    run = only_run()
    wait_for(lambda: len(run.read_metrics()) >= 2, "the first logged steps")
    app.run()
    assert "Training · step" in texts(app.get("progress"))
    assert len(app.get("plotly_chart")) == 1
    assert run.id in texts(app.sidebar.caption)

    app.button(key="live_pause").click().run()
    wait_for(lambda: run.status().state == "paused", "the job to pause")
    app.button(key="live_unpause").click().run()
    paused_at = run.status().step
    wait_for(lambda: run.read_metrics()["step"].max() > paused_at + 1, "the job to continue")

    app.button(key="live_stop").click().run()
    wait_for_progress(app, "Stopped at step")
    assert app.button(key="live_resume").label == "Resume training"

    app.switch_page(RUNS).run()
    assert not app.exception
    assert app.selectbox(key="runs_open").value == run.id
    table = app.dataframe[0].value
    assert list(table["Run"]) == [run.id] and list(table["State"]) == ["stopped"]
    assert app.button(key="runs_resume").label == "Resume training"


def test_a_second_job_waits_in_the_queue(app):
    small_settings(app, steps=2000)
    app.button(key="start_training").click().run()
    app.button(key="start_training").click().run()
    second = RunStore(runs_dir()).get(app.session_state["train_run_id"])  # the one the page shows
    [first] = [run for run in RunStore(runs_dir()).runs() if run.id != second.id]
    assert "Queued: waits for a free training slot" in texts(app.get("progress"))
    assert f"Run {second.id}" in texts(app.subheader)
    assert second.status().state == "queued"
    app.button(key="live_stop").click().run()  # a queued job stops at once
    assert second.status().state == "stopped"
    assert first.status().state in ("queued", "running")


def test_a_run_stopped_before_a_restart_resumes_from_the_runs_page(app, tiny_folder):
    config = make_config(dataset=str(tiny_folder), steps=3, batch_size=8, sample_every=1, checkpoint_every=1)
    run = create_run(config, RunStore(runs_dir()), load_training_data(config))
    run.set_status("failed", 0, "Interrupted: the server stopped.")  # what a restart leaves behind
    app.switch_page(RUNS).run()
    assert "Interrupted" in texts(app.error)
    app.button(key="runs_resume").click().run()
    assert not app.exception
    wait_for_progress(app, "Finished at step 3")
    assert app.select_slider(key="runs_sample_step").value == 3


def test_an_earlier_run_can_be_continued_from_the_train_page(app, tiny_folder):
    config = make_config(dataset=str(tiny_folder), steps=3, batch_size=8, sample_every=1, checkpoint_every=1)
    run = create_run(config, RunStore(runs_dir()), load_training_data(config))
    run.set_status("stopped", 0)
    app.switch_page(TRAIN).run()
    assert app.selectbox(key="resume_pick").value == run.id
    app.button(key="resume_earlier").click().run()
    assert not app.exception
    wait_for(lambda: run.status().state == "finished", "the resumed run to finish")
    app.run()
    assert f"Run {run.id}" in texts(app.subheader)


def test_deleting_a_run_asks_first(app, tiny_folder):
    config = make_config(dataset=str(tiny_folder), steps=3, batch_size=8)
    run = create_run(config, RunStore(runs_dir()), load_training_data(config))
    run.set_status("stopped", 0)
    app.switch_page(RUNS).run()
    app.button(key="runs_delete").click().run()
    assert "cannot be undone" in texts(app.warning)
    app.button(key="runs_delete_no").click().run()
    assert run.path.exists()
    app.button(key="runs_delete").click().run()
    app.button(key="runs_delete_yes").click().run()
    assert not run.path.exists()
    assert "No runs yet" in texts(app.info)


def test_runs_page_without_runs_says_so(app):
    app.switch_page(RUNS).run()
    assert not app.exception
    assert "No runs yet" in texts(app.info)


# -- shared code ----------------------------------------------------------------------------


def test_errors_read_as_plain_words_never_as_tracebacks():
    named = widgets.error_text(ConfigError("Setting 'batch_size': too big."))
    assert named == "**Batch size** (`batch_size`): too big."
    unexpected = widgets.error_text(KeyError("x"), "loading the dataset")
    assert unexpected.startswith("Something went wrong while loading the dataset: KeyError")
    assert "Traceback" not in unexpected


def test_max_running_jobs_comes_from_the_environment(monkeypatch):
    assert state.max_running_jobs() == 1
    monkeypatch.setenv(state.MAX_JOBS_ENV, "3")
    assert state.max_running_jobs() == 3
    monkeypatch.setenv(state.MAX_JOBS_ENV, "lots")
    assert state.max_running_jobs() == 1


def test_loss_figure_sends_at_most_1000_points_per_line():
    rows = 5000
    rng = np.random.default_rng(0)
    metrics = pd.DataFrame({"step": np.arange(1, rows + 1), **{name: rng.random(rows) for name in
                                                               ("d_loss", "g_loss", "d_real", "d_fake")}})
    figure = charts.loss_figure(metrics, smoothing=0.9)
    assert len(figure["data"]) == 8  # raw + smoothed for D loss, G loss, D(real), D(fake)
    assert all(len(trace["x"]) <= charts.MAX_POINTS for trace in figure["data"])
    assert figure["data"][1]["x"][-1] == rows  # the newest step is always shown
    assert len(charts.loss_figure(metrics, smoothing=0)["data"]) == 4


def test_metrics_tail_reads_only_new_rows_and_survives_a_rewrite(tmp_path):
    run = RunStore(tmp_path).create(make_config(steps=10), class_names=["a"], dataset_fingerprint="f")
    tail = MetricsTail(run.metrics_path)
    assert tail.read().empty
    row = {"d_loss": 1.0, "g_loss": 0.5, "d_real": 0.6, "d_fake": 0.4, "images_per_sec": 10, "elapsed_s": 1}
    run.append_metrics([{"step": 1, **row}, {"step": 2, **row}])
    with open(run.metrics_path, "a") as handle:
        handle.write("3,0.9,")  # a row being written
    assert list(tail.read()["step"]) == [1, 2]
    with open(run.metrics_path, "a") as handle:
        handle.write("0.4,0.5,0.5,10,3\n")
    pd.testing.assert_frame_equal(tail.read(), run.read_metrics(), check_dtype=False)
    run.truncate_metrics(1)  # a resume rewrites the file
    assert list(tail.read()["step"]) == [1]
