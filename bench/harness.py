"""Run the dashboard in a subprocess and drive it with headless Chromium.

Shared by the browser test, the overhead benchmark and the screenshot script.
Uses Debian's ``/usr/bin/chromium`` through Playwright; it never downloads a browser.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
APP_READY_TEXT = "TensorFlow computes on"  # the sidebar line app.py draws on every page


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The Streamlit server exited with code {process.returncode}.")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"The Streamlit server at {url} did not answer within {timeout:.0f} s.")


@contextmanager
def streamlit_server(env: dict[str, str], log_path: Path, timeout: float = 90) -> Iterator[str]:
    """Start ``streamlit run app.py`` on a free port of 127.0.0.1; yields its URL; stops it by PID."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true"]
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Debian Chromium driven by Playwright."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            found.setdefault(parent, []).append(int(entry))
    return found


def browser_cpu_seconds() -> float:
    """CPU seconds used so far by the Chromium processes this process started (Linux /proc)."""
    children, todo, total = _children(), [os.getpid()], 0.0
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            if b"chromium" in Path(f"/proc/{pid}/cmdline").read_bytes():
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(value) for value in fields[11:15]) / tick  # own and reaped children's
        except (OSError, ValueError):
            continue
    return total


def open_app(browser: Browser, url: str, path: str = "", *, width: int = 1400, height: int = 1000,
             timeout: float = 120) -> Page:
    """A new page on ``url/path``, returned once the app has drawn its sidebar."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/{path}")
    page.get_by_text(APP_READY_TEXT).wait_for(timeout=timeout * 1000)
    return page


def go_to(page: Page, title: str, timeout: float = 60) -> None:
    """Click a page in the sidebar navigation and wait for its title."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.wait_for_url(f"**/{'' if title == 'Dataset' else title.lower()}", timeout=timeout * 1000)


def set_number(page: Page, label: str, value: float) -> None:
    """Type into a Streamlit number input and commit it (Enter)."""
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")


def wait_for_script(page: Page, timeout: float = 300) -> None:
    """Wait until the app has finished the script run a click started (the 'Running' widget is gone)."""
    time.sleep(0.5)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=timeout * 1000)


def use_demo(page: Page) -> None:
    """On the Dataset page: load the built-in demo (drawing it first if needed)."""
    page.get_by_role("button", name="Use the demo dataset").click()
    wait_for_script(page)
    page.get_by_text("Dataset: the built-in demo").wait_for()


def pick_classes(page: Page, names: tuple[str, ...]) -> None:
    """On the Dataset page: train on exactly ``names``."""
    picker = page.get_by_test_id("stMultiSelect")
    picker.get_by_role("button", name="Clear all").click()
    wait_for_script(page)
    for name in names:
        picker.locator("input").fill(name)
        picker.locator("input").press("Enter")
        wait_for_script(page)
    page.keyboard.press("Escape")


def fit_to_content(page: Page) -> None:
    """Make the viewport as tall as the page, so a screenshot shows all of it."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": int(height) + 20})


def load_folder(page: Page, folder: Path, timeout: float = 120) -> None:
    """On the Dataset page: load a folder of class folders from the server's disk."""
    page.get_by_text("Folder on the server").click()
    box = page.get_by_role("textbox", name="Folder path on the server")
    box.fill(str(folder))
    box.press("Enter")
    page.get_by_role("button", name="Load folder").click()
    page.get_by_text(f"Dataset: {folder}").wait_for(timeout=timeout * 1000)


def write_synthetic_dataset(root: Path, classes: tuple[str, ...] = ("battery", "shoes"), per_class: int = 128,
                            size: int = 32, seed: int = 0) -> Path:
    """A folder of class folders with simple random pictures (for speed, not for looks)."""
    rng = np.random.default_rng(seed)
    for index, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(per_class):
            base = rng.integers(0, 255, (1, 1, 3)) * np.ones((size, size, 3))
            noise = rng.normal(0, 20 + 20 * index, (size, size, 3))
            pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{number:04d}.png")
    return root
