"""Where SynthBin keeps generated data: caches and the run store.

Both can be moved with environment variables, so tests and CI never write
into a user's home folder or the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SYNTHBIN_CACHE"
RUNS_ENV = "SYNTHBIN_RUNS"


def cache_dir() -> Path:
    """Root for the demo dataset, preprocessed arrays and extracted zips."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "synthbin"
    return Path(root)


def runs_dir() -> Path:
    """Default root of the run store (``runs/`` in the working folder)."""
    return Path(os.environ.get(RUNS_ENV) or "runs")
