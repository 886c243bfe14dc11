"""Reading a growing ``metrics.csv`` cheaply: each refresh parses only the rows added since the last one.

A live page re-reads the metrics every second; re-parsing a 100k-row file each
time would cost the training thread CPU. ``Run.read_metrics`` stays the
reference reader; this one gives the same frame incrementally.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pandas as pd
import streamlit as st

from gan_core.runs import METRIC_COLUMNS, Run


class MetricsTail:
    """The rows of one metrics file, updated from the bytes appended since the last read."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._reset()

    def _reset(self, inode: int | None = None) -> None:
        self._inode = inode
        self._offset = 0
        self._frame = pd.DataFrame(columns=list(METRIC_COLUMNS), dtype=float)

    def read(self) -> pd.DataFrame:
        """Every complete row so far (a torn last line waits for the next read). Do not modify it."""
        with self._lock:
            try:
                info = os.stat(self.path)
            except FileNotFoundError:
                self._reset()
                return self._frame
            if info.st_ino != self._inode or info.st_size < self._offset:  # replaced on resume, or new
                self._reset(info.st_ino)
            if info.st_size > self._offset:
                self._append(self._read_new_lines(info.st_size))
            return self._frame

    def _read_new_lines(self, size: int) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read(size - self._offset)
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        return complete

    def _append(self, lines: bytes) -> None:
        if not lines:
            return
        rows = pd.read_csv(io.BytesIO(lines), header=None, names=list(METRIC_COLUMNS), on_bad_lines="skip")
        rows = rows.apply(pd.to_numeric, errors="coerce").dropna(subset=["step"])  # drops the header line
        if rows.empty:
            return
        rows["step"] = rows["step"].astype(int)
        frame = rows if self._frame.empty else pd.concat([self._frame, rows], ignore_index=True)
        self._frame = frame.reset_index(drop=True)


@st.cache_resource(show_spinner=False)
def _tails() -> tuple[dict[Path, MetricsTail], threading.Lock]:
    return {}, threading.Lock()


def read_metrics(run: Run) -> pd.DataFrame:
    """The run's metrics, shared by every session that watches it."""
    tails, lock = _tails()
    with lock:
        tail = tails.get(run.metrics_path)
        if tail is None:
            tail = tails[run.metrics_path] = MetricsTail(run.metrics_path)
    return tail.read()


def forget_metrics(run: Run) -> None:
    """Drop the cached rows of a deleted run."""
    tails, lock = _tails()
    with lock:
        tails.pop(run.metrics_path, None)
