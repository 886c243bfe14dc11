"""Widgets shared by the pages, and the one way an error reaches the user."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec

import streamlit as st

from gan_core.config import ConfigError
from gan_core.data import DatasetError
from gan_core.distribute import device_description
from gan_core.jobs import Job
from gan_core.runs import RunNotFound
from ui import state

log = logging.getLogger("synthbin.ui")

# Errors whose message was written for the user; anything else is a bug and says so.
USER_ERRORS = (ConfigError, DatasetError, RunNotFound, FileNotFoundError, PermissionError)
SIDEBAR_REFRESH_S = 15.0  # the job list is a summary; a run's own panel refreshes every second
# Streamlit animates element changes with CSS transitions (progress bars, the fade of elements being
# redrawn). Redrawn every second by a live view, those animations cost a software-rendered browser
# more CPU than the content itself: CPU the training job on the same laptop needs.
_NO_TRANSITIONS_CSS = "<style>*, *::before, *::after {transition: none !important;}</style>"
# Config field -> the label of the widget that sets it, so a ConfigError points at the widget.
SETTING_LABELS = {
    "preset": "Preset",
    "image_size": "Image size",
    "latent_dim": "Latent dimension",
    "lr": "Learning rate",
    "lr_g": "Generator learning rate",
    "lr_d": "Discriminator learning rate",
    "batch_size": "Batch size",
    "steps": "Training steps",
    "conditional": "Conditional",
    "sample_every": "Sample grid every",
    "checkpoint_every": "Checkpoint every",
    "seed": "Seed",
    "classes": "Classes",
}
STATE_WORDS = {
    "queued": "Queued: waits for a free training slot",
    "running": "Training",
    "paused": "Paused",
    "stopped": "Stopped",
    "finished": "Finished",
    "diverged": "Diverged",
    "failed": "Failed",
}


def error_text(error: BaseException, action: str = "") -> str:
    """A readable one-paragraph message for any exception; never a traceback."""
    message = str(error).strip() or type(error).__name__
    if isinstance(error, ConfigError):
        return _label_setting(message)
    if isinstance(error, USER_ERRORS):
        return message
    doing = f" while {action}" if action else ""
    return f"Something went wrong{doing}: {type(error).__name__}: {message} (details are in the server log)."


def _label_setting(message: str, labels: dict[str, str] = SETTING_LABELS) -> str:
    match = re.match(r"Setting '(\w+)': (.*)", message, flags=re.DOTALL)
    if not match or match.group(1) not in labels:
        return message
    name, problem = match.groups()
    return f"**{labels[name]}** (`{name}`): {problem}"


def show_error(error: BaseException, action: str = "") -> None:
    if not isinstance(error, USER_ERRORS):
        log.exception("Unexpected error while %s", action or "running the page", exc_info=error)
    st.error(error_text(error, action), icon=":material/error:")


@contextmanager
def user_errors(action: str = "") -> Iterator[None]:
    """Show any exception raised inside as an ``st.error`` and carry on with the page."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - this is the catch-all that keeps tracebacks off the page
        show_error(error, action)


P = ParamSpec("P")


def guarded(action: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Decorator: run a page section (e.g. a fragment, which reruns on its own) inside ``user_errors``."""
    def decorate(function: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            with user_errors(action):
                function(*args, **kwargs)
        return wrapper
    return decorate


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def job_progress(job: Job, *, images_per_sec: float | None = None, label: str = "") -> None:
    """A progress bar with the job's state, step, speed and time left."""
    rate = images_per_sec or job.last_metrics.get("images_per_sec")
    parts = [label, STATE_WORDS.get(job.state, job.state), f"step {job.step:,} of {job.total_steps:,}"]
    if job.state == "running" and job.step == 0:
        parts.append("building the networks…")
    if rate and job.state == "running":
        parts.append(f"{rate:,.0f} images/s")
        left = (job.total_steps - job.step) * job.run.config().batch_size / rate
        parts.append(f"about {format_duration(left)} left")
    st.progress(min(job.step / max(job.total_steps, 1), 1.0), text=" · ".join(p for p in parts if p))


@st.cache_resource(show_spinner=False)
def _device() -> str:
    return device_description()


def page_style() -> None:
    st.html(_NO_TRANSITIONS_CSS)


def sidebar() -> None:
    """The device TensorFlow uses and the jobs of the whole server (refreshed while any is active)."""
    with st.sidebar:
        st.caption(f"TensorFlow computes on: **{_device()}**")
        any_active = bool(state.job_manager().active_jobs())
        st.fragment(_jobs_list, run_every=SIDEBAR_REFRESH_S if any_active else None)(any_active)


@guarded("listing the jobs")
def _jobs_list(was_active: bool) -> None:
    manager = state.job_manager()
    active = manager.active_jobs()
    if bool(active) != was_active:
        st.rerun()  # switches the refresh on or off
    st.subheader("Jobs", divider="gray")
    if not active:
        st.caption("Nothing is training.")
        return
    st.caption(f"{manager.max_running} job(s) train at once; the others wait in the queue.")
    for job in active:
        done = job.step / max(job.total_steps, 1)
        st.caption(f"**{job.run.id}**  \n{STATE_WORDS.get(job.state, job.state)}: step {job.step:,} of "
                   f"{job.total_steps:,} ({done:.0%})")
