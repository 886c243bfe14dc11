"""What lives where: engine objects for the whole process, picks for one browser session.

Jobs and the run store are process-wide (``st.cache_resource``), so training
keeps going when a user switches pages, reloads or closes the tab. Only the
session's own choices (dataset source, classes, settings) live in
``st.session_state``.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from gan_core.jobs import Job, JobManager
from gan_core.paths import runs_dir
from gan_core.runs import RunNotFound, RunStore
from ui.compat import keep_keras_state

MAX_JOBS_ENV = "SYNTHBIN_MAX_JOBS"
DEMO_SOURCE = "demo"
# Widget values under these prefixes survive page switches (Streamlit drops the
# state of widgets that are not on the page). Buttons and uploaders must not use them.
PERSISTED_PREFIXES = ("dataset_", "train_")
SOURCE_KEY = "dataset_source"
CLASSES_KEY = "dataset_classes"
CURRENT_RUN_KEY = "train_run_id"

T = TypeVar("T")


def max_running_jobs() -> int:
    """How many jobs may train at once: ``SYNTHBIN_MAX_JOBS`` (default 1, the right number for a CPU)."""
    try:
        return max(1, int(os.environ.get(MAX_JOBS_ENV, "1")))
    except ValueError:
        return 1


@st.cache_resource(show_spinner=False)
def _job_manager(root: str) -> JobManager:
    keep_keras_state()  # before any job thread can build a model
    return JobManager(RunStore(root), max_running=max_running_jobs())


def job_manager() -> JobManager:
    """The server's one job manager for the current run store folder."""
    manager = _job_manager(str(runs_dir().resolve()))
    manager.max_running = max_running_jobs()
    return manager


def run_store() -> RunStore:
    return job_manager().store


def active_job_for(run_id: str) -> Job | None:
    job = job_manager().job_for_run(run_id)
    return job if job is not None and job.active else None


class LruCache:
    """A small thread-safe LRU shared by all sessions; loads run under one lock so two
    sessions asking for the same dataset do the work once."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T], *, refresh: bool = False) -> T:
        with self._lock:
            if refresh:
                self._items.pop(key, None)
            if key not in self._items:
                self._items[key] = load()
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            self._items.move_to_end(key)
            return self._items[key]  # type: ignore[return-value]

    def peek(self, key: Hashable) -> object | None:
        with self._lock:
            return self._items.get(key)


@st.cache_resource(show_spinner=False)
def dataset_cache() -> LruCache:
    """Loaded datasets for previews; few entries because a large dataset is hundreds of MB."""
    return LruCache(size=2)


# -- session picks ------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetPick:
    """The dataset this session trains on. ``classes`` None means every class."""

    source: str
    classes: tuple[str, ...] | None

    @property
    def is_demo(self) -> bool:
        return self.source == DEMO_SOURCE


def keep_widget_values() -> None:
    """Re-save persisted widget values so they survive switching pages (call before any widget)."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(PERSISTED_PREFIXES):
            st.session_state[key] = st.session_state[key]


def dataset_pick() -> DatasetPick:
    classes = st.session_state.get(CLASSES_KEY)
    return DatasetPick(st.session_state.get(SOURCE_KEY, DEMO_SOURCE), None if classes is None else tuple(classes))


def set_dataset_source(source: str) -> None:
    """A newly chosen source starts with every class picked; reloading the same one keeps the picks."""
    if st.session_state.get(SOURCE_KEY, DEMO_SOURCE) != source:
        st.session_state.pop(CLASSES_KEY, None)
    st.session_state[SOURCE_KEY] = source


def current_run_id() -> str | None:
    """The run the Train page shows: this session's last one, else the newest active job's run."""
    chosen = st.session_state.get(CURRENT_RUN_KEY)
    if chosen:
        try:
            run_store().get(chosen)
            return chosen
        except RunNotFound:
            st.session_state.pop(CURRENT_RUN_KEY, None)
    active = job_manager().active_jobs()
    return active[-1].run.id if active else None


def set_current_run(run_id: str) -> None:
    st.session_state[CURRENT_RUN_KEY] = run_id
