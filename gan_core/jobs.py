"""Background training jobs: a process-wide queue of threads over the trainer.

The dashboard keeps one ``JobManager`` for the whole server process (in
``st.cache_resource``), so jobs outlive page switches, reloads and closed
browser tabs. Job threads never touch the UI: they write to the run store and
to the job's own fields, which the UI reads. At most ``max_running`` jobs train
at once; the others wait as ``queued``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gan_core.data import ImageDataset
from gan_core.runs import Run, RunStore
from gan_core.trainer import TrainControl, TrainEvent, train_run


@dataclass
class Job:
    """One training job. Fields are written by the job thread, read by anyone."""

    id: int
    run: Run
    dataset_loader: Callable[[], ImageDataset]
    state: str = "queued"
    step: int = 0
    total_steps: int = 0
    last_metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    started_at: float | None = None
    control: TrainControl = field(default_factory=TrainControl)
    thread: threading.Thread | None = None

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
        with self._lock:
            existing = self.job_for_run(run.id)
            if existing is not None and existing.active:
                return existing
            job = Job(next(self._ids), run, dataset_loader, total_steps=run.config().steps,
                      step=run.status().step)
            if run.status().state not in ("running", "paused"):
                run.set_status("queued", job.step)
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
                        job.state = "stopped"
                        job.run.set_status("stopped", job.step)
                        continue
                    job.state = "running"
                    job.thread = threading.Thread(target=self._work, args=(job,), daemon=True,
                                                  name=f"synthbin-job-{job.id}")
                    job.thread.start()
                    running += 1

    def _work(self, job: Job) -> None:
        job.started_at = time.time()
        try:
            dataset = job.dataset_loader()
            train_run(job.run, dataset, on_event=lambda event: self._on_event(job, event), control=job.control)
        except Exception as error:  # the run is already marked failed by train_run when it got that far
            job.state, job.error = "failed", f"{type(error).__name__}: {error}"
            if job.run.status().state != "failed":
                job.run.set_status("failed", job.step, job.error)
        finally:
            self._start_waiting_jobs()

    def _on_event(self, job: Job, event: TrainEvent) -> None:
        job.step = event.step
        if event.metrics:
            job.last_metrics = dict(event.metrics)
        if event.kind in ("paused", "stopped", "finished", "diverged", "failed"):
            job.state = event.kind
            job.error = event.message if event.kind in ("diverged", "failed") else None
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
        if job.state == "queued" and job.thread is None:
            job.state = "stopped"
            job.run.set_status("stopped", job.step)

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
            matches = [job for job in self._jobs.values() if job.run.id == run_id]
        return matches[-1] if matches else None
