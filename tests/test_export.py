"""Export: zips of synthetic images per class, the manifest, regeneration, augmented mode, memory, the page."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from conftest import write_class_folders

from gan_core import cli
from gan_core.config import make_config
from gan_core.export import (
    GEN_BATCH,
    MANIFEST_COLUMNS,
    ExportError,
    ExportOptions,
    LoadedCheckpoint,
    export_zip,
    plan,
    png_bytes,
    preview_grid,
    regenerate,
)
from gan_core.runs import Run, RunStore
from gan_core.trainer import start_run

ROOT = Path(__file__).resolve().parents[1]


def tiny_config(folder: Path, **overrides):
    settings = dict(dataset=str(folder), steps=2, batch_size=8, checkpoint_every=2, sample_every=2, grid_size=4,
                    latent_dim=8, conditional=True)
    settings.update(overrides)
    return make_config("dcgan32", **settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Run]:
    """A conditional and an unconditional tiny run on one folder (with one undecodable file in it)."""
    base = tmp_path_factory.mktemp("export")
    folder = write_class_folders(base / "tiny", {"battery": 16, "shoes": 16})
    (folder / "battery" / "broken.png").write_bytes(b"not an image")
    store = RunStore(base / "runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNTHBIN_CACHE", str(base / "cache"))
        return {
            "conditional": start_run(tiny_config(folder), store),
            "unconditional": start_run(tiny_config(folder, conditional=False), store),
        }


@pytest.fixture(scope="module")
def conditional(trained) -> LoadedCheckpoint:
    return LoadedCheckpoint(trained["conditional"])


@pytest.fixture(scope="module")
def unconditional(trained) -> LoadedCheckpoint:
    return LoadedCheckpoint(trained["unconditional"])


def read_zip(path: Path) -> tuple[zipfile.ZipFile, list[dict[str, str]]]:
    archive = zipfile.ZipFile(path)
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open("manifest.csv"), encoding="utf-8")))
    return archive, rows


def images_in(archive: zipfile.ZipFile, folder: str) -> list[str]:
    return [name for name in archive.namelist() if name.startswith(f"{folder}/")]


def test_conditional_zip_has_class_folders_counts_and_manifest(conditional, tmp_path):
    progress = []
    result = export_zip(conditional, tmp_path / "out.zip", ExportOptions(count=5, seed=3),
                        progress=lambda done, total: progress.append((done, total)))

    archive, rows = read_zip(result.path)
    run = conditional.run
    assert (result.synthetic, result.real, result.step) == (10, 0, 2)
    assert sorted({name.split("/")[0] for name in archive.namelist() if "/" in name}) == ["battery", "shoes"]
    for folder in ("battery", "shoes"):
        names = images_in(archive, folder)
        assert len(names) == 5
        assert all(Path(name).name.startswith(f"synthbin_{run.id}_s2_") and name.endswith(".png") for name in names)
    assert archive.read("config.json") == (run.path / "config.json").read_bytes()
    assert tuple(rows[0]) == MANIFEST_COLUMNS and len(rows) == 10
    assert {row["file"] for row in rows} == set(images_in(archive, "battery") + images_in(archive, "shoes"))
    first = rows[0]
    assert (first["class"], first["kind"], first["run_id"], first["checkpoint_step"], first["seed"]) == (
        "battery", "synthetic", run.id, "2", "3")
    assert [row["latent_index"] for row in rows[:5]] == ["0", "1", "2", "3", "4"]
    assert progress[0] == (0, 10) and progress[-1] == (10, 10)
    assert not list(tmp_path.glob(".*.tmp"))  # written under a temporary name, then moved


def test_a_manifest_row_regenerates_its_image_byte_for_byte(conditional, tmp_path):
    options = ExportOptions(count=GEN_BATCH + 3, classes=("shoes",), seed=7, truncation=0.8, size=48)
    archive, rows = read_zip(export_zip(conditional, tmp_path / "out.zip", options).path)

    row = next(row for row in rows if row["latent_index"] == str(GEN_BATCH + 1))  # in the second, partial batch
    assert (row["truncation"], row["size"]) == ("0.8", "48")
    image = regenerate(conditional.run, row, conditional)
    assert image.size == (48, 48)
    assert png_bytes(image) == archive.read(row["file"])


def test_same_seed_and_settings_give_identical_zips(conditional, tmp_path):
    options = ExportOptions(count=4, seed=11, truncation=1.0)
    first = export_zip(conditional, tmp_path / "a.zip", options).path.read_bytes()
    second = export_zip(conditional, tmp_path / "b.zip", options).path.read_bytes()
    other_seed = export_zip(conditional, tmp_path / "c.zip", ExportOptions(count=4, seed=12, truncation=1.0))

    assert first == second
    archive = zipfile.ZipFile(io.BytesIO(first))
    name = images_in(archive, "battery")[0]
    assert archive.read(name) != zipfile.ZipFile(other_seed.path).read(name)


def test_unconditional_run_fills_one_folder_with_the_total(unconditional, tmp_path):
    result = export_zip(unconditional, tmp_path / "out.zip", ExportOptions(count=7))

    archive, rows = read_zip(result.path)
    assert len(images_in(archive, "synthetic")) == 7 == result.synthetic
    assert {row["class"] for row in rows} == {"synthetic"}
    assert png_bytes(regenerate(unconditional.run, rows[-1], unconditional)) == archive.read(rows[-1]["file"])
    with pytest.raises(ExportError, match="unconditional"):
        plan(unconditional.run, ExportOptions(count=7, classes=("battery",)))
    with pytest.raises(ExportError, match="augmented dataset needs a conditional run"):
        plan(unconditional.run, ExportOptions(count=7, augmented=True))


def test_augmented_export_adds_the_original_files_of_the_chosen_classes(conditional, tmp_path):
    result = export_zip(conditional, tmp_path / "out.zip", ExportOptions(count=6, classes=("battery",), augmented=True))

    archive, rows = read_zip(result.path)
    names = images_in(archive, "battery")
    real = [name for name in names if not Path(name).name.startswith("synthbin_")]
    assert (result.real, result.synthetic) == (16, 6)  # the undecodable broken.png is left out
    assert len(names) == 22 and len(real) == 16 and not images_in(archive, "shoes")
    source = Path(conditional.config.dataset)
    assert archive.read("battery/battery_000.png") == (source / "battery" / "battery_000.png").read_bytes()
    assert sorted(row["kind"] for row in rows) == ["real"] * 16 + ["synthetic"] * 6


def test_augmented_export_reads_a_zipped_dataset_inside_a_wrapper_folder(conditional, tmp_path):
    dataset = Path(conditional.config.dataset)
    archive_path = Path(shutil.make_archive(str(tmp_path / "garbage"), "zip", dataset.parent, dataset.name))
    run = _copy_run_with_dataset(conditional.run, tmp_path / "runs", str(archive_path))

    checkpoint = LoadedCheckpoint(run)
    result = export_zip(checkpoint, tmp_path / "out.zip", ExportOptions(count=2, augmented=True))

    archive = zipfile.ZipFile(result.path)
    assert result.real == 32 and len(images_in(archive, "shoes")) == 18
    assert archive.read("shoes/shoes_003.png") == (dataset / "shoes" / "shoes_003.png").read_bytes()


def _copy_run_with_dataset(run: Run, store: Path, dataset: str) -> Run:
    copy = Path(shutil.copytree(run.path, store / run.id))
    record = json.loads((copy / "config.json").read_text())
    record["config"]["dataset"] = dataset
    (copy / "config.json").write_text(json.dumps(record))
    return Run(copy)


def test_preview_shows_the_first_images_of_each_class(conditional):
    grid = preview_grid(conditional, per_class=4, seed=3)
    assert grid.size == (4 * 34 + 2, 2 * 34 + 2)  # 32 px tiles with 2 px padding, one row per class


@pytest.mark.parametrize(("options", "message"), [
    (ExportOptions(count=0), "number of images"),
    (ExportOptions(count=5, classes=("metal",)), "Unknown class 'metal'.*battery, shoes"),
    (ExportOptions(count=5, seed=-1), "seed"),
    (ExportOptions(count=5, truncation=0.01), "Truncation"),
    (ExportOptions(count=5, size=16), "image size"),
])
def test_bad_settings_are_refused_with_a_plain_message(trained, options, message):
    with pytest.raises(ExportError, match=message):
        plan(trained["conditional"], options)


def test_cli_writes_the_zip_and_reports_mistakes_in_one_line(trained, tmp_path, capsys):
    run = trained["conditional"]
    base = ["generate", run.id, "--runs-dir", str(run.path.parent)]
    out = tmp_path / "cli.zip"

    assert cli.main([*base, "--per-class", "3", "--classes", "shoes", "--seed", "2", "--out", str(out)]) == 0
    assert len(images_in(zipfile.ZipFile(out), "shoes")) == 3
    for extra, expected in (
        (["--per-class", "0"], "number of images"),
        (["--per-class", "3", "--classes", "metal"], "Unknown class 'metal'"),
        (["--per-class", "3", "--checkpoint", "5"], "no checkpoint at step 5"),
    ):
        capsys.readouterr()
        assert cli.main([*base, *extra, "--out", str(tmp_path / "x.zip")]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith("error: ") and expected in error and "\n" not in error


MEMORY_SCRIPT = """
import json, resource, sys, tracemalloc
from gan_core.export import ExportOptions, LoadedCheckpoint, export_zip
from gan_core.runs import Run

checkpoint = LoadedCheckpoint(Run(sys.argv[1]))
report = {}
for count in (100, 1000):  # per class: 200 and 2000 images
    tracemalloc.start()
    export_zip(checkpoint, f"{sys.argv[2]}/{count}.zip", ExportOptions(count=count))
    report[count] = {"python_peak": tracemalloc.get_traced_memory()[1],
                     "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    tracemalloc.stop()
print(json.dumps(report))
"""


def test_memory_stays_flat_as_the_image_count_grows(trained, tmp_path):
    # Python allocations (numpy arrays and bytes included): holding the 2000 PNGs would add ~3 MB, their arrays
    # ~6 MB; the zip's central directory adds ~0.2 kB per member. The process's peak RSS has a looser bound:
    # glibc keeps some freed memory of TensorFlow's threads (measured up to ~30 MB, and it levels off).
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(MEMORY_SCRIPT), str(trained["conditional"].path),
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    small, large = report["100"], report["1000"]
    print(f"memory: {json.dumps(report)}")
    assert large["python_peak"] - small["python_peak"] < 1.5 * 2**20
    assert large["max_rss"] - small["max_rss"] < 48 * 2**20
    assert zipfile.ZipFile(tmp_path / "1000.zip").testzip() is None


# -- the Generate page -----------------------------------------------------------------


def _page(monkeypatch, run: Run):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SYNTHBIN_RUNS", str(run.path.parent))
    page = AppTest.from_file(str(ROOT / "app_pages" / "generate.py"), default_timeout=120)
    page.run()
    page.selectbox(key="generate_run").set_value(run.id).run()
    assert not page.exception, page.exception
    return page


def _wait_for_job(page, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.run()
        if page.get("download_button") or page.success or page.error:
            return page
        time.sleep(0.3)
    raise AssertionError("the export job did not finish")


def test_generate_page_previews_and_offers_the_zip_for_download(trained, monkeypatch):
    run = trained["conditional"]
    page = _page(monkeypatch, run)
    assert page.title[0].value == "Generate images"
    assert len(page.image) == 1  # the preview grid
    page.number_input(key="generate_count").set_value(4).run()
    page.button(key="generate_start").click().run()

    page = _wait_for_job(page)
    assert not page.error, page.error[0].value
    assert "8 synthetic images" in page.success[0].value
    from ui.generate_view import export_jobs

    job = export_jobs().get(run, 2, ExportOptions(count=4, classes=("battery", "shoes")))
    assert job is not None and not job.in_run_folder
    assert len(zipfile.ZipFile(job.result.path).namelist()) == 10


def test_generate_page_keeps_a_zip_over_the_limit_in_the_run_folder(trained, monkeypatch):
    monkeypatch.setenv("SYNTHBIN_DOWNLOAD_LIMIT_MB", "0")
    run = trained["conditional"]
    page = _page(monkeypatch, run)
    page.number_input(key="generate_seed").set_value(5).run()
    page.button(key="generate_start").click().run()

    page = _wait_for_job(page)
    assert not page.get("download_button")
    message = page.success[0].value
    assert "written to the run folder" in message and str(run.path / "exports") in message
    assert len(list((run.path / "exports").glob("*.zip"))) == 1
