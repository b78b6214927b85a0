"""Gradient-flow explorer: depth, activation, initialisation and batch norm against the
gradient norm of every layer of a deep plain CNN at initialisation.

* :func:`gradient_flow_state` — the state: ``build_deep_plain`` with these settings (seeded),
  one forward and backward pass on a fixed batch of digits, the norm of each conv layer's
  weight gradient (:func:`cnnlab.gradients.grad_norm_profile`);
* :func:`draw_gradient_flow` — the norms against the layer, on a log scale;
* :func:`gradient_flow_explorer` — the ipywidgets container.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnlab._validate import as_int, check_choice
from cnnlab.widgets._base import ChoiceToggleButtons, Explorer, check_state, int_slider

MAX_DEPTH = 60
WIDTH = 16
BATCH = 32


@dataclass(frozen=True)
class GradientFlowState:
    """``norms[l]``: ‖∂loss/∂W‖ of conv layer l + 1 at initialisation (first layer first)."""

    depth: int
    activation: str
    init: str
    batch_norm: bool
    norms: tuple[float, ...]

    @property
    def ratio(self) -> float:
        """First layer's norm over the last layer's (≪ 1: the gradient vanishes on its way)."""
        return self.norms[0] / self.norms[-1] if self.norms[-1] > 0 else math.nan


@functools.cache
def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    from cnnlab.data import load_dataset

    data = load_dataset("digits", "train", n=BATCH, size=8)
    return data.images, data.labels


def gradient_flow_state(
    depth: int = 20,
    activation: str = "sigmoid",
    init: str = "default",
    batch_norm: bool = False,
    *,
    seed: int = 0,
) -> GradientFlowState:
    """The per-layer gradient norms of a fresh ``build_deep_plain`` (width 16) on 32 digits.

    Raises ``ValueError`` for a depth outside 1..60 or an unknown activation or init."""
    from cnnlab.gradients import grad_norm_profile
    from cnnlab.models.deep_plain import ACTIVATIONS, INITS, build_deep_plain

    depth = as_int(depth, "depth", minimum=1)
    if depth > MAX_DEPTH:
        raise ValueError(f"depth {depth} is more than this explorer draws (at most {MAX_DEPTH})")
    activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
    init = check_choice(init, "init", INITS)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    seed = as_int(seed, "seed", minimum=0)
    images, labels = _batch()
    with torch.random.fork_rng(devices=[]):  # the notebook's random state is left alone
        torch.manual_seed(seed)
        model = build_deep_plain(
            depth=depth, width=WIDTH, activation=activation, init=init,
            batch_norm=bool(batch_norm), in_channels=1,
        )  # fmt: skip
    norms = grad_norm_profile(model, images, labels)
    return GradientFlowState(depth, activation, init, bool(batch_norm), tuple(norms))


def draw_gradient_flow(state: GradientFlowState) -> Figure:
    """Gradient norm per layer, log scale; the sigmoid's 0.25-per-layer bound for reference."""
    check_state(state, GradientFlowState, "gradient_flow_state")
    fig = plt.figure(figsize=(6.5, 3.2))
    plt.close(fig)  # drawing and saving still work; pyplot will not show it a second time
    ax = fig.subplots()
    layers = range(1, state.depth + 1)
    bn = " + BN" if state.batch_norm else ""
    ax.semilogy(layers, state.norms, "o-", ms=3, label=f"{state.activation}, {state.init}{bn}")
    ax.set_xlabel("conv layer (1 = nearest the input)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers
    ax.set_ylabel("‖∂loss/∂W‖")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(f"{state.depth} layers: first/last = {state.ratio:.1e}", fontsize=10)
    fig.tight_layout()
    return fig


class GradientFlowExplorer(Explorer[GradientFlowState]):
    """The explorer widget; build it with :func:`gradient_flow_explorer`."""

    def __init__(self, state: GradientFlowState) -> None:
        from cnnlab.models.deep_plain import ACTIVATIONS, INITS

        self.depth = int_slider(state.depth, min(2, state.depth), MAX_DEPTH, "depth")
        self.activation = ChoiceToggleButtons(
            options=list(ACTIVATIONS), value=state.activation, description="activation"
        )
        self.init = ChoiceToggleButtons(options=list(INITS), value=state.init, description="init")
        self.batch_norm = widgets.Checkbox(value=state.batch_norm, description="batch norm")
        controls = {
            "depth": self.depth,
            "activation": self.activation,
            "init": self.init,
            "batch_norm": self.batch_norm,
        }
        rows = [widgets.HBox([self.depth, self.batch_norm]), self.activation, self.init]
        super().__init__(controls, rows)

    def compute(self, **values: Any) -> GradientFlowState:
        return gradient_flow_state(**values)

    def draw(self, state: GradientFlowState) -> Figure:
        return draw_gradient_flow(state)

    def readout(self, state: GradientFlowState) -> str:
        return (
            f"first layer {state.norms[0]:.2e}, last layer {state.norms[-1]:.2e}: the first "
            f"layer gets <b>{state.ratio:.1e}</b>× the last layer's gradient"
        )

    def describe(self, state: GradientFlowState) -> str:
        bn = ", batch norm" if state.batch_norm else ""
        return (
            f"depth={state.depth}, {state.activation}, {state.init}{bn}: first/last "
            f"= {state.ratio:.1e}"
        )


def gradient_flow_explorer(
    depth: int = 20, activation: str = "sigmoid", init: str = "default", batch_norm: bool = False
) -> GradientFlowExplorer:
    """Build the explorer (arguments as :func:`gradient_flow_state`); end a cell with it."""
    return GradientFlowExplorer(gradient_flow_state(depth, activation, init, batch_norm))
