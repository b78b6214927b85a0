"""cnnlab.ops against torch.nn.functional: forward and backward on random cases, and errors."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from scipy.signal import convolve2d as scipy_convolve2d
from torch import nn
from torch.testing import assert_close

from cnnlab import ops

N_CASES = 220
F64 = torch.float64


def _maybe_pair(rng: random.Random, low: int, high: int) -> int | tuple[int, int]:
    if rng.random() < 0.3:
        return rng.randint(low, high), rng.randint(low, high)
    return rng.randint(low, high)


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else v


def _random_tensor(shape: tuple[int, ...], seed: int, noncontiguous: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if noncontiguous:  # same values, transposed memory layout
        flipped = torch.randn(*shape[:-2], shape[-1], shape[-2], generator=g, dtype=F64)
        return flipped.transpose(-1, -2)
    return torch.randn(*shape, generator=g, dtype=F64)


def _conv_case(seed: int) -> dict:
    """A random valid conv2d configuration (the kernel fits the padded input)."""
    rng = random.Random(seed)
    while True:
        groups = rng.choice([1, 1, 1, 2, 3])
        c_in, c_out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        h, w = rng.randint(1, 10), rng.randint(1, 10)
        kh, kw = rng.randint(1, 4), rng.randint(1, 4)
        stride, dilation = _maybe_pair(rng, 1, 3), _maybe_pair(rng, 1, 3)
        padding: object = _maybe_pair(rng, 0, 2)
        if rng.random() < 0.15:
            padding = "valid"
        elif rng.random() < 0.15:
            padding, stride = "same", 1
        pads = (0, 0) if isinstance(padding, str) else _pair(padding)
        d = _pair(dilation)
        if padding != "same" and (
            d[0] * (kh - 1) + 1 > h + 2 * pads[0] or d[1] * (kw - 1) + 1 > w + 2 * pads[1]
        ):
            continue
        return dict(
            x_shape=(rng.randint(1, 3), c_in, h, w),
            w_shape=(c_out, c_in // groups, kh, kw),
            bias=rng.random() < 0.6,
            noncontiguous=rng.random() < 0.2,
            kwargs=dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
        )


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("seed", range(N_CASES))
def test_conv2d_matches_torch_forward_and_backward(seed: int) -> None:
    case = _conv_case(seed)
    x = _random_tensor(case["x_shape"], seed, case["noncontiguous"]).requires_grad_()
    w = _random_tensor(case["w_shape"], seed + 10_000).requires_grad_()
    b = (
        _random_tensor(case["w_shape"][:1], seed + 20_000).requires_grad_()
        if case["bias"]
        else None
    )
    ours = ops.conv2d(x, w, b, **case["kwargs"])
    ref = F.conv2d(x, w, b, **case["kwargs"])
    assert_close(ours, ref, msg=lambda m: f"case {case}: {m}")
    upstream = _random_tensor(tuple(ref.shape), seed + 30_000)
    params = [x, w] + ([b] if b is not None else [])
    ours_grads = torch.autograd.grad(ours, params, upstream)
    ref_grads = torch.autograd.grad(ref, params, upstream)
    for name, a, r in zip(("x", "weight", "bias"), ours_grads, ref_grads, strict=False):
        assert_close(a, r, msg=lambda m, name=name: f"grad {name}, case {case}: {m}")


def _pool_case(seed: int) -> dict:
    rng = random.Random(seed)
    while True:
        k = _maybe_pair(rng, 1, 4)
        kp = _pair(k)
        stride = None if rng.random() < 0.3 else _maybe_pair(rng, 1, 3)
        padding = (rng.randint(0, kp[0] // 2), rng.randint(0, kp[1] // 2))
        if padding[0] == padding[1] and rng.random() < 0.5:
            padding = padding[0]
        dilation = _maybe_pair(rng, 1, 2)
        ceil_mode = rng.random() < 0.4
        shape = (rng.randint(1, 4), rng.randint(1, 9), rng.randint(1, 9))
        if rng.random() < 0.7:
            shape = (rng.randint(1, 2), *shape)
        kwargs = dict(kernel_size=k, stride=stride, padding=padding, ceil_mode=ceil_mode)
        probe = torch.zeros(shape, dtype=F64)
        try:  # keep the configurations PyTorch accepts; errors are tested separately
            pooled = F.max_pool2d(probe, dilation=dilation, **kwargs)
            F.avg_pool2d(probe, **kwargs)
        except RuntimeError:
            continue
        if pooled.isinf().any():
            # A dilated window that sees only padding: both give -inf, but PyTorch then sends
            # the gradient to an arbitrary input pixel outside the window; we do not copy that.
            continue
        return dict(shape=shape, kwargs=kwargs, dilation=dilation, include=rng.random() < 0.7)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_pools_match_torch_forward_and_backward(seed: int) -> None:
    case = _pool_case(seed)
    x = _random_tensor(case["shape"], seed).requires_grad_()
    kwargs = case["kwargs"]
    pairs = {
        "max": (
            ops.max_pool2d(x, dilation=case["dilation"], **kwargs),
            F.max_pool2d(x, dilation=case["dilation"], **kwargs),
        ),
        "avg": (
            ops.avg_pool2d(x, count_include_pad=case["include"], **kwargs),
            F.avg_pool2d(x, count_include_pad=case["include"], **kwargs),
        ),
    }
    for name, (ours, ref) in pairs.items():
        assert_close(ours, ref, msg=lambda m, name=name: f"{name} pool, case {case}: {m}")
        upstream = _random_tensor(tuple(ref.shape), seed + 1)
        (g_ours,) = torch.autograd.grad(ours, x, upstream)
        (g_ref,) = torch.autograd.grad(ref, x, upstream)
        assert_close(g_ours, g_ref, msg=lambda m, name=name: f"{name} grad, case {case}: {m}")


@pytest.mark.parametrize("seed", range(60))
def test_invalid_geometry_raises_where_torch_does(seed: int) -> None:
    """Where PyTorch refuses a size (kernel too big, output too small) we raise ValueError."""
    rng = random.Random(10_000 + seed)
    x = torch.zeros(1, 1, rng.randint(1, 4), rng.randint(1, 4), dtype=F64)
    k, s, p, d = rng.randint(1, 6), rng.randint(1, 3), rng.randint(0, 3), rng.randint(1, 3)
    ceil = rng.random() < 0.5
    checks = [
        (lambda: F.conv2d(x, torch.zeros(1, 1, k, k, dtype=F64), None, s, p, d),
         lambda: ops.conv2d(x, torch.zeros(1, 1, k, k, dtype=F64), None, s, p, d)),
        (lambda: F.max_pool2d(x, k, s, p, d, ceil_mode=ceil),
         lambda: ops.max_pool2d(x, k, s, p, d, ceil_mode=ceil)),
        (lambda: F.avg_pool2d(x, k, s, p, ceil_mode=ceil),
         lambda: ops.avg_pool2d(x, k, s, p, ceil_mode=ceil)),
    ]  # fmt: skip
    for ref, ours in checks:
        try:
            expected = ref()
        except RuntimeError:
            with pytest.raises(ValueError):
                ours()
        else:
            assert ours().shape == expected.shape


def test_corr2d_lecture_example() -> None:
    X = torch.tensor([[0.0, 1, 2], [3, 4, 5], [6, 7, 8]])
    K = torch.tensor([[0.0, 1], [2, 3]])
    assert_close(ops.corr2d(X, K), torch.tensor([[19.0, 25], [37, 43]]))
    # Integer inputs give the same numbers (the lecture's hand computation).
    assert ops.corr2d(X.long(), K.long()).tolist() == [[19, 25], [37, 43]]


@pytest.mark.parametrize("seed", range(20))
def test_corr2d_matches_torch_with_gradients(seed: int) -> None:
    rng = random.Random(seed)
    h, w = rng.randint(1, 7), rng.randint(1, 7)
    X = _random_tensor((h, w), seed).requires_grad_()
    K = _random_tensor((rng.randint(1, h), rng.randint(1, w)), seed + 1).requires_grad_()
    ours, ref = ops.corr2d(X, K), F.conv2d(X[None, None], K[None, None])[0, 0]
    assert_close(ours, ref)
    upstream = _random_tensor(tuple(ref.shape), seed + 2)
    for a, r in zip(
        torch.autograd.grad(ours, (X, K), upstream),
        torch.autograd.grad(ref, (X, K), upstream),
        strict=True,
    ):
        assert_close(a, r)


def test_corr2d_equals_conv2d_on_one_channel() -> None:
    X, K = _random_tensor((9, 7), 1), _random_tensor((3, 2), 2)
    assert_close(ops.corr2d(X, K), ops.conv2d(X[None, None], K[None, None])[0, 0])


@pytest.mark.parametrize("seed", range(15))
def test_convolve2d_is_flipped_correlation_and_matches_scipy(seed: int) -> None:
    rng = random.Random(seed)
    X = _random_tensor((rng.randint(2, 8), rng.randint(2, 8)), seed)
    K = _random_tensor((rng.randint(1, X.shape[0]), rng.randint(1, X.shape[1])), seed + 1)
    ours = ops.convolve2d(X, K)
    assert_close(ours, ops.corr2d(X, K.flip(0, 1)))
    assert_close(ours, torch.from_numpy(scipy_convolve2d(X.numpy(), K.numpy(), mode="valid")))


def test_convolve2d_lecture_example_and_integer_input() -> None:
    X = torch.arange(9).reshape(3, 3)
    K = torch.tensor([[0.0, 1], [2, 3]])
    # Flipped kernel [[3, 2], [1, 0]] on the first window: 0·3 + 1·2 + 3·1 + 4·0 = 5.
    assert ops.convolve2d(X, K).tolist() == [[5.0, 11.0], [23.0, 29.0]]


def test_convolve2d_batched_matches_torch_with_flipped_weight() -> None:
    x, w = _random_tensor((2, 4, 8, 7), 3), _random_tensor((6, 2, 3, 2), 4)
    ref = F.conv2d(x, w.flip(-2, -1), stride=2, padding=1, groups=2)
    assert_close(ops.convolve2d(x, w, stride=2, padding=1, groups=2), ref)


def test_symmetric_kernel_makes_convolution_equal_correlation() -> None:
    X, K = _random_tensor((6, 6), 5), torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=F64)
    assert_close(ops.convolve2d(X, K), ops.corr2d(X, K))


def test_global_avg_pool_matches_adaptive_avg_pool() -> None:
    x = _random_tensor((3, 5, 7, 6), 6).requires_grad_()
    ours, ref = ops.global_avg_pool2d(x), nn.AdaptiveAvgPool2d(1)(x)
    assert ours.shape == (3, 5, 1, 1)
    assert_close(ours, ref)
    assert_close(*(torch.autograd.grad(t.sum(), x)[0] for t in (ours, ref)))
    assert ops.global_avg_pool2d(x[0]).shape == (5, 1, 1)


def test_lecture_shapes_six_filters_and_one_by_one_conv() -> None:
    x = _random_tensor((1, 3, 32, 32), 7)
    assert ops.conv2d(x, _random_tensor((6, 3, 5, 5), 8)).shape == (1, 6, 28, 28)
    # A 1×1 convolution is a fully connected layer applied at every pixel.
    w = _random_tensor((4, 3, 1, 1), 9)
    per_pixel = torch.einsum("oc,nchw->nohw", w[:, :, 0, 0], x)
    assert_close(ops.conv2d(x, w), per_pixel)


def test_float32_matches_torch() -> None:
    x = torch.randn(2, 3, 12, 12)
    w = torch.randn(5, 3, 3, 3)
    b = torch.randn(5)
    assert_close(ops.conv2d(x, w, b, stride=2, padding=1), F.conv2d(x, w, b, 2, 1))
    assert_close(ops.max_pool2d(x, 3, 2, 1), F.max_pool2d(x, 3, 2, 1))
    assert_close(ops.avg_pool2d(x, 2), F.avg_pool2d(x, 2))


def test_ops_never_call_torch_conv_pool_or_unfold(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("cnnlab.ops must not call torch's convolution/pooling")

    for name in (
        "conv2d", "conv_transpose2d", "max_pool2d", "max_pool2d_with_indices", "avg_pool2d",
        "adaptive_avg_pool2d", "adaptive_max_pool2d", "unfold", "fold",
    ):  # fmt: skip
        monkeypatch.setattr(F, name, forbidden)
        if hasattr(torch, name):
            monkeypatch.setattr(torch, name, forbidden)
    x = _random_tensor((1, 2, 6, 6), 10)
    ops.conv2d(x, _random_tensor((3, 2, 3, 3), 11), padding="same")
    ops.convolve2d(x[0, 0], _random_tensor((2, 2), 12))
    ops.corr2d(x[0, 0], _random_tensor((2, 2), 12))
    ops.max_pool2d(x, 2)
    ops.avg_pool2d(x, 3, 2, 1, ceil_mode=True)
    ops.global_avg_pool2d(x)


# --- bad input -------------------------------------------------------------------------------

X4 = torch.zeros(1, 3, 3, 3)
W4 = torch.zeros(2, 3, 2, 2)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: ops.conv2d(X4[0], W4), ValueError, r"x must be 4-D .*x\.unsqueeze\(0\)"),
        (lambda: ops.conv2d(X4, W4[0]), ValueError, r"weight must be 4-D"),
        (lambda: ops.conv2d(X4.numpy(), W4), TypeError, r"x must be a torch.Tensor"),
        (
            lambda: ops.conv2d(X4, torch.zeros(1, 3, 5, 5)),
            ValueError,
            "kernel 5×5 does not fit in padded input 3×3",
        ),
        (
            lambda: ops.conv2d(X4, torch.zeros(1, 3, 3, 3), dilation=2),
            ValueError,
            "kernel 3×3 with dilation 2 spans 5×5 and does not fit in padded input 3×3",
        ),
        (lambda: ops.conv2d(X4, W4, stride=0), ValueError, r"stride must be an integer >= 1"),
        (lambda: ops.conv2d(X4, W4, stride=-2), ValueError, r"stride must be an integer >= 1"),
        (lambda: ops.conv2d(X4, W4, stride=1.5), TypeError, r"stride must be an integer"),
        (
            lambda: ops.conv2d(X4, W4, stride=(1, 2, 3)),
            ValueError,
            r"stride must be an int or a pair",
        ),
        (lambda: ops.conv2d(X4, W4, padding=-1), ValueError, r"padding must be an integer >= 0"),
        (
            lambda: ops.conv2d(X4, W4, padding="full"),
            ValueError,
            r"unknown padding 'full'.*same, valid",
        ),
        (
            lambda: ops.conv2d(X4, W4, padding="same", stride=2),
            ValueError,
            r"padding='same' needs stride 1",
        ),
        (lambda: ops.conv2d(X4, W4, dilation=0), ValueError, r"dilation must be an integer >= 1"),
        (
            lambda: ops.conv2d(X4, torch.zeros(2, 4, 2, 2)),
            ValueError,
            "input has 3 channels but weight expects 4",
        ),
        (
            lambda: ops.conv2d(torch.zeros(1, 4, 3, 3), torch.zeros(2, 1, 2, 2), groups=2),
            ValueError,
            r"input has 4 channels but weight expects 2 \(2 groups × 1\)",
        ),
        (
            lambda: ops.conv2d(X4, torch.zeros(3, 2, 2, 2), groups=3),
            ValueError,
            r"expects 6 \(3 groups × 2\)",
        ),
        (
            lambda: ops.conv2d(torch.zeros(1, 4, 3, 3), torch.zeros(3, 2, 2, 2), groups=2),
            ValueError,
            r"groups 2 must divide",
        ),
        (lambda: ops.conv2d(X4, W4, torch.zeros(4)), ValueError, r"bias must have 2 entries"),
        (lambda: ops.conv2d(X4, W4, torch.zeros(2, 1)), ValueError, r"bias must be 1-D"),
        (lambda: ops.conv2d(X4, W4.double()), TypeError, r"weight has dtype torch.float64"),
        (lambda: ops.corr2d(X4[0], W4[0, 0]), ValueError, r"X must be 2-D"),
        (
            lambda: ops.corr2d(X4[0, 0], torch.zeros(4, 1)),
            ValueError,
            r"kernel 4×1 does not fit in input 3×3",
        ),
        (lambda: ops.corr2d([[1, 2]], torch.zeros(1, 1)), TypeError, r"X must be a torch.Tensor"),
        (lambda: ops.convolve2d(X4[0, 0], W4), ValueError, r"K must be 2-D"),
        (lambda: ops.convolve2d(X4[0], W4), ValueError, r"X must be 2-D or 4-D"),
        (lambda: ops.max_pool2d(X4, 2, padding=2), ValueError, r"at most half of kernel_size 2×2"),
        (
            lambda: ops.avg_pool2d(X4, 3, padding=(1, 2)),
            ValueError,
            r"padding 1×2 must be at most half",
        ),
        (lambda: ops.max_pool2d(X4, 0), ValueError, r"kernel_size must be an integer >= 1"),
        (lambda: ops.max_pool2d(X4, 2, stride=0), ValueError, r"stride must be an integer >= 1"),
        (lambda: ops.avg_pool2d(X4, 2.5), TypeError, r"kernel_size must be an integer"),
        (
            lambda: ops.max_pool2d(X4, 4),
            ValueError,
            "kernel 4×4 does not fit in padded input 3×3",
        ),
        (lambda: ops.avg_pool2d(X4[0, 0], 2), ValueError, r"x must be 3-D or 4-D"),
        (lambda: ops.max_pool2d(X4, 2, ceil_mode=1), TypeError, r"ceil_mode must be True or False"),
        (lambda: ops.avg_pool2d(X4, 2, count_include_pad="no"), TypeError, r"count_include_pad"),
        (lambda: ops.global_avg_pool2d(X4[0, 0]), ValueError, r"x must be 3-D or 4-D"),
    ],
)
def test_bad_input_raises_clear_error(
    call: Callable[[], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()
