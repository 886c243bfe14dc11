"""End to end in a real browser: pick the demo and two classes, train, watch, switch pages, stop, find the run.

Uses Debian's Chromium (never ``playwright install``); skipped only where /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser_generate import CHROMIUM, _free_port, _wait_until_healthy

from gan_core.runs import RunStore

ROOT = Path(__file__).resolve().parents[1]
UI_TIMEOUT_MS = 300_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser-train")
    # SYNTHBIN_TEST_DEMO_CACHE lets a developer reuse an already drawn demo; otherwise it is drawn here.
    cache = Path(os.environ.get("SYNTHBIN_TEST_DEMO_CACHE", base / "cache"))
    return {"cache": cache, "runs": base / "runs", "logs": base}


@pytest.fixture(scope="module")
def server(storage) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "SYNTHBIN_RUNS": str(storage["runs"]), "SYNTHBIN_CACHE": str(storage["cache"]),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true"]
    log = open(storage["logs"] / "streamlit.log", "wb")  # noqa: SIM115 - closed in teardown
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield page
        finally:
            browser.close()


def nav(page, slug: str) -> None:
    """Click a sidebar link (a new URL would start a new session and lose the picks)."""
    page.locator(f'[data-testid="stSidebarNavLink"][href$="/{slug}"]').click()


def chart_points(page) -> int:
    """Points of the first line of the loss chart, read from Plotly's own data in the page."""
    return page.evaluate("""() => {
        const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
        const traces = plot && (plot._fullData || plot.data);
        return traces && traces.length && traces[0].x ? traces[0].x.length || 0 : 0;
    }""")


def wait_for_more_points(page, than: int, timeout_s: float = 300) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        points = chart_points(page)
        if points > than:
            return points
        time.sleep(0.5)
    raise AssertionError(f"the loss chart stayed at {than} points")


def test_train_on_two_demo_classes_watch_switch_pages_stop_and_find_the_run(server, page, storage):
    page.goto(server)
    page.get_by_role("button", name="Use the demo dataset").click()
    classes = page.get_by_role("combobox", name="Classes to train on")
    classes.wait_for()
    page.locator('[data-testid="stMultiSelect"] [aria-label="Clear all"]').first.click()
    for name in ("battery", "shoes"):
        classes.fill(name)
        classes.press("Enter")

    nav(page, "train")
    page.get_by_role("heading", name="Train a GAN").wait_for()
    page.get_by_text("battery, shoes").first.wait_for()
    steps = page.get_by_role("spinbutton", name="Training steps")
    steps.fill("100000")
    steps.press("Enter")
    page.get_by_text("More settings").click()
    every = page.get_by_role("spinbutton", name="Sample grid every (steps)")
    every.fill("5")
    every.press("Enter")
    page.get_by_role("button", name="Start training").click()

    first = wait_for_more_points(page, 1)
    wait_for_more_points(page, first)
    page.get_by_text("Generated images at step").first.wait_for()

    nav(page, "runs")
    page.get_by_role("heading", name="Runs").wait_for()
    nav(page, "train")
    page.get_by_role("heading", name="Train a GAN").wait_for()
    before = wait_for_more_points(page, 0)
    wait_for_more_points(page, before)  # still training after the round trip

    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped at step").first.wait_for()
    [run] = RunStore(storage["runs"]).runs()
    assert run.status().state == "stopped"
    assert run.class_names() == ("battery", "shoes")
    assert run.latest_checkpoint() is not None

    nav(page, "runs")
    page.get_by_text(run.id).first.wait_for()
