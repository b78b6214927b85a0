"""Topic 11's figures: published against counted multiply-adds, and branch ratios per block."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_flops(
    models: Sequence[str],
    paper: Sequence[float],
    counted: Mapping[str, Sequence[float]],
    *,
    title: str = "",
) -> Figure:
    """Grouped bars: the paper's G multiply-adds per model and each counting in ``counted``."""
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    plt.close(fig)
    series = {"paper (Table 1)": list(paper), **{k: list(v) for k, v in counted.items()}}
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(models))]
        ax.bar(xs, values, width, label=label)
    ax.set_xticks(range(len(models)), models)
    ax.set_ylabel("G multiply-adds (224×224)")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_branch_ratios(ratios: Mapping[str, Sequence[float]], *, title: str = "") -> Figure:
    """‖F(x)‖ / ‖x‖ per block (x axis: block index) for each named network."""
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    plt.close(fig)
    for i, (label, values) in enumerate(ratios.items()):
        style = "-" if label.startswith("resnet") or label.startswith("ResNet") else "--"
        ax.plot(range(1, len(values) + 1), values, style, marker="o", ms=3, color=f"C{i}",
                label=label)  # fmt: skip
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.set_xlabel("block")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # blocks are whole numbers
    ax.set_ylabel("‖F(x)‖ / ‖x‖")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
