"""How much an open dashboard slows training down.

Starts the dashboard, starts one long run with the default settings from the
browser, then alternates windows with no browser page open and with the Train
page of that run open in headless Chromium (its live fragments refreshing), and
compares the training images/s of the two. Images/s comes from the steps the
run logs in ``metrics.csv`` during each window; the ratio is the median over
adjacent pairs of windows, which cancels slow drifts in the machine's load.
The CPU the Chromium processes use while the page is open is printed too: it
does not depend on what else the machine runs.

    .venv/bin/python bench/dashboard_overhead.py            # synthetic 2-class dataset
    .venv/bin/python bench/dashboard_overhead.py --dataset demo --cache ~/.cache/synthbin
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from gan_core.config import DEFAULT_PRESET, PRESETS  # noqa: E402

BATCH_SIZE = PRESETS[DEFAULT_PRESET].batch_size  # what the Train page starts with
SETTLE_S = 5  # after opening or closing the page, before measuring


def last_step(metrics: Path) -> int:
    for line in reversed(metrics.read_bytes().splitlines()):
        first = line.split(b",", 1)[0]
        if first.isdigit():
            return int(first)
    return 0


def window(metrics: Path, seconds: float) -> tuple[float, float]:
    """Training images/s and browser CPU seconds per second over ``seconds``."""
    step, cpu, start = last_step(metrics), harness.browser_cpu_seconds(), time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - start
    return (last_step(metrics) - step) * BATCH_SIZE / elapsed, (harness.browser_cpu_seconds() - cpu) / elapsed


def start_long_run(browser, url: str, dataset: Path | None) -> None:
    page = harness.open_app(browser, url)
    if dataset is not None:
        harness.load_folder(page, dataset)
    else:
        harness.use_demo(page)
    harness.go_to(page, "Train")
    harness.set_number(page, "Training steps", 1_000_000)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("images/s").first.wait_for(timeout=180_000)
    page.close()


def measure(args: argparse.Namespace, work: Path) -> list[tuple[float, float, float]]:
    """(closed images/s, open images/s, browser CPU/s while open) per round."""
    dataset = None if args.dataset == "demo" else harness.write_synthetic_dataset(work / "data", per_class=256)
    env = {"SYNTHBIN_RUNS": str(work / "runs"), "SYNTHBIN_CACHE": str(args.cache or work / "cache")}
    rounds = []
    with harness.streamlit_server(env, work / "server.log") as url, harness.chromium() as browser:
        start_long_run(browser, url, dataset)
        metrics = next((work / "runs").glob("*/metrics.csv"))
        time.sleep(args.warmup)
        for number in range(1, args.rounds + 1):
            closed, _ = window(metrics, args.window)
            page = harness.open_app(browser, url, "train")
            page.get_by_text("Curve smoothing").wait_for(timeout=60_000)
            time.sleep(SETTLE_S)
            opened, cpu = window(metrics, args.window)
            page.close()
            time.sleep(SETTLE_S)
            rounds.append((closed, opened, cpu))
            print(f"round {number}: closed {closed:6.1f} images/s | open {opened:6.1f} images/s, "
                  f"Chromium {cpu:.3f} CPU s/s", flush=True)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("synthetic", "demo"), default="synthetic")
    parser.add_argument("--cache", type=Path, help="SYNTHBIN_CACHE to use (e.g. one where the demo exists)")
    parser.add_argument("--window", type=float, default=30, help="seconds per measurement window")
    parser.add_argument("--rounds", type=int, default=6, help="closed/open window pairs")
    parser.add_argument("--warmup", type=float, default=20, help="seconds of training before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="synthbin-bench-") as work:
        rounds = measure(args, Path(work))
    ratio = statistics.median(opened / closed for closed, opened, _ in rounds)
    print(f"training images/s, no browser (mean):      {statistics.mean(r[0] for r in rounds):.1f}")
    print(f"training images/s, Train page open (mean): {statistics.mean(r[1] for r in rounds):.1f}")
    print(f"Chromium CPU while open (mean):            {statistics.mean(r[2] for r in rounds):.3f} CPU s/s")
    print(f"median ratio open/closed: {ratio:.3f} -> the open dashboard costs {100 * (1 - ratio):.1f}% of images/s")


if __name__ == "__main__":
    main()
