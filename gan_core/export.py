"""Synthetic images out of a run: a preview grid, and a zip laid out like the input dataset.

Zip layout (the same class-folder tree a classifier's training code already reads)::

    battery/synthbin_<run id>_s<step>_000000.png   one folder per class, the dataset's own names
    metal/...
    manifest.csv                                  one row per image (see MANIFEST_COLUMNS)
    config.json                                   the run's config.json, unchanged

* Conditional runs get ``count`` images per chosen class. Unconditional runs cannot pick a class, so they
  get ``count`` images in total, in one folder: the run's class name when it was trained on a single
  class, else ``synthetic/``.
* "Augmented dataset" mode adds the real images of the chosen classes (the original files, byte for
  byte) to the same tree; synthetic files are the ones whose name starts with ``synthbin_``.
* ``size`` upscales the images with Pillow's LANCZOS filter. Upscaling adds no detail: it only makes the
  images the size a classifier expects.
* Truncation trick: every latent component with ``|z| > truncation`` is *resampled* (drawn again from
  the same per-image generator until it is inside), not clipped; lower values trade variety for quality.

Reproducibility: the latent of an image is drawn from ``numpy.random.default_rng([seed, label,
latent_index])`` (``label`` is the class's index in the run's class list, 0 for unconditional runs),
and the generator always runs on whole, aligned batches of ``GEN_BATCH`` latents (on a CPU, results
differ in the last float bit between batch sizes). So the same seed and settings give byte-identical
images, and one manifest row is enough to regenerate its image (``regenerate``).

Memory stays flat however many images are asked for: images are generated a batch at a time and
written straight into the zip on disk, the manifest goes to a temporary file. Only zipfile's central
directory (a few hundred bytes per member) grows with the count. The zip is written under a temporary
name and moved into place, so a reader never sees half an archive.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from gan_core.config import ConfigError, TrainConfig
from gan_core.data import IMAGE_EXTENSIONS, load_dataset, normalize_class_name
from gan_core.imaging import image_grid, to_uint8
from gan_core.models import is_conditional
from gan_core.paths import cache_dir
from gan_core.runs import Run
from gan_core.trainer import load_gan

GEN_BATCH = 64  # latents per generator call; changing it changes the images (see the module docstring)
UNCONDITIONAL_FOLDER = "synthetic"
SYNTHETIC_PREFIX = "synthbin_"
MAX_COUNT = 1_000_000
MAX_SIZE = 1024
MIN_TRUNCATION = 0.1  # below this, resampling needs hundreds of draws per component
MANIFEST_COLUMNS = (
    "file", "class", "kind", "run_id", "checkpoint_step", "seed", "latent_index", "truncation", "size",
)
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # zip timestamps, so equal settings give equal archives
_PROGRESS_EVERY_REAL = 50
# Mirrors data.py's rules for files that are never part of a dataset (hidden files, OS litter).
_JUNK_NAMES = frozenset({"__macosx", "thumbs.db", "desktop.ini"})

ProgressFn = Callable[[int, int], None]


class ExportError(ConfigError):
    """Export settings the user can fix; the message says how."""


@dataclass(frozen=True)
class ExportOptions:
    """What to generate. ``count`` is per class for conditional runs, in total otherwise."""

    count: int
    classes: tuple[str, ...] = ()  # empty: every class of the run
    seed: int = 0
    truncation: float | None = None
    size: int | None = None  # output side in px; None: the run's resolution
    augmented: bool = False


@dataclass(frozen=True)
class ExportResult:
    path: Path
    synthetic: int
    real: int
    step: int
    bytes: int


@dataclass(frozen=True)
class _Target:
    """One output folder of synthetic images."""

    folder: str
    label: int
    count: int


# -- latents -------------------------------------------------------------------


def latent_vector(seed: int, label: int, index: int, dim: int, truncation: float | None = None) -> np.ndarray:
    """The latent of image ``index`` of class ``label``; components beyond ``truncation`` are redrawn."""
    rng = np.random.default_rng([seed, label, index])
    z = rng.standard_normal(dim)
    if truncation is not None:
        while (outside := np.abs(z) > truncation).any():
            z[outside] = rng.standard_normal(int(outside.sum()))
    return z.astype(np.float32)


# -- a loaded checkpoint -----------------------------------------------------------


class LoadedCheckpoint:
    """One checkpoint of a run with its generator network, ready to make reproducible images.

    ``generate`` calls are serialised, so one instance can serve a preview and a background export.
    """

    def __init__(self, run: Run, step: int | None = None):
        self.run = run
        self.config = run.config()
        self.class_names = run.class_names()
        self.gan, self.step = load_gan(run, step)
        self._lock = threading.Lock()

    @property
    def conditional(self) -> bool:
        return self.gan.conditional

    def batch(self, label: int, batch_index: int, seed: int, truncation: float | None) -> np.ndarray:
        """uint8 images of latent indices ``batch_index * GEN_BATCH ...`` (one aligned batch)."""
        first = batch_index * GEN_BATCH
        dim = self.config.latent_dim
        z = np.stack([latent_vector(seed, label, first + i, dim, truncation) for i in range(GEN_BATCH)])
        with self._lock:
            images = self.gan.generate(z, np.full(GEN_BATCH, label, np.int32))
        return to_uint8(images)

    def images(self, label: int, count: int, seed: int, truncation: float | None) -> Iterator[tuple[int, np.ndarray]]:
        """(first latent index, uint8 images) for latent indices ``0 .. count - 1``, a batch at a time."""
        for batch_index in range(math.ceil(count / GEN_BATCH)):
            first = batch_index * GEN_BATCH
            yield first, self.batch(label, batch_index, seed, truncation)[: count - first]


# -- settings ------------------------------------------------------------------------


def _match_classes(wanted: Sequence[str], available: Sequence[str], run_id: str) -> list[str]:
    """``wanted`` as the run's own class names (loosely matched), in the run's order."""
    by_key = {normalize_class_name(name).casefold(): name for name in available}
    unknown = [name for name in wanted if normalize_class_name(name).casefold() not in by_key]
    if unknown:
        raise ExportError(
            f"Unknown class {', '.join(repr(name) for name in unknown)} in run {run_id}. "
            f"Its classes: {', '.join(available)}."
        )
    chosen = {by_key[normalize_class_name(name).casefold()] for name in wanted}
    return [name for name in available if name in chosen]


def _check_options(options: ExportOptions, image_size: int) -> None:
    if isinstance(options.count, bool) or not isinstance(options.count, int) or not 1 <= options.count <= MAX_COUNT:
        raise ExportError(f"The number of images must be a whole number from 1 to {MAX_COUNT:,}, "
                          f"not {options.count!r}.")
    if not isinstance(options.seed, int) or options.seed < 0:
        raise ExportError(f"The seed must be a whole number of at least 0, not {options.seed!r}.")
    truncation = options.truncation
    if truncation is not None and not (math.isfinite(truncation) and truncation >= MIN_TRUNCATION):
        raise ExportError(f"Truncation must be at least {MIN_TRUNCATION} (or off), not {truncation!r}.")
    if options.size is not None and not image_size <= options.size <= MAX_SIZE:
        raise ExportError(
            f"The image size must be from the run's resolution ({image_size} px) to {MAX_SIZE} px, "
            f"not {options.size!r}."
        )


def conditional_run(run: Run) -> bool:
    """Whether the run's generator takes a class label (conditional, and more than one class)."""
    return is_conditional(run.config(), len(run.class_names()))


def folder_names(run: Run) -> tuple[str, ...]:
    """Output folder of each label: the class names, or one folder for an unconditional run."""
    names = run.class_names()
    if conditional_run(run) or len(names) == 1:
        return names
    return (UNCONDITIONAL_FOLDER,)


def plan(run: Run, options: ExportOptions) -> list[_Target]:
    """The output folders with their label and count; raises ``ExportError`` for bad settings.

    Needs no checkpoint, so settings are checked before any network is loaded.
    """
    _check_options(options, run.config().image_size)
    run_id, names = run.id, run.class_names()
    chosen = _match_classes(options.classes, names, run_id) if options.classes else list(names)
    if conditional_run(run):
        return [_Target(name, names.index(name), options.count) for name in chosen]
    if len(chosen) != len(names):
        raise ExportError(
            f"Run {run_id} is unconditional: it cannot make images of a chosen class, only of all its classes "
            f"({', '.join(names)}) mixed. Leave the class choice empty."
        )
    if options.augmented and len(names) > 1:
        raise ExportError(
            f"Run {run_id} is unconditional and was trained on {len(names)} classes, so its images have no class "
            "to put them under. The augmented dataset needs a conditional run or a run of one class."
        )
    return [_Target(folder_names(run)[0], 0, options.count)]


# -- images ----------------------------------------------------------------------------


def to_image(tile: np.ndarray, size: int | None = None) -> Image.Image:
    """A uint8 (S, S, 3) array as a picture, upscaled to ``size`` with LANCZOS when asked."""
    image = Image.fromarray(tile)
    if size is not None and size != image.width:
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return image


def png_bytes(image: Image.Image) -> bytes:
    """PNG-encode the way exports do (deterministic: no timestamps, fixed compression)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def synthetic_name(run_id: str, step: int, index: int) -> str:
    return f"{SYNTHETIC_PREFIX}{run_id}_s{step}_{index:06d}.png"


def preview_grid(checkpoint: LoadedCheckpoint, *, classes: Sequence[str] = (), per_class: int = 8, seed: int = 0,
                 truncation: float | None = None) -> Image.Image:
    """The first ``per_class`` images the export with these settings would contain: one row per class."""
    options = ExportOptions(count=per_class, classes=tuple(classes), seed=seed, truncation=truncation)
    batches = [images for target in plan(checkpoint.run, options)
               for _, images in checkpoint.images(target.label, per_class, seed, truncation)]
    columns = per_class if checkpoint.conditional else min(per_class, 8)
    return image_grid(np.concatenate(batches), columns=columns)


def regenerate(run: Run, row: Mapping[str, str], checkpoint: LoadedCheckpoint | None = None) -> Image.Image:
    """The image of one synthetic ``manifest.csv`` row, made again from its seed and latent index."""
    if row.get("kind", "synthetic") != "synthetic":
        raise ExportError(f"'{row.get('file')}' is a real image of the dataset; only synthetic ones regenerate.")
    step = int(row["checkpoint_step"])
    if checkpoint is None or checkpoint.run.path != run.path or checkpoint.step != step:
        checkpoint = LoadedCheckpoint(run, step)
    folders = folder_names(run)
    if row["class"] not in folders:
        raise ExportError(f"Run {run.id} has no class '{row['class']}'. Its classes: {', '.join(folders)}.")
    label = folders.index(row["class"]) if checkpoint.conditional else 0
    index = int(row["latent_index"])
    truncation = float(row["truncation"]) if row.get("truncation") else None
    batch = checkpoint.batch(label, index // GEN_BATCH, int(row["seed"]), truncation)
    size = int(row["size"]) if row.get("size") else None
    return to_image(batch[index % GEN_BATCH], size)


# -- real images of the dataset ------------------------------------------------------------


@dataclass(frozen=True)
class RealImage:
    """One original file of the training dataset."""

    class_name: str
    path: str  # inside its class folder, '/'-separated
    size: int
    open: Callable[[], IO[bytes]]


def _is_junk(part: str) -> bool:
    return part.startswith(".") or part.casefold() in _JUNK_NAMES


def _folder_entries(root: Path) -> list[tuple[str, int, Callable[[], IO[bytes]]]]:
    entries = []
    visited = set()
    for current, dirnames, filenames in os.walk(root, followlinks=True):
        info = os.stat(current)
        if (info.st_dev, info.st_ino) in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add((info.st_dev, info.st_ino))
        dirnames[:] = [name for name in dirnames if not _is_junk(name)]
        for name in filenames:
            full = Path(current) / name
            entries.append((full.relative_to(root).as_posix(), full.stat().st_size, partial(open, full, "rb")))
    return entries


def _zip_entries(archive: zipfile.ZipFile) -> list[tuple[str, int, Callable[[], IO[bytes]]]]:
    entries = []
    for info in archive.infolist():
        parts = [part for part in info.filename.replace("\\", "/").split("/") if part not in ("", ".")]
        if parts and not info.is_dir():
            entries.append(("/".join(parts), info.file_size, partial(archive.open, info)))
    return entries


def _strip_wrappers(entries: list[tuple[str, int, Callable]]) -> list[tuple[str, int, Callable]]:
    """Drop leading wrapper folders (``garbage_classification/battery/...``), as the loader does."""
    while entries:
        tops = {path.split("/", 1)[0] for path, _, _ in entries}
        nested = all("/" in path for path, _, _ in entries)
        if len(tops) != 1 or not nested or not any(path.count("/") >= 2 for path, _, _ in entries):
            break
        entries = [(path.split("/", 1)[1], size, opener) for path, size, opener in entries]
    return entries


def real_images(config: TrainConfig, classes: Sequence[str], stack: ExitStack) -> list[RealImage]:
    """The original image files of ``classes`` in the run's dataset, minus those the loader skips.

    ``stack`` keeps a zip source open while the files are read. Raises ``ExportError`` if the files
    found here do not match what the loader reads (the count check guards the two against drifting).
    """
    # Loaded as for training, so the cached arrays answer: this checks the source and lists the skipped files.
    dataset = load_dataset(config.dataset, classes=config.classes or None, image_size=config.image_size,
                           crop=config.crop)
    skipped = {item.path for item in dataset.skipped}
    found = []
    for path, size, opener in _strip_wrappers(_source_entries(config.dataset, stack)):
        top, _, inner = path.partition("/")
        name = normalize_class_name(top)
        if inner and name in classes and path not in skipped and _is_image(path):
            found.append(RealImage(name, inner, size, opener))
    _check_counts(found, {name: dataset.counts().get(name, 0) for name in classes}, config.dataset)
    return found


def _source_entries(source: str, stack: ExitStack) -> list[tuple[str, int, Callable[[], IO[bytes]]]]:
    """Every visible file of a source as (path, size, opener), sorted by path."""
    if source.strip().casefold() == "demo":
        from gan_core.demo_data import ensure_demo_dataset

        entries = _folder_entries(ensure_demo_dataset(cache_dir()))
    elif Path(source).expanduser().is_dir():
        entries = _folder_entries(Path(source).expanduser())
    else:
        entries = _zip_entries(stack.enter_context(zipfile.ZipFile(Path(source).expanduser())))
    visible = [entry for entry in entries if not any(_is_junk(part) for part in entry[0].split("/"))]
    return sorted(visible, key=lambda entry: entry[0])


def _is_image(path: str) -> bool:
    return os.path.splitext(path)[1].casefold() in IMAGE_EXTENSIONS


def _check_counts(found: Sequence[RealImage], expected: Mapping[str, int], source: str) -> None:
    counts = {name: 0 for name in expected}
    for image in found:
        counts[image.class_name] = counts.get(image.class_name, 0) + 1
    if counts != dict(expected):
        raise ExportError(
            f"Could not match the real image files of '{source}' to the dataset loader's "
            f"({counts} found, {dict(expected)} expected). Export without the augmented mode."
        )


# -- the zip -------------------------------------------------------------------------------


class _Archive:
    """Adds members with fixed metadata and unique names."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.names: set[str] = set()

    def unique(self, name: str) -> str:
        stem, suffix = os.path.splitext(name)
        candidate, number = name, 1
        while candidate in self.names:
            number += 1
            candidate = f"{stem}_{number}{suffix}"
        self.names.add(candidate)
        return candidate

    def _info(self, name: str, size: int, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED  # images are compressed
        info.external_attr = 0o644 << 16
        info.file_size = size
        return info

    def add_bytes(self, name: str, data: bytes, *, compress: bool = False) -> None:
        self.archive.writestr(self._info(name, len(data), compress), data)

    def add_stream(self, name: str, source: IO[bytes], size: int, *, compress: bool = False) -> None:
        with self.archive.open(self._info(name, size, compress), "w") as target:
            shutil.copyfileobj(source, target, 1 << 20)


class _Manifest:
    """``manifest.csv`` rows, kept in a temporary file until the archive is closed."""

    def __init__(self, stack: ExitStack):
        self.file = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", newline=""))  # noqa: SIM115
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.writer.writerow(MANIFEST_COLUMNS)

    def add(self, *values: object) -> None:
        self.writer.writerow(["" if value is None else value for value in values])

    def write_into(self, archive: _Archive) -> None:
        self.file.flush()
        raw = self.file.buffer
        size = raw.tell()
        raw.seek(0)
        archive.add_stream("manifest.csv", raw, size, compress=True)


def _write_real(archive: _Archive, manifest: _Manifest, images: Sequence[RealImage], report: ProgressFn) -> None:
    for number, image in enumerate(images, start=1):
        name = archive.unique(f"{image.class_name}/{image.path}")
        with image.open() as source:
            archive.add_stream(name, source, image.size)
        manifest.add(name, image.class_name, "real", None, None, None, None, None, None)
        if number % _PROGRESS_EVERY_REAL == 0 or number == len(images):
            report(number)


def _write_synthetic(archive: _Archive, manifest: _Manifest, checkpoint: LoadedCheckpoint, targets: Sequence[_Target],
                     options: ExportOptions, report: ProgressFn) -> int:
    """Generate and add every target's images; returns how many."""
    run_id, step = checkpoint.run.id, checkpoint.step
    size = options.size or checkpoint.config.image_size
    written = 0
    for target in targets:
        for first, images in checkpoint.images(target.label, target.count, options.seed, options.truncation):
            for offset, tile in enumerate(images):
                name = archive.unique(f"{target.folder}/{synthetic_name(run_id, step, first + offset)}")
                archive.add_bytes(name, png_bytes(to_image(tile, size)))
                manifest.add(name, target.folder, "synthetic", run_id, step, options.seed, first + offset,
                             options.truncation, size)
            written += len(images)
            report(written)
    return written


def _temporary_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def export_zip(checkpoint: LoadedCheckpoint, out: Path | str, options: ExportOptions,
               progress: ProgressFn | None = None) -> ExportResult:
    """Write the zip described in the module docstring to ``out`` (atomically).

    ``progress(done, total)`` follows the images written; an exception raised in it aborts the export
    and leaves nothing behind.
    """
    out = Path(out)
    targets = plan(checkpoint.run, options)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_path(out)
    try:
        with ExitStack() as stack:
            # plan() refuses the augmented mode where a folder is not a dataset class.
            classes = [target.folder for target in targets] if options.augmented else []
            real = real_images(checkpoint.config, classes, stack) if classes else []
            total = len(real) + sum(target.count for target in targets)

            def report(done: int, offset: int = 0) -> None:
                if progress is not None:
                    progress(offset + done, total)

            report(0)
            archive = _Archive(stack.enter_context(zipfile.ZipFile(temporary, "w", allowZip64=True)))
            manifest = _Manifest(stack)
            _write_real(archive, manifest, real, report)
            synthetic = _write_synthetic(archive, manifest, checkpoint, targets, options,
                                         lambda done: report(done, len(real)))
            manifest.write_into(archive)
            archive.add_bytes("config.json", (checkpoint.run.path / "config.json").read_bytes(), compress=True)
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return ExportResult(out, synthetic, len(real), checkpoint.step, out.stat().st_size)


def default_zip_name(checkpoint: LoadedCheckpoint, options: ExportOptions) -> str:
    """``<run>_s<step>_<count><per-class|total>_seed<seed>[_augmented].zip``."""
    unit = "per-class" if checkpoint.conditional else "total"
    mode = "_augmented" if options.augmented else ""
    return f"{checkpoint.run.id}_s{checkpoint.step}_{options.count}{unit}_seed{options.seed}{mode}.zip"
