"""Class 4, silent wrong results: every dtype either gives the exact answer or a clear error.

The reference is ``torch.nn.functional`` on float64 (exact for these small integers): uint8
images must not wrap around, corr2d and convolve2d must agree (bool included), float16 sums in
float32 like PyTorch, and complex is refused everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab import filters, ops

F64 = torch.float64
INT_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool]


def _ints(shape: tuple[int, ...], dtype: torch.dtype, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    info = torch.iinfo(dtype)
    # the extremes of the type, where a wrapped sum shows at once
    low, high = max(info.min, -(2**15)), min(info.max, 2**15 - 1)
    t = torch.randint(low, high + 1, shape, generator=g, dtype=torch.int64)
    t.view(-1)[0], t.view(-1)[-1] = high, low
    return t.to(dtype)


def _reference(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return F.conv2d(X.to(F64)[None, None], K.to(F64)[None, None])[0, 0]


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_integer_corr2d_and_convolve2d_are_exact_int64(dtype: torch.dtype) -> None:
    X, K = _ints((7, 6), dtype, 1), _ints((3, 2), dtype, 2)
    expected = _reference(X, K)
    got = ops.corr2d(X, K)
    assert got.dtype == torch.int64
    assert torch.equal(got.to(F64), expected)
    flipped = ops.convolve2d(X, K)
    assert flipped.dtype == torch.int64
    assert torch.equal(flipped.to(F64), _reference(X, K.flip(0, 1)))
    assert torch.equal(flipped, ops.corr2d(X, K.flip(0, 1)))  # the two agree


def test_uint8_image_does_not_wrap_around() -> None:
    X = torch.full((4, 4), 200, dtype=torch.uint8)
    K = torch.full((2, 2), 2, dtype=torch.uint8)
    assert ops.corr2d(X, K).unique().tolist() == [1600]  # not 576 (uint8 products wrapped)
    assert ops.convolve2d(X, K).unique().tolist() == [1600]  # not 64


def test_bool_corr2d_and_convolve2d_agree() -> None:
    B = torch.tensor([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=torch.bool)
    K = torch.tensor([[1, 1], [0, 1]], dtype=torch.bool)
    assert ops.corr2d(B, K).tolist() == [[2, 1], [3, 2]]  # counts of overlapping ones
    assert torch.equal(ops.convolve2d(B, K), ops.corr2d(B, K.flip(0, 1)))


@pytest.mark.parametrize("fn", [ops.corr2d, ops.convolve2d])
def test_int64_sums_that_could_overflow_are_refused(fn: Callable) -> None:
    X = torch.full((3, 3), 2**40, dtype=torch.int64)
    K = torch.full((2, 2), 2**30, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"could overflow int64 sums: convert them with .double"):
        fn(X, K)
    torch.testing.assert_close(fn(X.double(), K.double()), _reference(X, K))


def test_integer_with_float_is_promoted_to_the_float() -> None:
    X = torch.arange(9, dtype=torch.uint8).reshape(3, 3)
    K = torch.tensor([[0.5, 1.0], [2.0, 3.0]], dtype=F64)
    assert ops.corr2d(X, K).dtype == F64 == ops.convolve2d(X, K).dtype
    assert torch.equal(ops.corr2d(X, K), _reference(X, K))


HALF_CASES = [
    ("conv2d", lambda x: ops.conv2d(x, torch.ones(2, 3, 5, 5, dtype=x.dtype))),
    ("avg_pool2d", lambda x: ops.avg_pool2d(x, 4, stride=2, padding=1)),
    ("max_pool2d", lambda x: ops.max_pool2d(x, 3, stride=2, padding=1)),
    ("global_avg_pool2d", ops.global_avg_pool2d),
]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize(("name", "fn"), HALF_CASES, ids=[c[0] for c in HALF_CASES])
def test_reduced_floats_are_summed_in_float32(dtype: torch.dtype, name: str, fn: Callable) -> None:
    # values near 1000: float16 partial sums of 75 of them would lose several units
    g = torch.Generator().manual_seed(0)
    x = (1000 + torch.rand(2, 3, 9, 9, generator=g, dtype=F64)).to(dtype)
    got = fn(x)
    assert got.dtype == dtype
    expected = fn(x.to(F64)).to(dtype)  # the exact answer, rounded once
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_float16_result_beyond_its_range_is_inf_like_torch() -> None:
    x = torch.full((1, 1, 4, 4), 60000.0, dtype=torch.float16)
    w = torch.ones(1, 1, 2, 2, dtype=torch.float16)
    got = ops.conv2d(x, w)
    assert torch.isinf(got).all() and torch.equal(got, F.conv2d(x.float(), w.float()).half())


COMPLEX = torch.ones(1, 1, 4, 4, dtype=torch.complex64)
COMPLEX_CALLS = {
    "corr2d": lambda: ops.corr2d(COMPLEX[0, 0], torch.ones(2, 2)),
    "corr2d K": lambda: ops.corr2d(torch.ones(4, 4), COMPLEX[0, 0, :2, :2]),
    "convolve2d": lambda: ops.convolve2d(COMPLEX[0, 0], torch.ones(2, 2)),
    "convolve2d 4-D": lambda: ops.convolve2d(COMPLEX, COMPLEX[:, :, :2, :2]),
    "conv2d": lambda: ops.conv2d(COMPLEX, COMPLEX[:, :, :2, :2]),
    "max_pool2d": lambda: ops.max_pool2d(COMPLEX, 2),
    "avg_pool2d": lambda: ops.avg_pool2d(COMPLEX, 2),
    "global_avg_pool2d": lambda: ops.global_avg_pool2d(COMPLEX),
    "apply_filter": lambda: filters.apply_filter(COMPLEX[0, 0], "edge"),
    "apply_filter kernel": lambda: filters.apply_filter(torch.ones(4, 4), COMPLEX[0, 0, :3, :3]),
    "learn_kernel": lambda: filters.learn_kernel(COMPLEX[0, 0], COMPLEX[0, 0, :3, :3], 2),
}


@pytest.mark.parametrize("call", COMPLEX_CALLS.values(), ids=COMPLEX_CALLS.keys())
def test_complex_is_refused_clearly(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match=r"complex .*\.real"):
        call()


@pytest.mark.parametrize("fn", [ops.max_pool2d, ops.avg_pool2d, ops.global_avg_pool2d, ops.conv2d])
def test_bool_batches_are_refused_like_integers(fn: Callable) -> None:
    x = torch.ones(1, 1, 4, 4, dtype=torch.bool)
    args = (torch.ones(1, 1, 2, 2, dtype=torch.bool),) if fn is ops.conv2d else ()
    args = args or (() if fn is ops.global_avg_pool2d else (2,))
    with pytest.raises(TypeError, match=r"floating-point tensor, got torch.bool \(use x.float"):
        fn(x, *args)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.bool_], ids=str)
def test_apply_filter_on_integer_images_equals_float64(dtype: type) -> None:
    image = (np.arange(64).reshape(8, 8) * 997 % 256).astype(dtype)
    got = filters.apply_filter(image, "sobel_x", padding="valid")
    ref = F.conv2d(
        torch.from_numpy(image.astype(np.float64))[None, None],
        filters.get_kernel("sobel_x", F64)[None, None],
    )[0, 0]
    assert got.dtype == torch.float32
    torch.testing.assert_close(got.double(), ref, rtol=0, atol=0)


def test_step_edge_example_and_sobel_of_uint8() -> None:
    X, K, Y = filters.step_edge_example()
    assert torch.equal(Y, _reference(X, K).float())
    photo = torch.full((6, 6), 255, dtype=torch.uint8)
    photo[:, 3:] = 0
    magnitude = filters.sobel_magnitude(photo)
    assert magnitude.max() == 4 * 255  # |(-1 -2 -1)·255| + 0: no wrapped uint8 value
