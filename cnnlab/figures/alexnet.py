"""Figures of topic 6: published error tables as bars, and training errors step by step."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnlab.published import Table


def plot_table_bars(
    table: Table,
    label: str,
    value: str,
    *,
    highlight: Sequence[str] = (),
    title: str | None = None,
    width: float = 6.0,
) -> Figure:
    """One horizontal bar per row of ``table``: ``value`` against ``label`` (rows in order,
    ``None`` values skipped); rows whose label is in ``highlight`` are drawn in a second colour."""
    rows = [r for r in table.records() if r[value] is not None]
    if not rows:
        raise ValueError(f"table {table.name!r} has no values in column {value!r}")
    fig = Figure(figsize=(width, 0.35 * len(rows) + 1.0), layout="constrained")
    ax = fig.subplots()
    names = [str(r[label]) for r in rows]
    values = [float(r[value]) for r in rows]
    colours = ["C1" if n in highlight else "C0" for n in names]
    y = np.arange(len(rows))[::-1]
    ax.barh(y, values, color=colours)
    ax.set_yticks(y, names, fontsize=8)
    for yi, v in zip(y, values, strict=True):
        ax.text(v, yi, f" {v:g}", va="center", fontsize=7)
    unit = dict(table.units).get(value, "")
    ax.set_xlabel(f"{value.replace('_', ' ')}{f' ({unit})' if unit else ''}", fontsize=8)
    ax.set_xlim(0, max(values) * 1.15)
    ax.set_title(title or f"{table.name} — {table.source}", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """The mean of each run of ``window`` consecutive values (len(values) − window + 1 of them)."""
    return [statistics.fmean(values[i - window : i]) for i in range(window, len(values) + 1)]


def plot_batch_errors(
    errors: Mapping[str, Sequence[float]],
    *,
    window: int,
    target: float,
    band: Mapping[str, Sequence[float]] | None = None,
    title: str | None = None,
) -> Figure:
    """Training error per SGD step (moving average over ``window`` batches) for each run in
    ``errors``, the ``target`` as a dashed line, and, per run, the stored band's steps-to-target
    values (``band``: name -> values over seeds) as ticks on the target line."""
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = fig.subplots()
    for i, (name, errs) in enumerate(errors.items()):
        smooth = moving_average(list(errs), window)
        ax.plot(range(window, len(errs) + 1), smooth, color=f"C{i}", label=f"{name}: this run")
        if band and name in band:
            steps = list(band[name])
            ax.plot(steps, [target] * len(steps), "|", ms=14, color=f"C{i}", alpha=0.7,
                    label=f"{name}: steps to target, {len(steps)} seeds")  # fmt: skip
    ax.axhline(target, ls="--", color="grey", lw=1)
    ax.set_xlabel("SGD step")
    ax.set_ylabel(f"training error (mean of {window} batches)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
