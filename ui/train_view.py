"""The Train page's sections around the settings form and the live run panel."""

from __future__ import annotations

import streamlit as st

from gan_core.config import TrainConfig
from ui import datasets, live, settings, state, training, widgets


def dataset_line() -> None:
    pick = state.dataset_pick()
    source = datasets.describe_source(pick.source)
    classes = "every class" if pick.classes is None else (", ".join(pick.classes) or "no class")
    st.markdown(f"Training data: {source}, {classes}.")
    st.page_link("app_pages/dataset.py", label="Change the dataset or the classes", icon=":material/photo_library:")


def start_section(overrides: dict) -> None:
    """Validate the settings (errors name the setting) and offer Start."""
    config: TrainConfig | None = None
    with widgets.user_errors("checking the settings"):
        config = settings.build_config(state.dataset_pick(), overrides)
    if st.button("Start training", key="start_training", type="primary", icon=":material/play_arrow:",
                 disabled=config is None, help="Starts a background job; it keeps running if you leave the page."):
        with widgets.user_errors("starting the run"):
            training.start(config)
            st.rerun()


def current_run() -> None:
    run_id = state.current_run_id()
    if run_id is None:
        st.caption("Press Start to train; the curves and sample grids of the run appear here.")
        return
    st.subheader(f"Run {run_id}", divider="gray")
    live.run_panel(run_id, key="live")  # not "train_": that prefix marks persisted settings, never buttons


def earlier_runs() -> None:
    """Pick any stopped, failed or interrupted run and continue it."""
    runs = [run for run in state.run_store().runs() if training.resumable(run)]
    if not runs:
        return
    with st.expander("Continue an earlier run"):
        labels = {run.id: f"{run.id} ({run.status().state} at step {run.status().step:,})" for run in runs}
        run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="resume_pick",
                              help="Training continues from the run's last checkpoint with its own settings.")
        if st.button("Resume this run", key="resume_earlier", icon=":material/play_arrow:"):
            with widgets.user_errors("resuming the run"):
                training.resume(state.run_store().get(run_id))
                st.rerun()
