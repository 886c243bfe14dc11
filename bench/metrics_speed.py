"""Speed of the quality metrics: Fréchet distance against ``scipy.linalg.sqrtm``, KID, and the extractor.

    python bench/metrics_speed.py [--dim 2048] [--images 128] [--batch-size 32] [--image-size 64] [--skip-sqrtm]

* FID: two random full-rank covariances of ``--dim`` dimensions; SynthBin's symmetric
  eigendecomposition route (best of 3) against the textbook ``sqrtm(S1 @ S2)`` (once),
  with the relative difference of the two values.
* KID: 2,048 × 2,048 random features of ``--dim`` dimensions, default subsets (100 × 1,000).
* Extractor: a randomly initialised Keras InceptionV3 (no download; same cost as the ImageNet
  weights) on random ``--image-size`` px uint8 images in batches of ``--batch-size``, resized
  to 299 px inside the graph; one untimed warm-up pass, then images per second.

Timings on a shared 2-core machine are noisy; run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runs as a plain script

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

from gan_core.metrics import frechet_distance, kernel_inception_distance  # noqa: E402


def textbook_fid(mu1, sigma1, mu2, sigma2) -> float:
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def timed(function, *args, repeat: int = 1) -> tuple[float, float]:
    """(best seconds, result) over ``repeat`` calls."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_fid(dim: int, skip_sqrtm: bool) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((dim, dim)), rng.standard_normal((dim, dim))
    stats = (rng.standard_normal(dim), a @ a.T / dim, rng.standard_normal(dim), b @ b.T / dim)
    ours_s, ours = timed(frechet_distance, *stats, repeat=3)
    print(f"frechet_distance ({dim} dims, eigh route, best of 3): {ours_s:.2f} s  FID {ours:.6f}")
    if not skip_sqrtm:
        ref_s, ref = timed(textbook_fid, *stats)
        print(f"textbook scipy.linalg.sqrtm route:                  {ref_s:.2f} s  FID {ref:.6f}")
        print(f"speed-up {ref_s / ours_s:.1f}x, relative difference {abs(ours - ref) / abs(ref):.2e}")


def bench_kid(dim: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((2048, dim), dtype=np.float32)
    y = rng.random((2048, dim), dtype=np.float32)
    seconds, (kid, _) = timed(kernel_inception_distance, x, y)
    print(f"kernel_inception_distance (2,048 vs 2,048, {dim} dims, 100 subsets of 1,000): {seconds:.2f} s")


def bench_extractor(images: int, batch_size: int, image_size: int) -> None:
    import keras

    from gan_core.features import inception_from_network, measure_speed

    start = time.perf_counter()
    extractor = inception_from_network(keras.applications.InceptionV3(include_top=True, weights=None),
                                       "keras-inception-v3:random", batch_size)
    print(f"InceptionV3 built in {time.perf_counter() - start:.1f} s")
    batch = np.random.default_rng(2).integers(0, 256, (images, image_size, image_size, 3), dtype=np.uint8)
    rate = measure_speed(extractor, batch)
    print(f"extractor: {rate:.1f} images/s ({images} images of {image_size} px, batch {batch_size}, "
          "resized to 299 px, random-init InceptionV3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--skip-sqrtm", action="store_true")
    args = parser.parse_args()
    bench_fid(args.dim, args.skip_sqrtm)
    bench_kid(args.dim)
    bench_extractor(args.images, args.batch_size, args.image_size)


if __name__ == "__main__":
    main()
