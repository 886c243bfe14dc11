"""Workarounds for Streamlit behaviour that breaks training in a background thread.

After every script run (also every fragment refresh) Streamlit 1.67 calls
``keras.backend.clear_session()`` (``script_runner._clean_problem_modules``). That
rebinds Keras's global state and clears TensorFlow's kernel cache under the job
thread: a model being built at that moment gets two layers of the same name
("The name 'conv2d' is used 2 times in the model") and a running job loses its
cached kernels every second. The app never builds Keras models in the script
thread, so there is nothing for that cleanup to do; only the matplotlib part is kept.
"""

from __future__ import annotations

import sys

from streamlit.runtime.scriptrunner import script_runner


def _clean_matplotlib_only() -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def keep_keras_state() -> None:
    """Stop Streamlit from resetting Keras after each script run (idempotent)."""
    if hasattr(script_runner, "_clean_problem_modules"):  # absent in other Streamlit versions: nothing to undo
        script_runner._clean_problem_modules = _clean_matplotlib_only
