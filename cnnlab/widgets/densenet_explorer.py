"""DenseNet explorer: how growth rate, depth and compression set the channels and parameters.

* :func:`densenet_state` — pure state: a CIFAR-style DenseNet (one 3×3 stem convolution,
  ``blocks`` dense blocks of ``layers`` layers, transitions between them, BN, a linear
  classifier), the channels entering every layer and each layer's parameters, from the
  formulas (the tests compare them with :func:`cnnlab.models.densenet.build_densenet`);
* :func:`draw_densenet` — a static figure: channels per layer and parameters per layer;
* :func:`densenet_explorer` — the ipywidgets container.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlab._validate import as_int
from cnnlab.widgets._base import Explorer, int_slider

BN_SIZE = 4  # DenseNet-B: the bottleneck 1×1 has 4·k channels


@dataclass(frozen=True)
class Row:
    """One layer: ``kind`` ("stem", "dense", "transition", "head"), its block, the channels it
    reads and writes, and its parameters (convolutions without bias, BN γ and β)."""

    kind: str
    block: int
    c_in: int
    c_out: int
    params: int


@dataclass(frozen=True)
class DenseNetState:
    """A DenseNet's layer table for the explorer's settings."""

    growth_rate: int
    layers: int
    blocks: int
    bottleneck: bool
    compression: float
    init_channels: int
    classes: int
    rows: tuple[Row, ...]

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def depth(self) -> int:
        """Layers with weights counted as the paper does: convolutions and the classifier."""
        per = 2 if self.bottleneck else 1
        return 1 + self.blocks * self.layers * per + (self.blocks - 1) + 1

    @property
    def final_channels(self) -> int:
        return self.rows[-1].c_in


def densenet_state(
    growth_rate: int = 12,
    layers: int = 16,
    blocks: int = 3,
    bottleneck: bool = True,
    compression: float = 0.5,
    init_channels: int | None = None,
    classes: int = 10,
    in_channels: int = 3,
) -> DenseNetState:
    """The layer table of a DenseNet with ``blocks`` blocks of ``layers`` layers, growth rate
    ``growth_rate``, transitions keeping ``floor(compression · C)`` channels, a 3×3 stem of
    ``init_channels`` maps (default 2k with the bottleneck, else 16), ``classes`` outputs.

    Raises ``ValueError`` for a value below its minimum or a compression outside (0, 1].
    """
    k = as_int(growth_rate, "growth_rate", minimum=1)
    n = as_int(layers, "layers", minimum=1)
    b = as_int(blocks, "blocks", minimum=1)
    if not isinstance(bottleneck, bool):
        raise TypeError(f"bottleneck must be True or False, got {bottleneck!r}")
    if isinstance(compression, bool) or not isinstance(compression, (int, float)):
        raise TypeError(f"compression must be a number in (0, 1], got {compression!r}")
    if not 0.0 < compression <= 1.0:
        raise ValueError(f"compression must be in (0, 1], got {compression}")
    if init_channels is None:
        c0 = 2 * k if bottleneck else 16  # the paper's CIFAR stems
    else:
        c0 = as_int(init_channels, "init_channels", minimum=1)
    classes = as_int(classes, "classes", minimum=1)
    c_img = as_int(in_channels, "in_channels", minimum=1)
    rows = [Row("stem", 0, c_img, c0, 9 * c_img * c0)]
    c = c0
    for block in range(1, b + 1):
        for _ in range(n):
            if bottleneck:
                w = BN_SIZE * k
                p = 2 * c + c * w + 2 * w + 9 * w * k
            else:
                p = 2 * c + 9 * c * k
            rows.append(Row("dense", block, c, k, p))
            c += k
        if block < b:
            out = int(math.floor(c * compression))
            rows.append(Row("transition", block, c, out, 2 * c + c * out))
            c = out
    rows.append(Row("head", b, c, classes, 2 * c + c * classes + classes))
    return DenseNetState(k, n, b, bottleneck, float(compression), c0, classes, tuple(rows))


def _fmt(n: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f}"


def draw_densenet(state: DenseNetState) -> Figure:
    """Two panels: channels entering each layer (transitions marked) and parameters per layer."""
    fig = plt.figure(figsize=(9.0, 3.2))
    plt.close(fig)  # drawing and saving still work; pyplot will not show it a second time
    ax_c, ax_p = fig.subplots(1, 2)
    xs = range(len(state.rows))
    colours = [
        "0.5" if r.kind in ("stem", "head") else "C3" if r.kind == "transition" else f"C{r.block}"
        for r in state.rows
    ]
    ax_c.bar(xs, [r.c_in for r in state.rows], color=colours, width=1.0)
    ax_c.set_xlabel("layer (red: transition)", fontsize=8)
    ax_c.set_title(
        f"channels read by each layer (k = {state.growth_rate}, final {state.final_channels})",
        fontsize=9,
    )
    ax_p.bar(xs, [r.params for r in state.rows], color=colours, width=1.0)
    ax_p.set_xlabel("layer", fontsize=8)
    ax_p.set_title(f"parameters per layer: {_fmt(state.params)} in all", fontsize=9)
    for ax in (ax_c, ax_p):
        ax.tick_params(labelsize=7)
    kind = "DenseNet-BC" if state.bottleneck and state.compression < 1 else "DenseNet"
    fig.suptitle(
        f"{kind}, depth {state.depth}: {state.blocks} blocks × {state.layers} layers, "
        f"θ = {state.compression:g}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


class DenseNetExplorer(Explorer[DenseNetState]):
    """The explorer widget; build it with :func:`densenet_explorer`.

    Controls: ``growth_rate``, ``layers``, ``blocks``, ``bottleneck``, ``compression``;
    ``state`` is the :class:`DenseNetState` of the last valid settings.
    """

    def __init__(self, state: DenseNetState):
        self.growth_rate = int_slider(state.growth_rate, 1, 64, "growth k")
        self.layers = int_slider(state.layers, 1, 48, "layers/block")
        self.blocks = int_slider(state.blocks, 1, 4, "blocks")
        self.bottleneck = widgets.Checkbox(value=state.bottleneck, description="bottleneck (B)")
        self.compression = widgets.FloatSlider(
            value=state.compression, min=0.0, max=1.0, step=0.05, description="θ (C)"
        )
        controls = {
            "growth_rate": self.growth_rate,
            "layers": self.layers,
            "blocks": self.blocks,
            "bottleneck": self.bottleneck,
            "compression": self.compression,
        }
        rows = [
            widgets.HBox([self.growth_rate, self.layers, self.blocks]),
            widgets.HBox([self.bottleneck, self.compression]),
        ]
        self._classes = state.classes
        super().__init__(controls, rows)

    def compute(self, **values: Any) -> DenseNetState:
        return densenet_state(**values, classes=self._classes)

    def draw(self, state: DenseNetState) -> Figure:
        return draw_densenet(state)

    def readout(self, state: DenseNetState) -> str:
        return (
            f"<b>{state.params:,} parameters</b>, depth {state.depth}; the last block ends "
            f"with {state.final_channels} channels"
        )

    def describe(self, state: DenseNetState) -> str:
        return (
            f"k={state.growth_rate}, {state.blocks}×{state.layers} layers, "
            f"bottleneck={state.bottleneck}, θ={state.compression:g}: {state.params:,} parameters"
        )


def densenet_explorer(
    growth_rate: int = 12,
    layers: int = 16,
    blocks: int = 3,
    bottleneck: bool = True,
    compression: float = 0.5,
    classes: int = 10,
) -> DenseNetExplorer:
    """Build the explorer (the arguments as :func:`densenet_state`); end a cell with it."""
    return DenseNetExplorer(
        densenet_state(growth_rate, layers, blocks, bottleneck, compression, classes=classes)
    )
