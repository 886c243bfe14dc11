"""Starting and resuming background jobs from the pages."""

from __future__ import annotations

from gan_core.config import TrainConfig
from gan_core.jobs import Job
from gan_core.runs import Run
from gan_core.trainer import check_same_dataset, create_run
from ui import datasets, state

# A run in one of these states, with no live job in this server, can continue from its last checkpoint
# ('running'/'paused' of a dead process read as 'failed', 'queued' of a dead process as 'stopped').
RESUMABLE_STATES = ("stopped", "failed", "diverged")


def start(config: TrainConfig) -> Run:
    """Load the data (progress on the page), create the run folder and queue its job."""
    dataset = datasets.load_for_training(config)
    run = create_run(config, state.run_store(), dataset)
    state.job_manager().submit(run, lambda: dataset)
    state.set_current_run(run.id)
    return run


def resumable(run: Run) -> bool:
    if state.active_job_for(run.id) is not None:
        return False
    status = run.status()
    return status.state in RESUMABLE_STATES and status.step < run.config().steps


def resume(run: Run) -> Job:
    """Queue ``run`` again; it continues from its newest checkpoint, also after a server restart."""
    config = run.config()
    dataset = datasets.load_for_training(config)
    check_same_dataset(run, dataset)  # before queueing, so the page says it at once
    job = state.job_manager().submit(run, lambda: dataset)
    state.set_current_run(run.id)
    return job
