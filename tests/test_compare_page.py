"""The Compare page: launch a learning-rate group, watch it, survive a page switch, compare any runs."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_core.compare import group_runs, groups
from gan_core.config import make_config
from gan_core.runs import RunStore
from gan_core.trainer import start_run

ROOT = Path(__file__).resolve().parents[1]


def open_compare(monkeypatch, runs_dir: Path, session: dict | None = None) -> AppTest:
    monkeypatch.setenv("SYNTHBIN_RUNS", str(runs_dir))
    page = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=120)
    for key, value in (session or {}).items():
        page.session_state[key] = value
    page.run()
    assert not page.exception, page.exception
    return page


def tiny_settings(folder: Path) -> dict:
    return {"dataset_source": str(folder), "train_preset": "dcgan32", "train_steps": 30, "train_batch_size": 8,
            "train_latent_dim": 8, "train_sample_every": 5, "train_checkpoint_every": 10}


def test_launching_a_group_trains_one_run_per_rate_in_lockstep(tiny_folder, tmp_path, monkeypatch):
    page = open_compare(monkeypatch, tmp_path / "runs", tiny_settings(tiny_folder))
    assert page.text_input(key="compare_rates").value == "0.0001, 0.0002"
    page.text_input(key="compare_rates").set_value("1e-4, 3e-4").run()
    page.button(key="compare_launch").click().run()
    assert not page.exception, page.exception
    store = RunStore(tmp_path / "runs")
    [group_id] = groups(store)
    runs = group_runs(store, group_id)
    assert [run.config().lr_g for run in runs] == [1e-4, 3e-4]

    # Switch away (a fresh script run of another session) and come back: the group keeps training.
    deadline = time.monotonic() + 120
    while not all(run.status().state == "finished" for run in runs):
        assert time.monotonic() < deadline, [run.status() for run in runs]
        time.sleep(0.5)
    page = open_compare(monkeypatch, tmp_path / "runs")
    assert "most stable" in page.info[0].value
    assert page.dataframe[0].value.shape[0] == 2
    steps = [len(run.read_metrics()) for run in runs]
    assert steps == [30, 30]


def test_bad_learning_rates_show_a_readable_error(tiny_folder, tmp_path, monkeypatch):
    page = open_compare(monkeypatch, tmp_path / "runs", tiny_settings(tiny_folder))
    page.text_input(key="compare_rates").set_value("1e-4").run()
    page.button(key="compare_launch").click().run()
    assert not page.exception
    assert "2 to 6" in page.error[0].value
    assert RunStore(tmp_path / "runs").runs() == []


def test_any_runs_can_be_compared_and_differing_settings_are_named(tiny_folder, tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs")
    base = dict(dataset=str(tiny_folder), batch_size=8, steps=3, sample_every=3, checkpoint_every=3, grid_size=4,
                latent_dim=8)
    first = start_run(make_config("dcgan32", **base), store)
    second = start_run(make_config("dcgan32", **{**base, "seed": 5, "lr": 1e-4}), store)
    page = open_compare(monkeypatch, tmp_path / "runs")
    page.radio(key="compare_mode").set_value("Any runs").run()
    page.multiselect(key="compare_runs").set_value([first.id, second.id]).run()
    assert not page.exception, page.exception
    assert "seed" in page.warning[0].value
    assert page.dataframe[0].value.shape[0] == 2
