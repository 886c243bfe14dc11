"""The run store: one folder per training run, readable while it is written.

Layout of ``<root>/<run_id>/``::

    config.json     every setting, the dataset fingerprint, class names, library versions
    status.json     state, step, error text, owning process; replaced atomically
    metrics.csv     one row per logged step, appended and flushed as training goes
    samples/        sample grids, ``step_00000050.png``
    checkpoints/    ``step_00000250/`` folders, each complete before it appears

A reader never sees half a file: JSON files are written to a temporary name
and moved into place, checkpoints are written into a temporary folder that is
renamed when complete. A run whose process died while ``running`` is still
listed; its state is reported as ``failed`` with a note that it was
interrupted and can be resumed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from gan_core.config import TrainConfig
from gan_core.paths import runs_dir

STATES = ("queued", "running", "paused", "stopped", "finished", "diverged", "failed")
ACTIVE_STATES = ("queued", "running", "paused")
METRIC_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "images_per_sec", "elapsed_s")
_STEP_DIR = re.compile(r"^step_(\d{8})$")


class RunNotFound(LookupError):
    """No run with that id (or path) in the store."""


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so readers see either the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunStatus:
    state: str
    step: int = 0
    error: str | None = None
    updated: str = ""
    pid: int | None = None
    host: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class Run:
    """One run folder. Cheap to construct; every read goes to disk."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.csv"

    # -- config -------------------------------------------------------------
    def read_record(self) -> dict[str, Any]:
        """The whole ``config.json``: settings plus dataset and version info."""
        return json.loads((self.path / "config.json").read_text(encoding="utf-8"))

    def config(self) -> TrainConfig:
        return TrainConfig.from_dict(self.read_record()["config"])

    def class_names(self) -> tuple[str, ...]:
        return tuple(self.read_record().get("class_names", ()))

    # -- status -------------------------------------------------------------
    def status(self) -> RunStatus:
        """The last consistent status.

        A run whose owner process died reads as ``failed`` if it was training and
        as ``stopped`` if it was still waiting in that process's queue.
        """
        try:
            raw = json.loads((self.path / "status.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return RunStatus("failed", error="status.json is missing or unreadable.")
        status = RunStatus(**{k: raw.get(k) for k in RunStatus.__dataclass_fields__ if k in raw})
        if status.state not in ("queued", "running", "paused") or not self._owner_gone(status):
            return status
        if status.state == "queued":  # it waited for a training slot in a process that is gone: nothing failed
            state, note = "stopped", (
                f"Not trained further: the app or process it was queued in stopped at step {status.step}. "
                "Resume trains it from its last checkpoint."
            )
        else:
            state, note = "failed", (
                f"Interrupted: the process training this run ended unexpectedly at step {status.step}. "
                "Resume continues from its last checkpoint."
            )
        return RunStatus(state, status.step, note, status.updated, status.pid, status.host)

    def _owner_gone(self, status: RunStatus) -> bool:
        if status.pid is None or status.host != socket.gethostname():
            return False
        return status.pid != os.getpid() and not _process_alive(status.pid)

    def set_status(self, state: str, step: int | None = None, error: str | None = None) -> RunStatus:
        if state not in STATES:
            raise ValueError(f"Unknown run state '{state}'; expected one of {STATES}.")
        if step is None:
            step = self.status().step
        status = RunStatus(state, int(step), error, _now(), os.getpid(), socket.gethostname())
        write_json_atomic(self.path / "status.json", status.__dict__)
        return status

    # -- metrics ------------------------------------------------------------
    def append_metrics(self, rows: Iterable[Mapping[str, float]]) -> None:
        """Append rows to metrics.csv and flush, writing the header once."""
        new_file = not self.metrics_path.exists() or self.metrics_path.stat().st_size == 0
        with open(self.metrics_path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerows(rows)
            handle.flush()

    def read_metrics(self) -> pd.DataFrame:
        """All logged steps; a torn last line from a crash is dropped."""
        if not self.metrics_path.exists():
            return pd.DataFrame(columns=list(METRIC_COLUMNS))
        frame = pd.read_csv(self.metrics_path, on_bad_lines="skip")
        frame = frame.apply(pd.to_numeric, errors="coerce").dropna(subset=["step"])
        frame["step"] = frame["step"].astype(int)
        return frame.reset_index(drop=True)

    def truncate_metrics(self, last_step: int) -> None:
        """Drop rows after ``last_step`` (used on resume from a checkpoint)."""
        frame = self.read_metrics()
        kept = frame[frame["step"] <= last_step]
        tmp = self.metrics_path.with_name(".metrics.csv.tmp")
        kept.to_csv(tmp, index=False, columns=list(METRIC_COLUMNS))
        os.replace(tmp, self.metrics_path)

    # -- samples and checkpoints ---------------------------------------------
    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"step_{step:08d}.png"

    def samples(self) -> list[tuple[int, Path]]:
        """(step, path) of every sample grid, oldest first."""
        found = []
        for path in self.samples_dir.glob("step_*.png"):
            match = _STEP_DIR.match(path.stem)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found)

    def checkpoints(self) -> list[tuple[int, Path]]:
        """(step, folder) of every complete checkpoint, oldest first."""
        found = []
        if self.checkpoints_dir.is_dir():
            for path in self.checkpoints_dir.iterdir():
                match = _STEP_DIR.match(path.name)
                if match and path.is_dir():
                    found.append((int(match.group(1)), path))
        return sorted(found)

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def checkpoint_dir(self, step: int) -> Path:
        return self.checkpoints_dir / f"step_{step:08d}"

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"


@dataclass(frozen=True)
class RunSummary:
    """What a list of runs shows: id, state, key settings, last losses."""

    id: str
    path: Path
    status: RunStatus
    preset: str
    image_size: int
    classes: tuple[str, ...]
    steps: int
    lr_g: float
    lr_d: float
    created: str
    last_d_loss: float | None
    last_g_loss: float | None
    thumbnail: Path | None


class RunStore:
    """All runs under one root folder."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else runs_dir()

    def create(self, config: TrainConfig, *, class_names: Iterable[str], dataset_fingerprint: str,
               extra: Mapping[str, Any] | None = None) -> Run:
        """Make a new run folder with its config and a ``queued`` status."""
        import keras
        import tensorflow as tf

        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        run_id = f"{stamp}-{config.preset}-{secrets.token_hex(2)}"
        path = self.root / run_id
        (path / "samples").mkdir(parents=True)
        (path / "checkpoints").mkdir()
        record = {
            "run_id": run_id,
            "created": _now(),
            "config": config.to_dict(),
            "class_names": list(class_names),
            "dataset_fingerprint": dataset_fingerprint,
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
            **dict(extra or {}),
        }
        write_json_atomic(path / "config.json", record)
        run = Run(path)
        run.set_status("queued", step=0)
        return run

    def get(self, run_id_or_path: str | Path) -> Run:
        """A run by id (folder name under the root) or by folder path."""
        candidate = Path(run_id_or_path)
        for path in (candidate, self.root / str(run_id_or_path)):
            if (path / "config.json").is_file():
                return Run(path)
        raise RunNotFound(
            f"No run '{run_id_or_path}' in {self.root}. `python -m gan_core runs list` shows the runs there."
        )

    def runs(self) -> list[Run]:
        """Every run folder that has a config, newest first."""
        if not self.root.is_dir():
            return []
        found = [Run(p) for p in self.root.iterdir() if (p / "config.json").is_file()]
        return sorted(found, key=lambda run: run.id, reverse=True)

    def summaries(self) -> list[RunSummary]:
        return [summary for summary in (self._summary(run) for run in self.runs()) if summary is not None]

    def _summary(self, run: Run) -> RunSummary | None:
        try:
            record = run.read_record()
            config = record["config"]
        except (OSError, ValueError, KeyError):
            return None
        metrics = run.read_metrics()
        last = metrics.iloc[-1] if len(metrics) else None
        samples = run.samples()
        return RunSummary(
            id=run.id,
            path=run.path,
            status=run.status(),
            preset=config.get("preset", "?"),
            image_size=int(config.get("image_size", 0)),
            classes=tuple(record.get("class_names", ())),
            steps=int(config.get("steps", 0)),
            lr_g=float(config.get("lr_g", 0)),
            lr_d=float(config.get("lr_d", 0)),
            created=record.get("created", ""),
            last_d_loss=None if last is None else float(last["d_loss"]),
            last_g_loss=None if last is None else float(last["g_loss"]),
            thumbnail=samples[-1][1] if samples else None,
        )

    def delete(self, run_id: str) -> None:
        """Remove a run folder. Refuses a run that a live process is training."""
        run = self.get(run_id)
        status = run.status()
        if status.state in ("running", "paused"):
            raise RuntimeError(f"Run {run.id} is {status.state}; stop it before deleting it.")
        # Rename first so a half-deleted folder never shows up as a run.
        doomed = run.path.with_name(f".deleting-{run.id}-{time.time_ns()}")
        os.replace(run.path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
