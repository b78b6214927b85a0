"""Figures of topic 13: the separable cost ratio over N, the paper's accuracy against cost, and
measured latency beside multiply-adds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnlab.published import Table


def plot_cost_ratio(
    layers: Sequence[tuple[int, float]], kernels: Sequence[int] = (3, 5, 7)
) -> Figure:
    """The ratio separable / standard multiply-adds, ``1/N + 1/K²``, against the output channels
    N for each kernel K (lines), and measured ``layers`` (N, ratio) as dots."""
    fig = Figure(figsize=(6.0, 3.2), layout="constrained")
    ax = fig.subplots()
    n = np.geomspace(8, 2048, 200)
    for i, k in enumerate(kernels):
        ax.plot(n, 1 / n + 1 / k**2, color=f"C{i}", label=f"1/N + 1/{k}²")
        ax.axhline(1 / k**2, color=f"C{i}", ls=":", lw=0.8)
    ax.plot([a for a, _ in layers], [b for _, b in layers], "ko", ms=4,
            label="MobileNet's layers (cost table)")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("output channels N")
    ax.set_ylabel("separable / standard multiply-adds")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title("the ratio falls to the floor 1/K² (dotted) as N grows", fontsize=10)
    return fig


def plot_accuracy_vs_cost(
    tables: Sequence[Table], *, ours: Mapping[str, float] | None = None
) -> Figure:
    """ImageNet accuracy against multiply-adds (log scale) for each table's rows, labelled by
    their first column; ``ours``: label -> our computed multiply-adds (M), drawn as ticks."""
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.subplots()
    prefix = {"alpha": "α = ", "resolution": "side "}
    seen: set[tuple[float, float]] = set()  # the same network in two tables: label it once
    for i, table in enumerate(tables):
        first = table.columns[0]
        x, y = table.column("mult-adds"), table.column("accuracy")
        ax.plot(x, y, "o", color=f"C{i}", label=f"{table.source.split(', ')[-1]}")
        for label, xi, yi in zip(table.column(first), x, y, strict=True):
            if (xi, yi) in seen:
                continue
            seen.add((xi, yi))
            ax.annotate(f"{prefix.get(first, '')}{label}", (xi, yi), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
    for label, value in (ours or {}).items():
        ax.axvline(value, color="grey", lw=0.6, ls="--")
        ax.text(value, ax.get_ylim()[0], f" {label}", rotation=90, fontsize=7, va="bottom")
    ax.set_xscale("log")
    ax.set_xlabel("multiply-adds per image (M)")
    ax.set_ylabel("ImageNet top-1 (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def plot_latency(
    names: Sequence[str], mult_adds: Sequence[float], latency_ms: Sequence[float], title: str = ""
) -> Figure:
    """Multiply-adds and measured latency side by side, each relative to the first entry, so
    a reader sees where the two disagree."""
    if not names or not (len(names) == len(mult_adds) == len(latency_ms)):
        raise ValueError("names, mult_adds and latency_ms must be non-empty and of one length")
    fig = Figure(figsize=(6.0, 0.45 * len(names) + 1.4), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(names))
    ops = np.asarray(mult_adds, dtype=float) / mult_adds[0]
    lat = np.asarray(latency_ms, dtype=float) / latency_ms[0]
    ax.barh(y - 0.2, ops, 0.4, label="multiply-adds")
    ax.barh(y + 0.2, lat, 0.4, label="latency measured here")
    for yi, a, b in zip(y, ops, lat, strict=True):
        ax.text(a, yi - 0.2, f" {a:.2f}", va="center", fontsize=7)
        ax.text(b, yi + 0.2, f" {b:.2f}", va="center", fontsize=7)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"relative to {names[0]}")
    ax.set_xlim(0, max(ops.max(), lat.max()) * 1.2)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
