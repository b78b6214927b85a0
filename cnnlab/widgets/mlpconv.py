"""Mlpconv explorer: what a block of 1×1 convolutions and a classifier head cost.

* :func:`mlpconv_state` — pure state: one k×k convolution, ``n_1x1`` 1×1 convolutions, then a
  head (``"gap"``: a 1×1 convolution to the classes and global average pooling, NIN's; or
  ``"fc"``: flatten and one linear layer), each layer's output shape, parameters and
  multiply-adds, computed from the formulas (the tests compare them with ``cnnlab.cost``);
* :func:`draw_mlpconv` — a static figure: parameters and multiply-adds per layer;
* :func:`mlpconv_explorer` — the ipywidgets container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlab._validate import as_int, check_choice
from cnnlab.widgets._base import ChoiceToggleButtons, Explorer, int_slider

HEADS = ("gap", "fc")


@dataclass(frozen=True)
class LayerRow:
    """One layer: its name, output shape (C, H, W) or (K,), parameters and multiply-adds."""

    name: str
    shape: tuple[int, ...]
    params: int
    mult_adds: int
    head: bool = False


@dataclass(frozen=True)
class MlpconvState:
    """An mlpconv block on a ``channels``×``size``×``size`` input and its classifier head."""

    channels: int
    size: int
    kernel: int
    padding: int
    width: int
    n_1x1: int
    classes: int
    head: str
    rows: tuple[LayerRow, ...]

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def mult_adds(self) -> int:
        return sum(r.mult_adds for r in self.rows)

    @property
    def head_params(self) -> int:
        return sum(r.params for r in self.rows if r.head)


def mlpconv_state(
    channels: int = 96,
    size: int = 13,
    kernel: int = 3,
    padding: int = 1,
    width: int = 192,
    n_1x1: int = 2,
    classes: int = 10,
    head: str = "gap",
) -> MlpconvState:
    """The layer table of a ``kernel``×``kernel`` convolution (``channels`` -> ``width`` maps,
    ``padding``, stride 1) on a ``size``×``size`` map, ``n_1x1`` 1×1 convolutions of ``width``
    maps, and a ``head`` ("gap" or "fc") for ``classes`` classes.

    Raises ``ValueError`` for a value below its minimum, an unknown head, or a filter larger
    than the padded input.
    """
    c = as_int(channels, "channels", minimum=1)
    n = as_int(size, "size", minimum=1)
    k = as_int(kernel, "kernel", minimum=1)
    p = as_int(padding, "padding", minimum=0)
    w = as_int(width, "width", minimum=1)
    depth = as_int(n_1x1, "n_1x1", minimum=0)
    classes = as_int(classes, "classes", minimum=1)
    head = check_choice(head, "head", HEADS)
    out = n + 2 * p - k + 1
    if out < 1:
        raise ValueError(
            f"the {k}×{k} filter does not fit a {n}×{n} input with padding {p}: "
            f"{n} + 2·{p} − {k} + 1 = {out}; raise the padding or the size"
        )
    area = out * out
    rows = [LayerRow(f"conv {k}×{k}", (w, out, out), k * k * c * w + w, area * k * k * c * w)]
    for i in range(depth):
        rows.append(LayerRow(f"1×1 conv {i + 1}", (w, out, out), w * w + w, area * w * w))
    if head == "gap":
        rows.append(LayerRow("1×1 to classes", (classes, out, out), w * classes + classes,
                             area * w * classes, head=True))  # fmt: skip
        rows.append(LayerRow("global avg pool", (classes,), 0, 0, head=True))
    else:
        fan_in = w * area
        rows.append(LayerRow("fc", (classes,), fan_in * classes + classes, fan_in * classes, True))
    return MlpconvState(c, n, k, p, w, depth, classes, head, tuple(rows))


def _fmt(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return str(n)


def draw_mlpconv(state: MlpconvState) -> Figure:
    """Two bar panels, parameters and multiply-adds per layer; the head's bars in orange."""
    fig = plt.figure(figsize=(8.0, 0.4 * len(state.rows) + 1.4))
    plt.close(fig)  # drawing and saving still work; pyplot will not show it a second time
    axes = fig.subplots(1, 2, sharey=True)
    names = [r.name for r in state.rows]
    colours = ["C1" if r.head else "C0" for r in state.rows]
    for ax, key, label in zip(axes, ("params", "mult_adds"), ("parameters", "multiply-adds"),
                              strict=True):  # fmt: skip
        values = [getattr(r, key) for r in state.rows]
        ax.barh(range(len(values)), values, color=colours)
        total = sum(values)
        for i, v in enumerate(values):
            ax.text(v, i, f" {_fmt(v)}", va="center", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(values + [1]) * 1.35)
        ax.set_title(f"{label}: {_fmt(total)} in all", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(
        f"mlpconv on {state.channels}×{state.size}×{state.size}, "
        f"{state.head.upper()} head (orange)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


class MlpconvExplorer(Explorer[MlpconvState]):
    """The explorer widget; build it with :func:`mlpconv_explorer`.

    Controls: ``channels``, ``size``, ``kernel``, ``padding``, ``width``, ``n_1x1``,
    ``classes``, ``head``; ``state`` is the :class:`MlpconvState` of the last valid settings.
    """

    def __init__(self, state: MlpconvState):
        self.channels = int_slider(state.channels, 1, 512, "in maps")
        self.size = int_slider(state.size, 1, 64, "size H=W")
        self.kernel = int_slider(state.kernel, 1, 11, "kernel k")
        self.padding = int_slider(state.padding, 0, 5, "padding")
        self.width = int_slider(state.width, 1, 1024, "maps")
        self.n_1x1 = int_slider(state.n_1x1, 0, 4, "1×1 layers")
        self.classes = int_slider(state.classes, 1, 1000, "classes")
        self.head = ChoiceToggleButtons(options=list(HEADS), value=state.head, description="head")
        controls = {
            "channels": self.channels,
            "size": self.size,
            "kernel": self.kernel,
            "padding": self.padding,
            "width": self.width,
            "n_1x1": self.n_1x1,
            "classes": self.classes,
            "head": self.head,
        }
        rows = [
            widgets.HBox([self.channels, self.size, self.kernel, self.padding]),
            widgets.HBox([self.width, self.n_1x1, self.classes]),
            self.head,
        ]
        super().__init__(controls, rows)

    def compute(self, **values: Any) -> MlpconvState:
        return mlpconv_state(**values)

    def draw(self, state: MlpconvState) -> Figure:
        return draw_mlpconv(state)

    def readout(self, state: MlpconvState) -> str:
        share = state.head_params / state.params if state.params else 0.0
        return (
            f"<b>{state.params:,} parameters</b>, {state.mult_adds:,} multiply-adds per image "
            f"&nbsp;·&nbsp; the {state.head.upper()} head holds {state.head_params:,} "
            f"({share:.0%}) of the parameters"
        )

    def describe(self, state: MlpconvState) -> str:
        return (
            f"{state.channels}×{state.size}×{state.size}, {state.kernel}×{state.kernel} conv to "
            f"{state.width} + {state.n_1x1} 1×1, {state.head} head: {state.params:,} parameters"
        )


def mlpconv_explorer(
    channels: int = 96,
    size: int = 13,
    kernel: int = 3,
    padding: int = 1,
    width: int = 192,
    n_1x1: int = 2,
    classes: int = 10,
    head: str = "gap",
) -> MlpconvExplorer:
    """Build the explorer (the arguments as :func:`mlpconv_state`); end a cell with it."""
    state = mlpconv_state(channels, size, kernel, padding, width, n_1x1, classes, head)
    return MlpconvExplorer(state)
