"""Plotly figures: loss curves (smoothed, bounded point count) and class counts.

The loss figure is built as a plain Plotly figure dict: the live view rebuilds it
every second, and ``make_subplots`` plus graph-object validation cost about
90 ms of CPU (holding the GIL the training thread needs) against about 10 ms for
the dict, which ``st.plotly_chart`` validates once anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from gan_core.curves import downsample, smooth

MAX_POINTS = 500  # per line: 1,000 cost the browser more CPU, taken from training (docs/BENCHMARKS.md)
_COLOURS = {"d_loss": "#d62728", "g_loss": "#1f77b4", "d_real": "#2ca02c", "d_fake": "#ff7f0e"}
_NAMES = {"d_loss": "D loss", "g_loss": "G loss", "d_real": "D(real)", "d_fake": "D(fake)"}
# (columns, x axis, y axis, title) of the two side-by-side panels
_PANELS = ((("d_loss", "g_loss"), "x", "y", "Losses"), (("d_real", "d_fake"), "x2", "y2", "Mean D output (1 = 'real')"))

FigureDict = dict[str, Any]


def loss_figure(metrics: pd.DataFrame, smoothing: float = 0.6, max_points: int = MAX_POINTS) -> FigureDict:
    """D/G losses (left) and mean discriminator output on real/fake images (right).

    Smoothing runs on every logged step, then at most ``max_points`` points per
    line go to the browser, however long the run.
    """
    steps = downsample(metrics[["step"]], max_points)["step"].to_numpy()
    traces = []
    for columns, xaxis, yaxis, _ in _PANELS:
        for name in columns:
            values = metrics[name]
            if smoothing > 0:
                raw = downsample(values.to_frame(), max_points)[name].to_numpy()
                traces.append(_line(steps, raw, name, xaxis, yaxis, faint=True))
            smoothed = downsample(smooth(values, smoothing).to_frame(), max_points)[name].to_numpy()
            traces.append(_line(steps, smoothed, name, xaxis, yaxis))
    return {"data": traces, "layout": _layout()}


def _line(x: Any, y: Any, name: str, xaxis: str, yaxis: str, *, faint: bool = False) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": _NAMES[name], "legendgroup": name,
            "xaxis": xaxis, "yaxis": yaxis, "showlegend": not faint, "opacity": 0.25 if faint else 1.0,
            "hoverinfo": "skip" if faint else "x+y+name", "line": {"color": _COLOURS[name], "width": 1 if faint else 2}}


def _layout() -> dict[str, Any]:
    titles = [{"text": title, "x": x, "xref": "paper", "y": 1.0, "yref": "paper", "yanchor": "bottom",
               "showarrow": False, "font": {"size": 14}}
              for (_, _, _, title), x in zip(_PANELS, (0.23, 0.77), strict=True)]
    return {
        "height": 340, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {"orientation": "h", "y": -0.2}, "annotations": titles,
        "uirevision": "keep",  # keep the user's zoom across refreshes
        "xaxis": {"domain": [0, 0.46], "title": {"text": "step"}},
        "xaxis2": {"domain": [0.54, 1], "title": {"text": "step"}},
        "yaxis": {"anchor": "x"},
        "yaxis2": {"anchor": "x2", "range": [0, 1]},
    }


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
