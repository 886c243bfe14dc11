"""Why the input pipeline is TensorFlow ops only: a Python-generator dataset halves a CPU's speed.

    python bench/input_pipeline.py [--presets dcgan32,dcgan64] [--steps 250] [--rounds 2]

For each preset, two fresh processes each train the demo with SynthBin's ``Trainer`` (the real
loop: logging, sample grids and checkpoints at the default intervals) and print the images per
second over ``--steps`` steps after a warm-up, ``--rounds`` times:

* **tf.data ops**: the pipeline as it is (``gan_core.trainer.batches``);
* **from_generator first**: the same, after an iterator over a ``tf.data.Dataset.from_generator``
  was created, which is what the trainer's old pipeline did before its first (XLA) step.

On this 2-core machine the second ran at about half the speed of the first; the cause inside
TensorFlow was not pinned down, the fix was to build the batches from TensorFlow ops alone.
This is a benchmark, not a test: minutes per run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import os, sys, tempfile, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import tensorflow as tf
from gan_core.config import make_config
from gan_core.runs import RunStore
from gan_core.trainer import Trainer, create_run, load_training_data

preset, steps, rounds, generator_first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
if generator_first:
    def zeros():
        while True:
            yield np.zeros(3, np.float32)
    next(iter(tf.data.Dataset.from_generator(zeros, output_signature=tf.TensorSpec((3,), tf.float32))))
config = make_config(preset, dataset="demo", steps=10**9)
dataset = load_training_data(config)
with tempfile.TemporaryDirectory() as runs:
    trainer = Trainer(create_run(config, RunStore(runs), dataset), dataset)
    trainer.begin()
    for _ in range(10):
        trainer.advance()
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            trainer.advance()
        print("images/s", steps * config.batch_size / (time.perf_counter() - start), flush=True)
"""

SETUPS = {"tf.data ops": "0", "from_generator first": "1"}


def images_per_second(preset: str, steps: int, rounds: int, generator_first: str) -> list[float]:
    result = subprocess.run([sys.executable, "-c", CHILD, preset, str(steps), str(rounds), generator_first],
                            capture_output=True, text=True, cwd=ROOT, check=True)
    return [float(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("images/s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="dcgan32,dcgan64")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print("| preset | " + " | ".join(f"{name} (images/s)" for name in SETUPS) + " | ratio |")
    print("|---|" + "---:|" * (len(SETUPS) + 1))
    for preset in args.presets.split(","):
        medians = [statistics.median(images_per_second(preset, args.steps, args.rounds, flag))
                   for flag in SETUPS.values()]
        print(f"| {preset} | " + " | ".join(f"{m:.0f}" for m in medians) + f" | {medians[0] / medians[1]:.2f}× |",
              flush=True)


if __name__ == "__main__":
    main()
