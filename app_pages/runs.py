"""Runs: every run in the run store; open one to see it, resume or delete it."""

import streamlit as st

from ui import runs_view, state

st.title("Runs")
summaries = state.run_store().summaries()
if not summaries:
    st.info("No runs yet. Start one on the Train page.")
    st.stop()
runs_view.runs_table(summaries)
run_id = runs_view.pick_run(summaries)
runs_view.run_details(state.run_store().get(run_id))
