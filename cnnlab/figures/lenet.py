"""Topic 5's figures: published MNIST errors, LeNet's squashing function, subsampling outputs.

Each function returns a matplotlib ``Figure`` (nothing is shown or saved); data comes in as
arguments (a :class:`cnnlab.published.Table`, tensors), so the figures hold no numbers of their own.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from matplotlib.figure import Figure

from cnnlab.published import Table

_FAMILY_COLOURS = {"convolutional net": "C0", "fully connected net": "C1", "other": "C7"}


def plot_published_errors(table: Table, *, title: str | None = None) -> Figure:
    """Horizontal bars of ``table``'s ``test_error`` (%) per ``classifier``, coloured by
    ``family``, best at the bottom (a log scale: the errors span 0.7 % to 12 %)."""
    rows = sorted(table.records(), key=lambda r: -r["test_error"])
    fig = Figure(figsize=(6.4, 0.26 * len(rows) + 1.0), layout="constrained")
    ax = fig.subplots()
    errors = [r["test_error"] for r in rows]
    colours = [_FAMILY_COLOURS.get(r["family"], "C7") for r in rows]
    ax.barh(range(len(rows)), errors, color=colours)
    ax.set_yticks(range(len(rows)), [r["classifier"] for r in rows], fontsize=8)
    for i, e in enumerate(errors):
        ax.text(e * 1.03, i, f"{e:g}", va="center", fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("MNIST test error (%), log scale")
    for family, colour in _FAMILY_COLOURS.items():
        ax.bar(0, 0, color=colour, label=family)  # legend entries only
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(title or f"{table.source}", fontsize=9)
    return fig


def plot_squashing(functions: Mapping[str, torch.nn.Module], *, limit: float = 4.0) -> Figure:
    """Each activation function of ``functions`` (name -> module) and its slope on
    [-limit, limit], in two panels; the points (±1, ±1) are marked."""
    a = torch.linspace(-limit, limit, 401, requires_grad=True)
    fig = Figure(figsize=(7.0, 2.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    for name, f in functions.items():
        y = f(a)
        (slope,) = torch.autograd.grad(y.sum(), a)
        left.plot(a.detach(), y.detach(), label=name)
        right.plot(a.detach(), slope, label=name)
    left.plot([-1, 1], [-1, 1], "ko", ms=4)
    left.set_title("f(a)", fontsize=9)
    right.set_title("slope f′(a)", fontsize=9)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_xlabel("a")
        ax.legend(fontsize=7)
    return fig


def show_maps(maps: Mapping[str, torch.Tensor], *, title: str | None = None) -> Figure:
    """One (H, W) map per panel, each with its own grey scale and its size in the title."""
    fig = Figure(figsize=(1.7 * len(maps), 2.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(maps)))
    for ax, (name, m) in zip(axes, maps.items(), strict=True):
        ax.imshow(m.detach().cpu().numpy(), cmap="gray")
        ax.set_title(f"{name}\n{m.shape[0]}×{m.shape[1]}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


__all__ = ["plot_published_errors", "plot_squashing", "show_maps"]
