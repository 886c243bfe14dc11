"""Learning-rate comparisons: groups of runs that differ only in learning rate.

A group shares one dataset, one seed and one config apart from ``lr_g``/``lr_d``,
so the runs start from identical weights, see identical batches and render the
same control latents (see ``gan_core.trainer``: all randomness is drawn from
``(seed, step)``). They train in lockstep in one job, so at any moment they are
at the same step.

"Oscillates more" becomes a number: the *stability* of a curve is the standard
deviation of its step-to-step change over the last ``window`` logged steps
(lower is steadier).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from gan_core.config import ConfigError, TrainConfig
from gan_core.data import ImageDataset
from gan_core.runs import Run, RunStore
from gan_core.trainer import EventCallback, TrainControl, Trainer, create_run, run_lockstep

MIN_RUNS, MAX_RUNS = 2, 6
DEFAULT_LEARNING_RATES = (1e-4, 2e-4)
STABILITY_WINDOW = 200


def parse_learning_rates(text: str) -> tuple[float, ...]:
    """``"1e-4, 2e-4"`` -> (0.0001, 0.0002), with a readable error for anything else."""
    try:
        rates = tuple(float(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        message = f"Learning rates must be numbers separated by commas, like '1e-4,2e-4'; got '{text}'."
        raise ConfigError(message) from None
    return check_learning_rates(rates)


def check_learning_rates(rates: Sequence[float]) -> tuple[float, ...]:
    rates = tuple(float(rate) for rate in rates)
    if not MIN_RUNS <= len(rates) <= MAX_RUNS:
        raise ConfigError(f"Compare {MIN_RUNS} to {MAX_RUNS} learning rates; got {len(rates)}.")
    if len(set(rates)) != len(rates):
        raise ConfigError("Each learning rate may appear only once.")
    return rates


def create_group(base: TrainConfig, learning_rates: Sequence[float], store: RunStore, dataset: ImageDataset,
                 name: str | None = None) -> list[Run]:
    """One run per learning rate (used for both G and D), all queued, tagged with one group id."""
    rates = check_learning_rates(learning_rates)
    group_id = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-lr-{secrets.token_hex(2)}"
    group = {"id": group_id, "name": name or f"Learning rates {', '.join(f'{r:g}' for r in rates)}",
             "learning_rates": list(rates)}
    configs = [base.replace(lr_g=rate, lr_d=rate) for rate in rates]  # validates every rate
    return [create_run(config, store, dataset, extra={"group": group}) for config in configs]


def group_runs(store: RunStore, group_id: str) -> list[Run]:
    """The runs of one group, in the order of their learning rates."""
    members = [run for run in store.runs() if run.read_record().get("group", {}).get("id") == group_id]
    return sorted(members, key=lambda run: run.config().lr_g)


def groups(store: RunStore) -> dict[str, str]:
    """group id -> display name, newest first."""
    found: dict[str, str] = {}
    for run in store.runs():
        group = run.read_record().get("group")
        if group:
            found.setdefault(group["id"], group["name"])
    return found


def train_group(runs: Sequence[Run], dataset: ImageDataset, *, on_event: EventCallback | None = None,
                control: TrainControl | None = None) -> dict[str, str]:
    """Train the runs in lockstep from their latest checkpoints; returns run id -> final state."""
    control = control or TrainControl()
    trainers = []
    try:
        for run in runs:
            trainer = Trainer(run, dataset, on_event=on_event, control=control)
            trainer.restore_latest()
            trainers.append(trainer)
        return run_lockstep(trainers, control)
    except Exception as error:
        for run in runs:
            if run.status().active:
                run.set_status("failed", error=f"{type(error).__name__}: {error}")
        raise


# -- figures for comparing ------------------------------------------------------

def stability(values: pd.Series | np.ndarray, window: int = STABILITY_WINDOW) -> float:
    """Standard deviation of the step-to-step change over the last ``window`` values (NaN if < 3)."""
    tail = np.asarray(values, dtype=float)[-window:]
    if len(tail) < 3:
        return float("nan")
    return float(np.std(np.diff(tail)))


def comparison_table(runs: Sequence[Run], window: int = STABILITY_WINDOW) -> pd.DataFrame:
    """One row per run: settings that matter, last figures, stability, and evaluated metrics."""
    rows = []
    for run in runs:
        config, metrics = run.config(), run.read_metrics()
        tail = metrics.tail(window)
        row = {
            "run": run.id,
            "lr_g": config.lr_g,
            "lr_d": config.lr_d,
            "step": int(metrics["step"].iloc[-1]) if len(metrics) else 0,
            "state": run.status().state,
            "d_loss": _mean(tail, "d_loss"),
            "g_loss": _mean(tail, "g_loss"),
            "d_real": _mean(tail, "d_real"),
            "d_fake": _mean(tail, "d_fake"),
            "images_per_sec": _mean(tail, "images_per_sec"),
            "g_stability": stability(metrics["g_loss"], window) if len(metrics) else float("nan"),
            "d_stability": stability(metrics["d_loss"], window) if len(metrics) else float("nan"),
        }
        row.update(_evaluated_metrics(run))
        rows.append(row)
    return pd.DataFrame(rows)


def _mean(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].mean()) if len(frame) else float("nan")


def _evaluated_metrics(run: Run) -> dict[str, float]:
    """The newest value of each metric in ``metrics_eval.csv`` (IS, FID, KID), when computed."""
    path = run.path / "metrics_eval.csv"
    if not path.exists():
        return {}
    try:
        frame = pd.read_csv(path)
        latest = frame.sort_values("step").groupby("metric").tail(1)
    except (ValueError, KeyError):
        return {}
    return {str(row.metric).upper(): float(row.value) for row in latest.itertuples()}


def verdict(table: pd.DataFrame) -> str:
    """A plain-language conclusion from the table's G-loss stability figures."""
    usable = table.dropna(subset=["g_stability"])
    if len(usable) < 2:
        return "Not enough logged steps yet to compare stability (at least 3 steps per run are needed)."
    ranked = usable.sort_values("g_stability")
    best, worst = ranked.iloc[0], ranked.iloc[-1]
    steps = int(usable["step"].min())
    if worst["g_stability"] == 0 or best["g_stability"] == worst["g_stability"]:
        return f"After {steps} steps all learning rates are equally stable."
    ratio = worst["g_stability"] / max(best["g_stability"], 1e-12)
    text = (f"After {steps} steps, learning rate {_rate(best)} is the most stable: its generator loss changes by "
            f"{best['g_stability']:.3g} per step (standard deviation over the last {min(steps, STABILITY_WINDOW)} "
            f"steps), "
            f"against {worst['g_stability']:.3g} for {_rate(worst)}, which oscillates {ratio:.1f}× as much.")
    if "FID" in usable and usable["FID"].notna().sum() >= 2:
        by_fid = usable.dropna(subset=["FID"]).sort_values("FID").iloc[0]
        text += f" The lowest FID so far is {by_fid['FID']:.1f} at learning rate {_rate(by_fid)}."
    return text


def _rate(row: pd.Series) -> str:
    return f"{row['lr_g']:g}" if row["lr_g"] == row["lr_d"] else f"G {row['lr_g']:g} / D {row['lr_d']:g}"


def differing_settings(runs: Sequence[Run]) -> dict[str, list]:
    """Settings whose values are not the same across ``runs`` (name -> one value per run)."""
    configs = [run.config().to_dict() for run in runs]
    keys = sorted(set().union(*configs))
    return {key: [config.get(key) for config in configs] for key in keys
            if len({repr(config.get(key)) for config in configs}) > 1}


def loss_figure(runs: Sequence[Run], smoothing: float = 0.6, max_points: int = 1000):
    """Overlaid D and G loss curves, one colour per run (a Plotly figure)."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    from gan_core.curves import downsample, smooth

    figure = make_subplots(rows=1, cols=2, subplot_titles=("Discriminator loss", "Generator loss"))
    for index, run in enumerate(runs):
        metrics = run.read_metrics()
        if metrics.empty:
            continue
        colour = qualitative.Plotly[index % len(qualitative.Plotly)]
        label = f"lr {_rate(pd.Series(run.config().to_dict()))}"
        for column, (name, col) in enumerate((("d_loss", "D"), ("g_loss", "G")), start=1):
            curve = downsample(pd.DataFrame({"step": metrics["step"], "v": smooth(metrics[name], smoothing)}),
                               max_points)
            figure.add_trace(go.Scatter(x=curve["step"], y=curve["v"], name=f"{label} ({col})",
                                        legendgroup=label, line={"color": colour}, mode="lines"),
                             row=1, col=column)
    figure.update_layout(height=380, margin={"t": 40, "b": 30, "l": 30, "r": 10}, legend={"orientation": "h"})
    figure.update_xaxes(title_text="step")
    return figure
