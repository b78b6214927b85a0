"""Figures of topic 14: published error against cost, the course's own bands, and latency
against multiply-adds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

_MARKERS = {"1 crop": "o", "10-crop": "s", "dense, 1 scale": "D", "not stated": "^"}


def scatter_models(
    ax: Axes,
    names: Sequence[str],
    x: Sequence[float],
    y: Sequence[float],
    protocols: Sequence[str],
    *,
    highlight: str | None = None,
    labels: bool = True,
) -> None:
    """One marker per model (shape: test protocol), ``highlight`` ringed in red."""
    for proto, marker in _MARKERS.items():
        idx = [i for i, p in enumerate(protocols) if p == proto]
        if idx:
            ax.scatter([x[i] for i in idx], [y[i] for i in idx], marker=marker, s=30, label=proto)
    for i, name in enumerate(names):
        if labels or name == highlight:
            ax.annotate(name, (x[i], y[i]), fontsize=6, xytext=(3, 2), textcoords="offset points")
        if name == highlight:
            ax.scatter([x[i]], [y[i]], s=160, facecolors="none", edgecolors="red", linewidths=2)
    ax.set_xscale("log")
    ax.grid(alpha=0.3)


def plot_error_vs_cost(
    names: Sequence[str],
    top1: Sequence[float],
    gmac: Sequence[float],
    params_m: Sequence[float],
    protocols: Sequence[str],
) -> Figure:
    """Published ImageNet top-1 error against our multiply-adds (left) and parameters (right)."""
    if not (len(names) == len(top1) == len(gmac) == len(params_m) == len(protocols)):
        raise ValueError("names, top1, gmac, params_m and protocols must have one length")
    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    scatter_models(left, names, gmac, top1, protocols)
    scatter_models(right, names, params_m, top1, protocols)
    left.set_xlabel("multiply-adds per image (G, our cost table)")
    right.set_xlabel("parameters (M, our cost table)")
    left.set_ylabel("ImageNet top-1 error (%, published)")
    left.legend(fontsize=7, title="test protocol", title_fontsize=7)
    fig.suptitle("ImageNet: published error against cost (lower left is better)", fontsize=10)
    return fig


def plot_course_bands(rows: Sequence[tuple[str, float, float, float]], title: str) -> Figure:
    """Course-data results: (label, median, min, max) of validation accuracy, one bar per row."""
    if not rows:
        raise ValueError("no course results to plot")
    fig = Figure(figsize=(6.5, 0.28 * len(rows) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(rows))
    med = np.array([r[1] for r in rows])
    err = np.array([[r[1] - r[2] for r in rows], [r[3] - r[1] for r in rows]])
    ax.errorbar(med, y, xerr=err, fmt="o", ms=4, capsize=3)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("validation accuracy on course data (median, min–max over seeds)")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_latency_fit(
    gmac: Mapping[str, float],
    ms: Mapping[str, tuple[float, float, float]],
    ms_per_gmac: float,
    ratio: Mapping[str, float],
) -> Figure:
    """Left: latency (median, min–max) against multiply-adds, log–log, with the line
    ``ms_per_gmac · GMAC``. Right: measured / predicted per model."""
    names = sorted(gmac, key=ratio.__getitem__)
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    x = np.array([gmac[n] for n in names])
    med = np.array([ms[n][0] for n in names])
    err = np.array([[ms[n][0] - ms[n][1] for n in names], [ms[n][2] - ms[n][0] for n in names]])
    left.errorbar(x, med, yerr=err, fmt="o", ms=4, capsize=2)
    for n, a, b in zip(names, x, med, strict=True):
        left.annotate(n, (a, b), fontsize=6, xytext=(3, -8), textcoords="offset points")
    line = np.geomspace(x.min() / 1.5, x.max() * 1.5, 20)
    left.plot(line, ms_per_gmac * line, "k--", lw=1, label=f"{ms_per_gmac:.0f} ms per GMAC")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("multiply-adds (G)")
    left.set_ylabel("latency on this CPU (ms, batch 1)")
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    r = [ratio[n] for n in names]
    right.barh(names, r, color=["C3" if v > 1 else "C2" for v in r])
    right.axvline(1, color="k", lw=1)
    right.set_xscale("log")
    right.set_xlabel("measured / predicted from multiply-adds")
    right.tick_params(axis="y", labelsize=7)
    right.grid(axis="x", alpha=0.3)
    return fig
