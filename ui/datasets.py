"""Loading datasets for the pages: progress in words, a shared cache, uploads, plain-word warnings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import streamlit as st
from PIL import Image

from gan_core.config import TrainConfig
from gan_core.data import ImageDataset, load_dataset
from gan_core.demo_data import demo_folder_name, read_demo_marker
from gan_core.imaging import image_grid
from gan_core.paths import cache_dir
from gan_core.trainer import load_training_data
from ui import state

PREVIEW_SIZE = 64  # thumbnails on the Dataset page; training loads its own size
IMBALANCE_RATIO = 3
FID_MIN_IMAGES = 2048


def _progress_bar(source: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress callback that draws an ``st.progress`` with words, and a function that removes it."""
    words = ("Drawing the built-in demo images (first time only, up to a minute)…" if source == state.DEMO_SOURCE
             else "Reading and resizing the images (cached after the first time)…")
    bar = st.progress(0.0, text=words)

    def update(done: int, total: int) -> None:
        bar.progress(done / total if total else 0.0, text=f"{words} {done:,} of {total:,}")

    return update, bar.empty


def _with_progress(source: str, load: Callable[[Callable[[int, int], None]], ImageDataset]) -> ImageDataset:
    update, clear = _progress_bar(source)
    try:
        with st.spinner("Looking at the dataset…"):
            return load(update)
    finally:
        clear()


def describe_source(source: str) -> str:
    """How the pages name a dataset source (markdown)."""
    if source == state.DEMO_SOURCE:
        return "the built-in demo"
    return f"the uploaded `{Path(source).name}`" if is_upload(source) else f"`{source}`"


def is_upload(source: str) -> bool:
    return Path(source).parent == _uploads_dir()


def _uploads_dir() -> Path:
    return cache_dir() / "uploads"


def demo_is_drawn() -> bool:
    """Whether the built-in demo already exists in the cache (else loading it takes about a minute)."""
    return read_demo_marker(cache_dir() / demo_folder_name()) is not None


def load_preview(source: str, *, refresh: bool = False) -> ImageDataset:
    """Every class of ``source`` at thumbnail size, shared between sessions."""
    def load() -> ImageDataset:
        return _with_progress(source, lambda progress: load_dataset(source, image_size=PREVIEW_SIZE,
                                                                    progress=progress))

    return state.dataset_cache().get((source, PREVIEW_SIZE), load, refresh=refresh)


def cached_preview(source: str) -> ImageDataset | None:
    return state.dataset_cache().peek((source, PREVIEW_SIZE))  # type: ignore[return-value]


def load_for_training(config: TrainConfig) -> ImageDataset:
    """The images a config trains on (checked against its batch size), with a progress bar."""
    return _with_progress(config.dataset, lambda progress: load_training_data(config, progress=progress))


def save_upload(upload: BinaryIO, name: str) -> Path:
    """Store an uploaded zip in the cache (named by content, so re-uploads are free) and return its path."""
    folder = _uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.blake2b(digest_size=8)
    upload.seek(0)
    while chunk := upload.read(1 << 20):
        digest.update(chunk)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem)[:60] or "upload"
    target = folder / f"{stem}-{digest.hexdigest()}.zip"
    if not target.exists():
        partial = target.with_name(f".{target.name}.partial")
        upload.seek(0)
        with open(partial, "wb") as out:
            while chunk := upload.read(1 << 20):
                out.write(chunk)
        partial.replace(target)
    return target


def warnings_for(counts: Mapping[str, int], *, is_demo: bool) -> list[str]:
    """Plain-word warnings about the picked classes."""
    found = []
    if is_demo:
        found.append("The demo images are procedurally drawn shapes, not photographs: good for trying SynthBin "
                     "out, not for real results. Load your own photos above for that.")
    nonzero = {name: count for name, count in counts.items() if count}
    if len(nonzero) > 1:
        largest, smallest = max(nonzero, key=nonzero.get), min(nonzero, key=nonzero.get)
        if nonzero[largest] > IMBALANCE_RATIO * nonzero[smallest]:
            found.append(f"The classes are unbalanced: '{largest}' has {nonzero[largest]:,} images but "
                         f"'{smallest}' only {nonzero[smallest]:,}. The GAN will mostly learn to draw "
                         f"'{largest}'; pick classes of similar size, or expect fewer good '{smallest}' images.")
    small = [name for name, count in counts.items() if count < FID_MIN_IMAGES]
    if small:
        which = ("Every picked class has" if len(small) == len(counts) > 1
                 else f"{_names(small)} {'has' if len(small) == 1 else 'have'}")
        found.append(f"{which} fewer than {FID_MIN_IMAGES:,} images: too few for a meaningful FID score, "
                     "which needs about 2,048 real images per class. Use KID to judge these classes instead.")
    return found


def _names(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def class_thumbnails(dataset: ImageDataset, class_name: str, count: int = 16) -> Image.Image:
    """A grid of the first ``count`` images of one class (a PIL image)."""
    index = dataset.class_names.index(class_name)
    images = dataset.images[dataset.labels == index][:count]
    return image_grid(images, columns=min(8, len(images)))
