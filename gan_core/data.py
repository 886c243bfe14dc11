"""Load a dataset of class folders (a folder, a .zip of one, or the built-in demo) into uint8 arrays.

Every source goes through the same path:

1. resolve it to a folder (``demo`` is generated, a .zip is checked and extracted into the cache);
2. find the class folders (wrapper folders such as ``garbage_classification/`` are skipped) and
   normalise their names to the 12 canonical classes where they match;
3. fingerprint the content (per-file digests are cached by size and mtime, so this is cheap when
   nothing changed);
4. return the preprocessed arrays from the on-disk cache, or decode every image (in a thread pool)
   to a square RGB picture and cache the result.

Bad files never stop a load: each one is listed in ``ImageDataset.skipped`` with a plain reason.
Only a source that yields no usable image at all raises ``DatasetError``.

Preprocessing: images are made RGB (transparency is composited on white, 16-bit is scaled to 8-bit,
EXIF orientation is applied), then squared by a centre crop (``crop="center"``) or by padding with
white (``crop="pad"``; white because the garbage photos mostly sit on a white background, so the
padding blends in), then resized with Pillow's LANCZOS filter.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from gan_core.config import CROP_MODES
from gan_core.paths import cache_dir

__all__ = [
    "CANONICAL_CLASSES",
    "IMAGE_EXTENSIONS",
    "DatasetError",
    "ImageDataset",
    "LoadLimits",
    "SkippedFile",
    "list_classes",
    "load_dataset",
    "normalize_class_name",
    "to_float",
]

# Bump when preprocessing changes, so arrays cached by an older loader are not reused.
LOADER_VERSION = 1

CANONICAL_CLASSES: tuple[str, ...] = (
    "battery", "biological", "brown-glass", "cardboard", "clothes", "green-glass",
    "metal", "paper", "plastic", "shoes", "trash", "white-glass",
)
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".webp", ".gif", ".tif", ".tiff"}
)
# Only these decoders are tried, whatever a file's extension claims (no EPS/Ghostscript and the like).
_PIL_FORMATS = ("JPEG", "PNG", "BMP", "DIB", "WEBP", "GIF", "TIFF")  # JPEG also opens MPO (phone photos)
_JUNK_NAMES = frozenset({"__macosx", "thumbs.db", "desktop.ini"})
PAD_COLOR = (255, 255, 255)
_REDUCING_GAP = 3.0
# A cached file digest is trusted only if the file was already this old when it was hashed;
# otherwise a rewrite within the same mtime tick (same size) could go unnoticed.
_RACY_NS = 2_000_000_000
_LAYOUT_HELP = "Expected one subfolder per class with .jpg/.png/.bmp/.webp/.gif/.tif files inside."
_SOURCE_HELP = "Give a folder of class subfolders, a .zip of one, or 'demo'."

ProgressFn = Callable[[int, int], None]


# ----------------------------------------------------------------------------- class names


def _loose_key(name: str) -> str:
    """Case- and separator-insensitive key: 'GREEN glass', 'green_glass' -> 'green-glass'."""
    return re.sub(r"[\s_\-]+", "-", name.strip().casefold()).strip("-")


_CANONICAL_BY_KEY = {_loose_key(name): name for name in CANONICAL_CLASSES}


def normalize_class_name(name: str) -> str:
    """The canonical class name when ``name`` matches one loosely, else ``name`` stripped."""
    return _CANONICAL_BY_KEY.get(_loose_key(name), name.strip())


# ----------------------------------------------------------------------------- public types


class DatasetError(ValueError):
    """The source cannot be used as a dataset; the message says what to fix."""


@dataclass(frozen=True)
class SkippedFile:
    """A file that was left out, with the reason in plain words."""

    path: str  # relative to the dataset root, '/'-separated
    reason: str


@dataclass(frozen=True)
class LoadLimits:
    """Per-call guards against hostile or useless input.

    Pillow's process-wide guard (``PIL.Image.MAX_IMAGE_PIXELS``) still applies on top of
    ``max_pixels``: to accept images beyond it, raise that too.
    """

    max_pixels: int = 89_478_485  # width*height; Pillow's own default guard
    min_side: int = 16  # shortest side, in pixels
    max_zip_bytes: int = 4 * 2**30  # total uncompressed size of a .zip


@dataclass
class ImageDataset:
    """Preprocessed images of one source, ready for training."""

    images: np.ndarray  # uint8 (N, S, S, 3)
    labels: np.ndarray  # int32 (N,), index into class_names
    class_names: tuple[str, ...]
    fingerprint: str  # content fingerprint of the whole source
    source: str  # what the user gave ('demo', a path)
    image_size: int
    crop: str
    skipped: list[SkippedFile]
    original_sizes: np.ndarray  # int32 (N, 2): width, height before preprocessing
    from_cache: bool
    is_demo: bool
    empty_classes: tuple[str, ...] = ()  # picked class folders without a usable image (dropped)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def counts(self) -> dict[str, int]:
        """Number of images per class, in ``class_names`` order."""
        per_label = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(count) for name, count in zip(self.class_names, per_label, strict=True)}

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description for the UI and the run folder."""
        per_class = {
            name: _size_stats(self.original_sizes[self.labels == index])
            for index, name in enumerate(self.class_names)
        }
        return {
            "source": self.source,
            "is_demo": self.is_demo,
            "classes": self.counts(),
            "total": len(self),
            "image_size": self.image_size,
            "crop": self.crop,
            "size_stats": {**_size_stats(self.original_sizes), "per_class": per_class},
            "skipped": [asdict(item) for item in self.skipped],
            "empty_classes": list(self.empty_classes),
        }


def _size_stats(sizes: np.ndarray) -> dict[str, dict[str, float]]:
    def stats(values: np.ndarray) -> dict[str, float]:
        if values.size == 0:
            return {"min": 0, "median": 0.0, "max": 0}
        return {"min": int(values.min()), "median": float(np.median(values)), "max": int(values.max())}

    return {"width": stats(sizes[:, 0]), "height": stats(sizes[:, 1])}


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images [0, 255] -> float32 in [-1, 1] (x / 127.5 - 1)."""
    out = np.asarray(images).astype(np.float32)
    out /= 127.5
    out -= 1.0
    return out


# ----------------------------------------------------------------------------- public entry points


def load_dataset(
    source: str | Path,
    *,
    classes: Sequence[str] | None = None,
    image_size: int = 64,
    crop: str = "center",
    limits: LoadLimits = LoadLimits(),  # noqa: B008 - frozen, so a shared default is safe
    cache: bool = True,
    cache_root: Path | None = None,
    progress: ProgressFn | None = None,
) -> ImageDataset:
    """Load ``source`` (a folder of class folders, a .zip of one, or 'demo') as square uint8 images.

    ``classes`` picks a subset (names are matched like folder names; empty or None means all).
    ``progress(done, total)`` is called while decoding (and while drawing the demo on first use).
    Raises ``DatasetError`` when the source as a whole is unusable; single bad files are listed in
    ``skipped`` instead.
    """
    _check_options(image_size, crop)
    root_cache = Path(cache_root) if cache_root is not None else cache_dir()
    layout, is_demo = _scan(source, root_cache, limits, progress)
    chosen = _pick_classes(layout, classes)
    fingerprint = _fingerprint(layout, root_cache)
    key = _cache_key(fingerprint, chosen, image_size, crop, limits)
    cached = _read_cache(root_cache / "arrays" / key) if cache else None
    if cached is not None:
        _report(progress, len(cached["labels"]), len(cached["labels"]))
        return _dataset(cached, source, fingerprint, image_size, crop, is_demo, from_cache=True)
    result = _load_fresh(layout, chosen, image_size, crop, limits, progress)
    if cache:
        _write_cache(root_cache / "arrays" / key, result)
    return _dataset(result, source, fingerprint, image_size, crop, is_demo, from_cache=False)


def list_classes(
    source: str | Path,
    *,
    limits: LoadLimits = LoadLimits(),  # noqa: B008 - frozen, so a shared default is safe
    cache_root: Path | None = None,
) -> dict[str, int]:
    """Class name -> number of files with an image extension, without decoding anything.

    Meant for a class picker. A .zip is checked and extracted (into the cache, reused by
    ``load_dataset``); 'demo' is generated on first use. Empty class folders are listed with 0.
    """
    layout, _ = _scan(source, Path(cache_root) if cache_root is not None else cache_dir(), limits)
    return {name: len(layout.class_files[name]) for name in sorted(layout.class_files)}


def _check_options(image_size: int, crop: str) -> None:
    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 8:
        raise ValueError(f"image_size must be a whole number of at least 8, not {image_size!r}.")
    if crop not in CROP_MODES:
        raise ValueError(f"crop must be one of {', '.join(CROP_MODES)}, not {crop!r}.")


# ----------------------------------------------------------------------------- sources


def _scan(
    source: str | Path, cache_root: Path, limits: LoadLimits, progress: ProgressFn | None = None
) -> tuple[_Layout, bool]:
    """Resolve ``source`` to a folder and find its class folders (``progress`` follows drawing the demo)."""
    if isinstance(source, str) and source.strip().casefold() == "demo":
        from gan_core import demo_data  # written separately; imported only when the demo is asked for

        return _find_layout(Path(demo_data.ensure_demo_dataset(cache_root, progress=progress)), "demo"), True
    path = Path(source).expanduser()
    if not path.exists():
        raise DatasetError(f"No folder at '{path}'. {_SOURCE_HELP}")
    if path.is_dir():
        return _find_layout(path, str(path)), False
    if path.suffix.casefold() == ".zip" or zipfile.is_zipfile(path):
        return _find_layout(_extract_zip(path, cache_root, limits), str(path)), False
    raise DatasetError(f"'{path}' is a file, not a folder or a .zip. {_SOURCE_HELP}")


def _is_junk(name: str) -> bool:
    """Hidden files/folders and OS litter that is never part of a dataset."""
    return name.startswith(".") or name.casefold() in _JUNK_NAMES


def _visible_entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        return [entry for entry in entries if not _is_junk(entry.name)]


def _dataset_root(folder: Path) -> Path:
    """Step into wrapper folders: a folder whose only entry is a folder that itself holds folders."""
    while True:
        entries = _visible_entries(folder)
        if len(entries) != 1 or not entries[0].is_dir():
            return folder
        inner = Path(entries[0].path)
        if not any(entry.is_dir() for entry in _visible_entries(inner)):
            return folder
        folder = inner


def _walk_files(folder: Path) -> list[str]:
    """Every visible file under ``folder``, as sorted '/'-separated relative paths."""
    found = []
    visited = set()
    for current, dirnames, filenames in os.walk(folder, followlinks=True):
        info = os.stat(current)
        identity = (info.st_dev, info.st_ino)
        if identity in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add(identity)
        dirnames[:] = [name for name in dirnames if not _is_junk(name)]
        relative = Path(current).relative_to(folder)
        found.extend((relative / name).as_posix() for name in filenames if not _is_junk(name))
    return sorted(found)


def _has_image_extension(path: str) -> bool:
    return os.path.splitext(path)[1].casefold() in IMAGE_EXTENSIONS


@dataclass
class _Layout:
    """The class structure of a dataset folder (paths relative to ``root``)."""

    root: Path
    label: str  # the source as shown in messages
    class_files: dict[str, list[str]]  # class -> files with an image extension (sorted)
    class_skips: dict[str, list[SkippedFile]]  # class -> files without an image extension
    root_skips: list[SkippedFile]  # stray images next to the class folders
    all_files: list[str]  # every visible file, for the fingerprint


def _find_layout(folder: Path, label: str) -> _Layout:
    root = _dataset_root(folder)
    names_by_key: dict[str, list[str]] = {}
    for entry in _visible_entries(root):
        if entry.is_dir():
            names_by_key.setdefault(_loose_key(entry.name), []).append(entry.name)
    # Folders that normalise to the same class are merged under one name.
    class_of_folder = {
        folder_name: normalize_class_name(min(folder_names))
        for folder_names in names_by_key.values()
        for folder_name in folder_names
    }
    layout = _Layout(root, label, {}, {}, [], _walk_files(root))
    for name in class_of_folder.values():
        layout.class_files.setdefault(name, [])
        layout.class_skips.setdefault(name, [])
    for path in layout.all_files:
        top, _, rest = path.partition("/")
        if not rest:
            if _has_image_extension(path):  # other files next to the classes (README, DEMO.json) are not data
                layout.root_skips.append(SkippedFile(path, "not inside a class folder"))
        elif not _has_image_extension(path):
            layout.class_skips[class_of_folder[top]].append(SkippedFile(path, "not an image file extension"))
        else:
            layout.class_files[class_of_folder[top]].append(path)
    if not layout.class_files and layout.root_skips:
        raise DatasetError(
            f"The images in '{label}' sit directly in the folder, without class folders. "
            f"Put each class in its own subfolder, e.g. cardboard/001.jpg and metal/002.jpg. {_LAYOUT_HELP}"
        )
    return layout


def _pick_classes(layout: _Layout, wanted: Sequence[str] | None) -> list[str]:
    """The sorted class names to load; unknown names raise with the list of available ones."""
    available = sorted(layout.class_files)
    if not wanted:
        return available
    if isinstance(wanted, str):
        wanted = [wanted]
    by_key = {_loose_key(name): name for name in available}
    unknown = [name for name in wanted if _loose_key(name) not in by_key]
    if unknown:
        listed = ", ".join(available) if available else "none found"
        raise DatasetError(
            f"Unknown class {', '.join(repr(name) for name in unknown)} in '{layout.label}'. "
            f"Available classes: {listed}."
        )
    return sorted({by_key[_loose_key(name)] for name in wanted})


# ----------------------------------------------------------------------------- zip archives


def _extract_zip(path: Path, cache_root: Path, limits: LoadLimits) -> Path:
    """Check the whole archive, then extract it once into ``cache_root/zips/<content hash>``."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasetError(f"'{path}' is not a readable .zip archive ({error}). {_SOURCE_HELP}") from error
    with archive:
        members = _checked_members(archive, path, limits)
        target = cache_root / "zips" / _zip_digest(path, cache_root)
        if not target.is_dir():
            _extract_atomically(archive, members, target, path)
    return target


def _checked_members(archive: zipfile.ZipFile, path: Path, limits: LoadLimits) -> list[tuple[zipfile.ZipInfo, str]]:
    """The entries to extract; refuses the whole archive if any entry is unsafe."""
    infos = archive.infolist()
    for info in infos:
        problem = _unsafe_entry(info)
        if problem:
            raise DatasetError(
                f"Refusing '{path}': entry '{info.filename}' {problem}. Nothing was extracted. "
                "Re-create the archive from the dataset folder with plain relative paths."
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_zip_bytes:
        raise DatasetError(
            f"Refusing '{path}': it would unpack to {_gib(total)}, over the {_gib(limits.max_zip_bytes)} limit "
            "(LoadLimits.max_zip_bytes). Unzip it yourself and give the folder, or raise the limit."
        )
    members = []
    for info in infos:
        parts = _entry_parts(info)
        if parts and not info.is_dir() and not any(_is_junk(part) for part in parts):
            members.append((info, "/".join(parts)))
    return members


def _entry_parts(info: zipfile.ZipInfo) -> list[str]:
    """An entry's path components; Windows tools sometimes write backslashes."""
    return [part for part in info.filename.replace("\\", "/").split("/") if part not in ("", ".")]


def _unsafe_entry(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if name.startswith("/"):
        return "is an absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "starts with a drive letter"
    if ".." in _entry_parts(info):
        return "points outside the archive folder ('..')"
    if info.flag_bits & 0x1:
        return "is password-protected (encrypted archives are not supported)"
    return None


def _gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB"


def _zip_digest(path: Path, cache_root: Path) -> str:
    store = _DigestStore(cache_root / "zips" / "digests.json")
    key = str(path.resolve())
    digest = store.digest(path, key)
    store.save(prune=False)
    return digest


def _extract_atomically(
    archive: zipfile.ZipFile, members: Iterable[tuple[zipfile.ZipInfo, str]], target: Path, path: Path
) -> None:
    """Extract into a temporary sibling folder, then rename it: a crash never leaves a used half-extract."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    try:
        for info, name in members:
            destination = partial.joinpath(*name.split("/"))
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        try:
            os.rename(partial, target)
        except OSError:
            if not target.is_dir():  # otherwise another load extracted the same archive first
                raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise DatasetError(f"'{path}' is corrupt and could not be extracted ({error}). {_SOURCE_HELP}") from error
    except OSError as error:
        raise DatasetError(
            f"Could not extract '{path}' into '{target.parent}' ({error}). "
            "Free some disk space, or set SYNTHBIN_CACHE to a folder with room."
        ) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)


# ----------------------------------------------------------------------------- fingerprints


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class _DigestStore:
    """File digests cached by (size, mtime_ns) in a JSON sidecar, so unchanged files aren't re-read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.old: dict[str, list] = json.loads(path.read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError):
            self.old = {}
        self.new: dict[str, list] = {}

    def digest(self, file: Path, key: str) -> str:
        info = file.stat()
        entry = self.old.get(key)
        if not (
            isinstance(entry, list)
            and len(entry) == 4
            and entry[:2] == [info.st_size, info.st_mtime_ns]
            and entry[2] - entry[1] > _RACY_NS
        ):
            started = time.time_ns()
            entry = [info.st_size, info.st_mtime_ns, started, _file_digest(file)]
        self.new[key] = entry
        return entry[3]

    def save(self, *, prune: bool) -> None:
        """Write the sidecar; ``prune`` drops entries that were not looked up this time."""
        files = self.new if prune else {**self.old, **self.new}
        if files == self.old:
            return
        with contextlib.suppress(OSError):  # only a speed-up; a read-only cache still loads correctly
            _write_atomically(self.path, json.dumps({"files": files}).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _fingerprint(layout: _Layout, cache_root: Path) -> str:
    """Content hash of every file in the dataset: blake2b over sorted (relative path, file digest)."""
    store = _DigestStore(cache_root / "fingerprints" / f"{_text_digest(str(layout.root.resolve()))}.json")
    total = hashlib.blake2b(digest_size=16)
    for path in layout.all_files:
        try:
            digest = store.digest(layout.root / path, path)
        except OSError:  # vanished or unreadable: decoding will list it as skipped
            digest = "unreadable"
        total.update(f"{path}\0{digest}\n".encode())
    store.save(prune=True)
    return total.hexdigest()


def _cache_key(fingerprint: str, chosen: Sequence[str], image_size: int, crop: str, limits: LoadLimits) -> str:
    settings = {
        "version": LOADER_VERSION,
        "fingerprint": fingerprint,
        "classes": list(chosen),
        "image_size": image_size,
        "crop": crop,
        "max_pixels": limits.max_pixels,
        "min_side": limits.min_side,
    }
    return _text_digest(json.dumps(settings, sort_keys=True))


# ----------------------------------------------------------------------------- array cache

_ARRAYS = ("images", "labels", "original_sizes")


def _write_cache(folder: Path, result: dict[str, Any]) -> None:
    """Write arrays + meta into a temporary folder and rename it into place."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    except OSError:
        return  # caching is only a speed-up
    try:
        for name in _ARRAYS:
            np.save(partial / f"{name}.npy", result[name])
        meta = {key: result[key] for key in ("class_names", "empty_classes")}
        meta["skipped"] = [asdict(item) for item in result["skipped"]]
        meta["version"] = LOADER_VERSION
        (partial / "meta.json").write_text(json.dumps(meta))
        shutil.rmtree(folder, ignore_errors=True)  # a broken earlier entry
        os.replace(partial, folder)
    except OSError:
        pass  # caching is only a speed-up
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _read_cache(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("version") != LOADER_VERSION:
            return None
        result: dict[str, Any] = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in _ARRAYS}
        result["class_names"] = tuple(meta["class_names"])
        result["empty_classes"] = tuple(meta["empty_classes"])
        result["skipped"] = [SkippedFile(**item) for item in meta["skipped"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not len(result["images"]) == len(result["labels"]) == len(result["original_sizes"]):
        return None
    return result


def _dataset(
    result: dict[str, Any], source: str | Path, fingerprint: str, image_size: int, crop: str, is_demo: bool,
    *, from_cache: bool,
) -> ImageDataset:
    return ImageDataset(
        images=result["images"],
        labels=result["labels"],
        class_names=result["class_names"],
        fingerprint=fingerprint,
        source=str(source),
        image_size=image_size,
        crop=crop,
        skipped=list(result["skipped"]),
        original_sizes=result["original_sizes"],
        from_cache=from_cache,
        is_demo=is_demo,
        empty_classes=result["empty_classes"],
    )


# ----------------------------------------------------------------------------- decoding


def _load_fresh(
    layout: _Layout, chosen: Sequence[str], image_size: int, crop: str, limits: LoadLimits, progress: ProgressFn | None
) -> dict[str, Any]:
    """Decode the chosen classes; drop classes without a usable image; fail if nothing is left."""
    paths = [path for name in chosen for path in layout.class_files[name]]
    classes = np.array([index for index, name in enumerate(chosen) for _ in layout.class_files[name]], np.int32)
    images, sizes, reasons = _decode_all(layout.root, paths, image_size, crop, limits, progress)
    kept = np.array([reason is None for reason in reasons], dtype=bool)
    skipped = list(layout.root_skips)
    for name in chosen:
        skipped.extend(layout.class_skips[name])
    skipped.extend(SkippedFile(path, reason) for path, reason in zip(paths, reasons, strict=True) if reason is not None)
    skipped.sort(key=lambda item: item.path)
    present = set(classes[kept].tolist())
    if not present:
        raise DatasetError(f"No usable images found in '{layout.label}'. {_LAYOUT_HELP}{_skip_example(skipped)}")
    remap = np.full(len(chosen), -1, np.int32)
    remap[sorted(present)] = np.arange(len(present), dtype=np.int32)
    if not kept.all():
        images, sizes = images[kept], sizes[kept]
    return {
        "images": images,
        "labels": remap[classes[kept]],
        "original_sizes": sizes,
        "class_names": tuple(name for index, name in enumerate(chosen) if index in present),
        "empty_classes": tuple(name for index, name in enumerate(chosen) if index not in present),
        "skipped": skipped,
    }


def _skip_example(skipped: Sequence[SkippedFile]) -> str:
    if not skipped:
        return ""
    return f" {len(skipped)} file(s) were skipped, e.g. '{skipped[0].path}': {skipped[0].reason}."


class _Skip(Exception):
    """A file is left out; the message is the reason shown to the user."""


def _decode_all(
    root: Path, paths: Sequence[str], size: int, crop: str, limits: LoadLimits, progress: ProgressFn | None
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Decode ``paths`` in a thread pool (Pillow releases the GIL); results keep the input order."""
    images = np.zeros((len(paths), size, size, 3), np.uint8)
    sizes = np.zeros((len(paths), 2), np.int32)
    reasons: list[str | None] = [None] * len(paths)

    def work(index: int) -> None:
        try:
            images[index], sizes[index] = _decode_file(root / paths[index], size, crop, limits)
        except _Skip as skip:
            reasons[index] = str(skip)

    _report(progress, 0, len(paths))
    step = max(1, len(paths) // 100)  # a UI redraw per image would cost more than the decoding
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for done, _ in enumerate(pool.map(work, range(len(paths))), start=1):
            if done % step == 0 or done == len(paths):
                _report(progress, done, len(paths))
    return images, sizes, reasons


def _report(progress: ProgressFn | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


_OPEN_LOCK = threading.Lock()


def _open_image(path: Path) -> Image.Image:
    # Pillow signals big images with a DecompressionBombWarning through the process-wide warnings
    # filters; turning it into an error is only safe if our workers don't interleave catch_warnings.
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(path, formats=_PIL_FORMATS)


def _decode_file(path: Path, size: int, crop: str, limits: LoadLimits) -> tuple[np.ndarray, tuple[int, int]]:
    """One file -> (uint8 (size, size, 3) array, original (width, height)); raises _Skip with the reason."""
    try:
        if path.stat().st_size == 0:
            raise _Skip("empty file (0 bytes)")
        with _open_image(path) as image:
            width, height = image.size
            _check_dimensions(width, height, limits)
            image.draft(image.mode, (2 * size, 2 * size))  # JPEG only: decode at a reduced scale
            image.load()
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            ImageOps.exif_transpose(image, in_place=True)
            square = _square(_to_rgb(image), size, crop)
    except _Skip:
        raise
    except UnidentifiedImageError as error:
        raise _Skip("not an image (unrecognised format)") from error
    except (FileNotFoundError, PermissionError) as error:
        raise _Skip(f"could not be read: {error.strerror}") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _Skip(_pillow_too_large(error, limits)) from error
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as error:
        raise _Skip(f"corrupt or truncated image: {error}") from error
    except Exception as error:  # noqa: BLE001 - one odd file must never stop the whole load
        raise _Skip(f"could not be read: {type(error).__name__}: {error}") from error
    original = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return np.asarray(square, dtype=np.uint8), original


def _check_dimensions(width: int, height: int, limits: LoadLimits) -> None:
    if width * height > limits.max_pixels:
        raise _Skip(f"too large: {width}×{height} pixels is over the {limits.max_pixels:,}-pixel limit")
    if min(width, height) < limits.min_side:
        raise _Skip(f"too small: {width}×{height}, needs at least {limits.min_side} px on each side")


def _pillow_too_large(error: Warning | Exception, limits: LoadLimits) -> str:
    """Reason for an image stopped by Pillow's own (process-wide) guard, which reports no dimensions."""
    match = re.search(r"\((\d+) pixels\)", str(error))
    pixels = f"{int(match[1]):,} pixels" if match else "the image"
    limit = min(limits.max_pixels, Image.MAX_IMAGE_PIXELS or limits.max_pixels)
    return f"too large: {pixels} is over the {limit:,}-pixel limit"


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any mode -> RGB: alpha and transparency composited on white, high bit depths scaled down."""
    if image.mode.startswith("I") or image.mode == "F":
        image = Image.fromarray(_scale_to_uint8(np.asarray(image), image.mode))
    if image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*PAD_COLOR, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _scale_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Map 16-bit / 32-bit / float grey levels onto 0..255 (a proportional scale, not a clip)."""
    values = values.astype(np.float64)
    low, high = float(values.min()), float(values.max())
    if mode.startswith("I;16") or (low >= 0 and 255 < high <= 65535):
        scaled = values / 257.0
    elif mode == "F" and low >= 0 and high <= 1:
        scaled = values * 255.0
    elif low >= 0 and high <= 255:
        scaled = values
    else:
        scaled = (values - low) * (255.0 / max(high - low, 1e-12))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _square(image: Image.Image, size: int, crop: str) -> Image.Image:
    """Centre-crop or white-pad to a square, then resize to ``size`` with LANCZOS."""
    width, height = image.size
    if crop == "center":
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
        return image.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=_REDUCING_GAP)
    scale = size / max(width, height)
    fitted = (max(1, round(width * scale)), max(1, round(height * scale)))
    canvas = Image.new("RGB", (size, size), PAD_COLOR)
    resized = image.resize(fitted, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    canvas.paste(resized, ((size - fitted[0]) // 2, (size - fitted[1]) // 2))
    return canvas

