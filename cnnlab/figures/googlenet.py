"""Figures of topic 9: the inception module as a block diagram, and the successors' errors."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from cnnlab.published import Table


def _box(ax, x: float, y: float, text: str, colour: str, width: float = 0.2) -> None:
    ax.add_patch(
        FancyBboxPatch((x - width / 2, y - 0.045), width, 0.09, boxstyle="round,pad=0.01",
                       facecolor=colour, edgecolor="0.3", linewidth=0.8)
    )  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": "0.4"})


def draw_inception_module(
    in_channels: int, size: int, widths: Sequence[int], *, title: str | None = None
) -> Figure:
    """Block diagram of an inception module with reductions: ``widths`` = (c1, c3r, c3, c5r,
    c5, proj) as in Table 1 of the paper; each box names its layer and output maps."""
    c1, c3r, c3, c5r, c5, proj = (int(w) for w in widths)
    fig = Figure(figsize=(8.0, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    _box(ax, 0.5, 0.92, f"input {size}×{size}×{in_channels}", "0.9", 0.3)
    columns = [
        [("1×1 conv", c1, "C0")],
        [("1×1 conv", c3r, "C2"), ("3×3 conv", c3, "C0")],
        [("1×1 conv", c5r, "C2"), ("5×5 conv", c5, "C0")],
        [("3×3 max pool", in_channels, "C7"), ("1×1 conv", proj, "C2")],
    ]
    xs = (0.14, 0.38, 0.62, 0.86)
    for x, column in zip(xs, columns, strict=True):
        ys = [0.68, 0.42][: len(column)] if len(column) == 2 else [0.55]
        _arrow(ax, 0.5, 0.875, x, ys[0] + 0.05)
        for (name, maps, colour), y in zip(column, ys, strict=True):
            _box(ax, x, y, f"{name}\n{maps} maps", _light(colour))
        _arrow(ax, x, ys[-1] - 0.05, 0.5, 0.2)
    out = c1 + c3 + c5 + proj
    _box(ax, 0.5, 0.15, f"concatenate: {c1}+{c3}+{c5}+{proj} = {out} maps", "0.9", 0.46)
    ax.text(0.99, 0.02, "green: 1×1 reductions and projection", ha="right", fontsize=7, color="0.3")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _light(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (0.55 + 0.45 * r, 0.55 + 0.45 * g, 0.55 + 0.45 * b)


def plot_top5(tables: Sequence[Table], titles: Sequence[str], *, highlight: str = "") -> Figure:
    """One panel per table: horizontal bars of its "top-5 error" by "network"; rows whose name
    contains ``highlight`` (if given) in a second colour."""
    fig = Figure(figsize=(5.0 * len(tables), 3.2), layout="constrained")
    axes = fig.subplots(1, len(tables), squeeze=False)[0]
    for ax, table, title in zip(axes, tables, titles, strict=True):
        names, top5 = table.column("network"), table.column("top-5 error")
        colours = ["C1" if highlight and highlight in n else "C0" for n in names]
        ax.barh(range(len(names)), top5, color=colours)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        for i, e in enumerate(top5):
            ax.text(e, i, f" {e}", va="center", fontsize=8)
        ax.set_xlim(0, max(top5) * 1.25)
        ax.set_title(title, fontsize=9)
    return fig
