"""Training throughput of every preset, and of the reference project's own loop.

    python bench/train_throughput.py [--batch-size 32] [--steps 5] [--paper-batch-size 2] [--seed-steps 2]

Each preset runs SynthBin's compiled train step (D then G on one batch) on
random images after one warm-up step. ``seed-loop`` re-creates the reference
project's loop on the ``paper`` networks: batch size 1, ``generator.predict``
in Python, then ``train_on_batch`` on D and on the stacked GAN model. Printed
figures are images per second and ratios against the seed loop, all measured
in one process run (timings on a shared 2-core machine are noisy).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_core.config import PRESETS, make_config  # noqa: E402
from gan_core.models import build_discriminator, build_generator  # noqa: E402
from gan_core.trainer import GAN  # noqa: E402


def random_batch(config, rng: np.random.Generator):
    size, batch = config.image_size, config.batch_size
    return (
        tf.constant(rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)),
        tf.zeros((batch,), tf.int32),
        tf.constant(rng.standard_normal((batch, config.latent_dim)), tf.float32),
        tf.constant(rng.standard_normal((batch, config.latent_dim)), tf.float32),
        tf.zeros((batch, 1)),
        tf.zeros((batch, 1)),
    )


def preset_images_per_second(preset: str, batch_size: int, steps: int) -> float:
    config = make_config(preset, batch_size=batch_size)
    gan = GAN(config, num_classes=1, strategy=tf.distribute.get_strategy())
    batch = random_batch(config, np.random.default_rng(0))
    gan.train_step(batch)  # warm-up: traces and compiles the step
    start = time.perf_counter()
    for _ in range(steps):
        gan.train_step(batch)
    return steps * batch_size / (time.perf_counter() - start)


def seed_loop_images_per_second(steps: int) -> float:
    """The reference loop: batch 1, predict() in Python, train_on_batch twice per step."""
    config = make_config("paper")
    generator, discriminator = build_generator(config), build_discriminator(config)
    loss = keras.losses.BinaryCrossentropy(from_logits=True)  # the seed's sigmoid + BCE, in one op
    discriminator.compile(optimizer=keras.optimizers.RMSprop(1e-4, clipvalue=1.0), loss=loss)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    # Keras 3 builds the train function on first use: build D's while it is trainable (as Keras 2 did at
    # compile time), then freeze it inside the stacked model, as the reference does.
    discriminator.train_on_batch(np.concatenate([real, real]), np.array([[1.0], [0.0]]))
    discriminator.trainable = False
    z_in = keras.Input((config.latent_dim,))
    stacked = keras.Model(z_in, discriminator(generator(z_in)))
    stacked.compile(optimizer=keras.optimizers.RMSprop(1e-4, clipvalue=1.0), loss=loss)

    def one_step():
        generated = generator.predict(rng.standard_normal((1, config.latent_dim)), verbose=0)
        labels = np.array([[1.0], [0.0]]) + 0.05 * rng.random((2, 1))
        discriminator.train_on_batch(np.concatenate([generated, real]), labels)
        stacked.train_on_batch(rng.standard_normal((1, config.latent_dim)), np.zeros((1, 1)))

    one_step()  # warm-up (builds the train functions)
    start = time.perf_counter()
    for _ in range(steps):
        one_step()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--paper-batch-size", type=int, default=8, help="batch size for the paper preset")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--seed-steps", type=int, default=2, help="steps of the reference loop (about 20 s each)")
    parser.add_argument("--presets", default=",".join(PRESETS))
    args = parser.parse_args()

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores, "
          f"GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    results = {}
    for preset in args.presets.split(","):
        batch = args.paper_batch_size if preset == "paper" else args.batch_size
        results[f"{preset} (batch {batch})"] = preset_images_per_second(preset, batch, args.steps)
        print(f"{preset:>10}  batch {batch:>3}: {results[f'{preset} (batch {batch})']:9.2f} images/s", flush=True)
    seed = seed_loop_images_per_second(args.seed_steps)
    print(f"{'seed loop':>10}  batch   1: {seed:9.3f} images/s ({1 / seed:.1f} s per image)")
    print("\n| setup | images/s | × seed loop |\n|---|---:|---:|")
    for name, value in results.items():
        print(f"| {name} | {value:.2f} | {value / seed:.1f}× |")
    print(f"| reference loop, paper networks (batch 1, predict + train_on_batch) | {seed:.3f} | 1.0× |")


if __name__ == "__main__":
    main()
