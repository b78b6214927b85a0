"""Figures of topic 10: the sigmoid and its derivative, per-layer gradient bands, the lr sweep."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_sigmoid() -> Figure:
    """σ(x) and σ'(x) = σ(x)(1 - σ(x)) on [-8, 8]; σ' peaks at 1/4 and vanishes in the tails."""
    from cnnlab.gradients import sigmoid_derivative

    x = torch.linspace(-8, 8, 401, dtype=torch.float64)
    fig = Figure(figsize=(6.0, 2.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, torch.sigmoid(x), label="σ(x)")
    ax.plot(x, sigmoid_derivative(x), label="σ'(x)")
    ax.axhline(0.25, color="grey", ls=":", lw=1, label="1/4")
    ax.set_xlabel("x")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_profile_bands(
    band: Mapping[str, Any] | None,
    metric: str,
    configs: Sequence[str],
    *,
    fresh: Mapping[str, Sequence[float]] | None = None,
    ax: Any = None,
    title: str = "",
) -> Figure:
    """Per-layer gradient norms (log scale): each config's stored band (median line, min–max
    shading, element-wise over seeds) and this run's profile as dashed points."""
    if ax is None:
        fig = Figure(figsize=(6.5, 3.2), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    results = (band or {}).get("results", {})
    seeds = len((band or {}).get("seeds", []))
    for i, config in enumerate(configs):
        colour = f"C{i}"
        if config in results:
            entry = results[config][metric]
            layers = np.arange(1, len(entry["median"]) + 1)
            ax.fill_between(layers, entry["min"], entry["max"], color=colour, alpha=0.25, lw=0)
            ax.plot(layers, entry["median"], color=colour, label=f"{config} ({seeds} seeds)")
        if fresh and config in fresh:
            run = list(fresh[config])
            ax.plot(range(1, len(run) + 1), run, "o--", ms=2.5, lw=0.8, color=colour)
    ax.set_yscale("log")
    ax.set_xlabel("conv layer (1 = nearest the input)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers
    ax.set_ylabel("‖∂loss/∂W‖")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_lr_sweep(
    band: Mapping[str, Any] | None,
    lrs: Sequence[float],
    *,
    fresh: Mapping[str, float] | None = None,
    metric: str = "val_acc",
) -> Figure:
    """``metric`` (default the validation accuracy) against the learning rate, plain vs BN: the
    stored median with min–max bars over seeds, and this run's values as crosses. For
    ``train_loss`` a dotted line marks chance, ln 10 (guessing among ten classes); a run whose
    final loss lies above its untrained loss counts as diverged."""
    fig = Figure(figsize=(5.5, 3.0), layout="constrained")
    ax = fig.subplots()
    results = (band or {}).get("results", {})
    for i, kind in enumerate(("plain", "bn")):
        names = [f"{kind}_lr{lr:g}" for lr in lrs]
        if all(n in results for n in names):
            med = [results[n][metric]["median"] for n in names]
            low = [m - results[n][metric]["min"] for m, n in zip(med, names, strict=True)]
            high = [results[n][metric]["max"] - m for m, n in zip(med, names, strict=True)]
            ax.errorbar(lrs, med, yerr=[low, high], fmt="o-", capsize=3, color=f"C{i}",
                        label=f"{kind}: median, min–max")  # fmt: skip
        if fresh:
            mine = [fresh[n] for n in names if n in fresh]
            if len(mine) == len(names):
                ax.plot(lrs, mine, "x", ms=8, color=f"C{i}", label=f"{kind}: this run")
    if metric == "train_loss":
        ax.axhline(math.log(10), color="grey", ls=":", lw=1, label="chance, ln 10")
    ax.set_xscale("log")
    ax.set_xticks(list(lrs), [f"{lr:g}" for lr in lrs])
    ax.set_xlabel("learning rate (SGD, momentum 0.9)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig
