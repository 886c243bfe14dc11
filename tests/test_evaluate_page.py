"""The Evaluate page: guards, the estimate, a background evaluation with results and history, offline weights."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import write_class_folders
from test_metrics import small_extractor

from gan_core import evaluation, features
from gan_core.config import make_config
from gan_core.runs import Run, RunStore
from gan_core.trainer import start_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Run:
    base = tmp_path_factory.mktemp("evaluate_page")
    folder = write_class_folders(base / "tiny", {"battery": 10, "shoes": 10})
    config = make_config("dcgan32", dataset=str(folder), steps=2, batch_size=8, checkpoint_every=2, sample_every=2,
                         grid_size=4, latent_dim=8, conditional=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNTHBIN_CACHE", str(base / "cache"))
        return start_run(config, RunStore(base / "runs"))


@pytest.fixture
def tiny_run(trained_run, tmp_path) -> Run:
    """A private copy in a run store of its own, so every test starts without stored scores or jobs."""
    return Run(shutil.copytree(trained_run.path, tmp_path / "runs" / trained_run.id))


@pytest.fixture
def offline(tmp_path, monkeypatch) -> Path:
    """No weights anywhere and no network; returns where the page should tell the user to put the file."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv(features.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(features, "reachable", lambda host, **kwargs: False)
    return tmp_path / "home" / ".keras" / "models" / features.WEIGHTS_FILE


def open_page(monkeypatch, runs_dir: Path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SYNTHBIN_RUNS", str(runs_dir))
    page = AppTest.from_file(str(ROOT / "app_pages" / "evaluate.py"), default_timeout=120)
    page.run()
    assert not page.exception, page.exception
    return page


def start_and_wait(page, timeout: float = 120.0):
    page.multiselect(key="eval_metrics").set_value(["fid", "kid"])
    page.number_input(key="eval_num_samples").set_value(6)
    page.run()
    page.button(key="eval_start").click().run()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.run()
        assert not page.exception, page.exception
        if page.success or page.error:
            return page
        time.sleep(0.3)
    raise AssertionError("the evaluation did not finish")


def test_page_without_checkpoints_says_what_to_do(tmp_path, monkeypatch):
    page = open_page(monkeypatch, tmp_path / "empty")
    assert "No run has a checkpoint yet" in page.info[0].value


def test_page_estimates_evaluates_in_the_background_and_plots_the_history(tiny_run, tmp_path, monkeypatch):
    stand_in = tmp_path / "stand-in.weights.h5"  # found by the weights lookup; the network is a small one
    stand_in.write_bytes(b"weights")
    monkeypatch.setenv(features.WEIGHTS_ENV, str(stand_in))
    monkeypatch.setattr(evaluation, "inception_extractor", lambda weights=None: small_extractor())
    page = open_page(monkeypatch, tiny_run.path.parent)
    text = " ".join(block.value for block in page.markdown)
    assert "Compares **2,048 generated** images with **20 real** images" in text
    assert "Estimated time" in text
    assert any("fewer than the 2,048" in block.value for block in page.warning)
    assert any("2015 TensorFlow Inception graph" in block.value for block in page.caption)

    page = start_and_wait(page)
    assert not page.error, page.error[0].value
    assert "step 2" in page.success[0].value and "small-net" in page.success[0].value
    table = page.dataframe[0].value
    assert set(table["Classes"]) == {"all", "battery", "shoes"}
    assert set(table["Generated images"]) == {6, 3}
    assert len(page.get("plotly_chart")) == 1
    assert len(evaluation.read_results(tiny_run)) == len(table)


def test_page_shows_where_to_put_the_weights_when_offline(tiny_run, tmp_path, monkeypatch, offline):
    page = open_page(monkeypatch, tiny_run.path.parent)
    assert any("not on this machine yet" in block.value for block in page.info)
    page = start_and_wait(page)
    assert "does not answer" in page.error[0].value
    codes = [block.value for block in page.code]
    assert features.WEIGHTS_URL in codes and str(offline) in codes

    page.text_input(key="eval_weights").set_value(str(tmp_path / "nowhere.h5")).run()
    assert not page.exception
    assert "no Inception-v3 weights file at" in page.error[0].value
