"""Take the README screenshots from real runs.

    .venv/bin/python bench/screenshots.py --cache ~/.cache/synthbin --steps 300
    .venv/bin/python bench/screenshots.py --compare RUNS_DIR

The first draws the demo into ``--cache`` if it is not there yet (about a minute), trains dcgan32 on
four demo classes until ``--steps`` steps are logged, and writes ``assets/screenshot_dataset.png``
and ``assets/screenshot_train.png``. The second opens the Compare page on the learning-rate group in
``RUNS_DIR`` (made by ``python -m gan_core sweep --runs-dir RUNS_DIR ...``) and writes
``assets/screenshot_compare.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

CLASSES = ("battery", "cardboard", "plastic", "shoes")
WIDTH = 1400


def logged_steps(runs: Path) -> int:
    found = list(runs.glob("*/metrics.csv"))
    return max(0, len(found[0].read_bytes().splitlines()) - 1) if found else 0


def shoot(page, path: Path) -> None:
    harness.fit_to_content(page)
    time.sleep(2)  # let the charts finish drawing at the new size
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "synthbin",
                        help="SYNTHBIN_CACHE (where the demo is, or will be drawn)")
    parser.add_argument("--steps", type=int, default=300, help="training steps before the Train screenshot")
    parser.add_argument("--out", type=Path, default=harness.ROOT / "assets")
    parser.add_argument("--compare", type=Path, metavar="RUNS_DIR", help="shoot the Compare page of this run store")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.compare:
        shoot_compare(args.compare.resolve(), args.cache, args.out)
    else:
        shoot_dataset_and_train(args.cache, args.steps, args.out)


def shoot_compare(runs: Path, cache: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="synthbin-shots-") as work:
        env = {"SYNTHBIN_CACHE": str(cache), "SYNTHBIN_RUNS": str(runs)}
        with harness.streamlit_server(env, Path(work) / "server.log") as url, harness.chromium() as browser:
            page = harness.open_app(browser, url, "compare", width=WIDTH, height=1000)
            page.set_default_timeout(300_000)
            page.get_by_text("is the most stable").wait_for()
            shoot(page, out / "screenshot_compare.png")


def shoot_dataset_and_train(cache: Path, steps: int, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="synthbin-shots-") as work:
        runs = Path(work) / "runs"
        env = {"SYNTHBIN_CACHE": str(cache), "SYNTHBIN_RUNS": str(runs)}
        with harness.streamlit_server(env, Path(work) / "server.log") as url, harness.chromium() as browser:
            page = harness.open_app(browser, url, width=WIDTH, height=1000)
            page.set_default_timeout(300_000)
            harness.use_demo(page)
            harness.pick_classes(page, CLASSES)
            page.get_by_text(f"{len(CLASSES)} of 12").wait_for()
            shoot(page, out / "screenshot_dataset.png")

            page.set_viewport_size({"width": WIDTH, "height": 1000})
            harness.go_to(page, "Train")
            page.get_by_role("button", name="Start training").click()
            page.get_by_text("Training · step").first.wait_for()
            while logged_steps(runs) < steps:
                time.sleep(2)
            page.get_by_text("Generated images at step").wait_for()
            time.sleep(11)  # one more refresh of the curves and the newest grid
            shoot(page, out / "screenshot_train.png")


if __name__ == "__main__":
    main()
