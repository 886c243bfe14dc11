"""Small helpers for turning arrays into pictures (grids, contact sheets)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Map images in [-1, 1] (float) to uint8 [0, 255]; uint8 passes through."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    scaled = (np.clip(images, -1.0, 1.0) + 1.0) * 127.5
    return np.round(scaled).astype(np.uint8)


def image_grid(
    images: np.ndarray | Sequence[np.ndarray],
    columns: int | None = None,
    padding: int = 2,
    background: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """Tile N images of shape (H, W, 3) into one picture, row by row."""
    tiles = to_uint8(np.stack(list(images)) if not isinstance(images, np.ndarray) else images)
    if tiles.ndim != 4 or tiles.shape[0] == 0:
        raise ValueError(f"image_grid needs a non-empty (N, H, W, C) batch, got shape {tiles.shape}")
    count, height, width = tiles.shape[:3]
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    sheet = Image.new(
        "RGB",
        (columns * (width + padding) + padding, rows * (height + padding) + padding),
        background,
    )
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        sheet.paste(
            Image.fromarray(tile[..., :3]),
            (padding + column * (width + padding), padding + row * (height + padding)),
        )
    return sheet
