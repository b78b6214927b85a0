"""VGG configuration picker: one column of the paper's Table 1, its cost table and cost chart.

* :func:`vgg_state` — pure state: the configuration's layer list, its cost table
  (:func:`cnnlab.cost.summary`, the model built on the "meta" device: no memory, no compute)
  and, at ImageNet scale, the paper's rounded parameter count (Table 2) beside ours;
* :func:`draw_vgg` — a static figure: the layer column, then parameters and multiply-adds per
  layer (:func:`cnnlab.plots.plot_cost_breakdown`);
* :func:`vgg_picker` — the ipywidgets container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from cnnlab._validate import check_choice
from cnnlab.cost import Summary, summary
from cnnlab.models.vgg import VGG_CFGS, CfgItem, build_vgg
from cnnlab.widgets._base import ChoiceDropdown, ChoiceToggleButtons, Explorer
from cnnlab.widgets._grid import html_escape

SCALES = ("imagenet", "course")
_INPUT = {"imagenet": (3, 224, 224), "course": (3, 32, 32)}


def layer_names(cfg: str) -> list[str]:
    """The paper's names for a configuration's layers: conv3-64, LRN, maxpool, ..., FC-1000."""
    out = []
    for item in VGG_CFGS[check_choice(cfg, "configuration", tuple(VGG_CFGS))]:
        out.append(_name(item))
    return [*out, "FC-4096", "FC-4096", "FC-1000"]


def _name(item: CfgItem) -> str:
    if item == "M":
        return "maxpool"
    if item == "LRN":
        return "LRN"
    kernel, maps = item if isinstance(item, tuple) else (3, item)
    return f"conv{kernel}-{maps}"


@dataclass(frozen=True, eq=False)
class VggState:
    """Configuration ``cfg`` at ``scale`` ("imagenet": 224×224; "course": 32×32, FC 512 wide,
    10 classes), with or without batch norm: its layers, cost table and the paper's count
    (millions, or None where the paper has none: course scale or batch norm)."""

    cfg: str
    batch_norm: bool
    scale: str
    layers: list[str]
    summary: Summary
    paper_params: int | None

    @property
    def params(self) -> int:
        return self.summary.totals.params

    @property
    def weight_layers(self) -> int:
        """Convolutions and FC layers: the depth the paper names a configuration by."""
        return len(self.summary.select(("Conv2d", "Linear")))


def vgg_state(cfg: str = "D", batch_norm: bool = False, scale: str = "imagenet") -> VggState:
    """The state of configuration ``cfg`` ("A", "A-LRN", "B", "C", "D", "E") at ``scale``."""
    cfg = check_choice(cfg, "configuration", tuple(VGG_CFGS))
    scale = check_choice(scale, "scale", SCALES)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    with torch.device("meta"):
        classes = 1000 if scale == "imagenet" else 10  # as the registry's course models
        model = build_vgg(cfg, batch_norm=batch_norm, scale=scale, num_classes=classes)
    table = summary(model, _INPUT[scale], name=f"VGG {cfg} ({scale})")
    paper = None
    if scale == "imagenet" and not batch_norm:
        from cnnlab.published.vgg import PARAMETERS

        paper = PARAMETERS.where(config=cfg)[0]["params"]
    return VggState(cfg, batch_norm, scale, layer_names(cfg), table, paper)


def draw_vgg(state: VggState) -> Figure:
    """The layer column of ``state`` beside its parameters and multiply-adds per layer."""
    from cnnlab.plots import plot_cost_breakdown

    fig = Figure(figsize=(10.5, 3.8), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=(1, 5))
    ax = left.subplots()
    ax.axis("off")
    ax.set_title(f"configuration {state.cfg}", fontsize=9)
    n = len(state.layers)
    for i, name in enumerate(state.layers):
        colour = "C1" if name.startswith("FC") else ("0.5" if name == "maxpool" else "C0")
        ax.text(0.5, 1 - (i + 0.5) / n, name, ha="center", va="center", fontsize=7, color=colour)
    plot_cost_breakdown(state.summary, fig=right)
    return fig


class VggPicker(Explorer[VggState]):
    """The picker widget; build it with :func:`vgg_picker`. Controls: ``cfg`` (A ... E),
    ``batch_norm``, ``scale``; ``state`` is the :class:`VggState` of the last valid choice."""

    def __init__(self, cfg: str, batch_norm: bool, scale: str) -> None:
        self.cfg = ChoiceDropdown(options=list(VGG_CFGS), value=cfg, description="configuration")
        self.batch_norm = widgets.Checkbox(value=batch_norm, description="batch norm")
        self.scale = ChoiceToggleButtons(options=list(SCALES), value=scale, description="scale")
        super().__init__(
            {"cfg": self.cfg, "batch_norm": self.batch_norm, "scale": self.scale},
            [widgets.HBox([self.cfg, self.batch_norm]), self.scale],
        )

    def compute(self, **values: Any) -> VggState:
        return vgg_state(**values)

    def draw(self, state: VggState) -> Figure:
        return draw_vgg(state)

    def readout(self, state: VggState) -> str:
        t = state.summary.totals
        paper = (
            f" (paper, Table 2: {state.paper_params} M)" if state.paper_params is not None else ""
        )
        return (
            f"<b>{html_escape(state.cfg)}</b>: {state.weight_layers} weight layers, "
            f"<b>{t.params:,}</b> parameters{paper}, {t.mult_adds / 1e9:.2f} G multiply-adds, "
            f"{t.activations / 1e6:.1f} M activations per image"
        )

    def describe(self, state: VggState) -> str:
        bn = ", batch norm" if state.batch_norm else ""
        return f"{state.cfg}{bn}, {state.scale}: {state.params:,} parameters"


def vgg_picker(cfg: str = "D", batch_norm: bool = False, scale: str = "imagenet") -> VggPicker:
    """Build the configuration picker (starting at ``cfg``); end a notebook cell with it."""
    st = vgg_state(cfg, batch_norm, scale)  # reject bad arguments before building
    return VggPicker(st.cfg, st.batch_norm, st.scale)
