"""Generate: synthetic images from a checkpoint, previewed, then zipped in the dataset's class folders."""

import streamlit as st

from ui import generate_view, widgets

st.title("Generate images")
run = generate_view.pick_run()
if run is None:
    st.stop()
step = generate_view.pick_step(run)
options = generate_view.settings_form(run)
if options is None:
    st.stop()
with widgets.user_errors("making the preview"):
    generate_view.preview(run, step, options)
with widgets.user_errors("preparing the zip"):
    st.markdown(generate_view.describe(run, options))
    generate_view.export_section(run, step, options)
