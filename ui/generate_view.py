"""The Generate page's sections: settings, a preview grid, and export jobs that end in a download.

Export jobs run in background threads of a process-wide registry (``st.cache_resource``), keyed by
their settings, so a job keeps going when the user switches pages or reloads, and the page finds it
again from the same settings. Finished zips wait in the cache folder and reach the browser only when
the download button is pressed; a zip over the download limit is moved into ``<run>/exports/``
instead, and the page shows where.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import streamlit as st

from gan_core.export import (
    MAX_COUNT,
    MIN_TRUNCATION,
    ExportOptions,
    ExportResult,
    LoadedCheckpoint,
    conditional_run,
    default_zip_name,
    export_zip,
    plan,
    preview_grid,
)
from gan_core.paths import cache_dir
from gan_core.runs import Run
from ui import state, widgets
from ui.compat import keep_keras_state

DOWNLOAD_LIMIT_ENV = "SYNTHBIN_DOWNLOAD_LIMIT_MB"
DEFAULT_DOWNLOAD_LIMIT_MB = 200.0
KEPT_JOBS = 8  # finished jobs (and their zips in the cache folder) kept for download
REFRESH_S = 1.0
PREVIEW_COLUMNS = 8
UPSCALE_SIZES = (64, 128, 256, 512)


def download_limit_bytes() -> int:
    """Zips up to this size are offered as a download; larger ones stay in the run folder."""
    try:
        megabytes = float(os.environ.get(DOWNLOAD_LIMIT_ENV, DEFAULT_DOWNLOAD_LIMIT_MB))
    except ValueError:
        megabytes = DEFAULT_DOWNLOAD_LIMIT_MB
    return int(megabytes * 2**20)


# -- export jobs (no Streamlit calls: they run in background threads) ------------------------


JobKey = tuple[str, int, ExportOptions]


@dataclass
class ExportJob:
    """One export. Fields are written by the job thread, read by the page."""

    id: int
    run: Run
    step: int
    options: ExportOptions
    state: str = "running"  # running, finished, failed
    done: int = 0
    total: int = 0
    result: ExportResult | None = None
    in_run_folder: bool = False  # too large to download: moved into <run>/exports/
    error: BaseException | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state == "running"

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total


class ExportJobs:
    """Export jobs of the whole server, one per (run, checkpoint, settings)."""

    def __init__(self, checkpoints: state.LruCache, scratch: Path):
        self.checkpoints = checkpoints
        self.scratch = scratch
        self._jobs: dict[JobKey, ExportJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def get(self, run: Run, step: int, options: ExportOptions) -> ExportJob | None:
        """The job for these settings; a finished one whose zip is gone counts as none."""
        with self._lock:
            job = self._jobs.get((str(run.path), step, options))
        if job is not None and job.result is not None and not job.result.path.exists():
            return None
        return job

    def submit(self, run: Run, step: int, options: ExportOptions) -> ExportJob:
        with self._lock:
            key = (str(run.path), step, options)
            job = self._jobs.get(key)
            if job is None or job.state == "failed" or (job.result and not job.result.path.exists()):
                job = ExportJob(next(self._ids), run, step, options)
                job.thread = threading.Thread(target=self._work, args=(job,), name=f"export-{job.id}", daemon=True)
                self._jobs[key] = job
                job.thread.start()
            self._forget_old()
            return job

    def forget(self, run: Run, step: int, options: ExportOptions) -> None:
        with self._lock:
            self._jobs.pop((str(run.path), step, options), None)

    def checkpoint(self, run: Run, step: int) -> LoadedCheckpoint:
        """A loaded checkpoint, shared by previews and jobs (loads run one at a time)."""
        return self.checkpoints.get((str(run.path), step), partial(LoadedCheckpoint, run, step))

    def _work(self, job: ExportJob) -> None:
        try:
            checkpoint = self.checkpoint(job.run, job.step)
            name = default_zip_name(checkpoint, job.options)
            result = export_zip(checkpoint, self.scratch / f"job{job.id}" / name, job.options, progress=job.progress)
            if result.bytes > download_limit_bytes():
                final = job.run.path / "exports" / name
                _move_atomically(result.path, final)
                result, job.in_run_folder = replace(result, path=final), True
            job.result, job.state = result, "finished"
        except Exception as error:  # noqa: BLE001 - shown on the page
            job.error, job.state = error, "failed"

    def _forget_old(self) -> None:
        finished = sorted((job.id, key) for key, job in self._jobs.items() if not job.active)
        for _, key in finished[:-KEPT_JOBS]:
            job = self._jobs.pop(key)
            if job.result is not None and not job.in_run_folder:
                shutil.rmtree(job.result.path.parent, ignore_errors=True)


def _move_atomically(source: Path, target: Path) -> None:
    """Move a file so ``target`` appears complete, also across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
        source.unlink()


@st.cache_resource(show_spinner=False)
def _export_jobs(root: str) -> ExportJobs:
    keep_keras_state()  # before any thread builds a model
    parent = cache_dir() / "exports"
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"server-{os.getpid()}-", dir=parent))
    atexit.register(shutil.rmtree, scratch, True)
    return ExportJobs(state.LruCache(size=2), scratch)


def export_jobs() -> ExportJobs:
    """The server's export jobs for the current run store folder."""
    return _export_jobs(str(state.run_store().root.resolve()))


# -- page sections ------------------------------------------------------------------------


def pick_run() -> Run | None:
    """A run with at least one checkpoint, or None (with a hint) when there is none."""
    runs = [run for run in state.run_store().runs() if run.checkpoints()]
    if not runs:
        st.info("No run has a checkpoint yet. Train one on the Train page; a checkpoint is saved every "
                "'Checkpoint every' steps and at the end.")
        return None
    labels = {run.id: f"{run.id} ({', '.join(run.class_names())})" for run in runs}
    run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="generate_run")
    return state.run_store().get(run_id)


def pick_step(run: Run) -> int:
    steps = [step for step, _ in run.checkpoints()]
    return st.selectbox("Checkpoint", steps[::-1], format_func=lambda step: f"step {step:,}",
                        key=f"generate_step_{run.id}", help="The newest is first.")


def settings_form(run: Run) -> ExportOptions | None:
    """Classes, count, seed, truncation, size and mode, as export options (None: no class picked)."""
    conditional = conditional_run(run)
    left, right = st.columns(2)
    with left:
        classes = _pick_classes(run) if conditional else ()
        count = st.number_input("Images per class" if conditional else "Images in total", 1, MAX_COUNT, 100,
                                key="generate_count")
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="generate_seed",
                               help="The same seed and settings give the same images, byte for byte.")
    with right:
        truncation = _pick_truncation()
        size = _pick_size(run.config().image_size)
        augmented = st.toggle("Augmented dataset: add the real images", key="generate_augmented",
                              disabled=not conditional and len(run.class_names()) > 1,
                              help="The zip then holds the real images of the chosen classes too; synthetic "
                                   "files are the ones named synthbin_….")
    if conditional and not classes:
        st.info("Pick at least one class.")
        return None
    return ExportOptions(count=int(count), classes=tuple(classes), seed=int(seed), truncation=truncation,
                         size=size, augmented=augmented)


def _pick_classes(run: Run) -> list[str]:
    names = list(run.class_names())
    return st.multiselect("Classes", names, default=names, key=f"generate_classes_{run.id}",
                          help="One folder of images per class, named as in the dataset.")


def _pick_truncation() -> float | None:
    if not st.toggle("Truncation trick", key="generate_truncate",
                     help="Redraws every latent value beyond ±T: less variety, usually cleaner images."):
        return None
    return st.slider("Truncation T", MIN_TRUNCATION, 2.0, 1.0, 0.05, key="generate_truncation")


def _pick_size(image_size: int) -> int | None:
    sizes = [None, *(size for size in UPSCALE_SIZES if size > image_size)]

    def label(size: int | None) -> str:
        return f"{image_size} px (the run's resolution)" if size is None else f"{size} px, upscaled"

    return st.selectbox("Image size", sizes, format_func=label, key=f"generate_size_{image_size}",
                        help="Upscaling (LANCZOS) adds no detail; it only matches the size a classifier expects.")


def describe(run: Run, options: ExportOptions) -> str:
    """One line on what the zip will hold."""
    folders = [target.folder for target in plan(run, options)]
    synthetic = f"{options.count * len(folders):,} synthetic images in {', '.join(f'`{f}/`' for f in folders)}"
    real = ", plus the real images of these classes" if options.augmented else ""
    return f"The zip will hold {synthetic}{real}, a `manifest.csv` and the run's `config.json`."


def preview(run: Run, step: int, options: ExportOptions) -> None:
    """The first images the export will contain, one row per class."""
    with st.spinner("Loading the checkpoint…"):
        checkpoint = export_jobs().checkpoint(run, step)
    per_row = PREVIEW_COLUMNS if checkpoint.conditional else 2 * PREVIEW_COLUMNS
    grid = preview_grid(checkpoint, classes=options.classes, per_class=per_row, seed=options.seed,
                        truncation=options.truncation)
    rows = " · ".join(target.folder for target in plan(run, options))
    st.image(grid, width=min(grid.width * 3, 900), caption=f"The first images of the zip, by row: {rows}")


def export_section(run: Run, step: int, options: ExportOptions) -> None:
    jobs = export_jobs()
    job = jobs.get(run, step, options)
    if job is None:
        if st.button("Generate the zip", key="generate_start", type="primary",
                     icon=":material/auto_awesome:", help="Runs in the background; you can leave the page."):
            jobs.submit(run, step, options)
            st.rerun()
        return
    st.fragment(_job_panel, run_every=REFRESH_S if job.active else None)(run, step, options, job.active)


def _job_panel(run: Run, step: int, options: ExportOptions, was_active: bool) -> None:
    job = export_jobs().get(run, step, options)
    if job is None or job.active != was_active:
        st.rerun()  # switches the refresh on or off
    if job.active:
        text = f"Generating: {job.done:,} of {job.total:,} images" if job.total else "Loading the checkpoint…"
        st.progress(job.done / job.total if job.total else 0.0, text=text)
    elif job.state == "failed":
        st.error(widgets.error_text(job.error, "generating the zip"), icon=":material/error:")
        if st.button("Try again", key="generate_retry"):
            export_jobs().forget(run, step, options)
            st.rerun()
    else:
        _finished(job)


def _finished(job: ExportJob) -> None:
    result = job.result
    size = f"{result.bytes / 2**20:,.1f} MB"
    counts = f"{result.synthetic:,} synthetic" + (f" + {result.real:,} real" if job.options.augmented else "")
    if job.in_run_folder:
        st.success(f"Done: {counts} images, {size}. That is over the {download_limit_bytes() / 2**20:,.0f} MB "
                   f"download limit, so the zip was written to the run folder: `{result.path}`",
                   icon=":material/folder_zip:")
        return
    st.success(f"Done: {counts} images, {size}.", icon=":material/check_circle:")
    st.download_button(f"Download {result.path.name}", data=result.path.read_bytes,
                       file_name=result.path.name, mime="application/zip", key="generate_download",
                       type="primary", icon=":material/download:", on_click="ignore")
