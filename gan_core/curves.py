"""Loss curves for people: smoothing and a bounded number of points."""

from __future__ import annotations

import numpy as np
import pandas as pd


def smooth(values: pd.Series, weight: float) -> pd.Series:
    """Exponential moving average, like TensorBoard's slider (0 = raw, 0.99 = very smooth)."""
    if not 0 <= weight < 1:
        raise ValueError("smoothing weight must be in [0, 1)")
    if weight == 0:
        return values
    return values.ewm(alpha=1 - weight, adjust=True).mean()


def downsample(frame: pd.DataFrame, max_points: int = 1000) -> pd.DataFrame:
    """At most ``max_points`` rows, evenly spread, always keeping the first and last.

    Long runs would otherwise send every step to the browser on each refresh.
    """
    if len(frame) <= max_points:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(int))
    return frame.iloc[keep]
