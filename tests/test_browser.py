"""End to end in a real headless Chromium: a tiny run on the demo watched live, stopped and found in Runs;
a zip upload; and a zip of generated images downloaded from the Generate page.

Uses Debian's ``/usr/bin/chromium`` through Playwright (never ``playwright install``) and a real
``streamlit run app.py`` server on 127.0.0.1. The demo is drawn once into ``SYNTHBIN_CACHE`` when that
is set for the test session (as ``.ci/run`` does), else into a temporary folder (about a minute).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_class_folders

from bench import harness
from gan_core.config import make_config
from gan_core.runs import Run, RunStore
from gan_core.trainer import start_run

OUTER_CACHE = os.environ.get("SYNTHBIN_CACHE")  # read before conftest points it at a per-test folder
UI_TIMEOUT_MS = 180_000

pytestmark = pytest.mark.skipif(not harness.CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A dashboard server with an empty run store; yields (url, run store folder)."""
    base = tmp_path_factory.mktemp("browser")
    env = {"SYNTHBIN_CACHE": OUTER_CACHE or str(base / "cache"), "SYNTHBIN_RUNS": str(base / "runs")}
    with harness.streamlit_server(env, base / "server.log") as url:
        yield url, base / "runs"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with harness.chromium() as chromium:
        yield chromium


def chart_points(page) -> int:
    """Points of the smoothed D-loss line in the live Plotly chart."""
    return page.evaluate("() => { const plot = document.querySelector('.js-plotly-plot');"
                         " return plot && plot._fullData ? plot._fullData[1]._length || 0 : 0; }")


def current_step(page) -> int:
    text = page.get_by_text("Training · step").first.inner_text()
    return int(text.split("step ")[1].split(" of")[0].replace(",", ""))


def opened_run(page) -> str:
    """What the Runs page's 'Open a run' box shows, e.g. '20261204-… (running)'."""
    box = page.get_by_test_id("stSelectbox").first
    field = box.locator("input")
    return (field.input_value() if field.count() else "") or box.inner_text()


def wait_until(condition, what: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def page(server, browser, tmp_path) -> Iterator[object]:
    """A browser tab on the app; its last screen is saved in the test's tmp_path (see the captured output)."""
    tab = harness.open_app(browser, server[0], height=1400)
    tab.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield tab
    finally:
        tab.screenshot(path=str(tmp_path / "last_screen.png"))
        print(f"last screen: {tmp_path / 'last_screen.png'}")
        tab.close()


def test_train_on_the_demo_watch_it_live_stop_it_and_find_it(server, page):
    runs = server[1]

    # Dataset: the demo, two classes
    harness.use_demo(page)
    harness.pick_classes(page, ("battery", "shoes"))
    page.get_by_text("2 of 12").wait_for()

    # Train: a small run that samples often
    harness.go_to(page, "Train")
    page.get_by_text("battery, shoes").wait_for()
    harness.set_number(page, "Training steps", 1000)
    page.get_by_text("More settings").click()
    harness.set_number(page, "Sample grid every (steps)", 5)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Training · step").first.wait_for()

    # live: the chart gains points, a sample grid appears
    wait_until(lambda: chart_points(page) > 0, "the loss chart")
    first = chart_points(page)
    wait_until(lambda: chart_points(page) > first, "the loss chart to gain points", timeout=60)
    page.get_by_text("Generated images at step").wait_for()
    assert page.locator("[data-testid='stImage'] img").count() >= 1

    # leave and come back while it runs: the same job, further on
    step = current_step(page)
    harness.go_to(page, "Runs")
    page.get_by_text("Training · step").first.wait_for()
    assert opened_run(page).endswith("(running)")
    harness.go_to(page, "Train")
    wait_until(lambda: current_step(page) > step, "training to continue after switching pages", timeout=60)

    # stop it, then find it in Runs
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped at step").wait_for()
    [run] = [path.name for path in runs.iterdir() if (path / "config.json").exists()]
    harness.go_to(page, "Runs")
    page.get_by_text("Stopped at step").wait_for()
    assert opened_run(page) == f"{run} (stopped)"
    assert page.get_by_role("button", name="Resume training").is_visible()


def test_upload_a_zip_then_a_broken_one(page, tmp_path):
    archive = shutil.make_archive(str(tmp_path / "my garbage"), "zip", write_class_folders(tmp_path / "data",
                                                                                          {"metal": 6, "paper": 4}))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK not really a zip")
    page.get_by_text("Upload a .zip").click()
    for path in (archive, broken):
        uploader = page.get_by_test_id("stFileUploader")
        uploader.locator("input[type='file']").set_input_files(str(path))
        uploader.get_by_text(Path(path).name).wait_for()  # else the click may load the previous upload
        harness.wait_for_script(page)
        page.get_by_role("button", name="Load zip").click()
        harness.wait_for_script(page)
        if path == archive:
            page.get_by_text("Dataset: the uploaded").wait_for()
            page.get_by_text("2 of 2").wait_for()
    page.get_by_text("is not a readable .zip archive").wait_for()
    assert page.get_by_text("Traceback").count() == 0
    page.get_by_text("2 of 2").wait_for()  # the good dataset stays


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Iterator[tuple[str, Run]]:
    """A server over a run store holding one finished two-class conditional run; yields (url, run)."""
    base = tmp_path_factory.mktemp("browser-generate")
    env = {"SYNTHBIN_CACHE": str(base / "cache"), "SYNTHBIN_RUNS": str(base / "runs")}
    folder = write_class_folders(base / "tiny", {"battery": 16, "shoes": 16})
    config = make_config("dcgan32", dataset=str(folder), steps=2, batch_size=8, checkpoint_every=2, sample_every=2,
                         grid_size=4, latent_dim=8, conditional=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNTHBIN_CACHE", env["SYNTHBIN_CACHE"])
        run = start_run(config, RunStore(base / "runs"))
    with harness.streamlit_server(env, base / "server.log") as url:
        yield url, run


def test_generate_page_downloads_a_zip_of_class_folders(tiny_run, browser, tmp_path):
    url, run = tiny_run
    page = harness.open_app(browser, url, "generate")
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.get_by_role("heading", name="Generate images").wait_for()
    page.get_by_text("The first images of the zip").wait_for()  # the preview grid's caption

    harness.set_number(page, "Images per class", 3)
    page.get_by_text("6 synthetic images").wait_for()  # the page re-ran with the new count
    page.get_by_role("button", name="Generate the zip").click()
    download_button = page.get_by_role("button", name="Download")
    download_button.wait_for()
    with page.expect_download() as download_info:
        download_button.click()
    target = tmp_path / "download.zip"
    download_info.value.save_as(target)
    page.close()

    archive = zipfile.ZipFile(target)
    names = archive.namelist()
    for folder in ("battery", "shoes"):
        files = [name for name in names if name.startswith(f"{folder}/")]
        assert len(files) == 3 and all(Path(name).name.startswith(f"synthbin_{run.id}_") for name in files)
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open("manifest.csv"), encoding="utf-8")))
    assert len(rows) == 6 and {row["run_id"] for row in rows} == {run.id}
    assert archive.read("config.json") == (run.path / "config.json").read_bytes()
