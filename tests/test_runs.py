"""The run store: listing, torn writes, crashed owners, deletion."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gan_core.config import make_config
from gan_core.runs import RunNotFound, RunStore


def make_run(store: RunStore):
    return store.create(make_config("dcgan32", steps=10), class_names=["battery", "metal"], dataset_fingerprint="abc")


def test_a_new_run_is_listed_as_queued(tmp_path):
    store = RunStore(tmp_path)
    run = make_run(store)
    [summary] = store.summaries()
    assert summary.id == run.id and summary.status.state == "queued"
    assert summary.classes == ("battery", "metal") and summary.last_d_loss is None
    assert store.get(run.id).path == run.path == store.get(run.path).path


def test_metrics_survive_a_torn_last_line(tmp_path):
    run = make_run(RunStore(tmp_path))
    run.append_metrics([{"step": 1, "d_loss": 1.2, "g_loss": 0.7, "d_real": 0.5, "d_fake": 0.4,
                         "images_per_sec": 100, "elapsed_s": 0.1}])
    with open(run.metrics_path, "a") as handle:
        handle.write("2,1.1,0.")  # a crash mid-write
    frame = run.read_metrics()
    assert list(frame["step"]) == [1] or list(frame["step"]) == [1, 2]
    assert frame.loc[0, "d_loss"] == pytest.approx(1.2)
    run.truncate_metrics(0)
    assert run.read_metrics().empty


def owned_by_a_dead_process(run, state: str, step: int) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run.set_status(state, step=step)
    status_file = run.path / "status.json"
    status_file.write_text(status_file.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {int(dead.stdout)}'))


@pytest.mark.parametrize(
    ("state", "reads_as", "says"),
    [("running", "failed", "Interrupted"), ("paused", "failed", "Interrupted"), ("queued", "stopped", "queued in")],
)
def test_a_run_whose_process_died_reads_as_interrupted_or_stopped(tmp_path, state, reads_as, says):
    run = make_run(RunStore(tmp_path))
    owned_by_a_dead_process(run, state, step=4)
    status = run.status()
    assert status.state == reads_as and status.step == 4
    assert says in status.error and "Resume" in status.error


def test_unfinished_checkpoint_folders_are_not_offered(tmp_path):
    run = make_run(RunStore(tmp_path))
    run.checkpoint_dir(5).mkdir()
    (run.checkpoints_dir / ".tmp-step_00000010-123").mkdir()
    assert run.latest_checkpoint()[0] == 5


def test_delete_removes_the_run_but_refuses_a_running_one(tmp_path):
    store = RunStore(tmp_path)
    run = make_run(store)
    run.set_status("running", 1)
    with pytest.raises(RuntimeError, match="stop it"):
        store.delete(run.id)
    run.set_status("stopped", 1)
    store.delete(run.id)
    assert store.runs() == []
    with pytest.raises(RunNotFound, match="runs list"):
        store.get(run.id)
