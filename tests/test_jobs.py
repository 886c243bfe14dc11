"""Background jobs: a queue with a running limit, stop, pause, and failures that leave the app working."""

from __future__ import annotations

import time

from gan_core.config import make_config
from gan_core.jobs import JobManager
from gan_core.runs import RunStore
from gan_core.trainer import create_run, load_training_data


def queued_run(store, folder, **overrides):
    settings = dict(dataset=str(folder), batch_size=8, steps=3, sample_every=3, checkpoint_every=3, grid_size=4,
                    latent_dim=8)
    config = make_config("dcgan32", **{**settings, **overrides})
    dataset = load_training_data(config)
    return create_run(config, store, dataset), (lambda: dataset)


def wait_until(predicate, timeout=60.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_jobs_beyond_the_limit_wait_in_the_queue_then_run(tiny_folder, tmp_path):
    store = RunStore(tmp_path)
    manager = JobManager(store, max_running=1)
    first = manager.submit(*queued_run(store, tiny_folder, steps=40))
    second = manager.submit(*queued_run(store, tiny_folder))
    assert second.state == "queued" and second.run.status().state == "queued"
    manager.stop(first.id)
    assert manager.wait(first.id, timeout=120) and first.state == "stopped"
    assert manager.wait(second.id, timeout=120)
    assert second.state == "finished" and second.run.status().state == "finished"
    assert manager.active_jobs() == []


def test_a_queued_job_can_be_stopped_before_it_starts(tiny_folder, tmp_path):
    store = RunStore(tmp_path)
    manager = JobManager(store, max_running=1)
    first = manager.submit(*queued_run(store, tiny_folder, steps=40))
    second = manager.submit(*queued_run(store, tiny_folder))
    manager.stop(second.id)
    assert second.state == "stopped" and second.run.status().state == "stopped"
    manager.stop(first.id)
    manager.wait(first.id, timeout=120)
    assert second.thread is None


def test_pause_and_resume_a_running_job(tiny_folder, tmp_path):
    store = RunStore(tmp_path)
    manager = JobManager(store)
    job = manager.submit(*queued_run(store, tiny_folder, steps=200))
    wait_until(lambda: job.step >= 1)
    manager.pause(job.id)
    wait_until(lambda: job.state == "paused")
    assert job.run.status().state == "paused"
    paused_at = job.step
    time.sleep(0.5)
    assert job.step == paused_at
    manager.resume(job.id)
    wait_until(lambda: job.step > paused_at)
    manager.stop(job.id)
    manager.wait(job.id, timeout=120)
    assert job.state == "stopped" and job.run.status().state == "stopped"


def test_a_failing_job_marks_its_run_failed_and_the_manager_keeps_working(tiny_folder, tmp_path):
    store = RunStore(tmp_path)
    manager = JobManager(store)
    run, _ = queued_run(store, tiny_folder)

    def broken_loader():
        raise OSError("disk unplugged")

    job = manager.submit(run, broken_loader)
    manager.wait(job.id, timeout=60)
    assert job.state == "failed" and "disk unplugged" in job.error
    assert run.status().state == "failed" and "disk unplugged" in run.status().error
    healthy = manager.submit(*queued_run(store, tiny_folder))
    manager.wait(healthy.id, timeout=120)
    assert healthy.state == "finished"
