"""Background training jobs: a process-wide queue of threads over the trainer.

The dashboard keeps one ``JobManager`` for the whole server process (in
``st.cache_resource``), so jobs outlive page switches, reloads and closed
browser tabs. Job threads never touch the UI: they write to the run store and
to the job's own fields, which the UI reads. At most ``max_running`` jobs train
at once; the others wait as ``queued``.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gan_core.compare import train_group
from gan_core.data import ImageDataset
from gan_core.runs import Run, RunStore
from gan_core.trainer import TrainControl, TrainEvent, train_run

# When runs of one group end differently, the job shows the most notable outcome.
_OUTCOME_ORDER = ("failed", "diverged", "stopped", "finished")


@dataclass
class Job:
    """One training job (one run, or a lockstep group). Written by the job thread, read by anyone."""

    id: int
    run: Run  # the first (or only) run
    dataset_loader: Callable[[], ImageDataset]
    state: str = "queued"
    step: int = 0
    total_steps: int = 0
    last_metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    started_at: float | None = None
    control: TrainControl = field(default_factory=TrainControl)
    thread: threading.Thread | None = None
    group: list[Run] = field(default_factory=list)  # every run of a lockstep group, else empty

    @property
    def runs(self) -> list[Run]:
        return self.group or [self.run]

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running", "paused")

    def eta_seconds(self) -> float | None:
        rate = self.last_metrics.get("images_per_sec")
        batch = self.run.config().batch_size
        if not rate or self.step >= self.total_steps:
            return None
        return (self.total_steps - self.step) * batch / rate


class JobManager:
    """Starts, queues, pauses and stops training jobs in background threads."""

    def __init__(self, store: RunStore, max_running: int = 1):
        self.store = store
        self.max_running = max_running
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- submitting ------------------------------------------------------------
    def submit(self, run: Run, dataset_loader: Callable[[], ImageDataset]) -> Job:
        """Queue training of ``run`` (new or to resume); it starts when a slot is free."""
        return self.submit_group([run], dataset_loader)

    def submit_group(self, runs: list[Run], dataset_loader: Callable[[], ImageDataset]) -> Job:
        """Queue runs that train in lockstep in one job (they share the dataset)."""
        with self._lock:
            existing = self.job_for_run(runs[0].id)
            if existing is not None and existing.active:
                return existing
            job = Job(next(self._ids), runs[0], dataset_loader, total_steps=runs[0].config().steps,
                      step=min(run.status().step for run in runs), group=list(runs) if len(runs) > 1 else [])
            for run in runs:
                if run.status().state not in ("running", "paused"):
                    run.set_status("queued", run.status().step)
            self._jobs[job.id] = job
            self._start_waiting_jobs()
            return job

    def _start_waiting_jobs(self) -> None:
        with self._lock:
            running = sum(1 for job in self._jobs.values() if job.state in ("running", "paused"))
            for job in sorted(self._jobs.values(), key=lambda j: j.id):
                if running >= self.max_running:
                    break
                if job.state == "queued" and job.thread is None:
                    if job.control.stop_requested:
                        self._mark_stopped_before_start(job)
                        continue
                    job.state = "running"
                    job.thread = threading.Thread(target=self._work, args=(job,), daemon=True,
                                                  name=f"synthbin-job-{job.id}")
                    job.thread.start()
                    running += 1

    def _work(self, job: Job) -> None:
        job.started_at = time.time()
        on_event = functools.partial(self._on_event, job)
        try:
            dataset = job.dataset_loader()
            if job.group:
                outcomes = train_group(job.group, dataset, on_event=on_event, control=job.control)
                job.state = min(outcomes.values(), key=_OUTCOME_ORDER.index)
            else:
                job.state = train_run(job.run, dataset, on_event=on_event, control=job.control)
        except Exception as error:  # train_run/train_group already marked the runs failed when they got that far
            job.state, job.error = "failed", f"{type(error).__name__}: {error}"
            for run in job.runs:
                if run.status().state != "failed":
                    run.set_status("failed", job.step, job.error)
        finally:
            self._start_waiting_jobs()

    def _on_event(self, job: Job, event: TrainEvent) -> None:
        if event.run_id == job.run.id or not job.group:
            job.step = event.step
            if event.metrics:
                job.last_metrics = dict(event.metrics)
        if event.kind in ("diverged", "failed"):
            job.error = event.message
        if event.kind == "paused":
            job.state = "paused"
        elif event.kind in ("started", "resumed"):
            job.state = "running"

    # -- controlling -------------------------------------------------------------
    def pause(self, job_id: int) -> None:
        self._jobs[job_id].control.request_pause()

    def resume(self, job_id: int) -> None:
        self._jobs[job_id].control.request_resume()

    def stop(self, job_id: int) -> None:
        job = self._jobs[job_id]
        job.control.request_stop()
        job.control.request_resume()
        with self._lock:
            if job.state == "queued" and job.thread is None:
                self._mark_stopped_before_start(job)

    @staticmethod
    def _mark_stopped_before_start(job: Job) -> None:
        job.state = "stopped"
        for run in job.runs:
            run.set_status("stopped", run.status().step)

    def wait(self, job_id: int, timeout: float | None = None) -> bool:
        """Block until the job's thread ends (for tests and the CLI); True when it did."""
        job = self._jobs[job_id]
        deadline = None if timeout is None else time.time() + timeout
        while job.thread is None and job.state == "queued":
            if deadline is not None and time.time() > deadline:
                return False
            time.sleep(0.05)
        if job.thread is not None:
            job.thread.join(None if deadline is None else max(0.0, deadline - time.time()))
            return not job.thread.is_alive()
        return True

    # -- reading -------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.id)

    def active_jobs(self) -> list[Job]:
        return [job for job in self.jobs() if job.active]

    def job_for_run(self, run_id: str) -> Job | None:
        with self._lock:
            matches = [job for job in self._jobs.values() if run_id in {run.id for run in job.runs}]
        return matches[-1] if matches else None
