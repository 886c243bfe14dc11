"""Tests for gan_core.data: every dataset source, image format and kind of bad input."""

from __future__ import annotations

import io
import os
import stat
import struct
import sys
import time
import types
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gan_core
from gan_core import data as data_module
from gan_core.data import (
    CANONICAL_CLASSES,
    DatasetError,
    LoadLimits,
    SkippedFile,
    list_classes,
    load_dataset,
    normalize_class_name,
    to_float,
)

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHBIN_CACHE", str(tmp_path / "cache"))


def save(path: Path, image: Image.Image, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def solid(color=RED, size=(40, 30), mode="RGB") -> Image.Image:
    return Image.new(mode, size, color)


def make_dataset(root: Path, counts: dict[str, int], size=(40, 30)) -> Path:
    """``counts[class]`` PNGs per class folder, each a different colour."""
    for class_index, (name, count) in enumerate(counts.items()):
        for index in range(count):
            color = (class_index * 40 % 256, index * 30 % 256, 100)
            save(root / name / f"{index:03d}.png", solid(color, size))
    return root


def load_one(path: Path, **options) -> np.ndarray:
    """Load a dataset holding just ``path`` (inside a class folder) and return its one image."""
    dataset = load_dataset(path.parent.parent, image_size=16, cache=False, **options)
    assert len(dataset) == 1, dataset.skipped
    return dataset.images[0]


def close(pixel, expected, tolerance=8) -> bool:
    return bool(np.all(np.abs(np.asarray(pixel, int) - np.asarray(expected, int)) <= tolerance))


def reasons(dataset) -> dict[str, str]:
    return {item.path: item.reason for item in dataset.skipped}


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    return path


def png_bytes(color=RED, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    solid(color, size).save(buffer, "PNG")
    return buffer.getvalue()


def extracted_dirs(tmp_path: Path) -> list[Path]:
    zips = tmp_path / "cache" / "zips"
    return [path for path in zips.iterdir() if path.is_dir()] if zips.exists() else []


# ----------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("suffix", "options"),
    [(".jpg", {}), (".JPEG", {}), (".png", {}), (".PNG", {}), (".bmp", {}), (".webp", {"lossless": True}),
     (".gif", {}), (".tif", {}), (".TIFF", {})],
)
def test_each_format_loads_with_its_colour(tmp_path, suffix, options):
    path = save(tmp_path / "ds" / "metal" / f"a{suffix}", solid(BLUE), **options)
    image = load_one(path)
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8
    assert close(image.mean(axis=(0, 1)), BLUE)


def test_large_jpeg_uses_draft_and_keeps_colour_and_size(tmp_path):
    path = save(tmp_path / "ds" / "metal" / "big.jpg", solid(GREEN, (1600, 1200)))
    dataset = load_dataset(tmp_path / "ds", image_size=32, cache=False)
    assert dataset.images.shape == (1, 32, 32, 3)
    assert dataset.original_sizes.tolist() == [[1600, 1200]]
    assert close(dataset.images[0].mean(axis=(0, 1)), GREEN, 10)
    assert path.exists()


def test_grayscale_becomes_rgb(tmp_path):
    image = load_one(save(tmp_path / "ds" / "metal" / "g.png", solid(90, mode="L")))
    assert np.all(image == 90)


def test_rgba_transparent_areas_become_white(tmp_path):
    picture = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    picture.paste((255, 0, 0, 255), (0, 0, 20, 40))  # left half opaque red
    image = load_dataset(save(tmp_path / "ds" / "a" / "x.png", picture).parent.parent, image_size=40, cache=False)
    pixels = image.images[0]
    assert close(pixels[20, 5], RED, 2)
    assert close(pixels[20, 35], WHITE, 2)


def test_la_is_composited_on_white(tmp_path):
    image = load_one(save(tmp_path / "ds" / "a" / "x.png", Image.new("LA", (32, 32), (0, 0))))
    assert np.all(image == 255)


def test_palette_with_transparency_is_composited_on_white(tmp_path):
    picture = Image.new("P", (32, 32), 0)
    picture.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    picture.paste(1, (16, 0, 32, 32))  # right half is colour 1 (blue), left half colour 0 (transparent)
    path = save(tmp_path / "ds" / "a" / "x.png", picture, transparency=0)
    pixels = load_dataset(path.parent.parent, image_size=32, cache=False).images[0]
    assert close(pixels[16, 4], WHITE, 2)
    assert close(pixels[16, 28], BLUE, 2)


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_loads_as_rgb_with_the_right_colour(tmp_path, suffix):
    path = save(tmp_path / "ds" / "a" / f"x{suffix}", Image.new("CMYK", (32, 32), (0, 255, 255, 0)))
    assert close(load_one(path).mean(axis=(0, 1)), RED, 10)


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
    picture = Image.fromarray(ramp)
    assert picture.mode == "I;16"
    path = save(tmp_path / "ds" / "a" / "x.png", picture)
    pixels = load_dataset(path.parent.parent, image_size=64, cache=False).images[0]
    assert pixels.min() <= 5 and pixels.max() >= 250
    assert 100 <= pixels[:, 28:36].mean() <= 155  # the middle of the ramp is mid-grey


def test_exif_orientation_is_applied(tmp_path):
    picture = Image.new("RGB", (60, 30), BLUE)
    picture.paste(RED, (0, 0, 30, 30))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    path = save(tmp_path / "ds" / "a" / "x.jpg", picture, exif=exif, quality=95)
    dataset = load_dataset(path.parent.parent, image_size=30, crop="pad", cache=False)
    assert dataset.original_sizes.tolist() == [[30, 60]]  # width and height swapped
    pixels = dataset.images[0]
    assert close(pixels[15, 2], WHITE, 10)  # now tall: padding left and right
    assert close(pixels[3, 15], RED, 40) and close(pixels[27, 15], BLUE, 40)  # left half turned to the top


def test_gif_uses_the_first_frame(tmp_path):
    path = tmp_path / "ds" / "a" / "anim.gif"
    path.parent.mkdir(parents=True)
    frames = [solid(RED, (32, 32)), solid(BLUE, (32, 32))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    assert close(load_one(path).mean(axis=(0, 1)), RED, 4)


@pytest.mark.parametrize("size", [8, 33, 64])
def test_any_image_size_gives_square_uint8(tmp_path, size):
    make_dataset(tmp_path / "ds", {"metal": 2})
    dataset = load_dataset(tmp_path / "ds", image_size=size, cache=False)
    assert dataset.images.shape == (2, size, size, 3) and dataset.images.dtype == np.uint8


def test_bad_options_are_rejected(tmp_path):
    make_dataset(tmp_path / "ds", {"metal": 1})
    with pytest.raises(ValueError, match="at least 8"):
        load_dataset(tmp_path / "ds", image_size=4)
    with pytest.raises(ValueError, match="crop"):
        load_dataset(tmp_path / "ds", crop="stretch")


def test_centre_crop_and_pad_differ_on_a_wide_image(tmp_path):
    picture = Image.new("RGB", (90, 30), GREEN)
    picture.paste(RED, (0, 0, 30, 30))
    picture.paste(BLUE, (60, 0, 90, 30))
    save(tmp_path / "ds" / "a" / "wide.png", picture)
    center = load_dataset(tmp_path / "ds", image_size=30, crop="center", cache=False).images[0]
    padded = load_dataset(tmp_path / "ds", image_size=30, crop="pad", cache=False).images[0]
    assert center.shape == padded.shape == (30, 30, 3)
    assert close(center.mean(axis=(0, 1)), GREEN, 3)  # only the middle third survives
    assert close(padded[2, 15], WHITE, 3) and close(padded[15, 2], RED, 10) and close(padded[15, 27], BLUE, 10)


def test_to_float_scales_to_minus_one_one():
    images = np.array([0, 127, 255], np.uint8).reshape(1, 1, 3, 1).repeat(3, axis=3)
    scaled = to_float(images)
    assert scaled.dtype == np.float32
    assert scaled.min() == -1.0 and scaled.max() == 1.0
    assert abs(float(scaled[0, 0, 1, 0]) - (127 / 127.5 - 1)) < 1e-6


# ----------------------------------------------------------------------------- bad input


def crafted_png_header(width: int, height: int) -> bytes:
    """A tiny PNG claiming to be ``width`` x ``height`` (a decompression bomb without the bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def messy(tmp_path) -> Path:
    """One class of good images plus every kind of bad file."""
    root = make_dataset(tmp_path / "ds", {"metal": 3})
    bad = root / "metal"
    jpeg = io.BytesIO()
    Image.effect_noise((200, 200), 60).convert("RGB").save(jpeg, "JPEG")
    (bad / "truncated.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    noise = io.BytesIO()
    Image.effect_noise((64, 64), 60).save(noise, "PNG", compress_level=0)
    (bad / "corrupt.png").write_bytes(noise.getvalue()[:200] + b"garbage" * 50 + noise.getvalue()[550:])
    (bad / "empty.png").write_bytes(b"")
    (bad / "text.jpg").write_text("this is not a picture")
    (bad / "bomb.png").write_bytes(crafted_png_header(20000, 20000))
    save(bad / "tiny.png", solid(RED, (8, 8)))
    (bad / "notes.txt").write_text("hello")
    (bad / ".DS_Store").write_bytes(b"\0\0")
    (bad / "Thumbs.db").write_bytes(b"\0\0")
    (bad / "._000.png").write_bytes(b"\0\0")  # macOS resource fork: hidden
    return root


def test_bad_files_are_skipped_with_reasons_and_good_ones_load(messy):
    dataset = load_dataset(messy, image_size=16, cache=False)
    assert len(dataset) == 3
    found = reasons(dataset)
    assert found["metal/truncated.jpg"].startswith("corrupt or truncated image")
    assert found["metal/corrupt.png"].startswith("corrupt or truncated image")
    assert found["metal/empty.png"] == "empty file (0 bytes)"
    assert found["metal/text.jpg"] == "not an image (unrecognised format)"
    assert found["metal/bomb.png"] == "too large: 400,000,000 pixels is over the 89,478,485-pixel limit"
    assert found["metal/tiny.png"] == "too small: 8×8, needs at least 16 px on each side"
    assert found["metal/notes.txt"] == "not an image file extension"
    assert not any(name in path for path in found for name in (".DS_Store", "Thumbs.db", "._000"))
    assert len(found) == 7


def test_pixel_limit_is_per_call(tmp_path):
    make_dataset(tmp_path / "ds", {"metal": 1}, size=(40, 40))
    save(tmp_path / "ds" / "metal" / "small.png", solid(RED, (20, 20)))
    dataset = load_dataset(tmp_path / "ds", image_size=16, limits=LoadLimits(max_pixels=1000), cache=False)
    assert len(dataset) == 1
    assert reasons(dataset) == {"metal/000.png": "too large: 40×40 pixels is over the 1,000-pixel limit"}
    assert len(load_dataset(tmp_path / "ds", image_size=16, cache=False)) == 2


def test_pillow_bomb_warning_counts_as_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    save(tmp_path / "ds" / "metal" / "ok.png", solid(RED, (25, 25)))
    save(tmp_path / "ds" / "metal" / "warned.png", solid(RED, (40, 40)))  # over 1000, under Pillow's 2x error
    filters_before = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may escape
        dataset = load_dataset(tmp_path / "ds", image_size=16, cache=False)
    assert len(dataset) == 1
    assert reasons(dataset) == {"metal/warned.png": "too large: 1,600 pixels is over the 1,000-pixel limit"}
    assert warnings.filters == filters_before


def test_min_side_is_configurable(tmp_path):
    save(tmp_path / "ds" / "metal" / "a.png", solid(RED, (12, 40)))
    with pytest.raises(DatasetError, match="too small"):
        load_dataset(tmp_path / "ds", cache=False)
    assert len(load_dataset(tmp_path / "ds", limits=LoadLimits(min_side=10), cache=False)) == 1


def test_class_without_usable_images_is_reported_and_dropped(tmp_path):
    root = make_dataset(tmp_path / "ds", {"metal": 2, "paper": 1})
    (root / "battery").mkdir()
    (root / "paper" / "000.png").write_bytes(b"broken")
    dataset = load_dataset(root, image_size=16, cache=False)
    assert dataset.class_names == ("metal",)
    assert dataset.empty_classes == ("battery", "paper")
    assert dataset.summary()["empty_classes"] == ["battery", "paper"]
    assert list_classes(root) == {"battery": 0, "metal": 2, "paper": 1}


def test_empty_dataset_raises_with_the_expected_layout(tmp_path):
    (tmp_path / "ds" / "metal").mkdir(parents=True)
    with pytest.raises(DatasetError, match="No usable images found.*one subfolder per class"):
        load_dataset(tmp_path / "ds")


def test_only_bad_files_raises_and_names_an_example(tmp_path):
    (tmp_path / "ds" / "metal").mkdir(parents=True)
    (tmp_path / "ds" / "metal" / "a.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"No usable images.*a\.jpg.*empty file"):
        load_dataset(tmp_path / "ds")


def test_missing_path_raises(tmp_path):
    with pytest.raises(DatasetError, match="No folder at .*a .zip of one, or 'demo'"):
        load_dataset(tmp_path / "nowhere")


def test_images_in_the_root_explain_the_layout(tmp_path):
    save(tmp_path / "ds" / "a.png", solid())
    with pytest.raises(DatasetError, match="subfolder"):
        load_dataset(tmp_path / "ds")


def test_stray_image_next_to_class_folders_is_listed(tmp_path):
    root = make_dataset(tmp_path / "ds", {"metal": 1})
    save(root / "loose.png", solid())
    (root / "README.md").write_text("about this dataset")  # documentation, not data: not listed
    assert reasons(load_dataset(root, image_size=16, cache=False)) == {"loose.png": "not inside a class folder"}


def test_symlinked_class_folder_is_followed_and_loops_are_not(tmp_path):
    make_dataset(tmp_path / "elsewhere", {"paper": 2})
    root = make_dataset(tmp_path / "ds", {"metal": 1})
    (root / "paper").symlink_to(tmp_path / "elsewhere" / "paper", target_is_directory=True)
    (root / "metal" / "loop").symlink_to(root / "metal", target_is_directory=True)
    assert load_dataset(root, image_size=16, cache=False).counts() == {"metal": 1, "paper": 2}


def test_a_plain_file_is_not_a_source(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DatasetError, match="not a folder or a .zip"):
        load_dataset(tmp_path / "notes.txt")


# ----------------------------------------------------------------------------- zip archives


def test_zip_without_and_with_a_top_folder(tmp_path):
    flat = {"metal/a.png": png_bytes(RED), "paper/b.png": png_bytes(BLUE), "paper/c.png": png_bytes(GREEN)}
    nested = {f"garbage_classification/{name}": payload for name, payload in flat.items()}
    plain = load_dataset(write_zip(tmp_path / "flat.zip", flat), image_size=16)
    wrapped = load_dataset(write_zip(tmp_path / "nested.zip", nested), image_size=16)
    assert plain.counts() == wrapped.counts() == {"metal": 1, "paper": 2}
    assert plain.fingerprint == wrapped.fingerprint
    assert np.array_equal(plain.images, wrapped.images)


def test_zip_junk_is_ignored(tmp_path):
    entries = {
        "metal/a.png": png_bytes(),
        "__MACOSX/metal/._a.png": b"\0\1",
        "metal/.DS_Store": b"\0",
        "metal/Thumbs.db": b"\0",
        ".hidden/x.png": png_bytes(),
    }
    dataset = load_dataset(write_zip(tmp_path / "d.zip", entries), image_size=16)
    assert dataset.class_names == ("metal",) and len(dataset) == 1 and dataset.skipped == []


@pytest.mark.parametrize("evil", ["../evil.png", "metal/../../evil.png", "/tmp/abs-evil.png", "C:/evil.png"])
def test_zip_escaping_entries_refuse_the_whole_archive(tmp_path, evil):
    archive = write_zip(tmp_path / "d.zip", {"metal/a.png": png_bytes(), evil: png_bytes()})
    with pytest.raises(DatasetError, match="Refusing .*Nothing was extracted"):
        load_dataset(archive)
    assert not (tmp_path / "evil.png").exists() and not (tmp_path.parent / "evil.png").exists()
    assert extracted_dirs(tmp_path) == []


def test_zip_symlink_entry_is_refused(tmp_path):
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("metal/a.png", png_bytes())
        link = zipfile.ZipInfo("metal/link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, "/etc/passwd")
    with pytest.raises(DatasetError, match="symbolic link"):
        load_dataset(archive)
    assert extracted_dirs(tmp_path) == []


def test_oversize_zip_is_refused_before_extraction(tmp_path):
    archive = write_zip(tmp_path / "d.zip", {"metal/a.png": png_bytes()})
    with pytest.raises(DatasetError, match="over the .* limit"):
        load_dataset(archive, limits=LoadLimits(max_zip_bytes=10))
    assert not (tmp_path / "cache" / "zips").exists()


def test_not_a_zip_and_corrupt_zip_are_clear_errors(tmp_path):
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    with pytest.raises(DatasetError, match="not a readable .zip"):
        load_dataset(tmp_path / "fake.zip")
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        out.writestr("metal/a.png", png_bytes())
    raw = bytearray(archive.read_bytes())
    raw[60:80] = b"\xff" * 20  # inside the stored member: the CRC check fails
    archive.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="corrupt"):
        load_dataset(archive)
    assert extracted_dirs(tmp_path) == []


def test_zip_is_extracted_once_and_reused(tmp_path):
    archive = write_zip(tmp_path / "d.zip", {"metal/a.png": png_bytes()})
    first = load_dataset(archive, image_size=16)
    second = load_dataset(archive, image_size=16)
    assert second.from_cache and second.fingerprint == first.fingerprint
    assert len(extracted_dirs(tmp_path)) == 1


# ----------------------------------------------------------------------------- class names


@pytest.mark.parametrize(
    ("folder", "expected"),
    [("Green-glass", "green-glass"), ("green_glass", "green-glass"), ("GREEN GLASS", "green-glass"),
     (" Battery ", "battery"), ("white__glass", "white-glass"), (" My Stuff ", "My Stuff")],
)
def test_normalize_class_name(folder, expected):
    assert normalize_class_name(folder) == expected


def test_canonical_classes():
    assert len(CANONICAL_CLASSES) == 12 and "brown-glass" in CANONICAL_CLASSES


def test_folders_are_normalised_merged_and_picked(tmp_path):
    root = make_dataset(tmp_path / "ds", {"Green-glass": 2, "green_glass": 1, "METAL": 1, "My Stuff": 1})
    everything = load_dataset(root, image_size=16, cache=False)
    assert everything.counts() == {"My Stuff": 1, "green-glass": 3, "metal": 1}
    picked = load_dataset(root, classes=["GREEN GLASS", "metal"], image_size=16, cache=False)
    assert picked.class_names == ("green-glass", "metal")
    assert picked.labels.tolist() == [0, 0, 0, 1]
    assert list_classes(root) == {"My Stuff": 1, "green-glass": 3, "metal": 1}


def test_unknown_class_lists_the_available_ones(tmp_path):
    root = make_dataset(tmp_path / "ds", {"metal": 1, "paper": 1})
    with pytest.raises(DatasetError, match=r"Unknown class 'glass'.*Available classes: metal, paper"):
        load_dataset(root, classes=["metal", "glass"])


def test_order_is_by_class_then_path(tmp_path):
    root = make_dataset(tmp_path / "ds", {"paper": 3, "metal": 2})
    dataset = load_dataset(root, image_size=16, cache=False)
    assert dataset.class_names == ("metal", "paper")
    assert dataset.labels.tolist() == [0, 0, 1, 1, 1]
    assert dataset.labels.dtype == np.int32 and dataset.original_sizes.dtype == np.int32


def test_summary_is_json_ready(tmp_path):
    import json

    root = make_dataset(tmp_path / "ds", {"metal": 2}, size=(40, 30))
    save(root / "metal" / "wide.png", solid(RED, (80, 20)))
    summary = load_dataset(root, image_size=16, cache=False).summary()
    json.dumps(summary)
    assert summary["total"] == 3 and summary["classes"] == {"metal": 3}
    assert summary["size_stats"]["width"] == {"min": 40, "median": 40.0, "max": 80}
    assert summary["size_stats"]["per_class"]["metal"]["height"]["min"] == 20


# ----------------------------------------------------------------------------- caching


def test_second_load_comes_from_the_cache(messy):
    first = load_dataset(messy, image_size=16)
    second = load_dataset(messy, image_size=16)
    assert not first.from_cache and second.from_cache
    assert np.array_equal(first.images, second.images) and np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.original_sizes, second.original_sizes)
    assert first.skipped == second.skipped and all(isinstance(item, SkippedFile) for item in second.skipped)
    assert first.fingerprint == second.fingerprint and first.class_names == second.class_names


def test_changed_added_and_removed_files_invalidate_the_cache(tmp_path):
    root = make_dataset(tmp_path / "ds", {"metal": 2})
    first = load_dataset(root, image_size=16)
    save(root / "metal" / "000.png", solid((1, 2, 3)))  # same size on disk is likely: content must count
    changed = load_dataset(root, image_size=16)
    assert not changed.from_cache and changed.fingerprint != first.fingerprint
    assert close(changed.images[0, 8, 8], (1, 2, 3), 1)
    save(root / "metal" / "new.png", solid(BLUE))
    added = load_dataset(root, image_size=16)
    assert not added.from_cache and len(added) == 3
    (root / "metal" / "new.png").unlink()
    removed = load_dataset(root, image_size=16)
    assert len(removed) == 2 and removed.fingerprint == changed.fingerprint and removed.from_cache


def test_unchanged_files_are_not_hashed_again(tmp_path, monkeypatch):
    root = make_dataset(tmp_path / "ds", {"metal": 3})
    an_hour_ago = time.time() - 3600
    for path in (root / "metal").iterdir():
        os.utime(path, (an_hour_ago, an_hour_ago))
    hashed: list[Path] = []
    real_digest = data_module._file_digest
    monkeypatch.setattr(data_module, "_file_digest", lambda path: hashed.append(path) or real_digest(path))
    first = load_dataset(root, image_size=16)
    assert len(hashed) == 3
    hashed.clear()
    assert load_dataset(root, image_size=16).from_cache and hashed == []
    save(root / "metal" / "001.png", solid((9, 9, 9)))
    os.utime(root / "metal" / "001.png", (an_hour_ago + 60, an_hour_ago + 60))
    changed = load_dataset(root, image_size=16)
    assert hashed == [root / "metal" / "001.png"]
    assert not changed.from_cache and changed.fingerprint != first.fingerprint


def test_zip_with_backslash_and_dot_paths(tmp_path):
    archive = write_zip(tmp_path / "d.zip", {"metal\\a.png": png_bytes(), "./paper\\b.png": png_bytes()})
    assert load_dataset(archive, image_size=16).counts() == {"metal": 1, "paper": 1}


def test_cache_is_keyed_by_size_crop_and_classes(tmp_path):
    root = make_dataset(tmp_path / "ds", {"metal": 1, "paper": 1})
    assert not load_dataset(root, image_size=16).from_cache
    bigger = load_dataset(root, image_size=32)
    assert not bigger.from_cache and bigger.images.shape == (2, 32, 32, 3)
    assert not load_dataset(root, image_size=16, crop="pad").from_cache
    subset = load_dataset(root, image_size=16, classes=["metal"])
    assert not subset.from_cache and subset.class_names == ("metal",)
    assert not load_dataset(root, image_size=16, cache=False).from_cache
    assert load_dataset(root, image_size=16, classes=["paper", "METAL"]).from_cache  # same set as 'all'


def test_cache_root_argument_is_used(tmp_path):
    root = make_dataset(tmp_path / "ds", {"metal": 1})
    load_dataset(root, image_size=16, cache_root=tmp_path / "elsewhere")
    assert any((tmp_path / "elsewhere" / "arrays").iterdir())
    assert load_dataset(root, image_size=16, cache_root=tmp_path / "elsewhere").from_cache


def test_progress_reports_done_and_total(tmp_path):
    root = make_dataset(tmp_path / "ds", {"metal": 3, "paper": 2})
    calls: list[tuple[int, int]] = []
    load_dataset(root, image_size=16, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 5) and calls[-1] == (5, 5)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


# ----------------------------------------------------------------------------- demo wiring


def test_demo_resolves_through_demo_data(tmp_path, monkeypatch):
    """The real demo takes a while to draw; a stand-in module checks the wiring only."""
    folder = make_dataset(tmp_path / "demo", {"battery": 2, "paper": 1})
    seen = {}

    def fake_ensure(cache_root=None, **_):
        seen["cache_root"] = cache_root
        return folder

    fake = types.SimpleNamespace(ensure_demo_dataset=fake_ensure, CLASS_NAMES=CANONICAL_CLASSES)
    monkeypatch.setitem(sys.modules, "gan_core.demo_data", fake)
    monkeypatch.setattr(gan_core, "demo_data", fake, raising=False)
    dataset = load_dataset("demo", image_size=16, cache_root=tmp_path / "c")
    assert dataset.is_demo and dataset.source == "demo" and dataset.counts() == {"battery": 2, "paper": 1}
    assert seen["cache_root"] == tmp_path / "c"
    assert list_classes("demo") == {"battery": 2, "paper": 1}
    assert not load_dataset(folder, image_size=16, cache=False).is_demo
