"""SynthBin's engine: datasets, GAN models, training, the run store, metrics and export.

Nothing in this package imports Streamlit; the dashboard only wires it up.
"""

__version__ = "0.1.0"
