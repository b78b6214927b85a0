"""Figures of topic 7 (VGG): the paper's single- vs multi-scale errors, a dense score map.

Each function returns a matplotlib ``Figure`` (no pyplot state), like :mod:`cnnlab.plots`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from cnnlab.published import Table

__all__ = ["plot_scale_errors", "plot_score_map"]


def plot_scale_errors(single: Table, multi: Table, *, metric: str = "top-5") -> Figure:
    """One pair of bars per model of ``multi`` (config / training scale S): its ``metric``
    error at one test scale (from ``single``) and averaged over three (from ``multi``)."""
    pairs = []
    for row in multi.records():
        match = single.where(config=row["config"], **{"train S": row["train S"]})
        if match:
            pairs.append((f"{row['config']}\nS={row['train S']}", match[0][metric], row[metric]))
    if not pairs:
        raise ValueError("the two tables share no (config, train S) row")
    fig = Figure(figsize=(7.5, 3.0), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(pairs))
    ax.bar(x - 0.2, [p[1] for p in pairs], 0.4, label="single test scale Q (Table 3)")
    ax.bar(x + 0.2, [p[2] for p in pairs], 0.4, label="three test scales (Table 4)")
    ax.set_xticks(x, [p[0] for p in pairs], fontsize=7)
    ax.set_ylabel(f"{metric} error (%)")
    ax.set_ylim(min(min(p[1], p[2]) for p in pairs) - 1, None)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(
        f"VGG on ILSVRC-2012 validation: {metric} error ({single.source[:22]}…)", fontsize=9
    )
    return fig


def plot_score_map(
    image: torch.Tensor,
    predicted: torch.Tensor,
    classes: Sequence[str],
    truth: torch.Tensor | None = None,
    *,
    title: str = "",
) -> Figure:
    """``image`` (C, H, W) with the predicted class of each cell of a score map ``predicted``
    (h, w) written over the part of the image it sits on; green where it equals ``truth``."""
    h, w = predicted.shape
    fig = Figure(figsize=(4.2, 4.4), layout="constrained")
    ax = fig.subplots()
    picture = image.permute(1, 2, 0).squeeze(-1).clamp(0, 1).numpy()
    ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None)
    height, width = image.shape[-2:]
    for i in range(h):
        for j in range(w):
            label = classes[int(predicted[i, j])]
            good = truth is not None and int(truth[i, j]) == int(predicted[i, j])
            ax.text(
                (j + 0.5) * width / w,
                (i + 0.85) * height / h,
                label,
                ha="center",
                fontsize=7,
                color="white",
                bbox={"facecolor": "green" if good else "black", "alpha": 0.7, "pad": 1},
            )
    ax.set_xticks([k * width / w for k in range(1, w)], [])
    ax.set_yticks([k * height / h for k in range(1, h)], [])
    ax.grid(color="white", lw=0.8)
    ax.set_title(title, fontsize=9)
    return fig
