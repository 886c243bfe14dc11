"""Compare: runs that differ only in learning rate, trained in lockstep and compared side by side."""

import streamlit as st

from ui import compare_view

st.title("Compare learning rates")
st.write("Train one run per learning rate from the same starting weights on the same batches, in lockstep, "
         "and see which one learns more steadily.")
with st.expander("Launch a new comparison", expanded=not compare_view.has_groups()):
    compare_view.launch_section()
compare_view.comparison(compare_view.pick_runs())
