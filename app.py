"""SynthBin's dashboard: routing only. Add a page with one more ``st.Page`` line below.

The page files live in ``app_pages/``, not ``pages/``: Streamlit treats a ``pages/``
folder next to the entry script as an old-style multipage app until this script has
run once in the server process, so a first request for a page URL would run that
page without this file (no navigation, no sidebar).
"""

import streamlit as st

from ui import state, widgets

st.set_page_config(page_title="SynthBin", page_icon=":material/recycling:", layout="wide")

PAGES = [
    st.Page("app_pages/dataset.py", title="Dataset", icon=":material/photo_library:", default=True),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("app_pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
    st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
]

page = st.navigation(PAGES)
state.keep_widget_values()
widgets.page_style()
widgets.sidebar()
with widgets.user_errors("showing this page"):  # the last net: no page shows a traceback
    page.run()
