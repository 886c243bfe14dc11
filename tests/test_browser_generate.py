"""End to end in a real browser: the Generate page previews a tiny run and hands over its zip.

Uses Debian's Chromium (never ``playwright install``); skipped only where /usr/bin/chromium is missing.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_class_folders

from gan_core.config import make_config
from gan_core.runs import Run, RunStore
from gan_core.trainer import start_run

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120
UI_TIMEOUT_MS = 120_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {START_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser-generate")
    return {"cache": base / "cache", "runs": base / "runs", "data": base / "tiny", "logs": base}


@pytest.fixture(scope="module")
def tiny_run(storage) -> Run:
    folder = write_class_folders(storage["data"], {"battery": 16, "shoes": 16})
    config = make_config("dcgan32", dataset=str(folder), steps=2, batch_size=8, checkpoint_every=2, sample_every=2,
                         grid_size=4, latent_dim=8, conditional=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNTHBIN_CACHE", str(storage["cache"]))
        return start_run(config, RunStore(storage["runs"]))


@pytest.fixture(scope="module")
def server(storage, tiny_run) -> Iterator[str]:
    """``streamlit run app.py`` on a free port over the tiny run store; stopped by its PID."""
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
def browser_page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_generate_page_downloads_a_zip_of_class_folders(server, browser_page, tiny_run, tmp_path):
    page = browser_page
    page.goto(f"{server}/generate")
    page.get_by_role("heading", name="Generate images").wait_for()
    page.get_by_text("The first images of the zip").wait_for()  # the preview grid's caption

    count = page.get_by_label("Images per class")
    count.fill("3")
    count.press("Enter")
    page.get_by_text("6 synthetic images").wait_for()  # the page re-ran with the new count
    page.get_by_role("button", name="Generate the zip").click()

    download_button = page.get_by_role("button", name="Download")
    download_button.wait_for()
    with page.expect_download() as download_info:
        download_button.click()
    target = tmp_path / "download.zip"
    download_info.value.save_as(target)

    archive = zipfile.ZipFile(target)
    names = archive.namelist()
    for folder in ("battery", "shoes"):
        files = [name for name in names if name.startswith(f"{folder}/")]
        assert len(files) == 3 and all(Path(name).name.startswith(f"synthbin_{tiny_run.id}_") for name in files)
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open("manifest.csv"), encoding="utf-8")))
    assert len(rows) == 6 and {row["run_id"] for row in rows} == {tiny_run.id}
    assert archive.read("config.json") == (tiny_run.path / "config.json").read_bytes()
