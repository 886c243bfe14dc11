"""Shared fixtures: tiny on-the-fly datasets and isolated cache/run folders."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402


def write_class_folders(root: Path, classes: dict[str, int], size: int = 40, seed: int = 0) -> Path:
    """A dataset folder: one subfolder per class, ``count`` PNGs each, a coloured shape per class."""
    rng = np.random.default_rng(seed)
    palette = [(200, 40, 40), (40, 160, 60), (40, 60, 200), (200, 180, 40)]
    for class_index, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(180, 255, 3)))
            draw = ImageDraw.Draw(image)
            x, y = rng.integers(2, size // 3, 2)
            box = (int(x), int(y), int(x + size // 2), int(y + size // 2))
            colour = palette[class_index % len(palette)]
            (draw.ellipse if class_index % 2 else draw.rectangle)(box, fill=colour)
            image.save(folder / f"{name}_{index:03d}.png")
    return root


@pytest.fixture(autouse=True)
def isolated_storage(tmp_path_factory, monkeypatch):
    """Every test writes caches and runs under its own temporary folders."""
    base = tmp_path_factory.mktemp("storage")
    monkeypatch.setenv("SYNTHBIN_CACHE", str(base / "cache"))
    monkeypatch.setenv("SYNTHBIN_RUNS", str(base / "runs"))
    return base


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    """Two classes, 16 images each, 40 px."""
    return write_class_folders(tmp_path / "tiny", {"battery": 16, "shoes": 16})
