"""Tests for the procedurally drawn demo dataset (gan_core.demo_data)."""

from __future__ import annotations

import inspect
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core import demo_data
from gan_core.demo_data import (
    CLASS_NAMES,
    DEFAULT_PER_CLASS,
    DEMO_VERSION,
    MARKER_NAME,
    contact_sheet,
    draw_image,
    ensure_demo_dataset,
    generate_demo,
)

GARBAGE_CLASSES = (
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


def _file_bytes(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_demo(tmp_path_factory.mktemp("demo") / "demo", per_class=3, size=32, seed=7)


def test_class_names_match_the_garbage_classification_dataset() -> None:
    assert CLASS_NAMES == GARBAGE_CLASSES
    assert isinstance(DEMO_VERSION, int) and DEMO_VERSION >= 1


def test_defaults_give_at_least_300_images_per_class_at_128px() -> None:
    assert DEFAULT_PER_CLASS >= 300
    for function in (generate_demo, ensure_demo_dataset):
        parameters = inspect.signature(function).parameters
        assert parameters["per_class"].default >= 300
        assert parameters["size"].default == 128


def test_tree_has_every_class_with_per_class_rgb_pngs(small_demo: Path) -> None:
    assert sorted(p.name for p in small_demo.iterdir() if p.is_dir()) == sorted(CLASS_NAMES)
    for name in CLASS_NAMES:
        files = sorted((small_demo / name).iterdir())
        assert len(files) == 3
        for path in files:
            assert path.suffix == ".png"
            with Image.open(path) as image:
                assert image.format == "PNG"
                assert image.mode == "RGB"
                assert image.size == (32, 32)


def test_marker_describes_the_dataset_and_says_it_is_drawn(small_demo: Path) -> None:
    marker = json.loads((small_demo / MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["version"] == DEMO_VERSION
    assert (marker["seed"], marker["per_class"], marker["size"]) == (7, 3, 32)
    assert "not photographs" in marker["note"]


def test_same_seed_gives_byte_identical_files(tmp_path: Path, small_demo: Path) -> None:
    again = generate_demo(tmp_path / "again", per_class=3, size=32, seed=7)
    assert _file_bytes(again) == _file_bytes(small_demo)


def test_different_seed_gives_different_images(tmp_path: Path, small_demo: Path) -> None:
    other = generate_demo(tmp_path / "other", per_class=3, size=32, seed=8)
    for name in CLASS_NAMES:
        for path in (small_demo / name).iterdir():
            assert path.read_bytes() != (other / name / path.name).read_bytes()


def test_worker_processes_and_class_subsets_do_not_change_the_pictures(tmp_path: Path, small_demo: Path) -> None:
    subset = ("paper", "shoes")
    parallel = generate_demo(tmp_path / "parallel", per_class=3, size=32, seed=7, classes=subset, workers=2)
    assert sorted(p.name for p in parallel.iterdir() if p.is_dir()) == list(subset)
    for name in subset:
        for path in (parallel / name).iterdir():
            assert path.read_bytes() == (small_demo / name / path.name).read_bytes()


def test_progress_reports_run_from_zero_to_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate_demo(
        tmp_path / "demo", per_class=2, size=16, classes=("metal",), progress=lambda d, t: calls.append((d, t))
    )
    assert calls[0] == (0, 2) and calls[-1] == (2, 2)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_generation_is_atomic_and_replaces_an_existing_tree(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    generate_demo(root, per_class=1, size=16, classes=("battery",), seed=1)
    generate_demo(root, per_class=2, size=16, classes=("paper",), seed=2)
    assert sorted(p.name for p in root.iterdir()) == [MARKER_NAME, "paper"]
    assert len(list((root / "paper").iterdir())) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no staging or retired folders left behind


def test_unknown_classes_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_demo(tmp_path / "demo", per_class=1, size=16, classes=("glass",))
    with pytest.raises(ValueError):
        draw_image("glass", np.random.default_rng(0))
    assert not (tmp_path / "demo").exists()


def test_draw_image_returns_rgb_of_requested_size() -> None:
    for size in (16, 48):
        image = draw_image("battery", np.random.default_rng(0), size=size)
        assert image.mode == "RGB" and image.size == (size, size)


def test_images_within_a_class_vary() -> None:
    for index, name in enumerate(CLASS_NAMES):
        images = [
            np.asarray(draw_image(name, np.random.default_rng([3, index, i]), size=48), dtype=np.float32)
            for i in range(5)
        ]
        differences = [np.abs(a - b).mean() for a, b in itertools.combinations(images, 2)]
        assert min(differences) > 12, f"{name} images are near-identical: {min(differences):.1f}"


def test_classes_differ_from_each_other() -> None:
    means = {
        name: np.mean(
            [
                np.asarray(draw_image(name, np.random.default_rng([4, index, i]), size=32), np.float32)
                for i in range(16)
            ],
            axis=0,
        )
        for index, name in enumerate(CLASS_NAMES)
    }
    for first, second in itertools.combinations(CLASS_NAMES, 2):
        distance = np.abs(means[first] - means[second]).mean()
        assert distance > 5, f"{first} and {second} look alike on average ({distance:.1f})"


def test_ensure_reuses_a_complete_folder_in_the_given_cache_root(tmp_path: Path, monkeypatch) -> None:
    root = ensure_demo_dataset(tmp_path, per_class=2, size=16, seed=3)
    assert root == tmp_path / f"demo-v{DEMO_VERSION}-s3-n2-16px"
    assert (root / MARKER_NAME).is_file()
    sample = root / "clothes" / sorted(p.name for p in (root / "clothes").iterdir())[0]
    stamp = sample.stat().st_mtime_ns

    def must_not_rebuild(*args, **kwargs):
        raise AssertionError("a complete demo folder was regenerated")

    monkeypatch.setattr(demo_data, "_build", must_not_rebuild)
    assert ensure_demo_dataset(tmp_path, per_class=2, size=16, seed=3) == root
    assert sample.stat().st_mtime_ns == stamp


def test_ensure_regenerates_when_the_marker_is_missing(tmp_path: Path) -> None:
    root = ensure_demo_dataset(tmp_path, per_class=2, size=16, seed=3)
    (root / MARKER_NAME).unlink()
    (root / "trash" / sorted(p.name for p in (root / "trash").iterdir())[0]).unlink()
    assert ensure_demo_dataset(tmp_path, per_class=2, size=16, seed=3) == root
    assert (root / MARKER_NAME).is_file()
    assert len(list((root / "trash").iterdir())) == 2


def test_ensure_defaults_to_the_synthbin_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SYNTHBIN_CACHE", str(tmp_path / "cache"))
    root = ensure_demo_dataset(per_class=1, size=16)
    assert root.parent == tmp_path / "cache"
    assert root.name == f"demo-v{DEMO_VERSION}-s0-n1-16px"


def test_concurrent_callers_share_one_complete_folder(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        roots = list(pool.map(lambda _: ensure_demo_dataset(tmp_path, per_class=2, size=16, seed=5), range(3)))
    assert len(set(roots)) == 1
    assert demo_data.read_demo_marker(roots[0]) is not None
    assert all(len(list((roots[0] / name).iterdir())) == 2 for name in CLASS_NAMES)
    assert [p.name for p in tmp_path.iterdir()] == [roots[0].name]  # losers' staging copies are gone


def test_a_finished_copy_from_another_process_is_kept(tmp_path: Path) -> None:
    root = ensure_demo_dataset(tmp_path, per_class=1, size=16)
    before = _file_bytes(root)
    staging = tmp_path / ".late-copy.partial"
    (staging / "paper").mkdir(parents=True)
    demo_data._publish(staging, root, keep_existing=True)
    assert _file_bytes(root) == before


def test_contact_sheet_has_a_title_and_one_row_per_class(tmp_path: Path, small_demo: Path) -> None:
    out = contact_sheet(small_demo, tmp_path / "sheets" / "sheet.png", per_class=3, tile=24)
    assert out == tmp_path / "sheets" / "sheet.png"
    pad = demo_data.SHEET_PADDING
    with Image.open(out) as sheet:
        assert sheet.format == "PNG" and sheet.mode == "RGB"
        assert sheet.height == demo_data.SHEET_TITLE_HEIGHT + len(CLASS_NAMES) * (24 + pad) + pad
        assert sheet.width >= demo_data.SHEET_LABEL_WIDTH + 3 * (24 + pad) + pad
        pixels = np.asarray(sheet)
    title_band = pixels[: demo_data.SHEET_TITLE_HEIGHT]
    assert (title_band < 128).any(), "the title line is missing"
