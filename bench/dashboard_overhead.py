"""How much an open dashboard slows training down.

Starts the dashboard, starts one long dcgan32 run (batch 64, 32 px) from the
browser, then alternates windows with no browser page open and with the Train
page of that run open in headless Chromium (its live fragment refreshing every
second), and compares the training images/s of the two. Images/s comes from
the steps the run logs in ``metrics.csv`` during each window.

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

BATCH_SIZE = 64  # the dcgan32 preset's batch size


def last_step(metrics: Path) -> int:
    lines = metrics.read_bytes().splitlines()
    for line in reversed(lines):
        first = line.split(b",", 1)[0]
        if first.isdigit():
            return int(first)
    return 0


def images_per_sec(metrics: Path, seconds: float) -> float:
    start_step, start = last_step(metrics), time.perf_counter()
    time.sleep(seconds)
    return (last_step(metrics) - start_step) * BATCH_SIZE / (time.perf_counter() - start)


def start_long_run(browser, url: str, dataset: Path | None) -> None:
    page = harness.open_app(browser, url)
    if dataset is not None:
        harness.load_folder(page, dataset)
    else:
        page.get_by_role("button", name="Use the demo dataset").click()
        page.get_by_text("Dataset: the built-in demo").wait_for(timeout=180_000)
    harness.go_to(page, "Train")
    harness.set_number(page, "Training steps", 1_000_000)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("images/s").first.wait_for(timeout=180_000)
    page.close()


def measure(args: argparse.Namespace, work: Path) -> dict[str, list[float]]:
    dataset = None if args.dataset == "demo" else harness.write_synthetic_dataset(work / "data", per_class=256)
    env = {"SYNTHBIN_RUNS": str(work / "runs"), "SYNTHBIN_CACHE": str(args.cache or work / "cache")}
    results: dict[str, list[float]] = {"closed": [], "open": []}
    with harness.streamlit_server(env, work / "server.log") as url, harness.chromium() as browser:
        start_long_run(browser, url, dataset)
        metrics = next((work / "runs").glob("*/metrics.csv"))
        time.sleep(args.warmup)
        for round_number in range(1, args.rounds + 1):
            results["closed"].append(images_per_sec(metrics, args.window))
            page = harness.open_app(browser, url, "train")
            page.get_by_text("Curve smoothing").wait_for(timeout=60_000)
            results["open"].append(images_per_sec(metrics, args.window))
            page.close()
            print(f"round {round_number}: closed {results['closed'][-1]:.1f} images/s, "
                  f"open {results['open'][-1]:.1f} images/s", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("synthetic", "demo"), default="synthetic")
    parser.add_argument("--cache", type=Path, help="SYNTHBIN_CACHE to use (e.g. one where the demo exists)")
    parser.add_argument("--window", type=float, default=40, help="seconds per measurement window")
    parser.add_argument("--rounds", type=int, default=3, help="closed/open window pairs")
    parser.add_argument("--warmup", type=float, default=20, help="seconds of training before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="synthbin-bench-") as work:
        results = measure(args, Path(work))
    closed, opened = statistics.mean(results["closed"]), statistics.mean(results["open"])
    print(f"training images/s, no browser:         {closed:.1f}")
    print(f"training images/s, Train page open:    {opened:.1f}")
    print(f"ratio open/closed: {opened / closed:.3f} (dashboard costs {100 * (1 - opened / closed):.1f}% of images/s)")


if __name__ == "__main__":
    main()
