"""Pooling explorer: max or average pooling of an image or feature map, and of a small example.

* :func:`pooling_state` — pure state (output, output size formula, 0 parameters), computed with
  :mod:`cnnlab.ops` and :mod:`cnnlab.shapes`;
* :func:`draw_pooling` — a static figure: input and output, plus a small numeric example with
  its first window outlined;
* :func:`pooling_explorer` — the ipywidgets container.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlab import ops, shapes
from cnnlab._validate import as_int, check_choice
from cnnlab.widgets._base import ChoiceToggleButtons, Explorer, int_slider
from cnnlab.widgets._grid import (
    ANNOTATE_LIMIT,
    SECONDARY,
    draw_matrix,
    fmt,
    html_escape,
    new_axes,
    outline,
)
from cnnlab.widgets._matrix import as_matrix

KINDS = ("max", "avg")

#: the small numeric example shown beside the image (6×6, so windows up to 6 fit)
EXAMPLE = (
    (1.0, 3.0, 2.0, 1.0, 0.0, 4.0),
    (4.0, 6.0, 5.0, 0.0, 2.0, 1.0),
    (3.0, 1.0, 1.0, 2.0, 8.0, 3.0),
    (0.0, 2.0, 7.0, 4.0, 1.0, 0.0),
    (5.0, 1.0, 0.0, 3.0, 2.0, 6.0),
    (2.0, 4.0, 1.0, 1.0, 5.0, 2.0),
)


@dataclass(frozen=True, eq=False)
class PoolingState:
    """``kind`` pooling (``"max"``/``"avg"``) of ``x`` (H, W) with a ``size×size`` window.

    ``output`` (H', W') comes from :func:`cnnlab.ops.max_pool2d` / ``avg_pool2d``; ``formula``
    is ``(W − F + 2P)/S + 1`` with numbers (one per axis when H ≠ W); ``params`` is always 0.
    """

    x: torch.Tensor
    kind: str
    size: int
    stride: int
    padding: int
    output: torch.Tensor
    formula: str
    params: int = 0

    @property
    def out_shape(self) -> tuple[int, int]:
        """Output shape (H', W')."""
        return int(self.output.shape[0]), int(self.output.shape[1])


def default_image(size: int = 64) -> torch.Tensor:
    """scikit-image's bundled ``camera`` photograph (512×512), subsampled to about ``size×size``,
    as a float tensor (H, W) in [0, 1]. No download."""
    from skimage import data  # imported here: only the explorer needs it

    size = as_int(size, "size", minimum=1)
    photo = torch.from_numpy(data.camera()).double() / 255.0
    step = max(1, photo.shape[0] // size)
    return photo[::step, ::step].contiguous()


def pooling_state(
    x: object, kind: str = "max", size: int = 2, stride: int | None = None, padding: int = 0
) -> PoolingState:
    """Pool ``x`` (H, W) with a ``size×size`` window; ``stride`` defaults to ``size``.

    Raises ``ValueError`` for an unknown ``kind``, a window larger than the padded input, or
    ``padding > size // 2`` (PyTorch's rule).
    """
    t = as_matrix(x, "x")
    kind = check_choice(kind, "kind", KINDS)
    size = as_int(size, "size", minimum=1)
    stride = size if stride is None else as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    (h, w) = t.shape
    oh = shapes.pool_output_size(h, size, stride, padding)
    ow = shapes.pool_output_size(w, size, stride, padding)
    pool = ops.max_pool2d if kind == "max" else ops.avg_pool2d
    output = pool(t[None, None], size, stride=stride, padding=padding)[0, 0]
    if tuple(output.shape) != (oh, ow):  # guards the two modules against drifting apart
        raise RuntimeError(f"pooling gave {tuple(output.shape)}, shapes says {(oh, ow)}")
    formulas = []
    for n, out in ((h, oh), (w, ow)) if h != w else ((h, oh),):
        text = shapes.conv_output_formula(n, size, stride, padding)
        formulas.append(text if text.endswith(f"= {out}") else f"{text} → floor {out}")
    return PoolingState(t, kind, size, stride, padding, output, "; ".join(formulas))


def _draw_pair(ax_in: Axes, ax_out: Axes, state: PoolingState, numbers: bool) -> None:
    h, w = state.x.shape
    oh, ow = state.out_shape
    cmap = "Blues" if numbers else "gray"
    p = state.padding
    if numbers and p:  # show the padding as grey, empty cells around the input
        shown = F.pad(state.x, (p, p, p, p), value=float("nan"))
        mask = torch.isfinite(shown)
        draw_matrix(
            ax_in, shown, f"input {h}×{w} (padding {p})", mask=mask, shaded=~mask, cmap=cmap
        )
    else:
        draw_matrix(ax_in, state.x, f"input {h}×{w}", cmap=cmap, annotate=numbers, lines=numbers)
    draw_matrix(
        ax_out,
        state.output,
        f"{state.kind} pool {state.size}×{state.size}, stride {state.stride}: {oh}×{ow}",
        cmap=cmap,
        annotate=numbers,
        lines=numbers,
    )


def draw_pooling(
    state: PoolingState,
    example: PoolingState | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Draw input and output of ``state`` (as images when large), then, when ``example`` is
    given, its small input with the first window outlined and its output with numbers.

    ``axes``: 2 (no example) or 4 matplotlib Axes; by default a new figure. Returns the figure.
    """
    fig, ax = new_axes(2 if example is None else 4, axes, width=2.9, height=3.0)
    big = max(state.x.shape) > ANNOTATE_LIMIT
    _draw_pair(ax[0], ax[1], state, numbers=not big)
    ax[1].set_xlabel(f"{state.params} parameters", fontsize=9)
    if example is not None:
        _draw_pair(ax[2], ax[3], example, numbers=True)
        outline(ax[2], 0, 0, example.size, example.size)
        outline(ax[3], 0, 0, 1, 1, color=SECONDARY)
        first = fmt(float(example.output[0, 0]))
        ax[3].set_xlabel(f"first window → {first}", color=SECONDARY, fontsize=9)
    return fig


def _example_for(state: PoolingState) -> PoolingState | None:
    """The numeric example pooled like ``state``; None when the window does not fit it."""
    try:
        return pooling_state(EXAMPLE, state.kind, state.size, state.stride, state.padding)
    except ValueError:
        return None


class PoolingExplorer(Explorer[PoolingState]):
    """The explorer widget; build it with :func:`pooling_explorer`.

    Controls: ``kind`` (max/avg), ``size``, ``stride``, ``padding``; outputs: ``summary``,
    ``message``, ``image``; ``state`` / ``example_state`` are the :class:`PoolingState` of the
    last valid settings for the input and for the numeric example (None when it is too small).
    """

    def __init__(self, x: torch.Tensor, kind: str, size: int, stride: int, padding: int):
        self.x = x
        self.kind = ChoiceToggleButtons(options=list(KINDS), value=kind, description="pooling")
        self.size = int_slider(size, 1, 8, "size k")
        self.stride = int_slider(stride, 1, 8, "stride s")
        self.padding = int_slider(padding, 0, 4, "padding p")
        super().__init__(
            {"kind": self.kind, "size": self.size, "stride": self.stride, "padding": self.padding},
            [self.kind, widgets.HBox([self.size, self.stride, self.padding])],
        )

    @property
    def example_state(self) -> PoolingState | None:
        """The numeric example pooled with the settings of ``state``."""
        return None if self.state is None else _example_for(self.state)

    def compute(self, **settings: Any) -> PoolingState:
        return pooling_state(self.x, **settings)

    def draw(self, state: PoolingState) -> Figure:
        return draw_pooling(state, _example_for(state))

    def readout(self, state: PoolingState) -> str:
        oh, ow = state.out_shape
        return (
            f"output <b>{oh}×{ow}</b> = {html_escape(state.formula)} &nbsp;·&nbsp; "
            f"<b>{state.params} parameters</b>: pooling has nothing to learn"
        )

    def note(self, state: PoolingState) -> str:
        if _example_for(state) is not None:
            return ""
        return html_escape(" (the 6×6 numeric example is too small for this window)")

    def describe(self, state: PoolingState) -> str:
        (h, w), (oh, ow) = state.x.shape, state.out_shape
        return (
            f"{state.kind} pool {state.size}×{state.size}, stride {state.stride}, "
            f"padding {state.padding}: {h}×{w} -> {oh}×{ow}"
        )


def pooling_explorer(
    x: object = None,
    kind: str = "max",
    size: int = 2,
    stride: int | None = None,
    padding: int = 0,
) -> PoolingExplorer:
    """Build the pooling explorer for ``x`` (H, W), by default :func:`default_image` (64×64).

    ``stride`` defaults to ``size``. Returns the container: end a notebook cell with it.
    """
    t = default_image() if x is None else as_matrix(x, "x")
    st = pooling_state(t, kind, size, stride, padding)  # reject bad arguments before building
    return PoolingExplorer(t, st.kind, st.size, st.stride, st.padding)
