"""cnnlab.ops.BatchNorm2d against torch.nn.BatchNorm2d: outputs, gradients, running statistics,
state_dict, eval mode and errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.ops import BatchNorm2d, batch_statistics

CASES = [
    # (shape, dtype, kwargs)
    ((4, 3, 5, 6), torch.float64, {}),
    ((2, 5, 3, 3), torch.float32, {"momentum": 0.3}),
    ((1, 4, 3, 2), torch.float64, {}),  # N = 1 with H·W > 1 is fine
    ((6, 2, 1, 1), torch.float64, {"eps": 1e-3}),  # H·W = 1 with N > 1 too
    ((3, 4, 4, 4), torch.float64, {"affine": False}),
    ((3, 3, 2, 5), torch.float64, {"momentum": None}),  # cumulative moving average
    ((3, 3, 2, 5), torch.float64, {"track_running_stats": False}),
    ((2, 3, 3, 3), torch.float64, {"bias": False}),  # torch 2.13: γ without β
]


def _pair(c: int, dtype: torch.dtype, **kwargs: object) -> tuple[BatchNorm2d, nn.BatchNorm2d]:
    ours = BatchNorm2d(c, **kwargs).to(dtype)
    ref = nn.BatchNorm2d(c, **kwargs).to(dtype)
    with torch.no_grad():  # non-trivial γ, β
        if ref.weight is not None:
            ref.weight.uniform_(0.5, 2.0)
        if ref.bias is not None:
            ref.bias.uniform_(-1.0, 1.0)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


@pytest.mark.parametrize(("shape", "dtype", "kwargs"), CASES)
def test_train_then_eval_equal_torch(
    shape: tuple[int, ...], dtype: torch.dtype, kwargs: dict
) -> None:
    g = torch.Generator().manual_seed(sum(shape))
    ours, ref = _pair(shape[1], dtype, **kwargs)
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-6}
    for step in range(3):  # several batches: running statistics accumulate
        x = (3 * torch.randn(shape, generator=g, dtype=dtype) + step).requires_grad_()
        x2 = x.detach().clone().requires_grad_()
        y, y_ref = ours(x), ref(x2)
        assert y.dtype == dtype
        torch.testing.assert_close(y, y_ref, **tol)
        w = torch.randn(shape, generator=g, dtype=dtype)
        (y * w).sum().backward()
        (y_ref * w).sum().backward()
        torch.testing.assert_close(x.grad, x2.grad, **tol)
        for name in ("weight", "bias"):
            if getattr(ref, name) is not None:
                torch.testing.assert_close(getattr(ours, name).grad, getattr(ref, name).grad, **tol)
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value, **tol)
    ours.eval(), ref.eval()
    x = torch.randn(shape, generator=g, dtype=dtype)
    torch.testing.assert_close(ours(x), ref(x), **tol)


def test_state_dict_keys_and_repr_equal_torch() -> None:
    options = ({}, {"affine": False}, {"track_running_stats": False}, {"momentum": None})
    for kwargs in (*options, {"bias": False}, {"affine": False, "bias": False}):
        ours, ref = BatchNorm2d(7, **kwargs), nn.BatchNorm2d(7, **kwargs)
        assert list(ours.state_dict()) == list(ref.state_dict())
        assert ours.extra_repr() == ref.extra_repr()
        ours.load_state_dict(ref.state_dict())  # strict: torch's checkpoint loads into ours
    ours = BatchNorm2d(3)
    assert ours.num_batches_tracked.dtype == torch.long
    ours(torch.randn(4, 3, 2, 2))
    assert int(ours.num_batches_tracked) == 1


def test_running_var_is_unbiased_and_normalising_variance_biased() -> None:
    x = torch.randn(2, 3, 2, 2, dtype=torch.float64)
    bn = BatchNorm2d(3, momentum=1.0).double()
    y = bn(x)
    mean, var = batch_statistics(x)
    torch.testing.assert_close(bn.running_var, x.var(dim=(0, 2, 3), unbiased=True))
    torch.testing.assert_close(var, x.var(dim=(0, 2, 3), unbiased=False))
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(bn.running_mean, mean)


def test_model_trains_with_ours_as_with_torch() -> None:
    from cnnlab.models.deep_plain import build_deep_plain

    torch.manual_seed(0)
    a = build_deep_plain(depth=4, width=4, batch_norm=True, norm_layer=BatchNorm2d).double()
    torch.manual_seed(0)
    b = build_deep_plain(depth=4, width=4, batch_norm=True).double()
    b.load_state_dict(a.state_dict())
    x = torch.randn(5, 1, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(a(x), b(x))
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x))


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (torch.randn(2, 4, 3, 3), ValueError, "got an input with 4 channels"),
        (torch.randn(3, 3, 3), ValueError, "4-D input"),
        (torch.randn(1, 3, 1, 1), ValueError, "more than 1 value per channel"),
        (torch.ones(2, 3, 2, 2, dtype=torch.long), TypeError, "floating-point"),
        ([[1.0]], TypeError, "torch.Tensor"),
    ],
)
def test_bad_input_is_named(x: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        BatchNorm2d(3)(x)


def test_single_value_is_fine_in_eval_mode_and_bad_options_refused() -> None:
    bn = BatchNorm2d(3).eval()
    assert bn(torch.randn(1, 3, 1, 1)).shape == (1, 3, 1, 1)
    with pytest.raises(ValueError, match="more than 1 value"):
        BatchNorm2d(3, track_running_stats=False).eval()(torch.randn(1, 3, 1, 1))
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm2d(0)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm2d(3, eps=-1)
    with pytest.raises(TypeError, match="momentum"):
        BatchNorm2d(3, momentum="0.1")
