"""SynthBin's dashboard: routing only. Add a page with one more ``st.Page`` line below."""

import streamlit as st

from ui import state, widgets

st.set_page_config(page_title="SynthBin", page_icon=":material/recycling:", layout="wide")

PAGES = [
    st.Page("pages/dataset.py", title="Dataset", icon=":material/photo_library:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
]

page = st.navigation(PAGES)
state.keep_widget_values()
widgets.sidebar()
page.run()
