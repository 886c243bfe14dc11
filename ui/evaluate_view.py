"""The Evaluate page's sections: settings, an estimate, a background evaluation, results and their history.

Evaluations run in background threads of a process-wide ``EvalJobs`` (``st.cache_resource``), one at a time,
so they keep going when the user switches pages. The panel of the chosen run is a fragment that refreshes
every second while its evaluation runs and not at all otherwise.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pandas as pd
import plotly.colors
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from gan_core.evaluation import (
    DEFAULT_NUM_SAMPLES,
    KERAS_NOTE,
    EvalJob,
    EvalJobs,
    Evaluation,
    plan_evaluation,
    read_results,
)
from gan_core.features import WEIGHTS_ENV, WEIGHTS_FILE, WEIGHTS_MB, WEIGHTS_URL, InceptionWeightsMissing
from gan_core.metrics import METRICS
from gan_core.runs import Run, RunStore
from ui import state, widgets
from ui.compat import keep_keras_state

REFRESH_S = 1.0
MAX_SAMPLES = 50_000
HELP = {
    "metrics": "IS judges the generated images alone (higher is better). FID and KID compare them with the real "
               "images of the run's classes (lower is better); KID is the one to trust with fewer than 2,048 images.",
    "num_samples": "How many images to generate, and how many real images to compare with (all of them when the "
                   "classes have fewer). FID needs at least 2,048 of each to be reliable; more takes longer.",
    "weights": f"A Keras InceptionV3 weights file with the classification top ('{WEIGHTS_FILE}'). Empty: the "
               f"{WEIGHTS_ENV} setting, else the Keras cache, else a {WEIGHTS_MB} MB download on first use.",
}


@dataclass(frozen=True)
class EvalRequest:
    step: int
    metrics: tuple[str, ...]
    num_samples: int
    weights: str | None


@st.cache_resource(show_spinner=False)
def _eval_jobs(root: str) -> EvalJobs:
    keep_keras_state()  # before any thread builds a model
    return EvalJobs(RunStore(root))


def eval_jobs() -> EvalJobs:
    """The server's evaluation jobs for the current run store folder."""
    return _eval_jobs(str(state.run_store().root.resolve()))


# -- settings ---------------------------------------------------------------------------------

def pick_run() -> Run | None:
    """A run with at least one checkpoint, or None (with a hint) when there is none."""
    runs = [run for run in state.run_store().runs() if run.checkpoints()]
    if not runs:
        st.info("No run has a checkpoint yet. Train one on the Train page; a checkpoint is saved every "
                "'Checkpoint every' steps and at the end.")
        return None
    labels = {run.id: f"{run.id} ({', '.join(run.class_names())})" for run in runs}
    run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="eval_run")
    return state.run_store().get(run_id)


def settings_form(run: Run) -> EvalRequest | None:
    """Checkpoint, metrics, sample count and weights file (None: no metric picked)."""
    steps = [step for step, _ in run.checkpoints()][::-1]
    left, right = st.columns(2)
    step = left.selectbox("Checkpoint", steps, format_func=lambda s: f"step {s:,}", key=f"eval_step_{run.id}",
                          help="The newest is first.")
    names = left.multiselect("Metrics", list(METRICS), default=list(METRICS), key="eval_metrics",
                             format_func=str.upper, help=HELP["metrics"])
    count = right.number_input("Images per side", min_value=2, max_value=MAX_SAMPLES, value=DEFAULT_NUM_SAMPLES,
                               step=256, key="eval_num_samples", help=HELP["num_samples"])
    weights = right.text_input("Inception-v3 weights file (optional)", value=os.environ.get(WEIGHTS_ENV, ""),
                               key="eval_weights", help=HELP["weights"], placeholder="~/.keras/models/" + WEIGHTS_FILE)
    if not names:
        st.info("Pick at least one metric.")
        return None
    return EvalRequest(int(step), tuple(n for n in METRICS if n in names), int(count), weights.strip() or None)


# -- before starting -------------------------------------------------------------------------------

def weights_instructions(error: InceptionWeightsMissing) -> None:
    """Exactly which file to fetch and where to put it, for a machine without internet access."""
    st.error(error.reason, icon=":material/cloud_off:")
    st.markdown(f"1. On a machine with internet access, download `{WEIGHTS_FILE}` ({WEIGHTS_MB} MB) from:")
    st.code(error.url, language=None)
    st.markdown("2. Copy it to this path on this machine (the Keras cache):")
    st.code(str(error.target), language=None)
    st.markdown("Or put it anywhere and enter its path in **Inception-v3 weights file** above "
                f"(CLI: `--inception-weights PATH`, or the `{WEIGHTS_ENV}` environment variable).")


def plan_section(run: Run, request: EvalRequest) -> None:
    """Counts, the time estimate, weights status and warnings, then the Start button."""
    try:
        plan = plan_evaluation(run, request.metrics, request.num_samples, request.weights)
    except InceptionWeightsMissing as error:
        weights_instructions(error)
        return
    real = (f" with **{plan.num_real:,} real** images of {', '.join(run.class_names())}"
            + (" (their features are cached)" if plan.real_cached else "")) if plan.num_real else ""
    speed = (f"{plan.images_per_sec:,.1f} images/s measured on this machine" if plan.speed_measured
             else f"a rough guess of {plan.images_per_sec:,.0f} images/s until an evaluation has run here")
    st.markdown(f"Compares **{plan.num_fake:,} generated** images{real}. "
                f"Estimated time: **about {widgets.format_duration(plan.seconds)}** "
                f"({plan.images_to_extract:,} images through Inception-v3 at {speed}).")
    if plan.weights is None:
        st.info(f"The Inception-v3 weights ({WEIGHTS_MB} MB) are not on this machine yet: they are downloaded "
                f"when you start, if this machine is online. Offline, download {WEIGHTS_URL} elsewhere and put "
                "the file in the Keras cache (`~/.keras/models/`) or enter its path above.",
                icon=":material/download:")
    for text in plan.warnings:
        st.warning(text, icon=":material/warning:")
    st.caption(KERAS_NOTE)
    busy = eval_jobs().latest(run.id)
    if st.button("Evaluate", key="eval_start", type="primary", icon=":material/analytics:",
                 disabled=busy is not None and busy.active,
                 help="Runs in the background; it keeps going if you leave the page."):
        with widgets.user_errors("starting the evaluation"):
            eval_jobs().submit(run, metrics=request.metrics, num_samples=request.num_samples, step=request.step,
                               weights=request.weights)
            st.rerun()


# -- while and after it runs --------------------------------------------------------------------------

def job_panel(run: Run) -> None:
    """The run's latest evaluation: live progress, then its results (or what went wrong)."""
    job = eval_jobs().latest(run.id)
    active = job is not None and job.active
    st.fragment(_panel, run_every=REFRESH_S if active else None)(run.id, active)


def _panel(run_id: str, was_active: bool) -> None:
    job = eval_jobs().latest(run_id)
    if (job is not None and job.active) != was_active:
        st.rerun()  # switches the refresh on or off, and redraws the history
    if job is None:
        return
    if job.active:
        _progress(job)
    elif job.state == "failed":
        if isinstance(job.error, InceptionWeightsMissing):
            weights_instructions(job.error)
        else:
            widgets.show_error(job.error, "evaluating")
    elif job.state == "cancelled":
        st.info("The evaluation was cancelled; nothing was stored.")
    elif job.result is not None:
        results_section(job.result)


def _progress(job: EvalJob) -> None:
    parts = [job.stage]
    if job.total:
        parts.append(f"{job.done:,} of {job.total:,} images")
        if job.started_at and job.done:
            elapsed = time.time() - job.started_at
            parts.append(f"about {widgets.format_duration(elapsed * (job.total - job.done) / job.done)} left")
    st.progress(job.fraction, text=" · ".join(parts))
    st.button("Cancel", key="eval_cancel", on_click=eval_jobs().cancel, args=(job.id,), icon=":material/stop:")


def results_table(evaluation: Evaluation) -> pd.DataFrame:
    return pd.DataFrame([{
        "Metric": METRICS[r.metric].title + f" ({r.metric.upper()})",
        "Classes": r.class_name or "all",
        "Value": r.value,
        "± std": r.std,
        "Real images": r.num_real,
        "Generated images": r.num_fake,
        "Better": "lower" if METRICS[r.metric].lower_is_better else "higher",
    } for r in evaluation.results])


def results_section(evaluation: Evaluation) -> None:
    cache = " Real features came from the cache." if evaluation.real_from_cache else ""
    st.success(f"Checkpoint step {evaluation.step:,} scored in {widgets.format_duration(evaluation.seconds)} "
               f"with `{evaluation.extractor}`.{cache}", icon=":material/check_circle:")
    st.dataframe(results_table(evaluation), hide_index=True, width="stretch", key="eval_results", column_config={
        "Value": st.column_config.NumberColumn(format="%.5g"),
        "± std": st.column_config.NumberColumn(format="%.3g"),
    })
    for text in evaluation.warnings:
        st.warning(text, icon=":material/warning:")


# -- history -------------------------------------------------------------------------------------

def history_figure(results: pd.DataFrame) -> go.Figure:
    """Each metric against the training step: one line per class scope and extractor, latest value per step."""
    frame = results.assign(base=results["metric"].str.split("/").str[0],
                           scope=results["metric"].str.split("/").str[1].fillna("all classes"))
    frame = frame[frame["base"].isin(list(METRICS))]
    bases = [name for name in METRICS if name in set(frame["base"])]
    figure = make_subplots(rows=1, cols=max(len(bases), 1), horizontal_spacing=0.07,
                           subplot_titles=[f"{name.upper()} ({'lower' if METRICS[name].lower_is_better else 'higher'}"
                                           " is better)" for name in bases])
    several_extractors = frame["extractor"].nunique() > 1
    palette = plotly.colors.qualitative.Plotly
    colours: dict[str, str] = {}
    for column, base in enumerate(bases, start=1):
        for (scope, extractor), group in frame[frame["base"] == base].groupby(["scope", "extractor"], sort=False):
            latest = group.drop_duplicates("step", keep="last").sort_values("step")
            name = f"{scope} · {extractor}" if several_extractors else scope
            first = name not in colours
            colour = colours.setdefault(name, palette[len(colours) % len(palette)])
            figure.add_trace(go.Scatter(
                x=latest["step"], y=latest["value"], name=name, legendgroup=name, showlegend=first,
                mode="lines+markers", line={"color": colour},
                error_y={"type": "data", "array": latest["std"], "visible": True},
                customdata=latest[["num_real", "num_fake"]],
                hovertemplate="step %{x:,}: %{y:.4g}<br>%{customdata[0]:,} real, %{customdata[1]:,} generated"
                              f"<extra>{name}</extra>"), row=1, col=column)
    figure.update_xaxes(title_text="training step")
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.25})
    return figure


def history(run: Run) -> None:
    """Every stored result of the run against the training step, and the table behind it."""
    results = read_results(run)
    st.subheader("Scores over training", divider="gray")
    if results.empty:
        st.caption("Scores appear here after the first evaluation; evaluate several checkpoints to see a trend.")
        return
    st.plotly_chart(history_figure(results), key="eval_history")
    with st.expander(f"All {len(results):,} stored results (`metrics_eval.csv`)"):
        st.dataframe(results, hide_index=True, width="stretch", key="eval_history_table")
