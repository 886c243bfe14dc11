"""Train: settings, Start, and the live view of the session's run."""

import streamlit as st

from ui import settings, train_view

st.title("Train a GAN")
train_view.dataset_line()
overrides = settings.settings_form()
train_view.start_section(overrides)
train_view.current_run()
train_view.earlier_runs()
