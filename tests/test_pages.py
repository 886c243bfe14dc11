"""AppTests of the Dataset, Train and Runs pages (through app.py's navigation) on a tiny on-the-fly dataset."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_core.runs import RunStore

ROOT = Path(__file__).resolve().parents[1]


def open_page(name: str, monkeypatch, runs_dir: Path, session: dict | None = None) -> AppTest:
    monkeypatch.setenv("SYNTHBIN_RUNS", str(runs_dir))
    page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in (session or {}).items():
        page.session_state[key] = value
    page.switch_page(f"app_pages/{name}.py")
    page.run()
    assert not page.exception, page.exception
    return page


def errors(page: AppTest) -> list[str]:
    return [element.value for element in page.main if type(element).__name__ == "Error"]


def tiny_training(folder: Path, **overrides) -> dict:
    settings = {"dataset_source": str(folder), "train_preset": "dcgan32", "train_steps": 20000, "train_batch_size": 8,
                "train_latent_dim": 8, "train_sample_every": 2, "train_checkpoint_every": 50}
    return {**settings, **overrides}


def wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_dataset_page_loads_a_folder_and_shows_counts_and_skipped_files(tiny_folder, tmp_path, monkeypatch):
    (tiny_folder / "battery" / "broken.jpg").write_bytes(b"not a jpeg")
    page = open_page("dataset", monkeypatch, tmp_path / "runs")
    assert page.radio(key="dataset_kind").options == ["Built-in demo", "Folder on the server", "Upload a .zip"]
    page.radio(key="dataset_kind").set_value("Folder on the server").run()
    page.text_input(key="dataset_folder").set_value(str(tiny_folder)).run()
    page.button(key="load_folder").click().run()
    assert not page.exception, page.exception
    assert page.session_state["dataset_source"] == str(tiny_folder)
    assert page.multiselect(key="dataset_classes").options == ["battery", "shoes"]
    texts = [element.value for kind in ("markdown", "caption", "warning", "info") for element in getattr(page, kind)]
    tables = [frame.value.to_string() for frame in page.dataframe]
    assert any("broken.jpg" in text for text in texts + tables)


def test_dataset_page_explains_a_bad_folder_without_a_traceback(tmp_path, monkeypatch):
    page = open_page("dataset", monkeypatch, tmp_path / "runs")
    page.radio(key="dataset_kind").set_value("Folder on the server").run()
    page.text_input(key="dataset_folder").set_value(str(tmp_path / "nowhere")).run()
    page.button(key="load_folder").click().run()
    assert not page.exception
    assert any("No folder at" in text for text in errors(page))


def test_train_page_refuses_a_setting_out_of_range_and_names_it(tiny_folder, tmp_path, monkeypatch):
    page = open_page("train", monkeypatch, tmp_path / "runs", tiny_training(tiny_folder, train_latent_dim=0))
    assert not page.exception
    assert any("Latent dimension" in text for text in errors(page))
    assert page.button(key="start_training").disabled


def test_train_page_starts_and_stops_a_job_and_the_run_appears_in_runs(tiny_folder, tmp_path, monkeypatch):
    page = open_page("train", monkeypatch, tmp_path / "runs", tiny_training(tiny_folder))
    for key in ("train_preset", "train_image_size", "train_latent_dim", "train_batch_size", "train_steps", "train_lr",
                "train_conditional", "train_seed"):
        assert page.session_state[key] is not None
    page.button(key="start_training").click().run()
    assert not page.exception, page.exception
    [run] = RunStore(tmp_path / "runs").runs()
    wait_for(lambda: len(run.read_metrics()) >= 3)
    page.run()
    assert not page.exception, page.exception
    page.button(key="live_stop").click().run()
    wait_for(lambda: run.status().state == "stopped")
    assert run.latest_checkpoint() is not None

    runs_page = open_page("runs", monkeypatch, tmp_path / "runs")
    assert runs_page.selectbox(key="runs_open").value == run.id
    assert run.id in runs_page.dataframe[0].value.to_string(max_colwidth=None)
    wait_for(lambda: "runs_resume" in [button.key for button in runs_page.run().button])  # the job thread has ended
    assert runs_page.button(key="runs_resume").label == "Resume training"


def test_runs_page_deletes_a_run_after_confirmation(tiny_folder, tmp_path, monkeypatch):
    from gan_core.config import make_config
    from gan_core.trainer import start_run

    config = make_config("dcgan32", dataset=str(tiny_folder), steps=2, batch_size=8, sample_every=2,
                         checkpoint_every=2, grid_size=4, latent_dim=8)
    run = start_run(config, RunStore(tmp_path / "runs"))
    page = open_page("runs", monkeypatch, tmp_path / "runs")
    page.button(key="runs_delete").click().run()
    assert "cannot be undone" in page.warning[0].value
    page.button(key="runs_delete_yes").click().run()
    assert not page.exception, page.exception
    assert not run.path.exists()
    assert "No runs yet" in page.info[0].value
