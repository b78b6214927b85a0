"""Convolution-arithmetic explorer: input size, kernel, stride, padding, dilation -> output size.

Notation (the course's, stated in notebook 1): ``n`` input size along one axis, ``k`` kernel
size, ``s`` stride, ``p`` padding, ``d`` dilation, ``C_in``/``C_out`` input/output channels (the
number of filters is ``C_out``).

* :func:`arithmetic_state` — pure state (output size or why there is none, window positions,
  parameter count, the formulas with numbers), computed with :mod:`cnnlab.shapes`;
* :func:`draw_arithmetic` — a static figure: the padded grid with its window positions, and the
  output grid;
* :func:`arithmetic_explorer` — the ipywidgets container with sliders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlab import shapes
from cnnlab._limits import check_memory
from cnnlab._validate import as_int
from cnnlab.widgets._base import Explorer, int_slider, status_html
from cnnlab.widgets._grid import HIGHLIGHT, SECONDARY, draw_matrix, html_escape, new_axes, outline

_MISFIT = "#de2d26"  # input cells no window reaches
#: the largest padded input drawn, cells per side (a grid of every cell and window origin)
DRAW_LIMIT = 256
_BYTES_PER_POSITION = 40  # a Python int in the ``positions`` tuple, with its slot


@dataclass(frozen=True)
class ArithmeticState:
    """Shape arithmetic of one square conv layer along one spatial axis.

    ``span = d(k - 1) + 1`` input cells under one (dilated) window; ``padded = n + 2p``.
    ``out_size`` is the exact output size ``(n - k + 2p)/s + 1`` when the windows tile the padded
    input exactly, else None; ``floor_size`` is what PyTorch computes anyway (the floor; 0 when
    the filter is larger than the padded input). ``positions`` are the window origins along the
    axis in padded coordinates (``floor_size`` of them; the 2-D origins are their product);
    ``leftover`` the cells at the end no window reaches. ``params = k·k·c_in·c_out + c_out``.
    """

    n: int
    k: int
    s: int
    p: int
    d: int
    c_in: int
    c_out: int
    span: int
    padded: int
    out_size: int | None
    floor_size: int
    fits: bool
    message: str
    positions: tuple[int, ...]
    leftover: int
    params: int
    formula: str
    params_formula: str

    @property
    def n_windows(self) -> int:
        """Number of 2-D window positions (``floor_size ** 2``)."""
        return self.floor_size**2


def arithmetic_state(
    n: int, k: int, s: int = 1, p: int = 0, d: int = 1, c_in: int = 3, c_out: int = 10
) -> ArithmeticState:
    """Arithmetic of an ``n×n×c_in`` input through ``c_out`` ``k×k`` filters (stride, padding,
    dilation ``s``, ``p``, ``d``).

    A filter that does not fit gives ``fits=False`` and the reason in ``message`` rather than an
    exception (7, 3, stride 3: ``"… = 2.33: the filter does not fit …"``); arguments of the wrong
    type or below their minimum raise ``TypeError``/``ValueError``.
    """
    n = as_int(n, "n", minimum=1)
    k = as_int(k, "k", minimum=1)
    s = as_int(s, "s", minimum=1)
    p = as_int(p, "p", minimum=0)
    d = as_int(d, "d", minimum=1)
    c_in = as_int(c_in, "c_in", minimum=1)
    c_out = as_int(c_out, "c_out", minimum=1)
    span = d * (k - 1) + 1
    padded = n + 2 * p
    formula = "(n − k + 2p)/s + 1 = " + shapes.conv_output_formula(n, k, s, p, d)
    params = shapes.conv_params(c_in, c_out, k)
    params_formula = f"k·k·C_in·C_out + C_out = {k}·{k}·{c_in}·{c_out} + {c_out} = {params:,}"
    try:
        floor_size = shapes.conv_output_size(n, k, stride=s, padding=p, dilation=d)
    except ValueError as err:  # the filter is larger than the padded input
        return ArithmeticState(
            n, k, s, p, d, c_in, c_out, span, padded, None, 0, False, str(err), (), padded,
            params, formula, params_formula,
        )  # fmt: skip
    check_memory(
        floor_size * _BYTES_PER_POSITION,
        f"the {floor_size:,} window positions of an input of {n:,}",
        "use cnnlab.shapes.conv_output_size for the size alone",
    )
    try:
        out_size: int | None = shapes.conv_output_size(
            n, k, stride=s, padding=p, dilation=d, exact=True
        )
        message = (
            f"output {out_size}×{out_size}×{c_out}: {out_size}×{out_size} window positions "
            f"tile the padded {padded}×{padded} input exactly"
        )
    except ValueError as err:
        out_size = None
        message = f"{err}. PyTorch floors it to {floor_size}×{floor_size}."
    positions = tuple(i * s for i in range(floor_size))
    leftover = padded - (positions[-1] + span)
    return ArithmeticState(
        n, k, s, p, d, c_in, c_out, span, padded, out_size, floor_size, out_size is not None,
        message, positions, leftover, params, formula, params_formula,
    )  # fmt: skip


def check_drawable(state: ArithmeticState) -> None:
    """Raise ``ValueError`` when the padded input has more than :data:`DRAW_LIMIT` cells a side.

    The figure draws every cell and window origin: 10⁶ cells a side would be a 10¹²-cell grid.
    """
    if state.padded > DRAW_LIMIT:
        raise ValueError(
            f"the padded input {state.padded}×{state.padded} (n + 2p = {state.n} + 2·{state.p}) "
            f"is too large to draw: at most {DRAW_LIMIT}×{DRAW_LIMIT}. The arithmetic still "
            f"holds: {state.formula}"
        )


def draw_arithmetic(
    state: ArithmeticState, position: int = 0, axes: Sequence[Axes] | None = None
) -> Figure:
    """Draw the padded input (padding grey, unreachable cells red, window origins as dots, window
    ``position`` (row-major) outlined with its taps filled) and the output grid.

    ``axes``: two matplotlib Axes to draw into; by default a new figure. Returns the figure.
    """
    check_drawable(state)
    position = as_int(position, "position", minimum=0)
    if state.n_windows and position >= state.n_windows:
        raise ValueError(f"position must be in 0..{state.n_windows - 1}, got {position}")
    fig, (ax_in, ax_out) = new_axes(2, axes, width=3.6, height=3.8)
    size, p = state.padded, state.p
    shaded = torch.ones(size, size, dtype=torch.bool)
    shaded[p : p + state.n, p : p + state.n] = False
    draw_matrix(
        ax_in, torch.zeros(size, size), f"input {state.n}×{state.n}, padding {p}, "
        f"stride {state.s}", shaded=shaded, cmap="Greys", vmin=0, vmax=1, annotate=False,
    )  # fmt: skip
    if state.leftover and state.floor_size:
        reach = size - state.leftover  # cells [reach, size) are never under a window
        missed = np.full((size, size), np.nan)
        missed[reach:, :] = 1.0
        missed[:, reach:] = 1.0
        ax_in.imshow(missed, cmap=ListedColormap([_MISFIT]), alpha=0.35, vmin=0, vmax=1)
    if state.floor_size:
        origins = np.array(state.positions)
        rows, cols = np.meshgrid(origins, origins, indexing="ij")
        ax_in.scatter(
            cols.ravel(), rows.ravel(), s=max(4, 60 - 2 * size), color=SECONDARY, zorder=3
        )
        row, col = divmod(position, state.floor_size)
        top, left = state.positions[row], state.positions[col]
        for i in range(state.k):  # the taps of a dilated filter are d cells apart
            for j in range(state.k):
                ax_in.add_patch(
                    Rectangle(
                        (left + j * state.d - 0.5, top + i * state.d - 0.5),
                        1,
                        1,
                        color=HIGHLIGHT,
                        alpha=0.35,
                        zorder=2,
                    )
                )
        outline(ax_in, top, left, state.span, state.span)
        o = state.floor_size
        title = f"output {o}×{o}" + ("" if state.fits else " (floored)")
        draw_matrix(ax_out, torch.zeros(o, o), title, cmap="Greens", vmin=0, vmax=1, annotate=False)
        outline(ax_out, row, col, 1, 1, color=SECONDARY)
    else:
        ax_out.set_axis_off()
        ax_out.text(
            0.5,
            0.5,
            "no output:\nthe filter is larger\nthan the padded input",
            ha="center",
            va="center",
            color=_MISFIT,
            transform=ax_out.transAxes,
        )
    ax_in.set_xlabel(
        f"kernel {state.k}×{state.k}"
        + (f", dilation {state.d} (spans {state.span})" if state.d > 1 else ""),
        fontsize=9,
    )
    return fig


class ArithmeticExplorer(Explorer[ArithmeticState]):
    """The explorer widget; build it with :func:`arithmetic_explorer`.

    Controls: ``n``, ``k``, ``s``, ``p``, ``d`` (sliders), ``c_in``, ``c_out`` (number boxes),
    ``position`` (which window to outline); outputs: ``summary`` (formulas), ``message`` (fits
    or why not), ``image``; ``state`` is the current :class:`ArithmeticState`.
    """

    def __init__(self, n: int, k: int, s: int, p: int, d: int, c_in: int, c_out: int):
        self.n = int_slider(n, 1, 32, "n (input)")
        self.k = int_slider(k, 1, 11, "k (kernel)")
        self.s = int_slider(s, 1, 6, "s (stride)")
        self.p = int_slider(p, 0, 6, "p (padding)")
        self.d = int_slider(d, 1, 4, "d (dilation)")
        self.c_in, self.c_out = (
            widgets.BoundedIntText(value=c, min=1, max=max(4096, c), description=name)
            for c, name in ((c_in, "C_in"), (c_out, "C_out"))
        )
        self.position = int_slider(0, 0, 0, "window")  # its range follows the state (sync)
        controls = {"n": self.n, "k": self.k, "s": self.s, "p": self.p, "d": self.d}
        super().__init__(
            {**controls, "c_in": self.c_in, "c_out": self.c_out},
            [
                widgets.HBox(
                    [
                        widgets.VBox(list(controls.values())),
                        widgets.VBox([self.c_in, self.c_out, self.position]),
                    ]
                )
            ],
            linked=[self.position],  # only redraws: the state does not depend on it
        )

    def compute(self, **values: int) -> ArithmeticState:
        return arithmetic_state(**values)

    def sync(self, state: ArithmeticState) -> None:
        # the number of windows changes with the settings; keep the position valid
        self.position.max = max(state.n_windows - 1, 0)

    def draw(self, state: ArithmeticState) -> Figure:
        return draw_arithmetic(state, self.position.value)

    def readout(self, state: ArithmeticState) -> str:
        out = (
            "—" if not state.floor_size else f"{state.floor_size}×{state.floor_size}×{state.c_out}"
        )
        return (
            f"{html_escape(state.formula)}<br>"
            f"output volume: {state.n}×{state.n}×{state.c_in} → <b>{out}</b><br>"
            f"parameters: {html_escape(state.params_formula)}"
        )

    def note(self, state: ArithmeticState) -> str:
        return status_html(state.message, ok=state.fits)

    def describe(self, state: ArithmeticState) -> str:
        result = f"output {state.out_size}×{state.out_size}" if state.fits else "does not fit"
        return (
            f"n={state.n}, k={state.k}, s={state.s}, p={state.p}, d={state.d}, "
            f"C_in={state.c_in}, C_out={state.c_out}: {result}, {state.params:,} parameters"
        )


def arithmetic_explorer(
    n: int = 7, k: int = 3, s: int = 1, p: int = 0, d: int = 1, c_in: int = 3, c_out: int = 10
) -> ArithmeticExplorer:
    """Build the explorer: sliders for n, k, s, p and d, boxes for C_in and C_out.

    Shows the padded grid and the window positions, the output size formula with numbers, the
    parameter count and a clear message when the filter does not fit. Returns the container.
    """
    check_drawable(arithmetic_state(n, k, s, p, d, c_in, c_out))  # reject before building
    return ArithmeticExplorer(n, k, s, p, d, c_in, c_out)
