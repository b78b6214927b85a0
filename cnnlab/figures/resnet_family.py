"""Figures of topic 12: published error against cost, and the matched-budget comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from cnnlab.published import Table

Panel = tuple[Table, str, str, Sequence[str], str, str]


def _scatter(ax: Axes, panel: Panel) -> None:
    """One point per row of the panel's table with both values, labelled by its label columns;
    rows whose label contains the panel's ``highlight`` in orange."""
    table, x, y, label, title, highlight = panel
    rows = [r for r in table.records() if r[x] is not None and r[y] is not None]
    if not rows:
        raise ValueError(f"table {table.name!r} has no rows with both {x!r} and {y!r}")
    for r in rows:
        name = " ".join(str(r[c]) for c in label)
        colour = "C1" if highlight in name else "C0"
        ax.scatter(r[x], r[y], color=colour, s=18)
        ax.annotate(name, (r[x], r[y]), fontsize=6, xytext=(3, 2), textcoords="offset points")
    units = dict(table.units)
    ax.set_xlabel(f"{x} ({units.get(x, '')})", fontsize=8)
    ax.set_ylabel(f"{y} ({units.get(y, '')})", fontsize=8)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)


def plot_error_vs_cost(panels: Sequence[Panel]) -> Figure:
    """One scatter panel per ``(table, x column, y column, label columns, title, highlight)``:
    published error against parameters or FLOPs (log scale); rows whose label contains
    ``highlight`` (the paper's own models) in orange."""
    if not panels:
        raise ValueError("give at least one (table, x, y, labels, title, highlight) panel")
    fig = Figure(figsize=(5.0 * min(len(panels), 2), 3.6 * ((len(panels) + 1) // 2)),
                 layout="constrained")  # fmt: skip
    axes = fig.subplots((len(panels) + 1) // 2, min(len(panels), 2), squeeze=False).ravel()
    for ax, panel in zip(axes, panels, strict=False):
        _scatter(ax, panel)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    return fig


def plot_matched(results: Mapping[str, Mapping[str, float]], *, title: str = "") -> Figure:
    """Three bar panels per family: parameters, multiply-adds and validation accuracy (median of
    the band, with its min–max as an error bar). ``results``: family -> {"params",
    "mult_adds", "median", "min", "max"}."""
    if not results:
        raise ValueError("results is empty")
    names = list(results)
    fig = Figure(figsize=(10.0, 2.8), layout="constrained")
    axes = fig.subplots(1, 3)
    panels = (("params", "parameters"), ("mult_adds", "multiply-adds / image"))
    for ax, (key, label) in zip(axes, panels, strict=False):
        values = [results[n][key] for n in names]
        ax.bar(names, values, color="C0")
        for i, v in enumerate(values):
            ax.text(i, v, f"{v / 1e3:.0f} k", ha="center", va="bottom", fontsize=7)
        ax.set_title(label, fontsize=9)
    med = [results[n]["median"] for n in names]
    low = [m - results[n]["min"] for m, n in zip(med, names, strict=True)]
    high = [results[n]["max"] - m for m, n in zip(med, names, strict=True)]
    axes[2].bar(names, med, yerr=[low, high], color="C1", capsize=3)
    axes[2].set_ylim(min(results[n]["min"] for n in names) - 0.05, 1.0)
    axes[2].set_title("validation accuracy (median, min–max)", fontsize=9)
    for ax in axes:
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
