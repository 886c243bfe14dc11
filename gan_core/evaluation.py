"""Scoring a run's checkpoint against the real images it was trained on.

The pipeline is staged, each stage a plain function:

1. images: the real images of the run's classes (a seeded subset of ``num_samples``
   when there are more) and ``num_samples`` generated ones, as uint8. A conditional
   generator is asked for each class in the real subset's proportions.
2. features: one extractor pass per image (``gan_core.features``).
3. statistics: mean and covariance of the features (``gan_core.metrics.FeatureSet``).
4. metrics: the registered functions in ``gan_core.metrics.METRICS``.

The real side of stages 2-3 is cached on disk (``<cache>/eval/real-<key>.npz``)
under a key made of everything that changes it: the dataset's content
fingerprint, the classes, image size and crop, the extractor (network and
weights), the sample count and the subset seed. A second evaluation of any run
on the same data extracts only the generated images.

``evaluate_run`` is the one entry point (CLI, dashboard, tests); it times the
evaluation, appends the results to ``<run>/metrics_eval.csv`` and returns them
with the sample counts, the extractor and plain-word warnings. ``EvalJobs``
runs evaluations in background threads for the dashboard.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gan_core.config import ConfigError
from gan_core.features import (
    INCEPTION_SPEED_KEY,
    FeatureExtractor,
    inception_extractor,
    inception_name,
    local_weights,
    resolve_weights,
)
from gan_core.imaging import to_uint8
from gan_core.metrics import FID, KID, METRICS, FeatureSet, parse_metric_names
from gan_core.paths import cache_dir
from gan_core.runs import Run, RunStore, write_json_atomic

DEFAULT_METRICS = tuple(METRICS)
DEFAULT_NUM_SAMPLES = 2048
FID_MIN_SAMPLES = 2048  # below this FID is biased upwards and noisy (the dimension of the features)
EVAL_FILE = "metrics_eval.csv"
EVAL_COLUMNS = ("step", "metric", "value", "std", "num_real", "num_fake", "extractor", "time")
CHUNK = 64  # images per extractor call: progress and cancel granularity
GENERATE_CHUNK = 256
CACHE_VERSION = 1  # bump when the preprocessing or the cached arrays change
SUBSET_SEED = 0
FALLBACK_IMAGES_PER_SEC = {"cpu": 6.0, "gpu": 300.0}  # until this machine has measured its own (2-core CPU: 6)
LOAD_SECONDS = 20.0  # building InceptionV3 and reading its weights, when not loaded yet
FIXED_SECONDS = 10.0  # loading the generator and the images, tracing, computing the scores

KERAS_NOTE = (
    "These scores use Keras's InceptionV3, not the 2015 TensorFlow Inception graph that published FID and IS "
    "figures use (pytorch-fid, TF-GAN, StyleGAN): the numbers are comparable with each other, not with papers."
)

Progress = Callable[[str, int, int], None]  # (stage, images extracted so far, images to extract in all)
StopFn = Callable[[], bool]


class EvaluationCancelled(Exception):
    """The caller asked the evaluation to stop."""


@dataclass(frozen=True)
class MetricResult:
    metric: str
    value: float
    std: float | None
    num_real: int
    num_fake: int
    class_name: str | None = None  # None: all classes together

    @property
    def key(self) -> str:
        """The name in ``metrics_eval.csv``: ``fid``, or ``fid/battery`` for one class."""
        return self.metric if self.class_name is None else f"{self.metric}/{self.class_name}"


@dataclass(frozen=True)
class Evaluation:
    """What an evaluation found, with everything needed to read it honestly."""

    run_id: str
    step: int
    extractor: str
    num_real: int
    num_fake: int
    results: tuple[MetricResult, ...]
    warnings: tuple[str, ...]
    real_from_cache: bool
    seconds: float
    images_per_sec: float | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["results"] = [{"key": r.key, **asdict(r)} for r in self.results]
        data["warnings"] = list(self.warnings)
        data["note"] = KERAS_NOTE
        return data


# -- stage 1: images ---------------------------------------------------------------

def real_subset(count_available: int, count: int, seed: int = SUBSET_SEED) -> np.ndarray:
    """Sorted indices of ``count`` real images out of ``count_available`` (all of them when fewer)."""
    if count >= count_available:
        return np.arange(count_available)
    return np.sort(np.random.default_rng([seed, count_available]).choice(count_available, count, replace=False))


def proportional_labels(class_counts: np.ndarray, count: int) -> np.ndarray:
    """``count`` class labels in the proportions of ``class_counts`` (largest remainder), grouped by class."""
    counts = np.asarray(class_counts, np.float64)
    share = counts / counts.sum() * count
    whole = np.floor(share).astype(int)
    whole[np.argsort(-(share - whole), kind="stable")[:count - whole.sum()]] += 1
    return np.repeat(np.arange(len(counts)), whole).astype(np.int32)


def generate_images(gan, count: int, labels: np.ndarray | None, seed: int = SUBSET_SEED,
                    should_stop: StopFn | None = None) -> np.ndarray:
    """``count`` uint8 images from fixed latents, so the same checkpoint always gets the same images."""
    z = np.random.default_rng([seed, count]).standard_normal((count, gan.config.latent_dim)).astype(np.float32)
    parts = []
    for start in range(0, count, GENERATE_CHUNK):
        _check_stop(should_stop)
        part = slice(start, start + GENERATE_CHUNK)
        parts.append(to_uint8(gan.generate(z[part], None if labels is None else labels[part])))
    return np.concatenate(parts)


def _check_stop(should_stop: StopFn | None) -> None:
    if should_stop is not None and should_stop():
        raise EvaluationCancelled("The evaluation was cancelled.")


# -- stage 2: features (with progress, speed and cancel) ------------------------------------

class _Extraction:
    """Feeds images to the extractor in chunks, reporting progress and timing every chunk but the first."""

    def __init__(self, extractor: FeatureExtractor, total: int, progress: Progress, should_stop: StopFn | None):
        self.extractor, self.total, self.progress, self.should_stop = extractor, total, progress, should_stop
        self.done, self.timed_images, self.timed_seconds = 0, 0, 0.0

    def run(self, images: np.ndarray, stage: str) -> FeatureSet:
        features, probs = [], []
        for start in range(0, len(images), CHUNK):
            _check_stop(self.should_stop)
            self.progress(stage, self.done, self.total)
            began = time.perf_counter()
            f, p = self.extractor.extract(images[start:start + CHUNK])
            if self.done:  # the first call may include tracing the graph
                self.timed_seconds += time.perf_counter() - began
                self.timed_images += len(f)
            features.append(f)
            probs.append(p)
            self.done += len(f)
        self.progress(stage, self.done, self.total)
        return FeatureSet(np.concatenate(features).astype(np.float32), np.concatenate(probs).astype(np.float32))

    @property
    def images_per_sec(self) -> float | None:
        return self.timed_images / self.timed_seconds if self.timed_seconds > 0 else None


# -- stages 2-3 for the real images: the cache ------------------------------------------

def real_cache_key(*, fingerprint: str, classes: Sequence[str], image_size: int, crop: str, extractor: str,
                   num_real: int, seed: int = SUBSET_SEED) -> str:
    parts = {"version": CACHE_VERSION, "fingerprint": fingerprint, "classes": list(classes),
             "image_size": image_size, "crop": crop, "extractor": extractor, "num_real": num_real, "seed": seed}
    return hashlib.blake2b(json.dumps(parts, sort_keys=True).encode(), digest_size=12).hexdigest()


def real_cache_path(key: str) -> Path:
    return cache_dir() / "eval" / f"real-{key}.npz"


def save_real_features(path: Path, real: FeatureSet, labels: np.ndarray) -> None:
    """Features, labels and the overall statistics, written so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mu, sigma = real.stats
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, features=real.features, labels=labels, mu=mu, sigma=sigma)
    os.replace(tmp, path)


def load_real_features(path: Path) -> tuple[FeatureSet, np.ndarray] | None:
    """The cached real side, or None when absent or unreadable (it is then recomputed)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            features = data["features"]
            real = FeatureSet(features, np.zeros((len(features), 0), np.float32), (data["mu"], data["sigma"]))
            return real, data["labels"]
    except (OSError, KeyError, ValueError):
        return None


# -- stage 4: metrics -----------------------------------------------------------------

def compute_metrics(names: Sequence[str], real: FeatureSet | None, fake: FeatureSet,
                    classes: Sequence[tuple[str, FeatureSet, FeatureSet]] = ()) -> list[MetricResult]:
    """Every metric on all images, then the per-class ones on each (name, real, fake) group."""
    results = []
    for name in names:
        spec = METRICS[name]
        value, std = spec.compute(real, fake)
        results.append(MetricResult(name, value, std, len(real) if spec.needs_real and real else 0, len(fake)))
    for class_name, class_real, class_fake in classes:
        for name in names:
            spec = METRICS[name]
            if spec.per_class:
                value, std = spec.compute(class_real, class_fake)
                results.append(MetricResult(name, value, std, len(class_real), len(class_fake), class_name))
    return results


def _class_groups(class_names: Sequence[str], real: FeatureSet, real_labels: np.ndarray, fake: FeatureSet,
                  fake_labels: np.ndarray) -> tuple[list[tuple[str, FeatureSet, FeatureSet]], list[str]]:
    groups, skipped = [], []
    for index, name in enumerate(class_names):
        class_real, class_fake = real.subset(real_labels == index), fake.subset(fake_labels == index)
        if min(len(class_real), len(class_fake)) < 2:
            skipped.append(name)
        else:
            groups.append((name, class_real, class_fake))
    return groups, skipped


# -- honest reporting ------------------------------------------------------------------------

def count_warnings(names: Sequence[str], num_real: int, num_fake: int,
                   class_counts: dict[str, int] | None = None) -> list[str]:
    """Plain-word warnings about sample counts, before or after an evaluation."""
    found = []
    if FID in names and min(num_real, num_fake) < FID_MIN_SAMPLES:
        found.append(
            f"FID here uses {num_real:,} real and {num_fake:,} generated images, fewer than the "
            f"{FID_MIN_SAMPLES:,} it needs: with fewer images FID comes out too high and changes from one "
            "evaluation to the next. Compare it only with FIDs from the same counts, and trust KID more, which "
            "has no such bias."
        )
    if class_counts and FID in names:
        small = {name: count for name, count in class_counts.items() if count < FID_MIN_SAMPLES}
        if small:
            name = min(small, key=small.get)
            found.append(
                f"Per-class FID uses even fewer images (the smallest, '{name}', has {small[name]:,} real images): "
                + ("read the per-class KID instead." if KID in names else "add KID to judge single classes.")
            )
    return found


def _extractor_warnings(extractor: str) -> list[str]:
    if extractor.startswith(INCEPTION_SPEED_KEY) and not extractor.endswith(":imagenet"):
        return [f"The extractor '{extractor}' does not use Keras's ImageNet weights, so these numbers mean "
                "nothing outside this set of evaluations."]
    if not extractor.startswith(INCEPTION_SPEED_KEY):
        return [f"The extractor '{extractor}' is not Inception-v3; these are not IS/FID/KID in the usual sense."]
    return []


def _dataset_warnings(run: Run, dataset) -> list[str]:
    record = run.read_record()
    found = []
    recorded = record.get("dataset_fingerprint")
    if recorded and recorded != dataset.fingerprint:
        found.append(f"The images in '{dataset.source}' changed since this run trained; it is compared with the "
                     "images there now.")
    if dataset.is_demo:
        found.append("The real images are the built-in demo shapes, not photographs.")
    return found


# -- results file ------------------------------------------------------------------------

_csv_lock = threading.Lock()


def results_path(run: Run) -> Path:
    return run.path / EVAL_FILE


def append_results(run: Run, evaluation: Evaluation) -> None:
    """Append one row per result to ``metrics_eval.csv``, writing the header once."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = [{"step": evaluation.step, "metric": r.key, "value": r.value, "std": "" if r.std is None else r.std,
             "num_real": r.num_real, "num_fake": r.num_fake, "extractor": evaluation.extractor, "time": stamp}
            for r in evaluation.results]
    path = results_path(run)
    with _csv_lock, open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=EVAL_COLUMNS)
        if handle.tell() == 0:
            writer.writeheader()
        writer.writerows(rows)
        handle.flush()


def read_results(run: Run) -> pd.DataFrame:
    """Every stored result of a run, oldest first; a torn last line is dropped."""
    path = results_path(run)
    if not path.exists():
        return pd.DataFrame(columns=list(EVAL_COLUMNS))
    frame = pd.read_csv(path, on_bad_lines="skip", dtype={"metric": str, "extractor": str, "time": str})
    for column in ("step", "value", "std", "num_real", "num_fake"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame = frame.dropna(subset=["step", "value", "metric"])
    return frame.astype({"step": int, "num_real": int, "num_fake": int}).reset_index(drop=True)


# -- speed, for the time estimate ----------------------------------------------------------

def _speed_path() -> Path:
    return cache_dir() / "eval" / "speed.json"


def _device_kind() -> str:
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def _speed_entry(speed_key: str) -> str:
    return f"{speed_key}@{_device_kind()}"


def remembered_speed(speed_key: str = INCEPTION_SPEED_KEY) -> float | None:
    try:
        return float(json.loads(_speed_path().read_text(encoding="utf-8"))[_speed_entry(speed_key)])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_speed(speed_key: str, images_per_sec: float) -> None:
    path = _speed_path()
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known[_speed_entry(speed_key)] = round(images_per_sec, 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, known)


# -- planning ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EvalPlan:
    """What an evaluation will do and about how long it takes, without loading anything big."""

    num_real: int
    num_fake: int
    real_cached: bool
    images_to_extract: int
    images_per_sec: float
    speed_measured: bool  # False: a built-in guess until this machine has run an evaluation
    seconds: float
    weights: Path | None  # None: they will be downloaded (or are missing)
    warnings: tuple[str, ...]


def _recorded_counts(run: Run) -> dict[str, int]:
    counts = run.read_record().get("dataset", {}).get("counts") or {}
    return {str(name): int(count) for name, count in counts.items()}


def _expected_class_counts(counts: dict[str, int], num_real: int) -> dict[str, int]:
    """Real images per class in a subset of ``num_real`` (about: the subset is drawn at random)."""
    if num_real >= sum(counts.values()):
        return counts
    labels = proportional_labels(np.array(list(counts.values())), num_real)
    return dict(zip(counts, np.bincount(labels, minlength=len(counts)).tolist(), strict=True))


def plan_evaluation(run: Run, metrics: Sequence[str] | str = DEFAULT_METRICS,
                    num_samples: int = DEFAULT_NUM_SAMPLES, weights: str | Path | None = None) -> EvalPlan:
    """Sample counts, whether the real side is cached, and a time estimate, from the run record alone."""
    from gan_core import features

    names = parse_metric_names(metrics)
    config = run.config()
    counts = _recorded_counts(run)
    available = sum(counts.values()) or num_samples
    needs_real = any(METRICS[name].needs_real for name in names)
    num_real = min(available, num_samples) if needs_real else 0
    file = local_weights(weights)
    real_cached = False
    if needs_real and file is not None:
        key = real_cache_key(fingerprint=run.read_record().get("dataset_fingerprint", ""),
                             classes=run.class_names(), image_size=config.image_size, crop=config.crop,
                             extractor=inception_name(file), num_real=num_real)
        real_cached = real_cache_path(key).is_file()
    to_extract = num_samples + (0 if real_cached else num_real)
    measured = remembered_speed()
    speed = measured or FALLBACK_IMAGES_PER_SEC[_device_kind()]
    loaded = features.loaded_weights() == (file.resolve() if file else None)
    seconds = to_extract / speed + FIXED_SECONDS + (0.0 if loaded else LOAD_SECONDS)
    class_counts = _expected_class_counts(counts, num_real) if config.conditional and len(counts) > 1 else None
    return EvalPlan(num_real, num_samples, real_cached, to_extract, speed, measured is not None, seconds, file,
                    tuple(count_warnings(names, num_real, num_samples, class_counts)))


# -- the entry point -------------------------------------------------------------------------

def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def _real_images(run: Run):
    """The run's dataset as it is now, refusing one whose classes changed."""
    from gan_core.data import load_dataset

    config = run.config()
    dataset = load_dataset(config.dataset, classes=config.classes or None, image_size=config.image_size,
                           crop=config.crop)
    if tuple(dataset.class_names) != run.class_names():
        raise ConfigError(f"The dataset '{config.dataset}' now has the classes {', '.join(dataset.class_names)}, "
                          f"but run {run.id} was trained on {', '.join(run.class_names())}.")
    return dataset


def _fake_labels(conditional: bool, real_labels: np.ndarray | None, num_classes: int, count: int) -> np.ndarray | None:
    """Classes to ask a conditional generator for: the real subset's proportions (uniform without one)."""
    if not conditional:
        return None
    source = real_labels if real_labels is not None else np.arange(num_classes)
    return proportional_labels(np.bincount(source, minlength=num_classes), count)


def _score(names: Sequence[str], class_names: Sequence[str], real: FeatureSet | None, real_labels: np.ndarray | None,
           fake: FeatureSet, fake_labels: np.ndarray | None) -> tuple[list[MetricResult], list[str]]:
    """All metrics (per class too where the generator was asked for classes) and the count warnings."""
    groups, skipped = [], []
    if fake_labels is not None and real is not None and len(class_names) > 1:
        groups, skipped = _class_groups(class_names, real, real_labels, fake, fake_labels)
    class_counts = {name: len(class_real) for name, class_real, _ in groups} or None
    warnings = count_warnings(names, len(real) if real is not None else 0, len(fake), class_counts)
    if skipped:
        warnings.append(f"No per-class scores for {', '.join(skipped)}: fewer than 2 images of the class.")
    return compute_metrics(names, real, fake, groups), warnings


def evaluate_run(run: Run, *, metrics: Sequence[str] | str = DEFAULT_METRICS,
                 num_samples: int = DEFAULT_NUM_SAMPLES, step: int | None = None,
                 weights: str | Path | None = None, extractor: FeatureExtractor | None = None,
                 progress: Progress | None = None, should_stop: StopFn | None = None,
                 save: bool = True) -> Evaluation:
    """Score checkpoint ``step`` (default: the newest) of ``run``; appends to ``metrics_eval.csv`` when ``save``."""
    from gan_core.trainer import load_gan

    started = time.perf_counter()
    report = progress or _no_progress
    names = parse_metric_names(metrics)
    if not isinstance(num_samples, int) or num_samples < 2:
        raise ConfigError(f"Setting 'num_samples': must be a whole number of at least 2, not {num_samples!r}.")
    config = run.config()
    weights_file = resolve_weights(weights) if extractor is None else None  # offline fails here, before anything slow
    report("Loading the generator", 0, 0)
    gan, step = load_gan(run, step)
    dataset = None
    if any(METRICS[name].needs_real for name in names):
        report("Loading the real images", 0, 0)
        dataset = _real_images(run)
    if extractor is None:
        report("Loading Inception-v3", 0, 0)
        extractor = inception_extractor(weights_file)
    _check_stop(should_stop)

    # 1-3: real images -> features -> statistics, from the cache when it has them
    real, real_labels, cached = None, None, False
    if dataset is not None:
        index = real_subset(len(dataset), num_samples)
        cache_path = real_cache_path(real_cache_key(
            fingerprint=dataset.fingerprint, classes=dataset.class_names, image_size=config.image_size,
            crop=config.crop, extractor=extractor.name, num_real=len(index)))
        loaded = load_real_features(cache_path)
        cached = loaded is not None
        real, real_labels = loaded if loaded else (None, dataset.labels[index])
    extraction = _Extraction(extractor, num_samples + (0 if cached or dataset is None else len(real_labels)),
                             report, should_stop)
    if dataset is not None and real is None:
        real = extraction.run(dataset.images[index], "Extracting features of the real images")
        save_real_features(cache_path, real, real_labels)
    # 1-3: generated images -> features
    fake_labels = _fake_labels(gan.conditional, real_labels, len(run.class_names()), num_samples)
    report("Generating images", extraction.done, extraction.total)
    fake = extraction.run(generate_images(gan, num_samples, fake_labels, should_stop=should_stop),
                          "Extracting features of the generated images")
    # 4: metrics
    report("Computing the metrics", extraction.done, extraction.total)
    results, warnings = _score(names, run.class_names(), real, real_labels, fake, fake_labels)
    warnings += _extractor_warnings(extractor.name) + (_dataset_warnings(run, dataset) if dataset is not None else [])
    if extraction.images_per_sec:
        remember_speed(extractor.speed_key, extraction.images_per_sec)
    evaluation = Evaluation(run.id, step, extractor.name, len(real) if real is not None else 0, num_samples,
                            tuple(results), tuple(warnings), cached, time.perf_counter() - started,
                            extraction.images_per_sec)
    if save:
        append_results(run, evaluation)
    return evaluation


# -- background jobs ------------------------------------------------------------------------

@dataclass
class EvalJob:
    """One evaluation in a background thread. Fields are written by the thread, read by anyone."""

    id: int
    run_id: str
    options: dict[str, Any]
    state: str = "queued"  # then running, and finished, failed or cancelled
    stage: str = "Waiting for the evaluation before it to finish"
    done: int = 0
    total: int = 0
    result: Evaluation | None = None
    error: BaseException | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0


class EvalJobs:
    """Evaluations in background threads, one at a time (each wants every core)."""

    def __init__(self, store: RunStore, evaluate: Callable[..., Evaluation] = evaluate_run):
        self.store, self._evaluate = store, evaluate
        self._jobs: dict[int, EvalJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._slot = threading.Lock()

    def submit(self, run: Run, **options: Any) -> EvalJob:
        """Start evaluating ``run`` with ``evaluate_run`` keyword ``options``; an active job of the run is reused."""
        with self._lock:
            existing = self.latest(run.id)
            if existing is not None and existing.active:
                return existing
            job = EvalJob(next(self._ids), run.id, dict(options))
            job.thread = threading.Thread(target=self._work, args=(job, run), daemon=True,
                                          name=f"synthbin-eval-{job.id}")
            self._jobs[job.id] = job
        job.thread.start()
        return job

    def _work(self, job: EvalJob, run: Run) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            job.stage, job.done, job.total = stage, done, total

        with self._slot:
            if job.cancel_event.is_set():
                job.state = "cancelled"
                return
            job.state, job.started_at = "running", time.time()
            try:
                job.result = self._evaluate(run, progress=progress, should_stop=job.cancel_event.is_set,
                                            **job.options)
                job.state = "finished"
            except EvaluationCancelled:
                job.state = "cancelled"
            except Exception as error:  # noqa: BLE001 - kept on the job for the page to show
                job.state, job.error = "failed", error
            finally:
                job.finished_at = time.time()

    def cancel(self, job_id: int) -> None:
        self._jobs[job_id].cancel_event.set()

    def latest(self, run_id: str) -> EvalJob | None:
        matches = [job for job in self._jobs.values() if job.run_id == run_id]
        return max(matches, key=lambda job: job.id) if matches else None

    def active(self) -> list[EvalJob]:
        return [job for job in sorted(self._jobs.values(), key=lambda j: j.id) if job.active]

    def wait(self, job_id: int, timeout: float | None = None) -> bool:
        """Block until the job's thread ends (tests, scripts); True when it did."""
        thread = self._jobs[job_id].thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


# -- text report (CLI) --------------------------------------------------------------------------

def format_evaluation(evaluation: Evaluation) -> str:
    """A plain-text table of the results with their counts, the extractor and the warnings."""
    cache = " (real features from the cache)" if evaluation.real_from_cache else ""
    lines = [f"Run {evaluation.run_id}, checkpoint step {evaluation.step:,}; extractor {evaluation.extractor}; "
             f"{evaluation.seconds:.0f} s{cache}",
             f"{'metric':<24} {'value':>12} {'± std':>10} {'real':>7} {'generated':>10}"]
    for r in evaluation.results:
        std = "" if r.std is None else f"{r.std:.4g}"
        lines.append(f"{r.key:<24} {r.value:>12.5g} {std:>10} {r.num_real:>7,} {r.num_fake:>10,}")
    lines += [f"warning: {text}" for text in evaluation.warnings]
    lines.append(f"note: {KERAS_NOTE}")
    return "\n".join(lines)
