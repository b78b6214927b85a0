"""Inception-module designer: branch widths and 1×1 reductions, and what they cost.

* :func:`inception_state` — pure state: the four branches of an inception module on a
  ``channels``×``size``×``size`` map, each layer's parameters and multiply-adds from the
  formulas (the tests compare them with ``cnnlab.cost``), and the output channels. With
  ``reductions=False`` it is the paper's naive module (Figure 2a): 3×3 and 5×5 convolutions on
  the full input, and the pooled input concatenated as it is;
* :func:`draw_inception` — a static figure: parameters and multiply-adds per layer;
* :func:`inception_designer` — the ipywidgets container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlab._validate import as_int
from cnnlab.widgets._base import Explorer, int_slider


@dataclass(frozen=True)
class BranchLayer:
    """One convolution: its branch (1-4), name, output maps, parameters and multiply-adds."""

    branch: int
    name: str
    out: int
    params: int
    mult_adds: int


@dataclass(frozen=True)
class InceptionState:
    """An inception module's layers on a ``channels``×``size``×``size`` input."""

    channels: int
    size: int
    widths: tuple[int, int, int, int, int, int]  # c1, c3r, c3, c5r, c5, proj
    reductions: bool
    layers: tuple[BranchLayer, ...]
    out_channels: int

    @property
    def params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def mult_adds(self) -> int:
        return sum(r.mult_adds for r in self.layers)


def inception_state(
    channels: int = 192,
    size: int = 28,
    c1: int = 64,
    c3r: int = 96,
    c3: int = 128,
    c5r: int = 16,
    c5: int = 32,
    proj: int = 32,
    reductions: bool = True,
) -> InceptionState:
    """The layer table of an inception module (stride 1, "same" padding, biased convolutions).

    Defaults: GoogLeNet's inception 3a on its 28×28×192 input. ``reductions=False`` drops the
    1×1 reductions and the pool projection (c3r, c5r, proj unused). Raises ``ValueError`` for a
    width below 1 or a size below 1.
    """
    cin = as_int(channels, "channels", minimum=1)
    n = as_int(size, "size", minimum=1)
    names = ("c1", "c3r", "c3", "c5r", "c5", "proj")
    values = (c1, c3r, c3, c5r, c5, proj)
    w = tuple(as_int(v, k, minimum=1) for k, v in zip(names, values, strict=True))
    a1, r3, a3, r5, a5, pj = w
    area = n * n

    def conv(branch: int, name: str, c_in: int, c_out: int, k: int) -> BranchLayer:
        return BranchLayer(
            branch, name, c_out, k * k * c_in * c_out + c_out, area * k * k * c_in * c_out
        )

    layers = [conv(1, "1×1", cin, a1, 1)]
    if reductions:
        layers += [conv(2, "3×3 reduce", cin, r3, 1), conv(2, "3×3", r3, a3, 3)]
        layers += [conv(3, "5×5 reduce", cin, r5, 1), conv(3, "5×5", r5, a5, 5)]
        layers += [conv(4, "pool proj", cin, pj, 1)]
        out = a1 + a3 + a5 + pj
    else:
        layers += [conv(2, "3×3", cin, a3, 3), conv(3, "5×5", cin, a5, 5)]
        out = a1 + a3 + a5 + cin  # the pooled input passes through
    return InceptionState(cin, n, w, bool(reductions), tuple(layers), out)  # type: ignore[arg-type]


def _fmt(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return str(int(n))


def draw_inception(state: InceptionState) -> Figure:
    """Two bar panels, parameters and multiply-adds per layer, coloured by branch."""
    fig = plt.figure(figsize=(8.0, 0.4 * len(state.layers) + 1.4))
    plt.close(fig)  # drawing and saving still work; pyplot will not show it a second time
    axes = fig.subplots(1, 2, sharey=True)
    names = [f"b{r.branch}: {r.name} ({r.out})" for r in state.layers]
    colours = [f"C{r.branch - 1}" for r in state.layers]
    for ax, key, label in zip(axes, ("params", "mult_adds"), ("parameters", "multiply-adds"),
                              strict=True):  # fmt: skip
        values = [getattr(r, key) for r in state.layers]
        ax.barh(range(len(values)), values, color=colours)
        for i, v in enumerate(values):
            ax.text(v, i, f" {_fmt(v)}", va="center", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(values + [1]) * 1.35)
        ax.set_title(f"{label}: {_fmt(sum(values))} in all", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    kind = "with 1×1 reductions" if state.reductions else "naive (no reductions)"
    fig.suptitle(
        f"inception module {kind}: {state.channels}×{state.size}×{state.size} -> "
        f"{state.out_channels}×{state.size}×{state.size}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


class InceptionDesigner(Explorer[InceptionState]):
    """The designer widget; build it with :func:`inception_designer`.

    Controls: ``channels``, ``size``, the six widths and ``reductions``; ``state`` is the
    :class:`InceptionState` of the last valid settings.
    """

    def __init__(self, state: InceptionState):
        self.channels = int_slider(state.channels, 0, 1024, "in maps")  # 0: the error banner
        self.size = int_slider(state.size, 1, 56, "size H=W")
        names = ("c1", "c3r", "c3", "c5r", "c5", "proj")
        labels = ("#1×1", "#3×3 red.", "#3×3", "#5×5 red.", "#5×5", "pool proj")
        sliders = {
            n: int_slider(v, 1, 512, lab)
            for n, v, lab in zip(names, state.widths, labels, strict=True)
        }
        for n, s in sliders.items():
            setattr(self, n, s)
        self.reductions = widgets.Checkbox(value=state.reductions, description="1×1 reductions")
        controls = {"channels": self.channels, "size": self.size, **sliders,
                    "reductions": self.reductions}  # fmt: skip
        rows = [
            widgets.HBox([self.channels, self.size, self.reductions]),
            widgets.HBox([sliders["c1"], sliders["c3r"], sliders["c3"]]),
            widgets.HBox([sliders["c5r"], sliders["c5"], sliders["proj"]]),
        ]
        super().__init__(controls, rows)

    def compute(self, **values: Any) -> InceptionState:
        return inception_state(**values)

    def draw(self, state: InceptionState) -> Figure:
        return draw_inception(state)

    def readout(self, state: InceptionState) -> str:
        return (
            f"<b>{state.out_channels} output maps</b>, {state.params:,} parameters, "
            f"{state.mult_adds:,} multiply-adds per image"
        )

    def describe(self, state: InceptionState) -> str:
        kind = "reduced" if state.reductions else "naive"
        return (
            f"{kind} inception module on {state.channels}×{state.size}×{state.size}: "
            f"{state.out_channels} maps, {state.params:,} parameters"
        )


def inception_designer(
    channels: int = 192,
    size: int = 28,
    c1: int = 64,
    c3r: int = 96,
    c3: int = 128,
    c5r: int = 16,
    c5: int = 32,
    proj: int = 32,
    reductions: bool = True,
) -> InceptionDesigner:
    """Build the designer (the arguments as :func:`inception_state`); end a cell with it."""
    return InceptionDesigner(
        inception_state(channels, size, c1, c3r, c3, c5r, c5, proj, reductions)
    )
