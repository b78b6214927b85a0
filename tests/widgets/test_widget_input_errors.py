"""Widgets under bad input: overflowing sums print as numbers (class 4), a control moved while
the input is invalid never steps on the stale state (class 4), and a choice control set to an
unknown value names the valid ones (class 5).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn
from traitlets import TraitError

from cnnlab import filters
from cnnlab.widgets import (
    arithmetic_explorer,
    correlation_step,
    correlation_stepper,
    draw_correlation_step,
    feature_explorer,
    pooling_explorer,
    pooling_state,
)
from cnnlab.widgets._base import InvalidChoiceError
from cnnlab.widgets._grid import draw_matrix, fmt, new_axes
from cnnlab.widgets.correlation import LECTURE_X

# --- class 4: overflowing numbers are shown, not blank --------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
        (1e300, "1e+300"),  # not a 301-digit integer
        (-2e20, "-2e+20"),
        (123456789.0, "123456789"),
        (3.0, "3"),
        (-2.5, "-2.5"),
        (1 / 3, "0.333"),
        (torch.tensor(7.0), "7"),
    ],
)
def test_fmt_prints_every_value(value: float, text: str) -> None:
    assert fmt(value) == text


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [
        ax.get_title() + " " + ax.get_xlabel() for ax in fig.axes
    ]


@pytest.mark.parametrize(
    ("X", "K", "total"),
    [
        ([[1e200, 1.0], [1.0, 1.0]], [[1e200]], "inf"),
        ([[-1e200, 1.0], [1.0, 1.0]], [[1e200]], "-inf"),
        ([[1e200, -1e200]], [[1e200, 1e200]], "nan"),  # inf + (-inf)
    ],
)
def test_overflowing_product_sum_is_printed(X: list, K: list, total: str) -> None:
    st = correlation_step(X, K, 0)
    assert st.expression.endswith(f"= {total}")
    fig = draw_correlation_step(st)
    texts = _texts(fig)
    assert any(t.endswith(f"sum = {total} ") for t in texts)  # the products panel's title
    assert total in texts  # the output cell (and products) carry the number
    w = correlation_stepper(X, K)
    assert w.error is None and f"= {total}" in w.summary.value and f"sum = {total}" in repr(w)


def test_draw_matrix_leaves_masked_cells_blank_and_numbers_the_rest() -> None:
    fig, (ax,) = new_axes(1, None)
    values = torch.tensor([[1.0, math.inf], [math.nan, -math.inf]])
    draw_matrix(ax, values, mask=torch.tensor([[True, True], [False, True]]))
    assert sorted(t.get_text() for t in ax.texts) == sorted(["1", "inf", "-inf"])


# --- class 4: no control steps on the stale state while the input is invalid ----------------


def test_stepper_buttons_and_play_do_nothing_while_the_kernel_is_invalid() -> None:
    w = correlation_stepper(LECTURE_X)  # 3×3 input, 2×2 kernel: 4 steps
    w.next_button.click()
    assert w.step.value == 1 and w.state.total == 25
    good_png, good_state = w.image.value, w.state
    w.k_text.value = "1 2\n3"  # invalid kernel text
    assert w.error is not None and w.state is good_state
    for press in (w.next_button.click, w.prev_button.click, w.next_button.click):
        press()
        assert w.step.value == 1 and w.state is good_state and w.image.value == good_png
        assert "row 2 has 1 values" in w.message.value
    w.play.playing = True
    w.play.value = 3  # a tick of the Play widget
    assert w.play.playing is False and w.play.value == 1  # stopped, put back
    assert w.step.value == 1 and w.state is good_state and w.image.value == good_png
    w.k_text.value = "0 1\n2 3"  # fixed: it goes on from where it was
    assert w.error is None and w.state.index == 1 and w.state.total == 25
    w.next_button.click()
    assert w.step.value == 2 and w.state.total == 37


def test_stepper_x_text_error_then_kernel_choice_keeps_the_banner() -> None:
    w = correlation_stepper()
    good = w.state
    w.x_text.value = "1 two"
    w.kernel.value = "sobel_x"  # a valid control change does not hide the bad X
    assert w.error == "X row 1: 'two' is not a number" and w.state is good
    w.x_text.value = "\n".join(" ".join(["1"] * 4) for _ in range(4))
    assert w.error is None and w.state.kernel.shape == (3, 3)


def test_pooling_explorer_controls_during_an_error_do_not_redraw() -> None:
    ex = pooling_explorer([[float(i + j) for j in range(6)] for i in range(6)], size=2)
    good_png, good_state = ex.image.value, ex.state
    ex.padding.value = 2  # more than size // 2: invalid
    assert ex.error is not None and "at most half" in ex.error
    ex.stride.value = 1
    ex.kind.value = "avg"
    assert ex.error is not None and ex.state is good_state and ex.image.value == good_png
    ex.size.value = 4  # padding 2 is fine for a 4×4 window
    assert ex.error is None and ex.state.kind == "avg" and ex.state.stride == 1


def test_arithmetic_position_during_an_error_does_not_redraw() -> None:
    ex = arithmetic_explorer()
    good_png, good_state = ex.image.value, ex.state
    ex.n.max = 1000
    ex.n.value = 1000  # too large to draw
    assert ex.error is not None and ex.state is good_state
    ex.position.value = ex.position.max
    assert ex.error is not None and ex.state is good_state and ex.image.value == good_png
    ex.n.value = 8
    assert ex.error is None and ex.state.n == 8


def _tiny_model() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 3, padding=1), nn.Flatten(),
        nn.Linear(32, 2),
    )  # fmt: skip
    return model, torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(0))


def test_feature_explorer_controls_during_an_error_do_not_redraw() -> None:
    model, images = _tiny_model()
    ex = feature_explorer(model, images)
    good_png, good_state = ex.image.value, ex.state
    ex.channel.max = 9
    ex.channel.value = 5  # layer '0' has 3 channels
    assert ex.error is not None and "channel must be in 0..2" in ex.error
    ex.index.value = 2
    assert ex.state is good_state and ex.image.value == good_png and ex.error is not None
    ex.layer.value = "2"  # 2 channels: the slider is clamped, the error resolved
    assert ex.error is None and ex.state.layer == "2" and ex.state.channel == 1
    assert ex.state.index == 2


# --- class 5: unknown choices name the valid ones -------------------------------------------

SMALL = [[1.0, 2.0], [3.0, 4.0]]
FACTORY_CHOICES: dict[str, tuple[Callable[[], object], str]] = {
    "correlation_stepper kernel": (lambda: correlation_stepper(kernel="sobl"), "sobel_x"),
    "pooling_explorer kind": (lambda: pooling_explorer(SMALL, kind="maxx"), "max"),
    "pooling_state kind": (lambda: pooling_state([[1.0]], kind="mean"), "avg"),
    "feature_explorer layer": (lambda: feature_explorer(*_tiny_model(), layer="conv9"), "0, 2"),
}  # fmt: skip


@pytest.mark.parametrize("name", FACTORY_CHOICES)
def test_factories_name_the_valid_choices(name: str) -> None:
    call, valid = FACTORY_CHOICES[name]
    with pytest.raises(ValueError, match=r"unknown \w+ '\w+'\..*Valid: .*" + valid):
        call()


def _controls() -> dict[str, tuple[object, str, str]]:
    model, images = _tiny_model()
    return {
        "stepper kernel": (correlation_stepper().kernel, "sobl", "Did you mean .*'sobel_x'"),
        "pooling kind": (pooling_explorer(SMALL).kind, "maxx", "max, avg"),
        "feature layer": (feature_explorer(model, images).layer, "conv9", "Valid: 0, 2"),
    }


@pytest.mark.parametrize("name", ["stepper kernel", "pooling kind", "feature layer"])
def test_choice_controls_set_to_unknown_values_name_the_valid_ones(name: str) -> None:
    control, bad, hint = _controls()[name]
    before = control.value
    with pytest.raises(InvalidChoiceError, match=rf"unknown \w+ '{bad}'\..*{hint}") as err:
        control.value = bad
    assert isinstance(err.value, ValueError) and isinstance(err.value, TraitError)
    assert control.value == before  # unchanged, the widget still consistent


def test_every_named_kernel_is_still_selectable() -> None:
    w = correlation_stepper()
    for name in filters.KERNELS:
        if max(filters.get_kernel(name).shape) <= 3:
            w.kernel.value = name
            assert w.kernel.value == name and w.error is None
