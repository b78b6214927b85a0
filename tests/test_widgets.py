"""The Part I widgets without a browser: pure state on the lecture's numbers, drawings, and the
ipywidgets containers driven programmatically (slider values set, buttons clicked)."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from cnnlab import filters
from cnnlab.widgets import (
    arithmetic_explorer,
    arithmetic_state,
    correlation_step,
    correlation_stepper,
    draw_arithmetic,
    draw_correlation_step,
    draw_pooling,
    pooling_explorer,
    pooling_state,
)
from cnnlab.widgets._matrix import format_matrix, parse_matrix
from cnnlab.widgets.correlation import DEMO_X, LECTURE_X

X = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
K = [[0, 1], [2, 3]]
PNG_MAGIC = b"\x89PNG"


def _torch_corr(x: object, k: object, stride: int = 1, padding: int = 0) -> torch.Tensor:
    xt = torch.as_tensor(x, dtype=torch.float64)[None, None]
    kt = torch.as_tensor(k, dtype=torch.float64)[None, None]
    return F.conv2d(xt, kt, stride=stride, padding=padding)[0, 0]


# -- cross-correlation --------------------------------------------------------------------------
def test_correlation_steps_give_the_lecture_numbers() -> None:
    sums = [correlation_step(X, K, i).total for i in range(4)]
    assert sums == [19, 25, 37, 43]
    last = correlation_step(X, K, 3)
    assert torch.equal(last.output, _torch_corr(X, K))
    assert bool(last.filled.all())
    assert last.n_steps == 4 and (last.row, last.col) == (1, 1)


def test_correlation_step_state_details() -> None:
    st = correlation_step(X, K, 1)
    assert (st.window_rows, st.window_cols) == (range(0, 2), range(1, 3))
    assert torch.equal(st.window, torch.tensor([[1.0, 2.0], [4.0, 5.0]], dtype=torch.float64))
    assert torch.equal(st.products, torch.tensor([[0.0, 2.0], [8.0, 15.0]], dtype=torch.float64))
    assert st.filled.tolist() == [[True, True], [False, False]]
    partial = st.partial
    assert partial[0].tolist() == [19, 25] and bool(torch.isnan(partial[1]).all())
    assert st.expression == "1×0 + 2×1 + 4×2 + 5×3 = 25"


@pytest.mark.parametrize(("stride", "padding"), [(1, 1), (2, 1), (2, 0), (3, 2)])
def test_correlation_steps_with_stride_and_padding_match_torch(stride: int, padding: int) -> None:
    x = torch.arange(30.0).reshape(5, 6) - 7
    k = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    expected = _torch_corr(x, k, stride, padding)
    n = correlation_step(x, k, 0, stride=stride, padding=padding).n_steps
    assert n == expected.numel()
    for i in range(n):  # every product-sum equals PyTorch's output cell
        st = correlation_step(x, k, i, stride=stride, padding=padding)
        assert st.total == pytest.approx(float(expected[st.row, st.col]))
    assert st.padded.shape == (5 + 2 * padding, 6 + 2 * padding)
    assert torch.allclose(st.output, expected)


def test_correlation_step_errors() -> None:
    with pytest.raises(ValueError, match=r"index must be in 0\.\.3"):
        correlation_step(X, K, 4)
    with pytest.raises(ValueError, match="larger than the padded input"):
        correlation_step(K, X)
    with pytest.raises(ValueError, match="2-D"):
        correlation_step([1, 2, 3], K)
    with pytest.raises(TypeError, match="stride"):
        correlation_step(X, K, stride=1.5)


def test_parse_matrix_formats_and_errors() -> None:
    expected = [[0.0, 1.0], [2.0, 3.0]]
    for text in ("0 1\n2 3", "0, 1; 2, 3", "[[0, 1], [2, 3]]", " 0  1 \n\n 2 3 \n"):
        assert parse_matrix(text).tolist() == expected
    back = parse_matrix(format_matrix(torch.tensor([[1 / 9, -2.0]], dtype=torch.float64)))
    assert back[0].tolist() == pytest.approx([1 / 9, -2.0], rel=1e-5)
    with pytest.raises(ValueError, match="row 2 has 3 values but row 1 has 2"):
        parse_matrix("1 2\n3 4 5", "K")
    with pytest.raises(ValueError, match="'x' is not a number"):
        parse_matrix("1 x")
    with pytest.raises(ValueError, match="empty"):
        parse_matrix("  \n ")


def test_draw_correlation_step_returns_four_panels() -> None:
    fig = draw_correlation_step(correlation_step(X, K, 2, padding=1))
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert plt.get_fignums() == []  # closed in pyplot: a notebook shows the returned figure once
    assert "sum = " in fig.axes[2].get_title()


def test_correlation_stepper_buttons_slider_and_kernel_choice() -> None:
    w = correlation_stepper(LECTURE_X)
    assert isinstance(w, widgets.VBox)
    assert w.state.total == 19 and "= 19" in w.summary.value
    assert w.step.max == 3 and w.image.value[:4] == PNG_MAGIC
    w.next_button.click()
    assert w.step.value == 1 and w.state.total == 25 and "= 25" in w.summary.value
    w.step.value = 3
    assert w.state.total == 43 and "step 4 of 4" in w.summary.value
    w.next_button.click()  # stays on the last step
    assert w.step.value == 3
    w.prev_button.click()
    assert w.state.total == 37
    w.play.value = 0  # the Play widget drives the step
    assert w.step.value == 0 and w.state.total == 19

    w.padding.value = 1  # 4×4 output now: 16 steps, step kept in range
    assert w.step.max == 15 and "output 4×4" in w.summary.value
    name = next(n for n, k in filters.KERNELS.items() if tuple(k.shape) == (3, 3))
    w.kernel.value = name
    assert torch.allclose(w.state.kernel, filters.get_kernel(name).double(), atol=1e-6)
    assert w.step.max == 8 and w.message.value == ""
    w.k_text.value = "1 0\n0 -1"  # editing the kernel switches the dropdown to "custom"
    assert w.kernel.value == "custom" and w.state.kernel.tolist() == [[1, 0], [0, -1]]


def test_correlation_stepper_default_input_suits_every_kernel_on_offer() -> None:
    w = correlation_stepper()
    assert w.state.x.shape == (len(DEMO_X), len(DEMO_X[0])) == (7, 7)
    for name in filters.KERNELS:
        w.kernel.value = name
        assert w.message.value == "", (name, w.message.value)
        oh, ow = w.state.out_shape
        assert oh * ow >= 3, (name, w.state.out_shape)  # several steps to take
        # something to show: the kernel's response is not zero everywhere
        assert w.state.output.abs().max() > 0, name


def test_arithmetic_explorer_shows_every_number_it_uses() -> None:
    w = arithmetic_explorer(n=7, k=3, s=1, p=0, c_in=3, c_out=10)
    labels = [c.description for c in (w.n, w.k, w.s, w.p, w.d, w.c_in, w.c_out)]
    assert labels == [
        "n (input)", "k (kernel)", "s (stride)", "p (padding)", "d (dilation)", "C_in", "C_out"
    ]  # fmt: skip
    assert "3·3·3·10 + 10 = 280" in w.summary.value and "7×7×3" in w.summary.value
    assert "C_in=3, C_out=10" in repr(w)


def test_correlation_stepper_shows_errors_in_the_widget() -> None:
    w = correlation_stepper(X, K)
    w.k_text.value = "1 2\n3"
    assert "row 2 has 1 values" in w.message.value
    assert w.state.total == 19  # the last good state stays
    w.k_text.value = "1 1 1 1\n1 1 1 1"
    assert "larger than the padded input" in w.message.value
    w.padding.value = 1  # now the 2×4 kernel fits the 5×5 padded input
    assert w.message.value == "" and w.state.out_shape == (4, 2)
    w.x_text.value = "1 two"
    assert "'two' is not a number" in w.message.value


def test_correlation_stepper_rejects_unknown_options() -> None:
    with pytest.raises(ValueError, match="unknown kernel 'nope'.*Valid:"):
        correlation_stepper(kernel="nope")
    with pytest.raises(ValueError, match="not both"):
        correlation_stepper(K=K, kernel=next(iter(filters.KERNELS)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        correlation_stepper(X=[[1.0]], K=K)


# -- convolution arithmetic ---------------------------------------------------------------------
@pytest.mark.parametrize(("s", "p", "expected"), [(1, 0, 5), (2, 0, 3), (1, 1, 7)])
def test_arithmetic_lecture_sizes(s: int, p: int, expected: int) -> None:
    st = arithmetic_state(7, 3, s, p)
    assert st.fits and st.out_size == expected == st.floor_size
    assert st.positions == tuple(range(0, st.padded - 2, s)) and st.leftover == 0
    assert st.formula.endswith(f"= {expected}")
    out = F.conv2d(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 3, 3), stride=s, padding=p)
    assert out.shape[-1] == expected


def test_arithmetic_stride_3_does_not_fit() -> None:
    st = arithmetic_state(7, 3, 3, 0)
    assert not st.fits and st.out_size is None
    assert "2.33" in st.message and "does not fit" in st.message
    assert "2.33" in st.formula
    assert st.floor_size == 2 and st.positions == (0, 3) and st.leftover == 1  # PyTorch's floor


def test_arithmetic_params_and_dilation() -> None:
    st = arithmetic_state(32, 5, 1, 2, c_in=3, c_out=10)
    assert st.out_size == 32 and st.params == 760 == sum(
        p.numel() for p in torch.nn.Conv2d(3, 10, 5).parameters()
    )
    assert "= 760" in st.params_formula
    dil = arithmetic_state(7, 3, 1, 0, d=2)
    assert dil.span == 5 and dil.out_size == 3
    too_big = arithmetic_state(3, 5, 1, 0)
    assert not too_big.fits and too_big.floor_size == 0 and "does not fit" in too_big.message
    with pytest.raises(ValueError, match="s must be"):
        arithmetic_state(7, 3, 0)


def test_draw_arithmetic_two_panels() -> None:
    for st in (arithmetic_state(7, 3, 3, 1, d=2), arithmetic_state(3, 5)):
        fig = draw_arithmetic(st, position=st.n_windows - 1 if st.n_windows else 0)
        assert isinstance(fig, Figure) and len(fig.axes) == 2
    with pytest.raises(ValueError, match="position"):
        draw_arithmetic(arithmetic_state(7, 3), position=25)


def test_arithmetic_explorer_updates_on_slider_changes() -> None:
    w = arithmetic_explorer()
    assert "5×5×10" in w.summary.value and "✓" in w.message.value
    assert w.position.max == 24 and w.image.value[:4] == PNG_MAGIC
    w.position.value = 24
    w.s.value = 3
    assert w.state.out_size is None and w.position.max == 3 and w.position.value == 3
    assert "2.33" in w.message.value and "does not fit" in w.message.value
    w.p.value = 1
    assert "3×3×10" in w.summary.value and "✓" in w.message.value
    w.n.value, w.k.value, w.s.value, w.p.value = 32, 5, 1, 2
    assert "= 760" in w.summary.value and "32×32×10" in w.summary.value
    w.c_out.value = 6
    assert "= 456" in w.summary.value
    w.n.value, w.p.value, w.k.value = 3, 0, 11
    assert "does not fit" in w.message.value and "—" in w.summary.value


def test_arithmetic_explorer_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n must be"):
        arithmetic_explorer(n=0)
    with pytest.raises(TypeError, match="k must be an integer"):
        arithmetic_explorer(k="3")


# -- pooling ------------------------------------------------------------------------------------
def test_pooling_matches_torch_on_the_lecture_setting() -> None:
    x = torch.tensor([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    st = pooling_state(x, "max", 2, 2)
    assert st.out_shape == (2, 2) and st.params == 0
    assert torch.equal(st.output.float(), F.max_pool2d(x[None, None], 2, 2)[0, 0])
    avg = pooling_state(x, "avg", 2)
    assert torch.allclose(avg.output.float(), F.avg_pool2d(x[None, None], 2)[0, 0])
    assert avg.formula == "(4 - 2 + 2·0)/2 + 1 = 2"


def test_pooling_overlapping_padding_and_errors() -> None:
    x = torch.randn(7, 9)
    st = pooling_state(x, "max", 3, 2, 1)
    expected = F.max_pool2d(x[None, None], 3, 2, 1)[0, 0]
    assert st.out_shape == tuple(expected.shape) and torch.allclose(st.output.float(), expected)
    assert "; " in st.formula  # one formula per axis when H != W
    assert pooling_state(torch.ones(5, 5), "max", 2).formula.endswith("→ floor 2")
    with pytest.raises(ValueError, match="unknown kind 'median'.*Valid: max, avg"):
        pooling_state(x, "median")
    with pytest.raises(ValueError, match="padding"):
        pooling_state(x, "max", 2, 2, 2)


def test_draw_pooling_axes() -> None:
    big = pooling_state(torch.rand(20, 20), "avg", 2)
    small = pooling_state(torch.rand(4, 4), "max", 2)
    assert len(draw_pooling(big).axes) == 2
    assert len(draw_pooling(big, small).axes) == 4


def test_pooling_explorer_updates_and_shows_errors() -> None:
    w = pooling_explorer()
    assert w.state.x.shape == (64, 64) and "output <b>32×32</b>" in w.summary.value
    assert "0 parameters" in w.summary.value and w.image.value[:4] == PNG_MAGIC
    assert w.example_state.out_shape == (3, 3)
    w.kind.value = "avg"
    assert w.state.kind == "avg" and w.example_state.kind == "avg"
    w.size.value, w.stride.value = 3, 2
    assert "output <b>31×31</b>" in w.summary.value
    w.padding.value = 2  # more than half of a 3-wide window
    assert "padding" in w.message.value and "⚠" in w.message.value and "padding" in w.error
    assert w.state.padding == 0 and w.image.layout.display == "none"  # the last good state
    w.padding.value = 1
    assert w.state.padding == 1 and w.error is None and "⚠" not in w.message.value
    w.padding.value, w.size.value, w.stride.value = 0, 8, 8
    assert "output <b>8×8</b>" in w.summary.value and "too small" in w.message.value


def test_pooling_explorer_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown kind 'median'"):
        pooling_explorer(torch.rand(8, 8), kind="median")
    with pytest.raises(ValueError, match="2-D"):
        pooling_explorer(torch.rand(3, 8, 8))


def test_widget_text_plain_is_short_and_free_of_image_bytes() -> None:
    # nbval compares a widget cell's text/plain: it must be deterministic and readable
    cases = [
        (correlation_stepper(), "CorrelationStepper(X 7×7, K 2×2, stride 1, padding 0: "
         "step 1 of 36, sum = 0)"),
        (arithmetic_explorer(s=3), "ArithmeticExplorer(n=7, k=3, s=3, p=0, d=1, C_in=3, "
         "C_out=10: does not fit, 280 parameters)"),
        (pooling_explorer(torch.rand(8, 8)), "PoolingExplorer(max pool 2×2, stride 2, "
         "padding 0: 8×8 -> 4×4)"),
    ]  # fmt: skip
    for widget, expected in cases:
        bundle = widget._repr_mimebundle_()
        assert bundle["text/plain"] == expected
        assert "application/vnd.jupyter.widget-view+json" in bundle
    assert plt.get_fignums() == []  # every figure drawn for a widget was closed
