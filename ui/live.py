"""One run's panel: progress, controls, curves and sample grids, live while its job is active.

Two fragments refresh on their own while the run has an active job, and not at
all otherwise: the status line (progress, step, images/s, time left) every second,
the curves and sample grids every ten seconds. Redrawing a Plotly chart costs a
software-rendered browser about a third of a CPU second, so doing that every second
would take a 2-core laptop's CPU away from training (bench/dashboard_overhead.py).
The status fragment reruns the whole page once when the job starts or ends (to
switch the refreshing on or off) and when the first steps are logged (so the curve
appears at once rather than at the next ten-second tick).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gan_core.jobs import Job
from gan_core.runs import Run, RunNotFound
from ui import charts, state, training, widgets
from ui.metrics import read_metrics

STATUS_REFRESH_S = 1.0
CURVES_REFRESH_S = 10.0
SPEED_WINDOW = 20  # steps averaged for images/s and the time left


def run_panel(run_id: str, key: str) -> None:
    """Show ``run_id``; ``key`` keeps the widgets of two panels (Train, Runs) apart."""
    run = _get_run(run_id)
    if run is None:
        st.info("This run was deleted.")
        return
    job = state.active_job_for(run_id)
    active = job is not None
    has_steps = not read_metrics(run).empty
    st.fragment(_status_panel, run_every=STATUS_REFRESH_S if active else None)(run_id, active, has_steps)
    _controls(run, job, key)  # outside the fragments: buttons cost the browser on every redraw
    st.fragment(_curves_panel, run_every=CURVES_REFRESH_S if active else None)(run_id, key)


def _get_run(run_id: str) -> Run | None:
    try:
        return state.run_store().get(run_id)
    except RunNotFound:
        return None


@widgets.guarded("showing the run's progress")
def _status_panel(run_id: str, was_active: bool, had_steps: bool) -> None:
    run = _get_run(run_id)
    if run is None:
        return
    job = state.active_job_for(run_id)
    metrics = read_metrics(run)
    if (job is not None) != was_active or (not had_steps and not metrics.empty):
        st.rerun()
    _status(run, job, metrics)


@widgets.guarded("showing the run's curves")
def _curves_panel(run_id: str, key: str) -> None:
    run = _get_run(run_id)
    if run is None:
        return
    metrics = read_metrics(run)
    if metrics.empty:
        st.caption("Loss curves appear after the first training steps.")
    else:
        smoothing = st.slider("Curve smoothing", 0.0, 0.99, 0.6, 0.01, key=f"{key}_smoothing",
                              help="Averages out the step-to-step noise of GAN losses; 0 shows the raw values.")
        st.plotly_chart(charts.loss_figure(metrics, smoothing), key=f"{key}_curves")
    sample_browser(run, key)


def _speed(metrics: pd.DataFrame) -> float | None:
    if metrics.empty:
        return None
    return float(metrics["images_per_sec"].tail(SPEED_WINDOW).mean())


def _status(run: Run, job: Job | None, metrics: pd.DataFrame) -> None:
    if job is not None:
        widgets.job_progress(job, images_per_sec=_speed(metrics))
        return
    status = run.status()
    total = run.config().steps
    text = f"{widgets.STATE_WORDS.get(status.state, status.state)} at step {status.step:,} of {total:,}"
    st.progress(min(status.step / max(total, 1), 1.0), text=text)
    if status.error:
        (st.warning if status.state == "diverged" else st.error)(status.error)


def _controls(run: Run, job: Job | None, key: str) -> None:
    """Pause/Resume/Stop of a live job (by what was asked, so they need no refresh), or Resume of a stopped run."""
    manager = state.job_manager()
    columns = st.columns([1, 1, 4])
    if job is not None:
        stopping = job.control.stop_requested
        if job.control.pause_requested and not stopping:
            columns[0].button("Resume", key=f"{key}_unpause", on_click=manager.resume, args=(job.id,),
                              icon=":material/play_arrow:", help="Continue training from where it paused.")
        else:
            columns[0].button("Pause", key=f"{key}_pause", on_click=manager.pause, args=(job.id,),
                              icon=":material/pause:", disabled=stopping,
                              help="Save a checkpoint and wait; the training slot stays taken.")
        columns[1].button("Stopping…" if stopping else "Stop", key=f"{key}_stop", on_click=manager.stop,
                          args=(job.id,), icon=":material/stop:", disabled=stopping,
                          help="Save a checkpoint and end the job; you can resume it later.")
    elif training.resumable(run):
        latest = run.latest_checkpoint()
        where = f"step {latest[0]:,}" if latest else "the start (no checkpoint yet)"
        if columns[0].button("Resume training", key=f"{key}_resume", icon=":material/play_arrow:", type="primary",
                             help=f"Continue this run from its last checkpoint, {where}."):
            with widgets.user_errors("resuming the run"):
                training.resume(run)
                st.rerun()


def sample_browser(run: Run, key: str) -> None:
    """The newest sample grid, and a slider over the earlier ones (it follows the newest until moved)."""
    samples = dict(run.samples())
    if not samples:
        st.caption(f"The first sample grid appears at step {run.config().sample_every:,}.")
        return
    steps = list(samples)
    chosen_key, newest_key = f"{key}_sample_step", f"{key}_sample_newest"
    chosen = st.session_state.get(chosen_key)
    if chosen not in samples or chosen == st.session_state.get(newest_key):
        st.session_state[chosen_key] = steps[-1]
    st.session_state[newest_key] = steps[-1]
    if len(steps) > 1:
        st.select_slider("Sample grid at step", options=steps, key=chosen_key,
                         help="Every grid draws the same fixed random vectors, so you see the same images improve.")
    step = st.session_state[chosen_key]
    st.image(str(samples[step]), caption=f"Generated images at step {step:,}", width=420)
