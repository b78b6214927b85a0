"""cnnlab.shapes against the shapes real nn.Conv2d / nn.MaxPool2d / nn.AvgPool2d produce."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import torch
from torch import nn

from cnnlab import shapes
from cnnlab.shapes import (
    conv_output_formula,
    conv_output_size,
    conv_params,
    output_shape,
    pool_output_size,
    receptive_field,
    receptive_field_steps,
    same_padding,
)

N_CASES = 250


def _torch_hw(module: nn.Module, h: int, w: int) -> tuple[int, int] | None:
    """Output H×W of a real module on a 1×1×h×w input, or None where PyTorch refuses it."""
    try:
        with torch.no_grad():
            out = module(torch.zeros(1, 1, h, w))
    except RuntimeError:
        return None
    return out.shape[-2], out.shape[-1]


@pytest.mark.parametrize("seed", range(N_CASES))
def test_conv_output_size_matches_nn_conv2d(seed: int) -> None:
    rng = random.Random(seed)
    h, w = rng.randint(1, 16), rng.randint(1, 16)
    k = (rng.randint(1, 6), rng.randint(1, 6))
    s = (rng.randint(1, 4), rng.randint(1, 4))
    p = (rng.randint(0, 3), rng.randint(0, 3))
    d = (rng.randint(1, 3), rng.randint(1, 3))
    expected = _torch_hw(nn.Conv2d(1, 1, k, s, p, d, bias=False), h, w)
    case = f"h={h} w={w} k={k} s={s} p={p} d={d} torch={expected}"
    if expected is None:
        with pytest.raises(ValueError, match="does not fit"):
            conv_output_size(h, k[0], s[0], p[0], d[0])
            conv_output_size(w, k[1], s[1], p[1], d[1])
        return
    got = (conv_output_size(h, k[0], s[0], p[0], d[0]), conv_output_size(w, k[1], s[1], p[1], d[1]))
    assert got == expected, case


@pytest.mark.parametrize("seed", range(N_CASES))
def test_pool_output_size_matches_nn_pools(seed: int) -> None:
    rng = random.Random(1000 + seed)
    h, w = rng.randint(1, 16), rng.randint(1, 16)
    k = (rng.randint(1, 5), rng.randint(1, 5))
    s = None if rng.random() < 0.25 else (rng.randint(1, 4), rng.randint(1, 4))
    # Mostly legal padding (<= k // 2), sometimes one too many to check the error.
    p = tuple(rng.randint(0, kk // 2 + (rng.random() < 0.1)) for kk in k)
    d = (rng.randint(1, 3), rng.randint(1, 3))
    ceil_mode = rng.random() < 0.5
    sizes = (s[0], s[1]) if s is not None else (None, None)
    modules = {
        "max": (nn.MaxPool2d(k, s, p, d, ceil_mode=ceil_mode), d),
        "avg": (nn.AvgPool2d(k, s, p, ceil_mode=ceil_mode), (1, 1)),
    }
    for name, (module, dil) in modules.items():
        expected = _torch_hw(module, h, w)
        case = f"{name}: h={h} w={w} k={k} s={s} p={p} d={dil} ceil={ceil_mode} torch={expected}"

        def ours(dil: tuple[int, int] = dil) -> tuple[int, int]:
            return (
                pool_output_size(h, k[0], sizes[0], p[0], dil[0], ceil_mode),
                pool_output_size(w, k[1], sizes[1], p[1], dil[1], ceil_mode),
            )

        if expected is None:
            with pytest.raises(ValueError):
                ours()
        else:
            assert ours() == expected, case


def _random_stack(rng: random.Random, channels: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["conv", "conv", "max", "avg", "relu"])
        k = rng.randint(1, 4)
        if kind == "conv":
            out = rng.randint(1, 4)
            layers.append(
                nn.Conv2d(channels, out, k, rng.randint(1, 2), rng.randint(0, 2), rng.randint(1, 2))
            )
            channels = out
        elif kind == "max":
            layers.append(
                nn.MaxPool2d(
                    k, rng.randint(1, 2), rng.randint(0, k // 2), 1, ceil_mode=rng.random() < 0.5
                )
            )
        elif kind == "avg":
            layers.append(
                nn.AvgPool2d(k, rng.randint(1, 2), rng.randint(0, k // 2), rng.random() < 0.5)
            )
        else:
            layers.append(nn.ReLU())
    return layers


@pytest.mark.parametrize("seed", range(40))
def test_output_shape_matches_a_real_stack(seed: int) -> None:
    rng = random.Random(5000 + seed)
    c, h, w = rng.randint(1, 3), rng.randint(8, 24), rng.randint(8, 24)
    stack = nn.Sequential(*_random_stack(rng, c))
    try:
        with torch.no_grad():
            expected = tuple(stack(torch.zeros(1, c, h, w)).shape[1:])
    except RuntimeError:
        with pytest.raises(ValueError, match=r"layers\[\d\]"):
            output_shape(stack, (c, h, w))
        return
    assert output_shape(stack, (c, h, w)) == expected, stack
    assert output_shape(list(stack), (h, w)) == expected[1:]


def test_lecture_output_sizes() -> None:
    assert conv_output_size(7, 3, stride=1) == 5
    assert conv_output_size(7, 3, stride=2) == 3
    assert conv_output_size(7, 3, stride=1, padding=1) == 7
    assert [same_padding(f) for f in (3, 5, 7)] == [1, 2, 3]
    # Volumes shrink without padding: 32 -> 28 -> 24 with 5×5 filters.
    assert conv_output_size(conv_output_size(32, 5), 5) == 24
    assert output_shape([(5, 1), (5, 1)], (32, 32)) == (24, 24)
    # 32×32×3, ten 5×5 filters, stride 1, pad 2 -> 32×32×10 with 760 parameters.
    layer = nn.Conv2d(3, 10, 5, stride=1, padding=2)
    assert output_shape([layer], (3, 32, 32)) == (10, 32, 32)
    assert conv_params(3, 10, 5) == 760 == sum(p.numel() for p in layer.parameters())


def test_stride_three_does_not_fit_and_shows_the_fraction() -> None:
    assert conv_output_size(7, 3, stride=3) == 2  # PyTorch floors silently
    with pytest.raises(ValueError, match=r"\(7 - 3 \+ 2·0\)/3 \+ 1 = 2\.33.*does not fit") as err:
        conv_output_size(7, 3, stride=3, exact=True)
    assert "padding 1" in str(err.value)  # the suggested fix really fits:
    assert conv_output_size(7, 3, stride=3, padding=1, exact=True) == 3
    with pytest.raises(ValueError, match=r"2\.33.*does not fit"):
        pool_output_size(7, 3, stride=3, exact=True)
    assert conv_output_size(7, 3, stride=2, exact=True) == 3


def test_conv_output_formula_text() -> None:
    assert conv_output_formula(7, 3, 1, 1) == "(7 - 3 + 2·1)/1 + 1 = 7"
    assert conv_output_formula(7, 3, 3) == "(7 - 3 + 2·0)/3 + 1 = 2.33"
    assert "spans 5" in conv_output_formula(9, 3, dilation=2)


def test_pooling_lecture_cases() -> None:
    assert pool_output_size(224, 2) == 112  # F = 2, S = 2
    assert pool_output_size(55, 3, stride=2) == 27  # AlexNet's overlapping F = 3, S = 2
    assert sum(p.numel() for p in nn.MaxPool2d(2).parameters()) == 0
    # ceil_mode: the last window must start inside the input or its left padding.
    assert pool_output_size(6, 2, 2, padding=1, ceil_mode=True) == 4
    assert _torch_hw(nn.MaxPool2d(2, 2, 1, ceil_mode=True), 6, 6) == (4, 4)
    assert pool_output_size(5, 2, 2, ceil_mode=True) == 3
    assert pool_output_size(5, 2, 2, ceil_mode=False) == 2


def test_conv_params_matches_real_layers() -> None:
    for args in [
        (3, 10, 5, True, 1),
        (16, 32, (3, 1), False, 1),
        (8, 8, 3, True, 8),
        (6, 4, 3, True, 2),
    ]:
        c_in, c_out, k, bias, groups = args
        layer = nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups)
        assert conv_params(*args) == sum(p.numel() for p in layer.parameters()), args


def test_receptive_field_of_stacked_3x3() -> None:
    assert receptive_field([(3, 1), (3, 1)]) == 5
    assert receptive_field([(3, 1)] * 3) == 7
    assert receptive_field([3, 3, 3]) == 7
    assert receptive_field([]) == 1
    c = 64  # three 3×3 layers: 27C² weights instead of one 7×7 layer's 49C²
    assert 3 * conv_params(c, c, 3, bias=False) == 27 * c * c
    assert conv_params(c, c, 7, bias=False) == 49 * c * c
    steps = receptive_field_steps([(3, 1), (2, 2), (3, 1)])
    assert [st.size for st in steps] == [(3, 3), (4, 4), (8, 8)]
    assert [st.jump for st in steps] == [(1, 1), (2, 2), (2, 2)]
    assert receptive_field([(3, 1, 2)]) == 5  # dilation 2 spreads a 3×3 kernel over 5×5
    stack = nn.Sequential(nn.Conv2d(1, 2, (3, 1)), nn.ReLU(), nn.BatchNorm2d(2), nn.MaxPool2d(2))
    assert receptive_field(stack) == (4, 2)


def _empirical_receptive_field(stack: nn.Sequential, size: int) -> tuple[int, int]:
    """Extent of the input pixels whose gradient reaches the central output unit."""
    with torch.no_grad():
        for m in stack.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)  # positive weights: no accidental cancellation
                if m.bias is not None:
                    m.bias.zero_()
    x = torch.ones(1, 1, size, size, requires_grad=True)  # positive: ReLUs pass gradient
    out = stack(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize("seed", range(12))
def test_receptive_field_equals_gradient_receptive_field(seed: int) -> None:
    rng = random.Random(9000 + seed)
    layers: list[nn.Module] = []
    channels = 1
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.7:
            out = rng.randint(1, 2)
            k = (rng.randint(1, 4), rng.randint(1, 4))
            layers.append(
                nn.Conv2d(channels, out, k, rng.randint(1, 2), dilation=rng.randint(1, 2))
            )
            channels = out
        else:  # average (not max) pooling: every pixel of the window gets gradient
            layers.append(nn.AvgPool2d(rng.randint(2, 3), rng.randint(1, 2)))
        layers.append(nn.ReLU() if rng.random() < 0.3 else nn.Identity())
    stack = nn.Sequential(*layers, nn.Conv2d(channels, 1, 1))
    predicted = receptive_field(stack)
    predicted = (predicted, predicted) if isinstance(predicted, int) else predicted
    assert _empirical_receptive_field(stack, 64) == predicted, stack


def test_two_3x3_convs_see_5x5_empirically() -> None:
    stack = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))
    assert _empirical_receptive_field(stack, 15) == (5, 5) == (receptive_field(stack),) * 2


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: conv_output_size(7, 3, stride=0), ValueError, r"stride must be an integer >= 1"),
        (lambda: conv_output_size(7, 3, stride=-1), ValueError, r"stride must be an integer >= 1"),
        (
            lambda: conv_output_size(7, 3, padding=-1),
            ValueError,
            r"padding must be an integer >= 0",
        ),
        (
            lambda: conv_output_size(7, 3, dilation=0),
            ValueError,
            r"dilation must be an integer >= 1",
        ),
        (lambda: conv_output_size(0, 3), ValueError, r"n must be an integer >= 1"),
        (
            lambda: conv_output_size(3, 5),
            ValueError,
            r"kernel_size 5 does not fit in padded input 3",
        ),
        (
            lambda: conv_output_size(3, 3, dilation=2, padding=0),
            ValueError,
            r"spans 5.*does not fit",
        ),
        (lambda: conv_output_size(7.5, 3), TypeError, r"n must be an integer"),
        (lambda: conv_output_size(7, "3"), TypeError, r"kernel_size must be an integer"),
        (lambda: conv_output_size(7, True), TypeError, r"kernel_size must be an integer"),
        (lambda: conv_output_size(7, 3, exact="yes"), TypeError, r"exact must be True or False"),
        (lambda: pool_output_size(7, 2, padding=2), ValueError, r"at most half of kernel_size"),
        (lambda: pool_output_size(7, 2, stride=0), ValueError, r"stride must be an integer >= 1"),
        (lambda: pool_output_size(2, 3), ValueError, r"does not fit"),
        (lambda: pool_output_size(7, 2, ceil_mode=None), TypeError, r"ceil_mode"),
        (lambda: conv_params(3, 10, 0), ValueError, r"kernel_size must be an integer >= 1"),
        (lambda: conv_params(3, 10, 5, groups=2), ValueError, r"groups 2 must divide"),
        (lambda: conv_params(3, 10, 5, bias=1), TypeError, r"bias must be True or False"),
        (lambda: same_padding(4), ValueError, r"kernel_size 4.*odd kernel_size"),
        (lambda: same_padding(0), ValueError, r"kernel_size must be an integer >= 1"),
        (lambda: receptive_field([nn.Linear(3, 3)]), TypeError, r"layers\[0\] is Linear"),
        (lambda: receptive_field([(3, 1, 1, 0, 9)]), TypeError, r"layers\[0\] must be a tuple"),
        (lambda: receptive_field([(3, 0)]), ValueError, r"layers\[0\] stride"),
        (lambda: receptive_field("3x3"), TypeError, r"layers must be a sequence"),
        (lambda: receptive_field([nn.AdaptiveAvgPool2d(1)]), TypeError, r"adaptive pooling"),
        (lambda: output_shape([(5, 1)], (3, 3)), ValueError, r"layers\[0\].*does not fit"),
        (lambda: output_shape([nn.Conv2d(3, 4, 3)], (1, 8, 8)), ValueError, r"expects 3 channels"),
        (lambda: output_shape([(3, 1)], (1, 2, 8, 8)), ValueError, r"input_shape must be"),
    ],
)
def test_bad_input_raises_clear_error(
    call: Callable[[], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()


def test_module_namespace_is_stable() -> None:
    for name in shapes.__all__:
        assert callable(getattr(shapes, name))


@pytest.mark.parametrize("seed", range(8))
def test_measured_receptive_field_equals_real_modules_and_formula(seed: int) -> None:
    """The 1-D all-ones measurement agrees with backpropagation through the real 2-D stack."""
    rng = random.Random(9100 + seed)
    layers: list[nn.Module] = []
    for _ in range(rng.randint(1, 4)):
        k = (rng.randint(1, 4), rng.randint(1, 4))
        layers.append(nn.Conv2d(1, 1, k, rng.randint(1, 2), dilation=rng.randint(1, 2)))
    stack = nn.Sequential(*layers)
    measured = shapes.measured_receptive_field(stack)
    pair = (measured, measured) if isinstance(measured, int) else measured
    assert pair == _empirical_receptive_field(stack, 64), stack
    assert measured == receptive_field(stack)


def test_measured_receptive_field_known_values_and_errors() -> None:
    measure = shapes.measured_receptive_field
    assert [measure([(3, 1)] * n) for n in (1, 2, 3)] == [3, 5, 7]
    assert measure([(3, 1, 2)]) == 5  # dilation 2
    assert measure([(11, 4), (3, 2)]) == 19  # AlexNet's conv1 + pool1
    assert measure(nn.Sequential(nn.Conv2d(1, 1, (3, 1)), nn.ReLU(), nn.MaxPool2d(2))) == (4, 2)
    assert measure([]) == 1
    with pytest.raises(TypeError, match="adaptive pooling"):
        measure([nn.AdaptiveAvgPool2d(1)])
    with pytest.raises(TypeError, match="Linear"):
        measure([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="kernel"):
        measure([(0, 1)])
    with pytest.raises(TypeError, match="layers must be"):
        measure(3)
