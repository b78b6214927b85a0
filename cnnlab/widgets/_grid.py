"""Drawing helpers shared by the widgets: annotated matrices, figures without pyplot, PNG bytes.

Figures come from ``pyplot`` (so that the notebook backend knows how to show a returned one) and
are closed at once: pyplot forgets them, so a figure returned from a notebook cell is shown
exactly once, and a figure rendered into a widget never leaks into the cell's own output.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

#: grids larger than this (rows or columns) are drawn as images without numbers in the cells
ANNOTATE_LIMIT = 12

HIGHLIGHT = "#e6550d"  # the current window
SECONDARY = "#3182bd"  # its output cell, window origins
PADDING = "#bdbdbd"  # zero-padding cells


def fmt(value: float) -> str:
    """Format a cell value compactly: integers, else 3 significant digits; ``inf``, ``-inf``
    and ``nan`` as such (an overflowing product-sum must not print as nothing)."""
    value = float(value)
    if not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    # below 1e15 a float holds every integer exactly; above, 20 digits would be mostly noise
    if abs(value) < 1e15 and abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.3g}"


def html_escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for an ``ipywidgets.HTML`` value."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def new_axes(
    ncols: int, axes: Sequence[Axes] | None, *, width: float = 2.6, height: float = 2.8
) -> tuple[Figure, list[Axes]]:
    """Return ``(figure, ncols axes)``: the caller's axes when given, else a fresh figure."""
    if axes is not None:
        axes = list(axes)
        if len(axes) != ncols:
            raise ValueError(f"axes must be a sequence of {ncols} matplotlib Axes, got {len(axes)}")
        return axes[0].figure, axes
    fig = plt.figure(figsize=(width * ncols, height))
    plt.close(fig)  # drawing and saving still work; pyplot will not show it a second time
    # fixed margins (inches) for one title line above and one label line below each panel:
    # the panels have no tick labels, and a layout engine would triple the drawing time
    fig.subplots_adjust(
        left=0.1 / (width * ncols),
        right=1 - 0.1 / (width * ncols),
        top=1 - 0.3 / height,
        bottom=0.28 / height,
        wspace=0.12,
    )
    return fig, list(np.atleast_1d(fig.subplots(1, ncols)))


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render ``fig`` to PNG bytes (for an ``ipywidgets.Image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def draw_matrix(
    ax: Axes,
    values: torch.Tensor,
    title: str = "",
    *,
    mask: torch.Tensor | None = None,
    shaded: torch.Tensor | None = None,
    cmap: str = "Blues",
    vmin: float | None = None,
    vmax: float | None = None,
    annotate: bool | None = None,
    lines: bool | None = None,
) -> None:
    """Draw a 2-D ``values`` (H, W) as a grid of cells, with the numbers when the grid is small.

    ``mask`` (H, W) bool: only True cells are shown (others stay blank); ``shaded`` (H, W) bool:
    cells drawn grey (zero padding). ``annotate`` / ``lines``: numbers in the cells / cell
    borders (default: up to 12 / 48 rows and columns). The colour scale spans ``vmin..vmax``
    (default: all values, so that it does not jump while an output fills in).
    """
    v = values.detach().double().cpu().numpy()
    h, w = v.shape
    shown = v if mask is None else np.where(mask.cpu().numpy(), v, np.nan)
    finite = v[np.isfinite(v)]
    lo = vmin if vmin is not None else float(finite.min()) if finite.size else 0.0
    hi = vmax if vmax is not None else float(finite.max()) if finite.size else 1.0
    if hi <= lo:  # a constant matrix: give the colour scale some room
        lo, hi = lo - 1.0, hi + 1.0
    colours = matplotlib.colormaps[cmap].with_extremes(bad="white")
    visible = np.ones((h, w), dtype=bool) if mask is None else mask.cpu().numpy().astype(bool)
    small = max(h, w) <= ANNOTATE_LIMIT if annotate is None else annotate
    # pale colours for annotated grids keep the black numbers readable
    ax.imshow(shown, cmap=colours, vmin=lo, vmax=hi + (hi - lo) * (0.6 if small else 0.0))
    if shaded is not None and bool(shaded.any()):
        grey = np.where(shaded.cpu().numpy(), 1.0, np.nan)
        ax.imshow(grey, cmap=ListedColormap([PADDING]), alpha=0.85, vmin=0, vmax=1)
    if small:
        size = max(6, 12 - max(h, w) // 2)
        for i in range(h):
            for j in range(w):
                # every shown cell gets its number, inf and nan too (as text: they have no
                # colour); masked cells stay blank
                if visible[i, j]:
                    ax.text(j, i, fmt(shown[i, j]), ha="center", va="center", fontsize=size)
    # cell borders as two line collections: tick-based grids cost most of the drawing time
    ax.set_xticks([])
    ax.set_yticks([])
    if lines if lines is not None else max(h, w) <= 48:
        ax.hlines(np.arange(-0.5, h), -0.5, w - 0.5, color="#636363", linewidth=0.5)
        ax.vlines(np.arange(-0.5, w), -0.5, h - 0.5, color="#636363", linewidth=0.5)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_title(title, fontsize=10)


def outline(
    ax: Axes, top: int, left: int, height: int, width: int, color: str = HIGHLIGHT, lw: float = 2.5
) -> None:
    """Outline cells ``[top, top + height) x [left, left + width)`` of a grid drawn on ``ax``."""
    ax.add_patch(
        Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=color, linewidth=lw)
    )
