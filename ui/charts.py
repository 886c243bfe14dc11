"""Plotly figures: loss curves (smoothed, bounded point count) and class counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gan_core.curves import downsample, smooth

MAX_POINTS = 1000
_COLOURS = {"d_loss": "#d62728", "g_loss": "#1f77b4", "d_real": "#2ca02c", "d_fake": "#ff7f0e"}
_NAMES = {"d_loss": "D loss", "g_loss": "G loss", "d_real": "D(real)", "d_fake": "D(fake)"}
_PANELS = (("d_loss", "g_loss"), ("d_real", "d_fake"))


def loss_figure(metrics: pd.DataFrame, smoothing: float = 0.6, max_points: int = MAX_POINTS) -> go.Figure:
    """D/G losses (left) and mean discriminator output on real/fake images (right).

    Smoothing runs on every logged step, then at most ``max_points`` points per
    line go to the browser, however long the run.
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Losses", "Mean D output (1 = 'real')"),
                           horizontal_spacing=0.08)
    x = downsample(metrics[["step"]], max_points)["step"].to_numpy()
    for column, columns in enumerate(_PANELS, start=1):
        for name in columns:
            values = metrics[name]
            smoothed = downsample(smooth(values, smoothing).to_frame(), max_points)[name]
            if smoothing > 0:
                raw = downsample(values.to_frame(), max_points)[name]
                figure.add_trace(_line(x, raw.to_numpy(), name, opacity=0.25, legend=False), row=1, col=column)
            figure.add_trace(_line(x, smoothed.to_numpy(), name), row=1, col=column)
    figure.update_xaxes(title_text="step")
    figure.update_yaxes(range=[0, 1], row=1, col=2)
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.2}, uirevision="keep")  # keep zoom across refreshes
    return figure


def _line(x: np.ndarray, y: np.ndarray, name: str, *, opacity: float = 1.0, legend: bool = True) -> go.Scatter:
    return go.Scatter(x=x, y=y, name=_NAMES[name], mode="lines", opacity=opacity, showlegend=legend,
                      legendgroup=name, line={"color": _COLOURS[name], "width": 2 if legend else 1},
                      hoverinfo="skip" if not legend else None)


def class_count_figure(counts: Mapping[str, int], picked: Iterable[str] = ()) -> go.Figure:
    """Images per class; picked classes in colour, the rest grey."""
    chosen = set(picked)
    names = list(counts)
    colours = ["#2e7d32" if name in chosen else "#b0b0b0" for name in names]
    figure = go.Figure(go.Bar(x=names, y=[counts[n] for n in names], marker_color=colours,
                              text=[f"{counts[n]:,}" for n in names], textposition="outside",
                              hovertemplate="%{x}: %{y:,} images<extra></extra>"))
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 20, "b": 10}, yaxis_title="images",
                         showlegend=False)
    return figure
