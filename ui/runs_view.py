"""The Runs page's sections: the table of every run, and one opened run with delete."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pandas as pd
import streamlit as st
from PIL import Image

from gan_core.runs import Run, RunSummary
from ui import live, state, widgets
from ui.metrics import forget_metrics

THUMBNAIL_PX = 96
CONFIRM_KEY = "runs_confirm_delete"


@st.cache_data(show_spinner=False, max_entries=512)
def _thumbnail_uri(path: str, mtime_ns: int) -> str:
    """A small PNG data URI of a sample grid (``mtime_ns`` keys the cache to the file's version)."""
    with Image.open(path) as image:
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _thumbnail(path: Path | None) -> str | None:
    try:
        return _thumbnail_uri(str(path), path.stat().st_mtime_ns) if path else None
    except OSError:
        return None


def _step(summary: RunSummary) -> int:
    """The live step of a training run (its status file only changes at start, pause and stop)."""
    job = state.active_job_for(summary.id)
    return job.step if job is not None else summary.status.step


def runs_table(summaries: list[RunSummary]) -> None:
    rows = [{
        "Sample": _thumbnail(s.thumbnail),
        "Run": s.id,
        "State": s.status.state,
        "Step": f"{_step(s):,} / {s.steps:,}",
        "Preset": s.preset,
        "Size": s.image_size,
        "Classes": ", ".join(s.classes),
        "LR G / D": f"{s.lr_g:g} / {s.lr_d:g}",
        "D loss": s.last_d_loss,
        "G loss": s.last_g_loss,
        "Created": s.created.replace("T", " ")[:19],
    } for s in summaries]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="runs_table", column_config={
        "Sample": st.column_config.ImageColumn("Sample", width="small"),
        "D loss": st.column_config.NumberColumn(format="%.3f"),
        "G loss": st.column_config.NumberColumn(format="%.3f"),
    })


def pick_run(summaries: list[RunSummary]) -> str:
    labels = {s.id: f"{s.id} ({s.status.state})" for s in summaries}
    return st.selectbox("Open a run", list(labels), format_func=labels.get, key="runs_open",
                        help="Shows its curves and sample grids; live while it trains.")


def run_details(run: Run) -> None:
    live.run_panel(run.id, key="runs")
    with st.expander("Settings of this run"):
        record = run.read_record()
        settings = {name: str(value) for name, value in record["config"].items() if name != "extra"}
        st.dataframe(pd.Series(settings, name="value").rename_axis("setting"), width="stretch")
        st.caption(f"Folder: `{run.path}` · dataset fingerprint `{record.get('dataset_fingerprint', '?')}`")
    delete_section(run)


def delete_section(run: Run) -> None:
    """Delete with a confirmation step; an active run must be stopped first."""
    if state.active_job_for(run.id) is not None:
        st.caption("Stop this run before deleting it.")
        return
    if st.button("Delete this run…", key="runs_delete", icon=":material/delete:"):
        st.session_state[CONFIRM_KEY] = run.id
    if st.session_state.get(CONFIRM_KEY) != run.id:
        return
    st.warning(f"Delete run {run.id} with all its sample grids and checkpoints? This cannot be undone.")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Yes, delete", key="runs_delete_yes", type="primary"):
        st.session_state.pop(CONFIRM_KEY, None)
        with widgets.user_errors("deleting the run"):
            state.run_store().delete(run.id)
            forget_metrics(run)
            st.rerun()
    if no.button("Cancel", key="runs_delete_no"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()
