"""Starting and resuming background jobs from the pages."""

from __future__ import annotations

from gan_core.config import ConfigError, TrainConfig
from gan_core.jobs import Job
from gan_core.runs import Run
from gan_core.trainer import create_run
from ui import datasets, state

# A run in one of these states, with no live job in this server, can continue from its last checkpoint
# ('running'/'paused' of a dead process already read as 'failed'). 'queued' is here because a run that
# was queued when the server stopped stays 'queued' on disk.
RESUMABLE_STATES = ("queued", "stopped", "failed", "diverged")


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
    recorded = run.read_record().get("dataset_fingerprint")
    if recorded and recorded != dataset.fingerprint:
        raise ConfigError(f"The images in '{config.dataset}' changed since run {run.id} started, so resuming "
                          "would mix two datasets. Restore the original files, or start a new run.")
    job = state.job_manager().submit(run, lambda: dataset)
    state.set_current_run(run.id)
    return job
