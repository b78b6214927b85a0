"""Cross-correlation stepper: slide a kernel over an input and watch each product-sum.

Three layers, so that the logic is testable without a browser:

* :func:`correlation_step` — pure state of one step (the window, the products, their sum and
  the output filled so far), computed with :mod:`cnnlab.ops`;
* :func:`draw_correlation_step` — a static matplotlib figure of that state (widget, handouts);
* :func:`correlation_stepper` — the ipywidgets container (controls + picture) for notebooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlab import filters, ops, shapes
from cnnlab._validate import as_int, check_choice
from cnnlab.widgets._base import ChoiceDropdown, Explorer, int_slider
from cnnlab.widgets._grid import (
    HIGHLIGHT,
    SECONDARY,
    draw_matrix,
    fmt,
    html_escape,
    new_axes,
    outline,
)
from cnnlab.widgets._matrix import as_matrix, format_matrix, parse_matrix

#: the lecture's example: correlating X with K gives [[19, 25], [37, 43]]
LECTURE_X = ((0.0, 1.0, 2.0), (3.0, 4.0, 5.0), (6.0, 7.0, 8.0))
LECTURE_K = ((0.0, 1.0), (2.0, 3.0))

#: the stepper's default input: a 7×7 picture of a bright 3×4 block on a dark ground, so that
#: every kernel on offer (up to the 5×5 Gaussian) has at least 3×3 positions and edges to find
DEMO_X = tuple(
    tuple(9.0 if 2 <= i <= 4 and 1 <= j <= 4 else 0.0 for j in range(7)) for i in range(7)
)

CUSTOM = "custom"


@dataclass(frozen=True, eq=False)
class StepState:
    """One step of a 2-D cross-correlation.

    ``x`` (H, W) is the input, ``padded`` (H + 2P, W + 2P) the zero-padded input the window
    slides over, ``kernel`` (kh, kw). Step ``index`` (row-major, ``0 <= index < n_steps``)
    computes output cell ``(row, col)`` from the window whose top-left corner is ``(top, left)``
    in padded coordinates: ``products = window * kernel`` (kh, kw) and ``total`` their sum.
    ``output`` (oh, ow) is the whole result (from :func:`cnnlab.ops.conv2d`), ``filled`` (oh, ow)
    marks the cells computed up to and including this step.
    """

    x: torch.Tensor
    kernel: torch.Tensor
    padded: torch.Tensor
    stride: int
    padding: int
    index: int
    n_steps: int
    row: int
    col: int
    top: int
    left: int
    window: torch.Tensor
    products: torch.Tensor
    total: float
    output: torch.Tensor
    filled: torch.Tensor

    @property
    def window_rows(self) -> range:
        """Rows of ``padded`` under the window."""
        return range(self.top, self.top + self.kernel.shape[0])

    @property
    def window_cols(self) -> range:
        """Columns of ``padded`` under the window."""
        return range(self.left, self.left + self.kernel.shape[1])

    @property
    def out_shape(self) -> tuple[int, int]:
        """Output shape (oh, ow)."""
        return int(self.output.shape[0]), int(self.output.shape[1])

    @property
    def partial(self) -> torch.Tensor:
        """The output (oh, ow) with cells not computed yet set to NaN."""
        return torch.where(self.filled, self.output, torch.full_like(self.output, float("nan")))

    @property
    def expression(self) -> str:
        """The product-sum written out, e.g. ``"0×0 + 1×1 + 3×2 + 4×3 = 19"``.

        Kernels with more than 9 entries are abbreviated to ``"sum of 25 products = …"``.
        """
        if self.kernel.numel() > 9:
            return f"sum of {self.kernel.numel()} products = {fmt(self.total)}"
        terms = [
            f"{fmt(a)}×{fmt(b)}" if b >= 0 else f"{fmt(a)}×({fmt(b)})"
            for a, b in zip(
                self.window.flatten().tolist(), self.kernel.flatten().tolist(), strict=True
            )
        ]
        return f"{' + '.join(terms)} = {fmt(self.total)}"


def correlation_step(
    X: object, K: object, index: int = 0, *, stride: int = 1, padding: int = 0
) -> StepState:
    """State of step ``index`` of correlating ``X`` (H, W) with ``K`` (kh, kw).

    ``X`` and ``K`` may be tensors, arrays or nested lists. Steps run row-major over the output
    of shape ``((H + 2P - kh) // S + 1, (W + 2P - kw) // S + 1)``. Raises ``ValueError`` when the
    kernel is larger than the padded input or ``index`` is out of range.
    """
    x = as_matrix(X, "X")
    k = as_matrix(K, "K")
    stride = as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    index = as_int(index, "index", minimum=0)
    (h, w), (kh, kw) = x.shape, k.shape
    if kh > h + 2 * padding or kw > w + 2 * padding:
        raise ValueError(
            f"kernel {kh}×{kw} is larger than the padded input {h + 2 * padding}×"
            f"{w + 2 * padding}: use a smaller kernel, a larger input or more padding"
        )
    oh = shapes.conv_output_size(h, kh, stride=stride, padding=padding)
    ow = shapes.conv_output_size(w, kw, stride=stride, padding=padding)
    if index >= oh * ow:
        raise ValueError(f"index must be in 0..{oh * ow - 1} for a {oh}×{ow} output, got {index}")
    output = ops.conv2d(x[None, None], k[None, None], stride=stride, padding=padding)[0, 0]
    padded = F.pad(x, (padding, padding, padding, padding))
    row, col = divmod(index, ow)
    top, left = row * stride, col * stride
    window = padded[top : top + kh, left : left + kw]
    products = window * k
    filled = torch.zeros(oh * ow, dtype=torch.bool)
    filled[: index + 1] = True
    return StepState(
        x=x,
        kernel=k,
        padded=padded,
        stride=stride,
        padding=padding,
        index=index,
        n_steps=oh * ow,
        row=row,
        col=col,
        top=top,
        left=left,
        window=window,
        products=products,
        total=float(products.sum()),
        output=output,
        filled=filled.view(oh, ow),
    )


def draw_correlation_step(state: StepState, axes: Sequence[Axes] | None = None) -> Figure:
    """Draw one step as four panels: padded input with the window, kernel, products, output.

    ``axes``: four matplotlib Axes to draw into; by default a new figure (not registered with
    pyplot, so nothing to close). Returns the figure.
    """
    fig, (ax_x, ax_k, ax_p, ax_y) = new_axes(4, axes)
    p = state.padding
    shaded = torch.ones_like(state.padded, dtype=torch.bool)
    shaded[p : p + state.x.shape[0], p : p + state.x.shape[1]] = False
    title = "input X" + (f" (padding {p})" if p else "")
    draw_matrix(ax_x, state.padded, title, shaded=shaded)
    kh, kw = state.kernel.shape
    outline(ax_x, state.top, state.left, kh, kw)
    draw_matrix(ax_k, state.kernel, "kernel K", cmap="Oranges")
    draw_matrix(ax_p, state.products, f"window ⊙ K: sum = {fmt(state.total)}", cmap="Oranges")
    outline(ax_p, 0, 0, kh, kw)
    oh, ow = state.out_shape
    draw_matrix(
        ax_y,
        state.output,
        f"output Y ({oh}×{ow}), step {state.index + 1}/{state.n_steps}",
        mask=state.filled,
        cmap="Greens",
    )
    outline(ax_y, state.row, state.col, 1, 1, color=SECONDARY)
    ax_x.set_xlabel(
        f"window rows {state.top}–{state.top + kh - 1}, cols {state.left}–{state.left + kw - 1}",
        color=HIGHLIGHT,
        fontsize=9,
    )
    ax_y.set_xlabel(
        f"Y[{state.row}, {state.col}] = {fmt(state.total)}", color=SECONDARY, fontsize=9
    )
    return fig


class CorrelationStepper(Explorer[StepState]):
    """The stepper widget; build it with :func:`correlation_stepper`.

    Attributes hold its controls (``x_text``, ``k_text``, ``kernel``, ``stride``, ``padding``,
    ``step``, ``prev_button``, ``next_button``, ``play``), its outputs (``summary``, ``message``,
    ``image``) and ``state``, the :class:`StepState` of the last valid inputs.
    """

    def __init__(self, X: torch.Tensor, K: torch.Tensor, kernel: str, stride: int, padding: int):
        self.kernel = ChoiceDropdown(
            options=[CUSTOM, *filters.KERNELS], value=kernel, description="kernel"
        )
        self.x_text, self.k_text = (
            widgets.Textarea(
                value=format_matrix(m),
                description=name,
                continuous_update=False,
                layout=widgets.Layout(width="240px", height="110px"),
            )
            for m, name in ((X, "X"), (K, "K"))
        )
        self.stride = int_slider(stride, 1, 3, "stride")
        self.padding = int_slider(padding, 0, 2, "padding")
        self.step = int_slider(0, 0, 0, "step")  # its range follows the inputs (sync)
        self.prev_button = widgets.Button(description="◀ prev", layout=widgets.Layout(width="80px"))
        self.next_button = widgets.Button(description="next ▶", layout=widgets.Layout(width="80px"))
        self.play = widgets.Play(value=0, min=0, max=0, interval=900, description="play")
        self.prev_button.on_click(lambda _: self._move(-1))
        self.next_button.on_click(lambda _: self._move(+1))
        settings = widgets.VBox([self.kernel, self.stride, self.padding])
        super().__init__(
            {
                "x_text": self.x_text,
                "k_text": self.k_text,
                "kernel": self.kernel,
                "stride": self.stride,
                "padding": self.padding,
                "step": self.step,
            },
            [
                widgets.HBox([self.x_text, self.k_text, settings]),
                widgets.HBox([self.prev_button, self.step, self.next_button, self.play]),
            ],
            linked=[self.play],
        )

    def compute(  # type: ignore[override]
        self, x_text: str, k_text: str, kernel: str, stride: int, padding: int, step: int
    ) -> StepState:
        """Parse the typed matrices (a named kernel exactly) and compute step ``step``."""
        x = parse_matrix(x_text, "X")
        k = (
            parse_matrix(k_text, "K")
            if kernel == CUSTOM
            else filters.get_kernel(kernel, torch.float64)
        )
        # the number of steps depends on the inputs: keep the step in range
        last = correlation_step(x, k, 0, stride=stride, padding=padding).n_steps - 1
        return correlation_step(x, k, min(step, last), stride=stride, padding=padding)

    def on_change(self, control: widgets.ValueWidget) -> None:
        if control is self.kernel and self.kernel.value != CUSTOM:
            self.k_text.value = format_matrix(filters.get_kernel(self.kernel.value, torch.float64))
        elif control is self.k_text:  # a hand-edited kernel is no longer the named one
            self.kernel.value = CUSTOM
        elif control is self.play:
            if self.error is not None:
                # the step range belongs to the stale state: stop playing, do not advance
                self.play.playing = False
                if self.play.has_trait("_playing"):  # ipywidgets 7 (Colab's) syncs `_playing`
                    self.play._playing = False
                self.play.value = self.step.value
            else:
                self.step.value = self.play.value

    def sync(self, state: StepState) -> None:
        self.step.max = self.play.max = state.n_steps - 1
        self.step.value = self.play.value = state.index

    def draw(self, state: StepState) -> Figure:
        return draw_correlation_step(state)

    def readout(self, state: StepState) -> str:
        oh, ow = state.out_shape
        return (
            f"step {state.index + 1} of {state.n_steps}: Y[{state.row}, {state.col}] = "
            f"{html_escape(state.expression)} &nbsp;·&nbsp; output {oh}×{ow}"
        )

    def describe(self, state: StepState) -> str:
        return (
            f"X {state.x.shape[0]}×{state.x.shape[1]}, K {state.kernel.shape[0]}×"
            f"{state.kernel.shape[1]}, stride {state.stride}, padding {state.padding}: step "
            f"{state.index + 1} of {state.n_steps}, sum = {fmt(state.total)}"
        )

    def _move(self, delta: int) -> None:
        if self.error is not None:  # the step range belongs to the stale state: stay put
            return
        self.step.value = min(max(self.step.value + delta, self.step.min), self.step.max)


def correlation_stepper(
    X: object = None,
    K: object = None,
    kernel: str | None = None,
    *,
    stride: int = 1,
    padding: int = 0,
) -> CorrelationStepper:
    """Build the cross-correlation stepper for ``X`` (H, W) and a kernel (kh, kw).

    The kernel is ``K`` when given, else the named ``kernel`` from :data:`cnnlab.filters.KERNELS`,
    else the lecture's ``[[0, 1], [2, 3]]``; ``X`` defaults to :data:`DEMO_X`, a 7×7 picture of a
    bright block (pass ``LECTURE_X`` for the lecture's 3×3 example, whose four steps give 19, 25,
    37, 43). Both stay editable in the widget; typing errors are shown in it. Returns the
    container: end a notebook cell with it to display it.
    """
    if K is not None and kernel is not None:
        raise ValueError("give either K (a matrix) or kernel (a name), not both")
    x = as_matrix(DEMO_X if X is None else X, "X")
    if kernel is not None:
        kernel = check_choice(kernel, "kernel", filters.KERNELS)
        k = filters.get_kernel(kernel, torch.float64)
    else:
        k = as_matrix(LECTURE_K if K is None else K, "K")
    stride = as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    correlation_step(x, k, 0, stride=stride, padding=padding)  # reject an impossible start
    return CorrelationStepper(x, k, kernel or CUSTOM, stride, padding)
