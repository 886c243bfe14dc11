"""Image-quality metrics as plain functions on arrays, and the registry that names them.

* ``inception_score(probs)``: exp(E[KL(p(y|x) || p(y))]) over class probabilities.
* ``frechet_distance(mu1, sigma1, mu2, sigma2)``: FID between two Gaussians of pool features
  (``frechet_distance_from_features`` takes the features and is fast when they are fewer than dimensions).
* ``kernel_inception_distance(feats1, feats2)``: unbiased MMD² with the cubic polynomial kernel.

Nothing here knows about images, networks or runs: ``gan_core.evaluation`` turns
a run into feature arrays and calls the metrics through ``METRICS``. The
registry is filled by ``@register_metric``; its names are what the CLI accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import rel_entr

IS, FID, KID = "is", "fid", "kid"

# KID defaults as in StyleGAN2-ADA and torch-fidelity.
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_GRAM_ROWS = 6000  # up to this many rows in all, precompute the kernel matrices (< 300 MB)


# -- the metrics -----------------------------------------------------------------

def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Mean and standard deviation (ddof 0) of the Inception Score over ``splits`` parts.

    Part ``i`` is ``probs[i*N//splits : (i+1)*N//splits]``; each part's score is
    ``exp(mean_x KL(p(y|x) || p(y)))`` with ``p(y)`` the part's mean prediction.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"inception_score needs an (N, classes) array of probabilities, got shape {p.shape}.")
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must be between 1 and the number of samples ({len(p)}), not {splits}.")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("inception_score needs probabilities: non-negative rows that sum to 1.")
    n = len(p)
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        kl = rel_entr(part, part.mean(axis=0, keepdims=True)).sum(axis=1)  # 0 log 0 counts as 0
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via ``eigh``.

    Round-off gives singular covariances tiny negative eigenvalues; they are clipped to 0.
    """
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|² + tr(S1) + tr(S2) - 2 tr((S1^½ S2 S1^½)^½)``. The trace term
    equals the textbook ``tr(sqrtm(S1 S2))`` (S1 S2 and S1^½ S2 S1^½ have the same
    eigenvalues) but needs only two symmetric eigendecompositions: it stays real,
    works for singular covariances (fewer samples than dimensions) and takes a
    second at 2048 dimensions where ``scipy.linalg.sqrtm`` takes many.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    dim = mu1.shape[0]
    if mu2.shape != (dim,) or sigma1.shape != (dim, dim) or sigma2.shape != (dim, dim):
        raise ValueError(f"Shapes do not match: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}.")
    arrays = (mu1, mu2, sigma1, sigma2)
    if not all(np.isfinite(a).all() for a in arrays):
        raise ValueError("frechet_distance got NaN or infinite statistics (too few samples?).")
    sigma1, sigma2 = (sigma1 + sigma1.T) / 2, (sigma2 + sigma2.T) / 2
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_covmean = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_covmean
    return float(max(distance, 0.0))  # a true distance; round-off can dip a hair below 0


def frechet_distance_from_features(feats1: np.ndarray, feats2: np.ndarray) -> float:
    """FID between the Gaussians (mean, covariance with ddof 1) of two feature sets.

    With fewer samples than dimensions the covariances have low rank: S1 = AᵀA and
    S2 = BᵀB with A, B the centred features over sqrt(n - 1). The nonzero eigenvalues
    of S1 S2 are the squared singular values of A Bᵀ (n1 × n2), so the trace term is
    its nuclear norm: exact, and milliseconds instead of two D × D eigendecompositions
    (per-class FIDs are usually in this regime). Otherwise ``frechet_distance``.
    """
    x, y = np.asarray(feats1, np.float64), np.asarray(feats2, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 2:
        raise ValueError(f"FID needs two (N, D) arrays of one D with N of at least 2, got {x.shape} and {y.shape}.")
    if min(len(x), len(y)) >= x.shape[1]:
        return frechet_distance(*feature_statistics(x), *feature_statistics(y))
    a = (x - x.mean(axis=0)) / np.sqrt(len(x) - 1)
    b = (y - y.mean(axis=0)) / np.sqrt(len(y) - 1)
    trace_covmean = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    diff = x.mean(axis=0) - y.mean(axis=0)
    return float(max(diff @ diff + np.sum(a * a) + np.sum(b * b) - 2.0 * trace_covmean, 0.0))


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(x·y / d + 1)³``; the products in the features' precision, the rest in float64."""
    return (np.asarray(x @ y.T, np.float64) / x.shape[1] + 1.0) ** 3


def _unbiased_mmd2(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    m = len(k_xx)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kernel_inception_distance(feats1: np.ndarray, feats2: np.ndarray, num_subsets: int = KID_SUBSETS,
                              subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """Mean and standard deviation (ddof 0) of the unbiased MMD² over random subsets.

    Kernel ``k(x, y) = (x·y / d + 1)³``. Each subset draws ``min(subset_size, n1, n2)``
    rows of each set without replacement. Unbiased, so it is about 0 (and can be
    slightly negative) when both sets come from one distribution, at any sample size.
    """
    x, y = np.asarray(feats1), np.asarray(feats2)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"kernel_inception_distance needs two (N, D) arrays of one D, got {x.shape} and {y.shape}.")
    m = min(subset_size, len(x), len(y))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples in each set, got {len(x)} and {len(y)}.")
    rng = np.random.default_rng(seed)
    draws = [(rng.choice(len(x), m, replace=False), rng.choice(len(y), m, replace=False)) for _ in range(num_subsets)]
    if len(x) + len(y) <= KID_GRAM_ROWS:
        # Every subset is a block of the full kernel matrices: three products instead of three per subset.
        k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
        values = [_unbiased_mmd2(k_xx[np.ix_(i, i)], k_yy[np.ix_(j, j)], k_xy[np.ix_(i, j)]) for i, j in draws]
    else:
        values = [_unbiased_mmd2(_polynomial_kernel(x[i], x[i]), _polynomial_kernel(y[j], y[j]),
                                 _polynomial_kernel(x[i], y[j])) for i, j in draws]
    return float(np.mean(values)), float(np.std(values))


# -- feature sets and the registry ------------------------------------------------

def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (ddof 1) of ``features`` in float64."""
    data = np.asarray(features, np.float64)
    if data.ndim != 2 or len(data) < 2:
        raise ValueError(f"Statistics need an (N, D) array with N of at least 2, got shape {data.shape}.")
    return data.mean(axis=0), np.cov(data, rowvar=False)


@dataclass
class FeatureSet:
    """An extractor's outputs for one set of images; the Gaussian statistics are computed once, on first use."""

    features: np.ndarray  # (N, D) pool features
    probs: np.ndarray  # (N, C) class probabilities; (N, 0) where no metric needs them
    _stats: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def stats(self) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma) of the features."""
        if self._stats is None:
            self._stats = feature_statistics(self.features)
        return self._stats

    def subset(self, mask: np.ndarray) -> FeatureSet:
        return FeatureSet(self.features[mask], self.probs[mask])


MetricFn = Callable[[FeatureSet | None, FeatureSet], tuple[float, float | None]]


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: ``compute(real, fake) -> (value, std or None)``."""

    name: str
    title: str
    needs_real: bool  # compares with real images (FID, KID) or judges generated ones alone (IS)
    per_class: bool  # also computed class by class for conditional runs
    lower_is_better: bool
    compute: MetricFn


METRICS: dict[str, MetricSpec] = {}


def register_metric(name: str, *, title: str, needs_real: bool, per_class: bool,
                    lower_is_better: bool) -> Callable[[MetricFn], MetricFn]:
    def decorate(compute: MetricFn) -> MetricFn:
        METRICS[name] = MetricSpec(name, title, needs_real, per_class, lower_is_better, compute)
        return compute

    return decorate


class UnknownMetric(ValueError):
    """A metric name that is not in the registry."""


def parse_metric_names(names: str | Iterable[str]) -> tuple[str, ...]:
    """``"is,fid"`` or ``["is", "fid"]`` -> registered names, in registry order; unknown names raise."""
    items = names.split(",") if isinstance(names, str) else names
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(wanted - set(METRICS))
    if unknown or not wanted:
        what = f"Unknown metric {', '.join(repr(u) for u in unknown)}" if unknown else "No metric given"
        raise UnknownMetric(f"{what}; choose from {', '.join(METRICS)}.")
    return tuple(name for name in METRICS if name in wanted)


@register_metric(IS, title="Inception Score", needs_real=False, per_class=False, lower_is_better=False)
def _inception_score(real: FeatureSet | None, fake: FeatureSet) -> tuple[float, float | None]:
    return inception_score(fake.probs, splits=min(10, len(fake)))


@register_metric(FID, title="Fréchet Inception Distance", needs_real=True, per_class=True, lower_is_better=True)
def _fid(real: FeatureSet | None, fake: FeatureSet) -> tuple[float, float | None]:
    assert real is not None
    if min(len(real), len(fake)) < real.features.shape[1]:
        return frechet_distance_from_features(real.features, fake.features), None
    return frechet_distance(*real.stats, *fake.stats), None


@register_metric(KID, title="Kernel Inception Distance", needs_real=True, per_class=True, lower_is_better=True)
def _kid(real: FeatureSet | None, fake: FeatureSet) -> tuple[float, float | None]:
    assert real is not None
    return kernel_inception_distance(real.features, fake.features)
