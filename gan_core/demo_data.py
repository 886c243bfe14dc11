"""Built-in demo dataset: garbage-classification look-alikes drawn procedurally.

The real Garbage Classification dataset has to be downloaded; this module draws a stand-in with
Pillow and NumPy so SynthBin works offline. Every image is seeded on its own from
``(seed, class index, image index)``, so the same seed always gives byte-identical files, however
many worker processes draw them. The tree has the real dataset's layout, ``<root>/<class>/<file>.png``,
plus a ``DEMO.json`` marker that is written last and published atomically with the folder.

Each class has one drawing function that sketches an upright object on a transparent layer, in
percent coordinates; shared helpers then pose it (scale, rotation, mirror, shift), drop it with a
soft shadow onto a varied backdrop, and light the scene.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

from gan_core.paths import cache_dir

CLASS_NAMES: tuple[str, ...] = (
    "battery",
    "biological",
    "brown-glass",
    "cardboard",
    "clothes",
    "green-glass",
    "metal",
    "paper",
    "plastic",
    "shoes",
    "trash",
    "white-glass",
)
DEMO_VERSION: int = 2  # bump whenever the drawings change: cached demo folders are keyed on it
DEFAULT_PER_CLASS: int = 300
DEFAULT_SIZE: int = 128
MARKER_NAME = "DEMO.json"
DEMO_NOTE = "Procedurally drawn images, not photographs."

SUPERSAMPLE = 2  # draw at 2x and downsample with LANCZOS for anti-aliasing
PNG_COMPRESS_LEVEL = 1  # fast writes; the files are a cache, not an archive
SENSOR_NOISE = (0.5, 2.5)  # range of the per-image Gaussian grain, in 8-bit levels
CHUNK_SIZE = 25  # images per worker task; also the granularity of progress reports
MAX_WORKERS = 4
PARALLEL_THRESHOLD = 200  # below this many images a process pool costs more than it saves

SHEET_TITLE = "SynthBin demo dataset — procedurally drawn images, not photographs"
SHEET_PADDING = 2
SHEET_LABEL_WIDTH = 92
SHEET_TITLE_HEIGHT = 24

RGB = tuple[int, int, int]
Point = tuple[float, float]


# --------------------------------------------------------------------------------------------------
# Colour and geometry helpers
# --------------------------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, options: Sequence):
    return options[int(rng.integers(len(options)))]


def _jitter(rng: np.random.Generator, colour: Sequence[int], amount: int = 16) -> RGB:
    shifted = np.asarray(colour[:3]) + rng.integers(-amount, amount + 1, size=3)
    return tuple(int(c) for c in np.clip(shifted, 0, 255))


def _scaled(colour: Sequence[int], factor: float) -> RGB:
    return tuple(int(min(255, max(0, c * factor))) for c in colour[:3])


def _with_alpha(colour: Sequence[int], alpha: int) -> tuple[int, int, int, int]:
    return (*colour[:3], alpha)


def _vary(rng: np.random.Generator, value: float, spread: float = 0.1) -> float:
    return value * rng.uniform(1 - spread, 1 + spread)


def _rotated_box(cx: float, cy: float, width: float, height: float, angle: float) -> list[Point]:
    """Corners of a width x height rectangle centred on (cx, cy), turned by `angle` degrees."""
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    corners = ((-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2), (-width / 2, height / 2))
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in corners]


def _blob(
    rng: np.random.Generator, cx: float, cy: float, radius: float, lumpiness: float = 0.15, squash: float = 1.0
) -> list[Point]:
    """A closed, irregular roundish outline: a circle whose radius wobbles with a few random harmonics."""
    angles = np.linspace(0, 2 * math.pi, 36, endpoint=False)
    wobble = np.ones_like(angles)
    for harmonic in range(2, 7):
        wobble += rng.uniform(0, lumpiness) / harmonic * np.cos(harmonic * angles + rng.uniform(0, 2 * math.pi))
    return [
        (cx + radius * w * math.cos(a), cy + radius * squash * w * math.sin(a))
        for a, w in zip(angles, wobble, strict=True)
    ]


def _ribbon(
    start: Point, angle: float, length: float, width_at: Callable[[float], float], bend: float = 0.0, steps: int = 14
) -> tuple[list[Point], list[Point]]:
    """Outline and centre line of a curved strip (leaf, peel, sleeve) that bends by `bend` degrees overall."""
    x, y = start
    heading = math.radians(angle)
    step = length / steps
    left, right, centre = [], [], []
    for index in range(steps + 1):
        half = width_at(index / steps) / 2
        normal_x, normal_y = -math.sin(heading), math.cos(heading)
        left.append((x + normal_x * half, y + normal_y * half))
        right.append((x - normal_x * half, y - normal_y * half))
        centre.append((x, y))
        x, y = x + math.cos(heading) * step, y + math.sin(heading) * step
        heading += math.radians(bend) / steps
    return left + right[::-1], centre


def _lathe_outline(profile: Sequence[tuple[float, float]], cx: float = 50.0, steps: int = 6) -> list[Point]:
    """Mirror a top-to-bottom (y, half width) profile into a closed outline, easing widths between points."""
    right: list[Point] = []
    for (y0, w0), (y1, w1) in zip(profile, profile[1:], strict=False):
        for k in range(steps):
            t = k / steps
            ease = t * t * (3 - 2 * t)
            right.append((cx + w0 + (w1 - w0) * ease, y0 + (y1 - y0) * t))
    right.append((cx + profile[-1][1], profile[-1][0]))
    return right + [(2 * cx - x, y) for x, y in reversed(right)]


@lru_cache(maxsize=8)
def _unit_grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-1, 1], as (y, x) arrays of shape (side, side)."""
    axis = (np.arange(side, dtype=np.float32) + 0.5) / side * 2 - 1
    yy, xx = np.meshgrid(axis, axis, indexing="ij")
    return yy, xx


def _smooth_noise(rng: np.random.Generator, side: int, cells: int, cells_x: int | None = None) -> np.ndarray:
    """Value noise in [0, 1] with about `cells` blobs per side (optionally stretched with `cells_x`)."""
    coarse = rng.random((cells + 1, (cells_x or cells) + 1)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, "F").resize((side, side), Image.Resampling.BICUBIC))


def _blur(values: np.ndarray, radius_px: float) -> np.ndarray:
    """Cheap smooth blur of a float map: box-downsample, then bicubic upsample."""
    height, width = values.shape
    radius_px = max(radius_px, 1.0)
    coarse = (max(2, round(width / radius_px)), max(2, round(height / radius_px)))
    image = Image.fromarray(values.astype(np.float32), "F")
    return np.asarray(image.resize(coarse, Image.Resampling.BOX).resize((width, height), Image.Resampling.BICUBIC))


@lru_cache(maxsize=16)
def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size_px)
    except (ImportError, OSError):  # Pillow built without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


# --------------------------------------------------------------------------------------------------
# The drawing surface and its shading
# --------------------------------------------------------------------------------------------------


class _Sketch:
    """A transparent RGBA layer addressed in percent of its side, so drawings don't depend on resolution.

    Pillow's ImageDraw overwrites RGBA pixels instead of blending, so translucent shapes are collected on a
    separate glaze layer that is alpha-composited onto the base before the next opaque shape or pixel access.
    """

    def __init__(self, side: int) -> None:
        self.side = side
        self.unit = side / 100.0
        self.image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        self._glaze: Image.Image | None = None
        self._glaze_draw: ImageDraw.ImageDraw | None = None

    @property
    def image(self) -> Image.Image:
        self._flush()
        return self._base

    @image.setter
    def image(self, value: Image.Image) -> None:
        self._glaze = None
        self._base = value
        self._base_draw = ImageDraw.Draw(value)

    def _flush(self) -> None:
        if self._glaze is not None:
            self._base.alpha_composite(self._glaze)
            self._glaze = None

    def _canvas(self, colour) -> ImageDraw.ImageDraw:
        if colour is None or len(colour) < 4 or colour[3] == 255:
            self._flush()
            return self._base_draw
        if self._glaze is None:
            self._glaze = Image.new("RGBA", self._base.size, (0, 0, 0, 0))
            self._glaze_draw = ImageDraw.Draw(self._glaze)
        return self._glaze_draw

    def _px(self, points: Sequence[Point]) -> list[Point]:
        return [(x * self.unit, y * self.unit) for x, y in points]

    def _box(self, box: Sequence[float]) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = (v * self.unit for v in box)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def _width(self, width: float) -> int:
        return max(1, round(width * self.unit)) if width else 0

    def polygon(self, points: Sequence[Point], fill=None, outline=None, width: float = 0.0) -> None:
        canvas = self._canvas(fill if fill is not None else outline)
        canvas.polygon(self._px(points), fill=fill, outline=outline, width=self._width(width) or 1)

    def ellipse(self, box: Sequence[float], fill=None, outline=None, width: float = 0.0) -> None:
        canvas = self._canvas(fill if fill is not None else outline)
        canvas.ellipse(self._box(box), fill=fill, outline=outline, width=self._width(width) or 1)

    def rect(self, box: Sequence[float], fill=None, radius: float = 0.0, outline=None, width: float = 0.0) -> None:
        canvas = self._canvas(fill if fill is not None else outline)
        canvas.rounded_rectangle(
            self._box(box), radius=radius * self.unit, fill=fill, outline=outline, width=self._width(width) or 1
        )

    def line(self, points: Sequence[Point], fill, width: float) -> None:
        self._canvas(fill).line(self._px(points), fill=fill, width=self._width(width), joint="curve")

    def text(self, position: Point, text: str, fill, size: float) -> None:
        _write(self._canvas(fill), self._px([position])[0], text, _font(max(6, round(size * self.unit))), fill, "mm")

    def erase_ellipse(self, box: Sequence[float]) -> None:
        self._flush()
        self._base_draw.ellipse(self._box(box), fill=(0, 0, 0, 0))

    @contextmanager
    def clipped(self) -> Iterator[None]:
        """Whatever is drawn inside the block stays within the current silhouette."""
        mask = self.image.getchannel("A")
        yield
        self.image.putalpha(ImageChops.darker(self.image.getchannel("A"), mask))

    def fade(self, opacity: float) -> None:
        alpha = np.asarray(self.image.getchannel("A"), dtype=np.float32) * opacity
        self.image.putalpha(Image.fromarray(alpha.astype(np.uint8), "L"))

    def paste(self, other: _Sketch, dx: float = 0.0, dy: float = 0.0) -> None:
        """Alpha-composite another sketch on top, shifted by (dx, dy) percent."""
        shifted = Image.new("RGBA", self.image.size, (0, 0, 0, 0))
        shifted.paste(other.image, (round(dx * self.unit), round(dy * self.unit)))
        self.image.alpha_composite(shifted)

    def bounds(self, margin: float = 0.0) -> tuple[int, int, int, int] | None:
        """Pixel box around the visible part, grown by `margin` percent; shading only works inside it."""
        box = self.image.getchannel("A").getbbox()
        if box is None:
            return None
        grow = round(margin * self.unit)
        x0, y0, x1, y1 = box
        return max(0, x0 - grow), max(0, y0 - grow), min(self.side, x1 + grow), min(self.side, y1 + grow)

    def array(self, box: tuple[int, int, int, int]) -> np.ndarray:
        return np.asarray(self.image.crop(box), dtype=np.float32)

    def set_rgb(self, rgb: np.ndarray, alpha: np.ndarray, box: tuple[int, int, int, int]) -> None:
        merged = np.empty((*rgb.shape[:2], 4), dtype=np.uint8)
        merged[..., :3] = np.clip(rgb, 0, 255)
        merged[..., 3] = alpha
        self.image.paste(Image.fromarray(merged, "RGBA"), box[:2])


def _lathe_shade(
    sketch: _Sketch,
    light: float,
    *,
    ambient: float = 0.5,
    shine: float = 0.5,
    gloss: float = 0.12,
    metallic: bool = False,
) -> None:
    """Shade an upright solid of revolution: each row is treated as a cylinder slice between its opaque edges.

    `light` in [-1, 1] moves the light from left to right; `metallic` adds the dark and bright reflection bands
    that make a surface read as polished metal rather than plastic.
    """
    box = sketch.bounds()
    if box is None:
        return
    pixels = sketch.array(box)
    opaque = pixels[..., 3] > 8
    width = opaque.shape[1]
    left = np.argmax(opaque, axis=1).astype(np.float32)
    right = width - 1 - np.argmax(opaque[:, ::-1], axis=1).astype(np.float32)
    span = np.maximum(right - left, 1.0)
    x = np.arange(width, dtype=np.float32)
    normal = np.clip((x[None, :] - left[:, None]) / span[:, None] * 2 - 1, -1, 1)
    depth = np.sqrt(1 - normal**2)
    angle = light * 0.9
    diffuse = np.clip(normal * math.sin(angle) + depth * math.cos(angle), 0, 1)
    multiplier = ambient + (1 - ambient) * diffuse
    highlight_at = math.sin(angle / 2) - 0.25
    specular = np.exp(-(((normal - highlight_at) / gloss) ** 2))
    if metallic:
        multiplier *= 1 - 0.45 * np.exp(-(((normal - highlight_at - 0.45) / 0.2) ** 2))
        specular += 0.5 * np.exp(-(((normal + 0.75) / 0.08) ** 2)) + 0.35 * np.exp(-(((normal - 0.8) / 0.1) ** 2))
    rgb = pixels[..., :3] * multiplier[..., None] + (shine * 255 * specular)[..., None]
    sketch.set_rgb(rgb, pixels[..., 3], box)


def _relief_shade(
    sketch: _Sketch,
    rng: np.random.Generator,
    *,
    bulge: float = 1.0,
    softness: float = 8.0,
    wrinkles: float = 0.0,
    wrinkle_cells: int = 10,
    creased: bool = False,
    ambient: float = 0.55,
    shine: float = 0.0,
    gloss: float = 24.0,
) -> None:
    """Light the silhouette as a soft relief: it bulges in from its edges, optionally wrinkled or creased.

    The height map is the blurred silhouette (plus value noise for wrinkles; folded abs-noise for sharp
    creases), and its slopes give surface normals for a simple Lambert + Phong light.
    """
    box = sketch.bounds(margin=softness)
    if box is None:
        return
    pixels = sketch.array(box)
    # Shading varies smoothly, so the light is worked out at half resolution and scaled back up.
    full_size = (pixels.shape[1], pixels.shape[0])
    coarse_size = (max(2, full_size[0] // 2), max(2, full_size[1] // 2))
    coarse_alpha = Image.fromarray(pixels[..., 3] / 255.0, "F").resize(coarse_size, Image.Resampling.BOX)
    height = bulge * _blur(np.asarray(coarse_alpha), softness * sketch.unit / 2)
    if wrinkles:
        x0, y0 = box[0] // 2, box[1] // 2
        noise = _smooth_noise(rng, sketch.side // 2 + 2, wrinkle_cells)[
            y0 : y0 + coarse_size[1], x0 : x0 + coarse_size[0]
        ]
        if creased:
            noise = 1 - np.abs(noise - 0.5) * 2
        height = height + wrinkles * noise * 10 / wrinkle_cells
    slope_y, slope_x = np.gradient(height)
    steepness = sketch.side * 0.08  # per coarse pixel, i.e. 0.16 * side per full pixel
    normal_x, normal_y = -slope_x * steepness, -slope_y * steepness
    norm = np.sqrt(normal_x**2 + normal_y**2 + 1)
    azimuth = rng.uniform(-2.6, -0.5)  # light from somewhere above
    elevation = rng.uniform(0.7, 1.0)
    light_x, light_y = math.cos(azimuth) * math.cos(elevation), math.sin(azimuth) * math.cos(elevation)
    light_z = math.sin(elevation)
    facing = (normal_x * light_x + normal_y * light_y + light_z) / norm
    multiplier = ambient + (1 - ambient) * np.clip(facing, 0, None) / light_z
    rgb = pixels[..., :3] * _upscaled(multiplier, full_size)[..., None]
    if shine:
        half = np.array([light_x, light_y, light_z + 1.0])
        half /= np.linalg.norm(half)
        glint = np.clip((normal_x * half[0] + normal_y * half[1] + half[2]) / norm, 0, 1) ** gloss
        rgb += (shine * 255 * _upscaled(glint, full_size))[..., None]
    sketch.set_rgb(rgb, pixels[..., 3], box)


def _upscaled(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(values.astype(np.float32), "F")
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR))


def _grain(sketch: _Sketch, rng: np.random.Generator, amount: float) -> None:
    """Fine per-pixel texture (fibres, fabric, corrugated board)."""
    box = sketch.bounds()
    if box is None:
        return
    pixels = sketch.array(box)
    noise = 1 + amount * rng.standard_normal(pixels.shape[:2], dtype=np.float32)
    sketch.set_rgb(pixels[..., :3] * noise[..., None], pixels[..., 3], box)


# --------------------------------------------------------------------------------------------------
# battery
# --------------------------------------------------------------------------------------------------

_SILVER: RGB = (200, 200, 206)
_BATTERY_WRAPS: tuple[tuple[RGB, RGB], ...] = (
    ((35, 35, 38), (196, 120, 45)),  # black body, copper top
    ((30, 80, 190), (225, 225, 230)),
    ((30, 130, 60), (25, 25, 25)),
    ((200, 35, 35), (235, 195, 40)),
    ((235, 190, 30), (30, 30, 30)),
    ((140, 140, 150), (30, 30, 35)),
    ((190, 40, 130), (245, 245, 245)),
    ((240, 120, 20), (30, 30, 30)),
)


def _draw_aa_cell(
    sketch: _Sketch, rng: np.random.Generator, cx: float, top: float, width: float, length: float, wrap: tuple[RGB, RGB]
) -> None:
    main, accent = wrap
    nub_height = length * 0.06
    body_top, bottom = top + nub_height, top + length
    x0, x1 = cx - width / 2, cx + width / 2
    sketch.rect((cx - width * 0.18, top, cx + width * 0.18, body_top + 1), _SILVER, radius=width * 0.06)
    sketch.rect((x0, body_top, x1, bottom), main, radius=width * 0.12)
    band_end = body_top + length * rng.uniform(0.22, 0.45)
    sketch.rect((x0, body_top + 1, x1, band_end), accent)
    sketch.rect((x0 + 0.3, body_top, x1 - 0.3, body_top + 1.4), _SILVER)
    sketch.rect((x0 + 0.3, bottom - 1.8, x1 - 0.3, bottom), _SILVER, radius=0.6)
    # printed lettering runs along the cell's length
    ink = (245, 245, 245) if sum(main) < 380 else (25, 25, 25)
    for offset in rng.uniform(-0.25, 0.25, size=int(rng.integers(1, 3))):
        start = band_end + length * rng.uniform(0.06, 0.15)
        stroke = width * 0.09
        sketch.rect(
            (
                cx + offset * width - stroke,
                start,
                cx + offset * width + stroke,
                start + length * rng.uniform(0.2, 0.35),
            ),
            _with_alpha(ink, 220),
        )
    plus_y, arm = body_top + length * 0.09, width * 0.16
    plus_ink = (20, 20, 20) if sum(accent) > 380 else (240, 240, 240)
    sketch.line([(cx - arm, plus_y), (cx + arm, plus_y)], plus_ink, width * 0.08)
    sketch.line([(cx, plus_y - arm), (cx, plus_y + arm)], plus_ink, width * 0.08)


def _draw_9v_battery(rng: np.random.Generator, side: int) -> _Sketch:
    sketch = _Sketch(side)
    main, accent = _pick(rng, _BATTERY_WRAPS)
    width, height = rng.uniform(40, 50), rng.uniform(50, 60)
    x0, top = 50 - width / 2, 50 - height / 2 + 5
    x1, bottom = x0 + width, top + height
    # snap terminals: a round (+) and a hexagonal (-) stud
    stud = width * 0.13
    plus_x, minus_x = x0 + width * 0.28, x1 - width * 0.28
    sketch.rect((plus_x - stud * 0.8, top - 7, plus_x + stud * 0.8, top + 1), _scaled(_SILVER, 0.9), radius=1.5)
    sketch.rect((plus_x - stud * 0.5, top - 9, plus_x + stud * 0.5, top - 5), _SILVER, radius=1)
    sketch.polygon(
        [
            (minus_x + stud * math.cos(a), top - 5 + stud * 0.7 * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 6, endpoint=False)
        ],
        _SILVER,
    )
    sketch.rect((minus_x - stud, top - 5, minus_x + stud, top + 1), _scaled(_SILVER, 0.85))
    sketch.rect((x0, top, x1, bottom), main, radius=3)
    sketch.rect((x0, top, x1, top + height * 0.1), _SILVER, radius=2)
    sketch.rect((x0, bottom - height * rng.uniform(0.25, 0.45), x1, bottom - 2), accent)
    sketch.rect((x0, bottom - 2.5, x1, bottom), _scaled(_SILVER, 0.8), radius=1.5)
    ink = (245, 245, 245) if sum(main) < 380 else (20, 20, 20)
    sketch.text((50, top + height * 0.38), "9V", ink, size=height * 0.3)
    _lathe_shade(sketch, rng.uniform(-0.8, 0.8), ambient=0.72, shine=0.25, gloss=0.25)
    return sketch


def _draw_battery(rng: np.random.Generator, side: int) -> _Sketch:
    """AA-style cells (one to three), or sometimes a 9V block."""
    if rng.random() < 0.22:
        return _draw_9v_battery(rng, side)
    count = 1 if rng.random() < 0.6 else int(rng.integers(2, 4))
    width = rng.uniform(18, 25) if count == 1 else rng.uniform(14, 18)
    length = rng.uniform(64, 78)
    wrap = _pick(rng, _BATTERY_WRAPS)
    light = rng.uniform(-0.8, 0.8)
    layer = _Sketch(side)
    pitch = width * 1.06
    for index in range(count):
        cell = _Sketch(side)
        top = 50 - length / 2 + rng.uniform(-3, 3) * (count > 1)
        _draw_aa_cell(cell, rng, 50 - pitch * (count - 1) / 2 + index * pitch, top, width, length, wrap)
        _lathe_shade(cell, light, ambient=0.4, shine=0.55)
        layer.paste(cell)
    return layer


# --------------------------------------------------------------------------------------------------
# biological
# --------------------------------------------------------------------------------------------------

_LEAF_COLOURS: tuple[RGB, ...] = (
    (70, 140, 50),
    (105, 165, 60),
    (50, 110, 45),
    (180, 170, 60),
    (150, 110, 50),
    (120, 150, 40),
)
_PEEL_COLOURS: tuple[RGB, ...] = ((235, 120, 30), (230, 200, 60), (200, 60, 40), (240, 220, 190), (150, 90, 50))


def _draw_apple_core(sketch: _Sketch, rng: np.random.Generator) -> None:
    skin = _jitter(rng, _pick(rng, ((185, 30, 35), (200, 60, 40), (140, 185, 60), (215, 170, 50))), 15)
    flesh = _jitter(rng, (236, 222, 165), 10)
    half = rng.uniform(14, 18)
    waist = rng.uniform(5, 8)
    sketch.ellipse((50 - half, 14, 50 + half, 32), skin)
    sketch.ellipse((50 - half * 0.85, 70, 50 + half * 0.85, 86), skin)
    bitten = [
        (50 - half * 0.8, 24),
        (50 - waist, 40),
        (50 - waist * 1.1, 58),
        (50 - half * 0.7, 76),
        (50 + half * 0.7, 76),
        (50 + waist * 1.1, 58),
        (50 + waist, 40),
        (50 + half * 0.8, 24),
    ]
    sketch.polygon(bitten, flesh)
    with sketch.clipped():
        for _ in range(int(rng.integers(2, 5))):  # oxidised brown patches
            x, y = rng.uniform(42, 58), rng.uniform(30, 72)
            sketch.ellipse((x - 4, y - 6, x + 4, y + 6), (150, 100, 40, 110))
        sketch.ellipse((50 - waist * 0.7, 44, 50 + waist * 0.7, 58), _scaled(flesh, 1.05))
        for dy in (47, 52):
            sketch.ellipse((48, dy, 51, dy + 4), (70, 40, 20))
    sketch.line([(50, 16), (51 + rng.uniform(-2, 3), 6)], (95, 60, 30), 1.8)


def _draw_banana_peel(sketch: _Sketch, rng: np.random.Generator) -> None:
    ripeness = rng.uniform(0, 1)
    skin = _jitter(rng, (int(235 - 80 * ripeness), int(205 - 90 * ripeness), int(60 - 20 * ripeness)), 10)
    inner = _jitter(rng, (240, 230, 190), 8)
    top = (50 + rng.uniform(-4, 4), 24)
    flaps = int(rng.integers(3, 5))
    for index, angle in enumerate(np.linspace(35, 145, flaps) + rng.uniform(-12, 12, flaps)):
        length = rng.uniform(38, 52)
        width = rng.uniform(11, 15)
        bend = rng.uniform(-35, 35)
        outline, centre = _ribbon(
            top,
            angle,
            length,
            lambda t, w=width: w * (0.55 + 0.45 * math.sin(math.pi * min(t, 0.85))) * (1 - 0.6 * t),
            bend,
        )
        colour = inner if index % 2 else skin
        sketch.polygon(outline, colour)
        sketch.line(centre[2:-2], _scaled(colour, 0.85), 0.8)
    with sketch.clipped():
        for _ in range(int(4 + 14 * ripeness)):
            x, y, r = rng.uniform(20, 80), rng.uniform(25, 85), rng.uniform(0.8, 2.2)
            sketch.ellipse((x - r, y - r, x + r, y + r), (90, 60, 25, 200))
    sketch.rect((top[0] - 3, top[1] - 12, top[0] + 3, top[1] + 2), (110, 85, 40), radius=1.5)
    sketch.rect((top[0] - 3.5, top[1] - 14, top[0] + 3.5, top[1] - 10), (60, 45, 25), radius=1)


def _draw_food_scraps(sketch: _Sketch, rng: np.random.Generator) -> None:
    """A small heap: leaves, vegetable peels and soft roundish bits."""
    for _ in range(int(rng.integers(5, 10))):
        start = (rng.normal(50, 12), rng.normal(50, 12))
        angle = rng.uniform(0, 360)
        kind = rng.random()
        if kind < 0.5:
            colour = _jitter(rng, _pick(rng, _LEAF_COLOURS), 14)
            length, width = rng.uniform(25, 42), rng.uniform(10, 18)
            outline, centre = _ribbon(
                start, angle, length, lambda t, w=width: w * math.sin(math.pi * t) ** 0.7, rng.uniform(-30, 30)
            )
            sketch.polygon(outline, colour)
            sketch.line(centre, _scaled(colour, 1.25), 0.9)
        elif kind < 0.8:
            colour = _jitter(rng, _pick(rng, _PEEL_COLOURS), 14)
            width = rng.uniform(4, 7)
            outline, _ = _ribbon(
                start,
                angle,
                rng.uniform(20, 34),
                lambda t, w=width: w * (0.6 + 0.4 * math.sin(math.pi * t)),
                rng.uniform(-120, 120),
            )
            sketch.polygon(outline, colour)
        else:
            colour = _jitter(rng, _pick(rng, ((190, 40, 40), (230, 150, 40), (120, 80, 40), (200, 190, 150))), 14)
            radius = rng.uniform(6, 10)
            sketch.polygon(_blob(rng, *start, radius, 0.3), colour)
            sketch.ellipse(
                (start[0] - radius * 0.5, start[1] - radius * 0.5, start[0] + radius * 0.4, start[1] + radius * 0.4),
                _scaled(colour, 1.2),
            )


def _draw_biological(rng: np.random.Generator, side: int) -> _Sketch:
    """Food waste: an apple core, a banana peel or a heap of leafy scraps."""
    sketch = _Sketch(side)
    _pick(rng, (_draw_apple_core, _draw_banana_peel, _draw_food_scraps, _draw_food_scraps))(sketch, rng)
    _relief_shade(sketch, rng, bulge=0.8, softness=5, wrinkles=0.15, wrinkle_cells=12, shine=0.25)
    return sketch


# --------------------------------------------------------------------------------------------------
# glass and plastic bottles
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Glass:
    colour: RGB
    opacity: float
    outline: RGB | None = None
    jar_chance: float = 0.3
    label_chance: float = 0.6
    caps: tuple[RGB, ...] = ()


_CAP_COLOURS: tuple[RGB, ...] = (
    (205, 170, 60),
    (190, 190, 196),
    (190, 30, 35),
    (30, 70, 160),
    (30, 120, 50),
    (30, 30, 30),
    (235, 235, 235),
)
_METAL_LIDS: tuple[RGB, ...] = ((205, 170, 60), (190, 190, 196), (40, 40, 40), (175, 150, 90))
_GLASSES = {
    "brown-glass": _Glass((115, 60, 18), 0.9, caps=_CAP_COLOURS),
    "green-glass": _Glass((40, 115, 45), 0.88, caps=_CAP_COLOURS),
    # clear glass reads as glass through its greenish edges and reflections, so it gets fewer labels
    "white-glass": _Glass(
        (214, 230, 224), 0.5, outline=(105, 130, 122), jar_chance=0.45, label_chance=0.35, caps=_METAL_LIDS
    ),
}
_LABEL_COLOURS: tuple[RGB, ...] = (
    (240, 232, 210),
    (250, 250, 250),
    (200, 40, 40),
    (30, 60, 140),
    (25, 25, 25),
    (40, 120, 60),
    (210, 175, 70),
)


@dataclass(frozen=True)
class _Bottle:
    profile: list[tuple[float, float]]
    cap: tuple[float, float, float]  # top, bottom, half width
    label: tuple[float, float, float]  # top, bottom, half width
    bottom: float


def _beer_bottle(rng: np.random.Generator) -> _Bottle:
    neck, body = _vary(rng, 4.2), _vary(rng, 12.5)
    top, shoulder, bottom = _vary(rng, 10, 0.15), _vary(rng, 44), _vary(rng, 90, 0.04)
    profile = [
        (top, neck + 1.2),
        (top + 3, neck + 1.2),
        (top + 3, neck),
        (shoulder - 12, neck),
        (shoulder, body),
        (bottom - 2, body),
        (bottom, body - 2.5),
    ]
    return _Bottle(
        profile, (top - 1, top + 3.5, neck + 1.6), (shoulder + 8, shoulder + rng.uniform(20, 30), body), bottom
    )


def _wine_bottle(rng: np.random.Generator) -> _Bottle:
    neck, body = _vary(rng, 3.8), _vary(rng, 11.5)
    top, shoulder, bottom = _vary(rng, 6, 0.2), _vary(rng, 40), _vary(rng, 93, 0.03)
    profile = [
        (top, neck + 0.8),
        (top + 2, neck + 0.8),
        (top + 2, neck),
        (shoulder - 16, neck),
        (shoulder, body),
        (bottom - 2, body),
        (bottom, body - 1.5),
    ]
    return _Bottle(profile, (top - 0.5, top + rng.uniform(8, 14), neck + 1.0), (bottom - 32, bottom - 10, body), bottom)


def _jar(rng: np.random.Generator) -> _Bottle:
    body, mouth = _vary(rng, 19), _vary(rng, 14)
    top, bottom = _vary(rng, 20, 0.15), _vary(rng, 84, 0.05)
    profile = [
        (top, mouth + 1),
        (top + 7, mouth + 1),
        (top + 7, mouth),
        (top + 10, mouth),
        (top + 17, body),
        (bottom - 4, body),
        (bottom, body - 4),
    ]
    return _Bottle(profile, (top - 1, top + 7.5, mouth + 1.6), (top + 24, bottom - rng.uniform(8, 16), body), bottom)


def _draw_label(sketch: _Sketch, rng: np.random.Generator, top: float, bottom: float, half: float) -> None:
    colour = _jitter(rng, _pick(rng, _LABEL_COLOURS), 12)
    ink = (25, 25, 25) if sum(colour) > 400 else (240, 230, 200)
    sketch.rect((50 - half, top, 50 + half, bottom), colour)
    middle = (top + bottom) / 2
    sketch.ellipse(
        (50 - half * 0.45, middle - (bottom - top) * 0.3, 50 + half * 0.45, middle + (bottom - top) * 0.2),
        outline=ink,
        width=0.8,
    )
    sketch.rect(
        (50 - half * 0.55, bottom - (bottom - top) * 0.22, 50 + half * 0.55, bottom - (bottom - top) * 0.14), ink
    )


def _draw_bottle(rng: np.random.Generator, side: int, glass: _Glass) -> _Sketch:
    """A glass bottle or jar: translucent tinted body with a highlight stripe, plus an opaque cap and label."""
    shape = _jar(rng) if rng.random() < glass.jar_chance else _pick(rng, (_beer_bottle, _wine_bottle))(rng)
    tint = _jitter(rng, glass.colour, 16)
    light = rng.uniform(-0.9, 0.9)
    body = _Sketch(side)
    outline = _lathe_outline(shape.profile)
    body.polygon(outline, tint)
    with body.clipped():  # thick glass at the base
        body.rect((0, shape.bottom - 3, 100, 100), _with_alpha(_scaled(tint, 0.6), 200))
    _lathe_shade(body, light, ambient=0.35, shine=0.85, gloss=0.09)
    body.fade(glass.opacity)
    if glass.outline:
        body.polygon(outline, outline=_with_alpha(glass.outline, 230), width=0.9)

    parts = _Sketch(side)
    cap_top, cap_bottom, cap_half = shape.cap
    if rng.random() < 0.8:
        parts.rect(
            (50 - cap_half, cap_top, 50 + cap_half, cap_bottom), _jitter(rng, _pick(rng, glass.caps), 10), radius=0.8
        )
    if rng.random() < glass.label_chance:
        _draw_label(parts, rng, *shape.label)
    _lathe_shade(parts, light, ambient=0.5, shine=0.35, gloss=0.15)
    body.paste(parts)
    return body


def _draw_pet_bottle(sketch: _Sketch, rng: np.random.Generator, light: float) -> None:
    neck, body = _vary(rng, 5.5), _vary(rng, 14)
    top, shoulder, bottom = _vary(rng, 14, 0.15), _vary(rng, 36, 0.1), _vary(rng, 90, 0.04)
    waist = (shoulder + bottom) / 2 + rng.uniform(-6, 6)
    profile = [
        (top, neck),
        (top + 6, neck),
        (top + 6, neck + 2.2),
        (top + 7.2, neck + 2.2),
        (top + 7.2, neck),
        (top + 9, neck),
        (shoulder, body),
        (waist - 4, body),
        (waist, body * 0.86),
        (waist + 4, body),
        (bottom - 3, body),
        (bottom, body * 0.75),
    ]
    tint = _jitter(rng, _pick(rng, ((196, 220, 240), (226, 234, 238), (200, 235, 210))), 8)
    shell = _Sketch(sketch.side)
    shell.polygon(_lathe_outline(profile), tint)
    with shell.clipped():  # moulded ribs
        for y in np.arange(shoulder + 3, bottom - 3, rng.uniform(3.5, 5.5)):
            shell.line([(0, y), (100, y)], _with_alpha(_scaled(tint, 0.72), 220), 0.9)
            shell.line([(0, y + 1), (100, y + 1)], (255, 255, 255, 160), 0.6)
    _lathe_shade(shell, light, ambient=0.55, shine=0.8, gloss=0.08)
    shell.fade(rng.uniform(0.6, 0.75))
    sketch.paste(shell)
    parts = _Sketch(sketch.side)
    cap = _jitter(
        rng,
        _pick(rng, ((30, 90, 210), (210, 35, 35), (245, 245, 245), (40, 150, 60), (240, 140, 20), (25, 25, 25))),
        12,
    )
    parts.rect((50 - neck - 1.3, top - 7, 50 + neck + 1.3, top + 1), cap, radius=1.2)
    for x in np.linspace(50 - neck, 50 + neck, 6):
        parts.line([(x, top - 6), (x, top)], _scaled(cap, 0.7), 0.5)
    if rng.random() < 0.7:
        label_top = rng.uniform(shoulder + 4, waist - 10)
        _draw_label(parts, rng, label_top, label_top + rng.uniform(10, 18), body)
    _lathe_shade(parts, light, ambient=0.5, shine=0.4, gloss=0.15)
    sketch.paste(parts)


_JUG_COLOURS: tuple[RGB, ...] = (
    (240, 240, 236),
    (240, 130, 30),
    (60, 120, 210),
    (240, 210, 60),
    (230, 120, 170),
    (90, 180, 90),
)


def _draw_jug(sketch: _Sketch, rng: np.random.Generator, light: float) -> None:
    """A handled detergent/milk jug; its boxy body is lit as a relief, so `light` goes unused."""
    colour = _jitter(rng, _pick(rng, _JUG_COLOURS), 12)
    left, right, bottom = rng.uniform(26, 32), rng.uniform(68, 74), rng.uniform(84, 90)
    sketch.rect((left, 34, right, bottom), colour, radius=7)
    sketch.polygon(
        [(left, 42), (left + 6, 24), (44, 18), (right - 4, 20), (right, 34), (right, 44), (left, 44)], colour
    )
    cap = _jitter(rng, _pick(rng, _CAP_COLOURS), 10)
    sketch.rect((left + 7, 9, left + 19, 20), cap, radius=1.5)
    sketch.erase_ellipse((right - 17, 24, right - 6, 38))
    if rng.random() < 0.7:
        sketch.rect((left + 5, 52, right - 5, 76), _jitter(rng, _pick(rng, _LABEL_COLOURS), 12), radius=2)
    _relief_shade(sketch, rng, bulge=1.0, softness=7, shine=0.45, gloss=30)


def _draw_tub(sketch: _Sketch, rng: np.random.Generator, light: float) -> None:
    colour = _jitter(
        rng, _pick(rng, ((245, 245, 245), (230, 236, 240), (30, 30, 30), (60, 130, 200), (230, 80, 60))), 10
    )
    top, bottom = rng.uniform(28, 36), rng.uniform(78, 86)
    half_top, half_bottom = rng.uniform(22, 27), rng.uniform(15, 20)
    sketch.polygon(
        [(50 - half_top, top), (50 + half_top, top), (50 + half_bottom, bottom), (50 - half_bottom, bottom)], colour
    )
    lid = _jitter(rng, _pick(rng, _CAP_COLOURS), 10)
    sketch.rect((50 - half_top - 1.5, top - 6, 50 + half_top + 1.5, top + 1.5), lid, radius=1.5)
    with sketch.clipped():
        for y in np.arange(top + 6, bottom, 5):
            sketch.line([(0, y), (100, y)], _with_alpha(_scaled(colour, 0.85), 160), 0.7)
        _draw_label(sketch, rng, top + 14, top + 30, half_top)
    _lathe_shade(sketch, light, ambient=0.6, shine=0.5, gloss=0.12)


def _draw_plastic(rng: np.random.Generator, side: int) -> _Sketch:
    """Mostly a clear PET bottle with ribs and a coloured cap; sometimes a handled jug or a food tub."""
    sketch = _Sketch(side)
    draw = _pick(rng, (_draw_pet_bottle, _draw_pet_bottle, _draw_pet_bottle, _draw_jug, _draw_tub))
    draw(sketch, rng, rng.uniform(-0.9, 0.9))
    return sketch


# --------------------------------------------------------------------------------------------------
# metal
# --------------------------------------------------------------------------------------------------

_CAN_LABELS: tuple[RGB, ...] = (
    (200, 30, 40),
    (30, 70, 170),
    (30, 140, 60),
    (240, 200, 30),
    (25, 25, 25),
    (230, 120, 30),
    (150, 40, 150),
)


def _draw_tin_can(sketch: _Sketch, rng: np.random.Generator) -> None:
    half, top, bottom = rng.uniform(17, 22), rng.uniform(20, 28), rng.uniform(76, 84)
    ry = half * rng.uniform(0.22, 0.32)
    steel = _jitter(rng, (190, 192, 198), 10)
    sketch.rect((50 - half, top, 50 + half, bottom), steel)
    sketch.ellipse((50 - half, bottom - ry, 50 + half, bottom + ry), steel)
    with sketch.clipped():
        for y in np.arange(top + 5, bottom, rng.uniform(3, 5)):
            sketch.line([(0, y), (100, y)], _with_alpha(_scaled(steel, 0.7), 200), 0.8)
        if rng.random() < 0.35:  # a torn paper label
            sketch.rect((0, top + 10, 100, bottom - 10), _jitter(rng, _pick(rng, _CAN_LABELS), 14))
    _lathe_shade(sketch, rng.uniform(-0.8, 0.8), ambient=0.35, shine=0.8, gloss=0.07, metallic=True)
    sketch.ellipse((50 - half, top - ry, 50 + half, top + ry), _scaled(steel, 1.12))
    if rng.random() < 0.5:  # opened: dark inside and a bent-up lid
        sketch.ellipse((50 - half + 1.8, top - ry + 1.2, 50 + half - 1.8, top + ry - 1.2), (70, 68, 66))
        sketch.polygon(
            [
                (50 - half + 3, top - 1),
                (50 + half * 0.3, top - 2),
                (50 + half * 0.2, top - half),
                (50 - half + 6, top - half * 0.9),
            ],
            _scaled(steel, 1.05),
            outline=_scaled(steel, 0.6),
            width=0.6,
        )
    else:
        sketch.ellipse((50 - half + 2.5, top - ry + 1.5, 50 + half - 2.5, top + ry - 1.5), _scaled(steel, 0.85))
        sketch.ellipse(
            (50 - half * 0.6, top - ry * 0.6, 50 + half * 0.6, top + ry * 0.6), outline=_scaled(steel, 0.7), width=0.6
        )


def _soda_can_profile(rng: np.random.Generator, half: float) -> tuple[list[tuple[float, float]], float, float]:
    top, bottom = rng.uniform(16, 22), rng.uniform(80, 86)
    profile = [(top, half * 0.78), (top + 1.5, half * 0.78), (top + 7, half), (bottom - 4, half), (bottom, half * 0.8)]
    return profile, top, bottom


def _crushed_outline(rng: np.random.Generator, profile: Sequence[tuple[float, float]]) -> list[Point]:
    """A can squashed lengthwise: the middle kinks in and out independently on each side and leans over."""
    (top, neck), *_, (bottom, foot) = profile
    lean = rng.uniform(-6, 6)
    body_top, body_bottom = profile[2][0], profile[-2][0]
    folds = np.linspace(body_top, body_bottom, int(rng.integers(5, 8)))
    right, left = [(50 + neck, top)], [(50 - neck, top)]
    for k, y in enumerate(folds):
        offset = lean * math.sin(math.pi * (y - top) / (bottom - top))
        end = k in (0, len(folds) - 1)
        half = profile[2][1]
        right.append((50 + offset + half * (1.0 if end else 0.78 + 0.4 * (k % 2)) + rng.uniform(-2.5, 2.5), y))
        left.append((50 + offset - half * (1.0 if end else 0.78 + 0.4 * ((k + 1) % 2)) + rng.uniform(-2.5, 2.5), y))
    right.append((50 + foot, bottom))
    left.append((50 - foot, bottom))
    return right + left[::-1]


def _draw_soda_can(sketch: _Sketch, rng: np.random.Generator, crushed: bool = False) -> None:
    half = rng.uniform(15, 19)  # about half as wide as tall, so a can never reads as a slim AA cell
    profile, top, bottom = _soda_can_profile(rng, half)
    colour = _jitter(rng, _pick(rng, _CAN_LABELS), 14)
    aluminium = (200, 200, 205)
    sketch.polygon(_crushed_outline(rng, profile) if crushed else _lathe_outline(profile), aluminium)
    with sketch.clipped():
        sketch.rect((0, top + 8, 100, bottom - 5), colour)
        sketch.ellipse(
            (50 - half * 0.8, (top + bottom) / 2 - 8, 50 + half * 0.8, (top + bottom) / 2 + 6),
            _pick(rng, ((250, 250, 250), (30, 30, 30), (240, 200, 40))),
        )
        if crushed:
            for y in np.linspace(top + 8, bottom - 6, 8):  # dents catch and lose the light
                tone = (
                    (255, 255, 255, int(rng.integers(30, 110)))
                    if rng.random() < 0.5
                    else (0, 0, 0, int(rng.integers(30, 110)))
                )
                sketch.polygon([(0, y), (100, y + rng.uniform(-5, 5)), (100, y + rng.uniform(3, 7)), (0, y + 4)], tone)
    _lathe_shade(sketch, rng.uniform(-0.8, 0.8), ambient=0.4, shine=0.75, gloss=0.07, metallic=True)
    sketch.ellipse(
        (50 - half * 0.78, top - 2, 50 + half * 0.78, top + 2), (215, 215, 220), outline=(150, 150, 155), width=0.5
    )
    sketch.ellipse((50 - 2, top - 1.2, 50 + 4, top + 1), (165, 165, 170))


def _draw_foil_ball(sketch: _Sketch, rng: np.random.Generator) -> None:
    radius = rng.uniform(24, 32)
    sketch.polygon(_blob(rng, 50, 50, radius, 0.35, squash=rng.uniform(0.75, 1.0)), _jitter(rng, (195, 197, 203), 8))
    _relief_shade(
        sketch,
        rng,
        bulge=1.0,
        softness=12,
        wrinkles=0.9,
        wrinkle_cells=14,
        creased=True,
        ambient=0.3,
        shine=0.9,
        gloss=12,
    )


def _draw_metal(rng: np.random.Generator, side: int) -> _Sketch:
    """A tin can with ridges, an aluminium drinks can (sometimes crushed) or a crumpled foil ball."""
    sketch = _Sketch(side)
    choice = rng.random()
    if choice < 0.4:
        _draw_tin_can(sketch, rng)
    elif choice < 0.85:
        _draw_soda_can(sketch, rng, crushed=choice > 0.65)
    else:
        _draw_foil_ball(sketch, rng)
    return sketch


# --------------------------------------------------------------------------------------------------
# cardboard
# --------------------------------------------------------------------------------------------------

_KRAFT: RGB = (184, 140, 92)


def _draw_up_arrows(sketch: _Sketch, x: float, y: float, size: float, ink) -> None:
    for offset in (-size * 0.6, size * 0.6):
        cx = x + offset
        sketch.polygon(
            [
                (cx, y - size),
                (cx + size * 0.5, y - size * 0.3),
                (cx + size * 0.18, y - size * 0.3),
                (cx + size * 0.18, y + size * 0.6),
                (cx - size * 0.18, y + size * 0.6),
                (cx - size * 0.18, y - size * 0.3),
                (cx - size * 0.5, y - size * 0.3),
            ],
            ink,
        )


def _draw_box(sketch: _Sketch, rng: np.random.Generator, kraft: RGB) -> None:
    width, height = rng.uniform(40, 52), rng.uniform(28, 40)
    dx, dy = rng.uniform(12, 20), rng.uniform(9, 15)
    x0 = 50 - (width + dx) / 2
    y1 = 50 + (height + dy) / 2 + 3
    x1, y0 = x0 + width, y1 - height
    front = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    right = [(x1, y0), (x1 + dx, y0 - dy), (x1 + dx, y1 - dy), (x1, y1)]
    top = [(x0, y0), (x0 + dx, y0 - dy), (x1 + dx, y0 - dy), (x1, y0)]
    is_open = rng.random() < 0.5
    if is_open:
        flap = rng.uniform(10, 16)
        inner = _scaled(kraft, 1.08)
        sketch.polygon(
            [(x0 + dx, y0 - dy), (x1 + dx, y0 - dy), (x1 + dx + 2, y0 - dy - flap), (x0 + dx - 2, y0 - dy - flap)],
            _scaled(inner, 0.92),
        )
        sketch.polygon(
            [
                (x0, y0),
                (x0 + dx, y0 - dy),
                (x0 + dx - flap * 0.9, y0 - dy - flap * 0.5),
                (x0 - flap * 0.9, y0 - flap * 0.5),
            ],
            inner,
        )
        sketch.polygon(
            [
                (x1, y0),
                (x1 + dx, y0 - dy),
                (x1 + dx + flap * 0.9, y0 - dy - flap * 0.4),
                (x1 + flap * 0.9, y0 - flap * 0.4),
            ],
            _scaled(kraft, 0.85),
        )
        sketch.polygon(top, _scaled(kraft, 0.42))
    else:
        sketch.polygon(top, _scaled(kraft, 1.12))
    sketch.polygon(front, kraft)
    sketch.polygon(right, _scaled(kraft, 0.74))
    if is_open:
        sketch.polygon(
            [(x0, y0), (x1, y0), (x1 - 2, y0 + flap * 0.9), (x0 + 2, y0 + flap * 0.9)],
            _scaled(kraft, 0.95),
            outline=_scaled(kraft, 0.7),
            width=0.4,
        )
    else:
        tape = _pick(rng, ((205, 170, 110, 200), (150, 100, 50, 230), (235, 235, 225, 140), (220, 220, 220, 230)))
        tape_half = rng.uniform(3, 5)
        middle = (x0 + x1) / 2
        sketch.polygon(
            [
                (middle - tape_half, y0),
                (middle - tape_half + dx, y0 - dy),
                (middle + tape_half + dx, y0 - dy),
                (middle + tape_half, y0),
            ],
            tape,
        )
        sketch.line([(middle, y0), (middle + dx, y0 - dy)], _scaled(kraft, 0.6), 0.4)
        sketch.rect((middle - tape_half, y0, middle + tape_half, y0 + height * rng.uniform(0.25, 0.45)), tape)
    if rng.random() < 0.6:
        mark_x = x0 + width * rng.uniform(0.25, 0.75)
        ink = (30, 30, 30, 210) if rng.random() < 0.7 else (170, 30, 30, 210)
        if rng.random() < 0.5:
            _draw_up_arrows(sketch, mark_x, y1 - height * 0.35, height * 0.14, ink)
        else:
            sketch.rect((mark_x - 8, y1 - height * 0.5, mark_x + 8, y1 - height * 0.2), (245, 245, 240))
            for line in range(3):
                y = y1 - height * 0.45 + line * height * 0.08
                sketch.line([(mark_x - 6, y), (mark_x + rng.uniform(0, 6), y)], (40, 40, 40), 0.6)


def _draw_flat_cardboard(sketch: _Sketch, rng: np.random.Generator, kraft: RGB) -> None:
    angle = rng.uniform(0, 180)
    width, height = rng.uniform(55, 75), rng.uniform(38, 55)
    corners = [(x + rng.uniform(-2, 2), y + rng.uniform(-2, 2)) for x, y in _rotated_box(50, 50, width, height, angle)]
    sketch.polygon(corners, kraft)
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    with sketch.clipped():
        pitch = rng.uniform(2.0, 3.0)
        for offset in np.arange(-60, 60, pitch):  # corrugation flutes showing through the liner
            sketch.line(
                [
                    (50 + offset * cos - 60 * sin, 50 + offset * sin + 60 * cos),
                    (50 + offset * cos + 60 * sin, 50 + offset * sin - 60 * cos),
                ],
                _with_alpha(_scaled(kraft, 0.82), 120),
                0.5,
            )
        fold = rng.uniform(-width / 4, width / 4)
        sketch.line(
            [
                (50 + fold * cos - 60 * sin, 50 + fold * sin + 60 * cos),
                (50 + fold * cos + 60 * sin, 50 + fold * sin - 60 * cos),
            ],
            _scaled(kraft, 0.6),
            1.0,
        )
        if rng.random() < 0.5:
            _draw_up_arrows(sketch, 50 + rng.uniform(-10, 10), 50 + rng.uniform(-8, 8), 5, (30, 30, 30, 200))
    sketch.polygon(corners, outline=_scaled(kraft, 1.2), width=0.8)


def _draw_cardboard(rng: np.random.Generator, side: int) -> _Sketch:
    """A kraft box in perspective (open flaps or taped shut) or a flattened corrugated sheet."""
    sketch = _Sketch(side)
    kraft = _jitter(rng, _KRAFT, 14)
    if rng.random() < 0.7:
        _draw_box(sketch, rng, kraft)
    else:
        _draw_flat_cardboard(sketch, rng, kraft)
    _grain(sketch, rng, 0.04)
    _relief_shade(sketch, rng, bulge=0.15, softness=3, wrinkles=0.08, wrinkle_cells=6, ambient=0.75)
    return sketch


# --------------------------------------------------------------------------------------------------
# clothes
# --------------------------------------------------------------------------------------------------

_FABRICS: tuple[RGB, ...] = (
    (200, 35, 45),
    (30, 45, 100),
    (30, 30, 32),
    (235, 235, 232),
    (140, 140, 145),
    (240, 200, 40),
    (40, 130, 70),
    (230, 130, 170),
    (110, 150, 200),
    (120, 30, 50),
    (110, 110, 60),
    (30, 130, 140),
    (235, 120, 40),
)
_DENIMS: tuple[RGB, ...] = ((50, 80, 140), (30, 50, 95), (95, 125, 170), (190, 170, 120), (40, 40, 42), (110, 80, 55))


def _draw_tshirt(sketch: _Sketch, rng: np.random.Generator) -> None:
    colour = _jitter(rng, _pick(rng, _FABRICS), 16)
    long_sleeves = rng.random() < 0.35
    wide = rng.uniform(0.9, 1.1)

    def at(x: float, y: float) -> Point:
        return 50 + (x - 50) * wide + rng.uniform(-1.2, 1.2), y + rng.uniform(-1.2, 1.2)

    sleeve = [(12, 36), (20, 46)] if not long_sleeves else [(9, 76), (18, 79)]
    outline = [
        at(41, 14),
        at(29, 18),
        at(*sleeve[0]),
        at(*sleeve[1]),
        at(30, 38),
        at(30, 86),
        at(70, 86),
        at(70, 38),
        at(100 - sleeve[1][0], sleeve[1][1]),
        at(100 - sleeve[0][0], sleeve[0][1]),
        at(71, 18),
        at(59, 14),
        (56, 19),
        (50, 21),
        (44, 19),
    ]
    sketch.polygon(outline, colour)
    with sketch.clipped():
        if rng.random() < 0.35:
            stripe = _jitter(rng, _pick(rng, _FABRICS), 16)
            pitch = rng.uniform(5, 10)
            for y in np.arange(rng.uniform(10, 20), 90, pitch):
                sketch.rect((0, y, 100, y + pitch * 0.45), stripe)
        elif rng.random() < 0.3:
            sketch.ellipse((42, 32, 58, 48), _jitter(rng, _pick(rng, _FABRICS), 16))
        sketch.line([(30, 83), (70, 83)], _with_alpha(_scaled(colour, 0.75), 200), 0.6)
    sketch.line([(41, 14), (44, 19), (50, 21), (56, 19), (59, 14)], _scaled(colour, 0.7), 2.0)


def _draw_trousers(sketch: _Sketch, rng: np.random.Generator) -> None:
    colour = _jitter(rng, _pick(rng, _DENIMS), 14)
    hem = rng.uniform(84, 92) if rng.random() < 0.8 else rng.uniform(52, 60)
    flare = rng.uniform(-2, 3)
    outline = [
        (31, 12),
        (69, 12),
        (71, 36),
        (72 + flare, hem),
        (53, hem),
        (50, 38),
        (47, hem),
        (28 - flare, hem),
        (29, 36),
    ]
    sketch.polygon(outline, colour)
    with sketch.clipped():
        sketch.rect((0, 12, 100, 18), _scaled(colour, 0.85))
        stitch = (
            (225, 160, 70, 190)
            if colour in _DENIMS[:3] or sum(colour) < 200
            else _with_alpha(_scaled(colour, 0.7), 200)
        )
        sketch.line([(31, 18), (69, 18)], stitch, 0.5)
        sketch.line([(50, 18), (50, 30), (46, 34)], stitch, 0.6)
        sketch.line([(31, 24), (38, 19)], stitch, 0.6)
        sketch.line([(69, 24), (62, 19)], stitch, 0.6)
        for x in (36, 50, 64):
            sketch.rect((x - 1, 11.5, x + 1, 19), _scaled(colour, 0.75))
        for x in (38.5, 61.5):  # crease down each leg
            sketch.line([(x, 24), (x + (x - 50) * 0.1, hem)], _with_alpha(_scaled(colour, 0.8), 150), 0.6)


def _draw_clothes(rng: np.random.Generator, side: int) -> _Sketch:
    """A T-shirt or sweater, or a pair of trousers/shorts, laid flat."""
    sketch = _Sketch(side)
    (_draw_tshirt if rng.random() < 0.6 else _draw_trousers)(sketch, rng)
    _grain(sketch, rng, 0.05)
    _relief_shade(sketch, rng, bulge=0.5, softness=5, wrinkles=0.45, wrinkle_cells=7, ambient=0.6)
    return sketch


# --------------------------------------------------------------------------------------------------
# paper
# --------------------------------------------------------------------------------------------------

_PAPERS: tuple[RGB, ...] = ((250, 250, 247), (246, 240, 222), (240, 240, 236), (252, 248, 235))


def _draw_text_lines(
    sketch: _Sketch,
    rng: np.random.Generator,
    left: float,
    right: float,
    top: float,
    bottom: float,
    spacing: float,
    stroke: float,
    ink=(60, 60, 70, 210),
) -> None:
    y = top
    while y < bottom:
        x = left
        line_end = right if rng.random() > 0.15 else left + (right - left) * rng.uniform(0.3, 0.8)
        while x < line_end:
            word = rng.uniform(2, 7)
            sketch.rect((x, y, min(x + word, line_end), y + stroke), ink)
            x += word + stroke * 1.2
        y += spacing * (2 if rng.random() < 0.1 else 1)


def _draw_sheet(rng: np.random.Generator, side: int) -> _Sketch:
    sketch = _Sketch(side)
    colour = _jitter(rng, _pick(rng, _PAPERS), 5)
    width = rng.uniform(48, 58)
    height = min(88, width * 1.414)
    x0, y0 = 50 - width / 2, 50 - height / 2
    x1, y1 = x0 + width, y0 + height
    fold = rng.uniform(8, 14) if rng.random() < 0.4 else 0
    sketch.polygon([(x0, y0), (x1 - fold, y0), (x1, y0 + fold), (x1, y1), (x0, y1)], colour)
    margin = width * 0.12
    if rng.random() < 0.25:  # ruled notebook page
        for y in np.arange(y0 + 8, y1 - 2, 3.5):
            sketch.line([(x0, y), (x1, y)], (150, 180, 220), 0.35)
        sketch.line([(x0 + margin, y0), (x0 + margin, y1)], (220, 100, 100), 0.4)
        _draw_text_lines(
            sketch,
            rng,
            x0 + margin + 2,
            x1 - 6,
            y0 + 6.3,
            y0 + height * rng.uniform(0.3, 0.8),
            3.5,
            1.0,
            (40, 60, 140, 200),
        )
    else:
        sketch.rect((x0 + margin, y0 + margin, x0 + width * rng.uniform(0.4, 0.7), y0 + margin + 2.2), (30, 30, 35))
        _draw_text_lines(
            sketch, rng, x0 + margin, x1 - margin, y0 + margin + 6, y1 - margin, rng.uniform(2.6, 3.6), 1.1
        )
    if fold:
        sketch.polygon(
            [(x1 - fold, y0), (x1, y0 + fold), (x1 - fold, y0 + fold)],
            _scaled(colour, 0.85),
            outline=_scaled(colour, 0.7),
            width=0.3,
        )
    return sketch


def _draw_newspaper(rng: np.random.Generator, side: int) -> _Sketch:
    sketch = _Sketch(side)
    newsprint = _jitter(rng, (228, 225, 212), 6)
    width, height = rng.uniform(62, 74), rng.uniform(70, 86)
    x0, y0 = 50 - width / 2, 50 - height / 2
    sketch.rect((x0, y0, x0 + width, y0 + height), newsprint)
    sketch.rect((x0 + 3, y0 + 3, x0 + width - 3, y0 + 9), (25, 25, 25))
    sketch.rect((x0 + 3, y0 + 11, x0 + width * rng.uniform(0.5, 0.9), y0 + 14), (50, 50, 50))
    columns = int(rng.integers(3, 5))
    column_width = (width - 6) / columns
    picture = int(rng.integers(columns))
    for column in range(columns):
        left = x0 + 3 + column * column_width
        top = y0 + 18
        if column == picture:
            sketch.rect((left, top, left + column_width - 2, top + height * 0.3), (120, 120, 118))
            sketch.polygon(_blob(rng, left + column_width / 2, top + height * 0.15, column_width * 0.3), (80, 80, 80))
            top += height * 0.3 + 2
        _draw_text_lines(sketch, rng, left, left + column_width - 2, top, y0 + height - 3, 2.1, 0.8, (70, 70, 70, 220))
    sketch.line([(50, y0), (50, y0 + height)], (180, 178, 168), 0.5)
    return sketch


def _draw_crumpled_paper(rng: np.random.Generator, side: int) -> _Sketch:
    sketch = _Sketch(side)
    colour = _jitter(rng, _pick(rng, _PAPERS), 5)
    sketch.polygon(_blob(rng, 50, 50, rng.uniform(28, 36), 0.5, squash=rng.uniform(0.7, 1.0)), colour)
    with sketch.clipped():  # printed lines, knocked askew by the crumpling
        angle = rng.uniform(0, 180)
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        reach = rng.uniform(14, 26)
        for row in np.arange(-reach, reach, rng.uniform(4.5, 6.5)):
            along, end = -reach + rng.uniform(0, 4), reach - rng.uniform(0, 12)
            while along < end:
                word = rng.uniform(2, 6)
                x, y = 50 + (along + word / 2) * cos - row * sin, 50 + (along + word / 2) * sin + row * cos
                sketch.polygon(_rotated_box(x, y, word, 0.9, angle + rng.uniform(-10, 10)), (70, 70, 80, 160))
                along += word + 1.4
    _relief_shade(sketch, rng, bulge=0.6, softness=10, wrinkles=0.5, wrinkle_cells=7, creased=True, ambient=0.72)
    return sketch


def _draw_paper(rng: np.random.Generator, side: int) -> _Sketch:
    """A printed or ruled sheet (dog-eared, sometimes a small stack), a newspaper page, or a crumpled ball."""
    choice = rng.random()
    if choice < 0.2:
        return _draw_crumpled_paper(rng, side)
    sketch = _draw_newspaper(rng, side) if choice < 0.4 else _draw_sheet(rng, side)
    if choice > 0.8:  # a second sheet peeking out underneath
        under = _draw_sheet(rng, side)
        under.image = under.image.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC)
        under.paste(sketch, rng.uniform(-6, 6), rng.uniform(-6, 6))
        sketch = under
    _grain(sketch, rng, 0.02)
    _relief_shade(sketch, rng, bulge=0.1, softness=3, wrinkles=0.2, wrinkle_cells=5, ambient=0.8)
    return sketch


# --------------------------------------------------------------------------------------------------
# shoes
# --------------------------------------------------------------------------------------------------

_LEATHERS: tuple[RGB, ...] = ((30, 28, 28), (95, 60, 35), (150, 100, 60), (190, 150, 100), (120, 40, 35))
_SNEAKER_UPPERS: tuple[RGB, ...] = (
    (240, 240, 240),
    (30, 30, 34),
    (200, 40, 45),
    (40, 80, 170),
    (150, 150, 155),
    (230, 140, 170),
    (60, 140, 90),
    (240, 200, 60),
)


def _draw_shoe_on(
    sketch: _Sketch, rng: np.random.Generator, dx: float = 0.0, dy: float = 0.0, dim: float = 1.0
) -> None:
    """One shoe in side view, toe to the right, its sole resting at y ~ 74."""
    style = _pick(rng, ("sneaker", "sneaker", "boot", "dress"))

    def shift(points: Sequence[Point]) -> list[Point]:
        return [(x + dx, y + dy) for x, y in points]

    ground = rng.uniform(72, 76)
    if style == "sneaker":
        upper = _scaled(_jitter(rng, _pick(rng, _SNEAKER_UPPERS), 12), dim)
        sole = _scaled(_pick(rng, ((245, 245, 240), (245, 245, 240), (30, 30, 30), (190, 140, 80))), dim)
        sole_height, collar, lace_span = rng.uniform(6, 9), rng.uniform(38, 44), ((45, 44), (65, 53))
    elif style == "boot":
        upper = _scaled(_jitter(rng, _pick(rng, _LEATHERS), 12), dim)
        sole = _scaled((35, 30, 28), dim)
        sole_height, collar, lace_span = rng.uniform(5, 7), rng.uniform(14, 24), ((45, 26), (60, 50))
    else:
        upper = _scaled(_jitter(rng, _pick(rng, _LEATHERS), 8), dim)
        sole = _scaled((25, 22, 20), dim)
        sole_height, collar, lace_span = rng.uniform(3, 4), rng.uniform(46, 50), None
    sole_top = ground - sole_height
    heel_top = ground - rng.uniform(7, 9) if style == "dress" else sole_top
    tongue = collar - rng.uniform(2, 6)
    sketch.polygon(
        shift(
            [
                (16, heel_top),
                (15, collar + 4),
                (18, collar),
                (34, collar + 2),
                (42, collar + 5),
                (47, tongue),
                (53, tongue + 2),
                (66, 48),
                (80, 54),
                (87, 60),
                (89, sole_top + 1),
            ]
        ),
        upper,
    )
    if style == "dress":  # thin sole under the ball of the foot, open arch, separate heel block
        sketch.polygon(
            shift(
                [
                    (40, heel_top + 2.2),
                    (89, sole_top),
                    (90, sole_top + 1),
                    (86, ground),
                    (50, ground),
                    (42, ground - 1.5),
                ]
            ),
            sole,
        )
        sketch.polygon(shift([(15, heel_top - 0.5), (28, heel_top), (27, ground), (16.5, ground)]), _scaled(sole, 1.3))
    else:
        sketch.polygon(
            shift(
                [
                    (14, ground - 2),
                    (17, ground),
                    (80, ground),
                    (87, ground - 2),
                    (90, sole_top - 1),
                    (86, sole_top),
                    (16, sole_top - 0.5),
                ]
            ),
            sole,
        )
        sketch.line(
            shift([(16, sole_top + sole_height * 0.45), (88, sole_top + sole_height * 0.35)]), _scaled(sole, 0.72), 0.8
        )
    if style == "sneaker":
        accent = _scaled(_jitter(rng, _pick(rng, _SNEAKER_UPPERS), 12), dim)
        sketch.polygon(shift([(30, sole_top - 2), (50, 50), (66, 44), (56, 54), (40, sole_top - 1)]), accent)
        sketch.polygon(
            shift([(15, collar + 4), (18, collar), (24, collar + 1), (22, sole_top - 2), (16, sole_top)]),
            _scaled(accent, 0.9),
        )
    sketch.line(shift([(18, collar), (34, collar + 2), (42, collar + 5)]), _scaled(upper, 0.55), 1.4)
    if lace_span:
        (lx0, ly0), (lx1, ly1) = lace_span
        lace = _scaled((240, 240, 235) if sum(upper) < 600 else (60, 60, 60), dim)
        steps = 5 if style == "sneaker" else 7
        for k in range(steps):
            t = k / steps
            x, y = lx0 + (lx1 - lx0) * t, ly0 + (ly1 - ly0) * t
            sketch.line(shift([(x - 2.5, y + 2.5), (x + 3, y - 1.5)]), lace, 1.0)
            sketch.ellipse((x - 3.4 + dx, y + 1.6 + dy, x - 1.8 + dx, y + 3.2 + dy), _scaled(upper, 0.5))


def _draw_shoes(rng: np.random.Generator, side: int) -> _Sketch:
    """A sneaker, boot or dress shoe in side view, sometimes with its partner behind it."""
    sketch = _Sketch(side)
    design = int(rng.integers(2**31))  # both shoes of a pair share one design
    if rng.random() < 0.3:
        _draw_shoe_on(sketch, np.random.default_rng(design), dx=-7, dy=-9, dim=0.8)
    _draw_shoe_on(sketch, np.random.default_rng(design))
    _relief_shade(sketch, rng, bulge=1.0, softness=6, wrinkles=0.1, wrinkle_cells=8, shine=0.35, gloss=18)
    return sketch


# --------------------------------------------------------------------------------------------------
# trash
# --------------------------------------------------------------------------------------------------

_BAG_COLOURS: tuple[RGB, ...] = ((32, 32, 36), (45, 45, 50), (60, 60, 66), (35, 55, 40), (40, 50, 85))
_DEBRIS_COLOURS: tuple[RGB, ...] = (
    (220, 40, 40),
    (40, 90, 200),
    (240, 200, 40),
    (250, 250, 250),
    (30, 30, 30),
    (200, 200, 205),
    (230, 120, 30),
    (150, 60, 160),
    (90, 170, 80),
    (160, 130, 100),
)


def _draw_bin_bag(sketch: _Sketch, rng: np.random.Generator) -> None:
    colour = _jitter(rng, _pick(rng, _BAG_COLOURS), 10)
    centre_y = rng.uniform(55, 60)
    radius = rng.uniform(28, 34)
    sketch.polygon(_blob(rng, 50, centre_y, radius, 0.35, squash=rng.uniform(0.8, 1.0)), colour)
    knot_y = centre_y - radius * 0.9
    sketch.polygon([(44, knot_y + 6), (47, knot_y - 4), (53, knot_y - 4), (56, knot_y + 6)], colour)
    sketch.polygon(_blob(rng, 43, knot_y - 7, 5, 0.3, squash=0.6), colour)
    sketch.polygon(_blob(rng, 57, knot_y - 8, 5, 0.3, squash=0.6), colour)
    with sketch.clipped():
        for _ in range(int(rng.integers(4, 8))):  # stretch folds running down from the knot
            end = (50 + rng.uniform(-30, 30), centre_y + rng.uniform(0, 30))
            sketch.line(
                [(50, knot_y + 4), ((50 + end[0]) / 2 + rng.uniform(-6, 6), (knot_y + end[1]) / 2), end],
                (255, 255, 255, 45),
                1.2,
            )


def _draw_debris_piece(sketch: _Sketch, rng: np.random.Generator, x: float, y: float) -> None:
    colour = _jitter(rng, _pick(rng, _DEBRIS_COLOURS), 18)
    angle = rng.uniform(0, 180)
    kind = rng.random()
    if kind < 0.35:  # wrapper
        box = _rotated_box(x, y, rng.uniform(8, 16), rng.uniform(5, 10), angle)
        sketch.polygon([(px + rng.uniform(-1.5, 1.5), py + rng.uniform(-1.5, 1.5)) for px, py in box], colour)
        sketch.line(box[:2], (230, 230, 235), 0.8)
    elif kind < 0.5:  # bottle cap
        radius = rng.uniform(2.5, 4)
        sketch.ellipse(
            (x - radius, y - radius, x + radius, y + radius), colour, outline=_scaled(colour, 0.6), width=0.6
        )
    elif kind < 0.65:  # cigarette butt
        sketch.polygon(_rotated_box(x, y, 7, 2.2, angle), (240, 238, 230))
        sketch.polygon(
            _rotated_box(
                x + 3.5 * math.cos(math.radians(angle)), y + 3.5 * math.sin(math.radians(angle)), 3, 2.2, angle
            ),
            (215, 150, 70),
        )
    elif kind < 0.85:  # scrap of something torn
        corners = [(x + rng.uniform(-7, 7), y + rng.uniform(-7, 7)) for _ in range(3)]
        sketch.polygon(corners, colour)
    else:  # straw or stick
        sketch.polygon(_rotated_box(x, y, rng.uniform(12, 18), 1.6, angle), colour)


def _draw_debris(sketch: _Sketch, rng: np.random.Generator) -> None:
    if rng.random() < 0.5:  # a dark smear of dirt under the pile
        sketch.polygon(_blob(rng, 50, 52, rng.uniform(22, 30), 0.5, 0.7), _jitter(rng, (80, 70, 60), 15))
    for _ in range(int(rng.integers(14, 26))):
        _draw_debris_piece(
            sketch, rng, float(np.clip(rng.normal(50, 15), 15, 85)), float(np.clip(rng.normal(52, 13), 18, 85))
        )


def _draw_trash(rng: np.random.Generator, side: int) -> _Sketch:
    """Mixed clutter: a knotted bin bag (sometimes with litter in front) or a scatter of small debris."""
    sketch = _Sketch(side)
    if rng.random() < 0.55:
        _draw_bin_bag(sketch, rng)
        _relief_shade(
            sketch,
            rng,
            bulge=1.2,
            softness=12,
            wrinkles=0.5,
            wrinkle_cells=6,
            creased=True,
            ambient=0.45,
            shine=0.55,
            gloss=10,
        )
        if rng.random() < 0.5:
            litter = _Sketch(side)
            for _ in range(int(rng.integers(3, 7))):
                _draw_debris_piece(litter, rng, rng.uniform(20, 80), rng.uniform(78, 88))
            sketch.paste(litter)
    else:
        _draw_debris(sketch, rng)
        _relief_shade(sketch, rng, bulge=0.6, softness=2, wrinkles=0.3, wrinkle_cells=16, creased=True, shine=0.3)
    return sketch


# --------------------------------------------------------------------------------------------------
# Scene: backdrop, pose, shadow and light
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pose:
    rotation: float  # uniform in [-rotation, rotation] degrees
    lying_chance: float = 0.0  # chance of being turned a further 90 degrees
    mirror: bool = True
    scale: tuple[float, float] = (0.8, 1.04)


_POSES: dict[str, _Pose] = {
    "battery": _Pose(180, mirror=False),
    "biological": _Pose(180),
    "brown-glass": _Pose(12, lying_chance=0.2),
    "cardboard": _Pose(12),
    "clothes": _Pose(20),
    "green-glass": _Pose(12, lying_chance=0.2),
    "metal": _Pose(15, lying_chance=0.2),
    "paper": _Pose(180),
    "plastic": _Pose(12, lying_chance=0.25),
    "shoes": _Pose(12),
    "trash": _Pose(15),
    "white-glass": _Pose(12, lying_chance=0.2),
}

_DRAWERS: dict[str, Callable[[np.random.Generator, int], _Sketch]] = {
    "battery": _draw_battery,
    "biological": _draw_biological,
    "brown-glass": lambda rng, side: _draw_bottle(rng, side, _GLASSES["brown-glass"]),
    "cardboard": _draw_cardboard,
    "clothes": _draw_clothes,
    "green-glass": lambda rng, side: _draw_bottle(rng, side, _GLASSES["green-glass"]),
    "metal": _draw_metal,
    "paper": _draw_paper,
    "plastic": _draw_plastic,
    "shoes": _draw_shoes,
    "trash": _draw_trash,
    "white-glass": lambda rng, side: _draw_bottle(rng, side, _GLASSES["white-glass"]),
}

_BACKDROPS: tuple[RGB, ...] = (
    (244, 243, 240),
    (230, 226, 218),
    (212, 212, 210),
    (185, 185, 183),
    (222, 210, 188),
    (196, 210, 222),
    (150, 150, 155),
    (110, 105, 100),
    (200, 215, 200),
    (235, 225, 205),
)
_WOODS: tuple[RGB, ...] = ((196, 156, 110), (150, 105, 65), (110, 75, 50), (175, 165, 150))


def _plain_backdrop(rng: np.random.Generator, side: int) -> np.ndarray:
    colour = np.array(_jitter(rng, _pick(rng, _BACKDROPS), 10), dtype=np.float32)
    mottling = 1 + 0.04 * (_smooth_noise(rng, side, 4) - 0.5)
    return colour * mottling[..., None]


def _gradient_backdrop(rng: np.random.Generator, side: int) -> np.ndarray:
    near, far = (np.array(_jitter(rng, _pick(rng, _BACKDROPS), 14), dtype=np.float32) for _ in range(2))
    yy, xx = _unit_grid(side)
    angle = rng.uniform(0, 2 * math.pi)
    t = np.clip((xx * math.cos(angle) + yy * math.sin(angle)) / 2 + 0.5, 0, 1)
    return near * (1 - t[..., None]) + far * t[..., None]


def _wood_backdrop(rng: np.random.Generator, side: int) -> np.ndarray:
    colour = np.array(_jitter(rng, _pick(rng, _WOODS), 12), dtype=np.float32)
    yy, xx = _unit_grid(side)
    across, along_cells = (yy, (24, 3)) if rng.random() < 0.5 else (xx, (3, 24))
    planks = int(rng.integers(3, 7))
    position = (across + 1) / 2 * planks
    plank = np.floor(position).astype(int)
    tone = 1 + rng.uniform(-0.12, 0.12, planks + 1).astype(np.float32)[np.clip(plank, 0, planks)]
    warp = _smooth_noise(rng, side, *along_cells)
    grain = 0.5 + 0.5 * np.sin(2 * math.pi * (position * rng.uniform(5, 10) + 3 * warp))
    seam = np.where(np.abs(position - np.round(position)) < 0.012 * planks, 0.55, 1.0)
    return colour * (tone * (0.88 + 0.14 * grain) * seam)[..., None]


def _tile_backdrop(rng: np.random.Generator, side: int) -> np.ndarray:
    colour = np.array(_jitter(rng, _pick(rng, _BACKDROPS), 12), dtype=np.float32)
    grout = np.array(_jitter(rng, _scaled(colour, rng.uniform(0.6, 1.15)), 8), dtype=np.float32)
    yy, xx = _unit_grid(side)
    count = rng.uniform(2, 5)
    u, v = (xx + 1) / 2 * count + rng.uniform(0, 1), (yy + 1) / 2 * count + rng.uniform(0, 1)
    tones = 1 + rng.uniform(-0.05, 0.05, (8, 8)).astype(np.float32)
    surface = colour * tones[np.floor(v).astype(int) % 8, np.floor(u).astype(int) % 8][..., None]
    width = 0.03 * count
    is_grout = (np.abs(u - np.round(u)) < width / 2) | (np.abs(v - np.round(v)) < width / 2)
    return np.where(is_grout[..., None], grout, surface)


def _speckled_backdrop(rng: np.random.Generator, side: int) -> np.ndarray:
    colour = np.array(_jitter(rng, _pick(rng, _BACKDROPS + ((128, 126, 122), (90, 88, 86))), 12), dtype=np.float32)
    blotches = 1 + 0.12 * (_smooth_noise(rng, side, int(rng.integers(5, 12))) - 0.5)
    speckle = 1 + rng.normal(0, rng.uniform(0.03, 0.08), (side, side)).astype(np.float32)
    return colour * (blotches * speckle)[..., None]


_BACKDROP_KINDS = (_plain_backdrop, _gradient_backdrop, _wood_backdrop, _tile_backdrop, _speckled_backdrop)
_BACKDROP_WEIGHTS = (0.3, 0.25, 0.17, 0.13, 0.15)


def _backdrop(rng: np.random.Generator, side: int) -> np.ndarray:
    kind = _BACKDROP_KINDS[int(rng.choice(len(_BACKDROP_KINDS), p=_BACKDROP_WEIGHTS))]
    return kind(rng, side)


def _posed(sketch: _Sketch, rng: np.random.Generator, pose: _Pose, size: int) -> np.ndarray:
    """Scale, rotate, mirror and shift the object, then shrink it to `size`; returns premultiplied RGBA floats."""
    side = sketch.side
    scale = rng.uniform(*pose.scale)
    angle = rng.uniform(-pose.rotation, pose.rotation) + (
        rng.choice((-90, 90)) if rng.random() < pose.lying_chance else 0
    )
    mirror = -1.0 if pose.mirror and rng.random() < 0.5 else 1.0
    slack = max(0.05, (1 - scale) / 2) * side
    shift_x, shift_y = rng.uniform(-slack, slack) * 0.8, rng.uniform(-slack, slack) * 0.8
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # output pixel -> source pixel: source = centre + M (output - o), with M = mirror * rotate(-angle) / scale
    a, b = mirror * cos / scale, mirror * sin / scale
    d, e = -sin / scale, cos / scale
    centre = side / 2
    ox, oy = centre + shift_x, centre + shift_y
    layer = np.zeros((size, size, 4), dtype=np.float32)
    source_box = sketch.bounds(margin=1.0)  # a transparent rim, so edge pixels still interpolate
    if source_box is None:
        return layer
    # Only resample where the object lands: map its box forward, pad it, and align it to whole output pixels.
    x0, y0, x1, y1 = source_box
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], dtype=np.float64) - centre
    landed = corners @ np.linalg.inv(np.array([[a, b], [d, e]])).T + (ox, oy)
    step = side // size
    left, top = (max(0, int(v // step) - 4) for v in landed.min(axis=0))
    right, bottom = (min(size, int(-(-v // step)) + 4) for v in landed.max(axis=0))
    if right <= left or bottom <= top:
        return layer
    # output pixel -> source pixel (relative to the crop): centre + M (output - o) - crop origin
    gx, gy = left * step, top * step
    matrix = (
        a,
        b,
        centre + a * (gx - ox) + b * (gy - oy) - x0,
        d,
        e,
        centre + d * (gx - ox) + e * (gy - oy) - y0,
    )
    # premultiplied ("RGBa") so resampling doesn't bleed the transparent pixels' black into the edges
    posed = (
        sketch.image.crop(source_box)
        .convert("RGBa")
        .transform(
            ((right - left) * step, (bottom - top) * step),
            Image.Transform.AFFINE,
            matrix,
            resample=Image.Resampling.BILINEAR,
        )
        .resize((right - left, bottom - top), Image.Resampling.LANCZOS)
    )
    layer[top:bottom, left:right] = np.asarray(posed, dtype=np.float32)
    return layer


def _shift(values: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(values)
    height, width = values.shape
    out[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = values[
        max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def _composite(scene: np.ndarray, layer: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Drop the premultiplied object layer onto the scene, with a soft contact shadow."""
    side = scene.shape[0]
    alpha = layer[..., 3] / 255.0
    offset = side * rng.uniform(0.01, 0.04)
    direction = rng.uniform(0, 2 * math.pi)
    shadow = _shift(
        _blur(alpha, side * rng.uniform(0.02, 0.05)),
        round(offset * math.cos(direction)),
        round(offset * math.sin(direction)),
    )
    scene = scene * (1 - rng.uniform(0.25, 0.5) * shadow)[..., None]
    return scene * (1 - alpha[..., None]) + layer[..., :3]


def _light_scene(scene: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven room light: a brightness ramp, a touch of vignette, exposure and white-balance drift."""
    yy, xx = _unit_grid(scene.shape[0])
    angle = rng.uniform(0, 2 * math.pi)
    ramp = 1 + rng.uniform(0.05, 0.25) * (xx * math.cos(angle) + yy * math.sin(angle))
    vignette = 1 - rng.uniform(0, 0.18) * (xx**2 + yy**2) / 2
    balance = rng.uniform(0.88, 1.08) * (1 + rng.uniform(-0.04, 0.04, 3))
    return scene * (ramp * vignette)[..., None] * balance.astype(np.float32)


def draw_image(class_name: str, rng: np.random.Generator, size: int = DEFAULT_SIZE) -> Image.Image:
    """Draw one ``size`` x ``size`` RGB picture of `class_name`; all randomness comes from `rng`.

    Only the object is drawn at SUPERSAMPLE x resolution (its edges need the anti-aliasing); the backdrop,
    shadow and lighting are smooth, so they are computed straight at `size`.
    """
    if class_name not in _DRAWERS:
        raise ValueError(f"unknown demo class {class_name!r}; expected one of {', '.join(CLASS_NAMES)}")
    layer = _posed(_DRAWERS[class_name](rng, size * SUPERSAMPLE), rng, _POSES[class_name], size)
    scene = _backdrop(rng, size).astype(np.float32)
    scene = _light_scene(_composite(scene, layer, rng), rng)
    scene += rng.normal(0, rng.uniform(*SENSOR_NOISE), (size, size, 1)).astype(np.float32)
    return Image.fromarray(np.clip(scene + 0.5, 0, 255).astype(np.uint8), "RGB")


# --------------------------------------------------------------------------------------------------
# Writing the dataset
# --------------------------------------------------------------------------------------------------


def demo_folder_name(*, per_class: int = DEFAULT_PER_CLASS, size: int = DEFAULT_SIZE, seed: int = 0) -> str:
    """Cache folder name for one demo configuration; includes DEMO_VERSION so redrawn demos get a new folder."""
    return f"demo-v{DEMO_VERSION}-s{seed}-n{per_class}-{size}px"


def read_demo_marker(root: Path) -> dict | None:
    """The ``DEMO.json`` contents of a complete demo folder of this DEMO_VERSION, else None."""
    try:
        marker = json.loads((Path(root) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("version") == DEMO_VERSION else None


def _image_name(class_name: str, index: int) -> str:
    return f"{class_name}_{index:04d}.png"


def _render_chunk(folder: str, class_index: int, start: int, stop: int, size: int, seed: int) -> int:
    class_name = CLASS_NAMES[class_index]
    for index in range(start, stop):
        # Seeded per image (not per run) so results don't depend on chunking or worker count.
        image = draw_image(class_name, np.random.default_rng([seed, class_index, index]), size)
        image.save(
            Path(folder) / class_name / _image_name(class_name, index), format="PNG", compress_level=PNG_COMPRESS_LEVEL
        )
    return stop - start


def _render_all(
    folder: Path,
    names: Sequence[str],
    per_class: int,
    size: int,
    seed: int,
    progress: Callable[[int, int], None] | None,
    workers: int | None,
) -> None:
    tasks = [
        (str(folder), CLASS_NAMES.index(name), start, min(start + CHUNK_SIZE, per_class), size, seed)
        for name in names
        for start in range(0, per_class, CHUNK_SIZE)
    ]
    total, done = per_class * len(names), 0
    if progress:
        progress(0, total)
    if workers is None:
        workers = 1 if total < PARALLEL_THRESHOLD else min(os.cpu_count() or 1, MAX_WORKERS)
    pending = list(tasks)
    if workers > 1:
        try:
            # "spawn": forking a process that runs threads (a web app) or TensorFlow can deadlock the child
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_render_chunk, *task): task for task in tasks}
                for future in as_completed(futures):
                    done += future.result()
                    pending.remove(futures[future])
                    if progress:
                        progress(done, total)
        except (BrokenProcessPool, OSError):
            pass  # no usable worker processes here (sandbox, unguarded __main__): draw the rest in-process
    for task in pending:
        done += _render_chunk(*task)
        if progress:
            progress(done, total)


def _publish(staging: Path, root: Path, keep_existing: bool) -> None:
    """Move the finished staging folder to `root` in one rename, so readers never see a half-written tree."""
    try:
        os.replace(staging, root)
        return
    except OSError:
        if not root.exists():
            raise
    if keep_existing and read_demo_marker(root) is not None:
        return  # another process finished the same dataset first; the caller discards ours
    retired = root.with_name(f".{root.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(root, retired)
    try:
        os.replace(staging, root)
    except OSError:
        if read_demo_marker(root) is None:
            raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)


def _build(
    root: Path,
    *,
    per_class: int,
    size: int,
    seed: int,
    classes: Sequence[str] | None,
    progress: Callable[[int, int], None] | None,
    workers: int | None,
    keep_existing: bool,
) -> Path:
    root = Path(root)
    names = list(dict.fromkeys(CLASS_NAMES if classes is None else classes))
    unknown = [name for name in names if name not in CLASS_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown or empty demo classes {unknown or names}; expected names from {CLASS_NAMES}")
    if per_class < 1 or size < 8:
        raise ValueError(f"per_class must be >= 1 and size >= 8, got per_class={per_class}, size={size}")
    root.parent.mkdir(parents=True, exist_ok=True)
    # unique per caller; plain mkdir (not mkdtemp) so the published folder gets normal, umask-based permissions
    staging = root.parent / f".{root.name}.{uuid.uuid4().hex[:12]}.partial"
    staging.mkdir()
    try:
        for name in names:
            (staging / name).mkdir()
        _render_all(staging, names, per_class, size, seed, progress, workers)
        marker = {
            "dataset": "synthbin-demo",
            "version": DEMO_VERSION,
            "seed": seed,
            "per_class": per_class,
            "size": size,
            "classes": names,
            "note": DEMO_NOTE,
        }
        (staging / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _publish(staging, root, keep_existing)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def generate_demo(
    root: Path,
    *,
    per_class: int = DEFAULT_PER_CLASS,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Path:
    """Draw the demo dataset into ``root/<class>/<class>_NNNN.png`` and return `root`.

    The tree is built in a hidden sibling folder and renamed into place with ``DEMO.json`` already in it;
    an existing `root` is replaced. The same seed gives byte-identical files. `progress(done, total)` is
    called as images are finished; `workers` (default: automatic) sets how many processes draw.
    """
    return _build(
        root,
        per_class=per_class,
        size=size,
        seed=seed,
        classes=classes,
        progress=progress,
        workers=workers,
        keep_existing=False,
    )


def ensure_demo_dataset(
    cache_root: Path | None = None,
    *,
    per_class: int = DEFAULT_PER_CLASS,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Return ``<cache_root>/demo-v{DEMO_VERSION}-s{seed}-n{per_class}-{size}px``, drawing it only if needed.

    `cache_root` defaults to :func:`gan_core.paths.cache_dir`. Safe to call from several processes at once:
    each builds in its own staging folder and whoever finishes second throws its copy away.
    """
    root = Path(cache_root if cache_root is not None else cache_dir()) / demo_folder_name(
        per_class=per_class, size=size, seed=seed
    )
    if read_demo_marker(root) is None:
        _build(
            root,
            per_class=per_class,
            size=size,
            seed=seed,
            classes=None,
            progress=progress,
            workers=None,
            keep_existing=True,
        )
    return root


# --------------------------------------------------------------------------------------------------
# Contact sheet
# --------------------------------------------------------------------------------------------------


def _write(draw: ImageDraw.ImageDraw, position: Point, text: str, font, fill, anchor: str) -> None:
    """``draw.text`` with an anchor ("lm", "mm"); Pillow's bitmap fallback font has none, so place it by hand."""
    if isinstance(font, ImageFont.FreeTypeFont):
        draw.text(position, text, fill=fill, font=font, anchor=anchor)
        return
    left, top, right, bottom = font.getbbox(text)
    x = position[0] - ((right - left) / 2 if anchor[0] == "m" else 0)
    draw.text((x, position[1] - (bottom - top) / 2), text, fill=fill, font=font)


def _write_title(draw: ImageDraw.ImageDraw | None, position: Point, font, fill=(20, 20, 20)) -> float:
    """Write SHEET_TITLE (left-middle anchored) and return its width; with ``draw=None`` only measure it.

    Pillow's built-in font has no em-dash glyph, so the dash is ruled in as a short line.
    """
    pieces = SHEET_TITLE.split("—")
    dash = font.getlength("M")
    x, y = position
    for index, piece in enumerate(pieces):
        if index:
            if draw is not None:
                draw.line([(x + 1, y + 1), (x + dash - 1, y + 1)], fill=fill, width=1)
            x += dash
        if draw is not None:
            _write(draw, (x, y), piece, font, fill, "lm")
        x += font.getlength(piece)
    return x - position[0]


def contact_sheet(root: Path, out_path: Path, per_class: int = 8, tile: int = 64) -> Path:
    """Save a PNG overview of a demo tree: a title line, then one labelled row of `per_class` tiles per class.

    The lowest bit of each colour channel is dropped before saving: invisible, and it keeps the PNG a fifth smaller.
    """
    root, out_path = Path(root), Path(out_path)
    classes = [name for name in CLASS_NAMES if (root / name).is_dir()]
    if not classes:
        raise FileNotFoundError(f"no class folders under {root}")
    title_font, label_font = _font(13), _font(12)
    grid_width = SHEET_LABEL_WIDTH + per_class * (tile + SHEET_PADDING) + SHEET_PADDING
    width = max(grid_width, round(_write_title(None, (0, 0), title_font)) + 12)
    height = SHEET_TITLE_HEIGHT + len(classes) * (tile + SHEET_PADDING) + SHEET_PADDING
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    _write_title(draw, (6, SHEET_TITLE_HEIGHT // 2), title_font)
    for row, name in enumerate(classes):
        top = SHEET_TITLE_HEIGHT + SHEET_PADDING + row * (tile + SHEET_PADDING)
        _write(draw, (6, top + tile // 2), name, label_font, (40, 40, 40), "lm")
        for column, path in enumerate(sorted((root / name).glob("*.png"))[:per_class]):
            with Image.open(path) as image:
                thumbnail = image.convert("RGB").resize((tile, tile), Image.Resampling.LANCZOS)
            sheet.paste(thumbnail, (SHEET_LABEL_WIDTH + SHEET_PADDING + column * (tile + SHEET_PADDING), top))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    ImageOps.posterize(sheet, 7).save(out_path, format="PNG", optimize=True)
    return out_path
