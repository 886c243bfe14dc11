"""Evaluate: IS, FID and KID of a checkpoint against the real images, in the background, and their history."""

import streamlit as st

from ui import evaluate_view, widgets

st.title("Evaluate")
run = evaluate_view.pick_run()
if run is None:
    st.stop()
request = evaluate_view.settings_form(run)
if request is not None:
    with widgets.user_errors("estimating the evaluation"):
        evaluate_view.plan_section(run, request)
evaluate_view.job_panel(run)
with widgets.user_errors("reading the stored scores"):
    evaluate_view.history(run)
