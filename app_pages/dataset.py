"""Dataset: choose the images, look at them, pick the classes to train on."""

import streamlit as st

from ui import dataset_view

st.title("Dataset")
dataset_view.source_picker()
dataset_view.overview(dataset_view.current_dataset())
