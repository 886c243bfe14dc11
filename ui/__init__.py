"""The dashboard's shared code: engine wiring, widgets and charts used by the pages.

Pages in ``app_pages/`` stay a few lines each and call into this package; nothing
here trains or loads on its own, it only wires ``gan_core`` to Streamlit.
"""
