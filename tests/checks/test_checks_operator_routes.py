"""Every check that forbids a library operation also rejects it when reached below its Python
names: through ``torch.ops.aten``, torch's C bindings, or an alias captured in a default
argument, which no renaming of the student's globals can find (``aten::`` paths in the
forbidden lists, blocked at the dispatcher by ``cnnlab.checks._core.forbid``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from cnnlab import checks
from cnnlab.checks import CheckFailed

aten = torch.ops.aten
C = torch._C._VariableFunctions


def _corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    out = aten.convolution(X[None, None], K[None, None], None, [1, 1], [0, 0], [1, 1], False,
                           [0, 0], 1)  # fmt: skip
    return out[0, 0]


def _corr2d_captured(
    X: torch.Tensor, K: torch.Tensor, conv: Callable[..., Any] = C.conv2d
) -> torch.Tensor:
    return conv(X[None, None], K[None, None])[0, 0]


def _pool2d(X: torch.Tensor, p: int, s: int | None, mode: str) -> torch.Tensor:
    s = s or p
    if mode == "max":
        return aten.max_pool2d_with_indices(X[None, None], [p, p], [s, s])[0][0, 0]
    return aten.avg_pool2d(X[None, None], [p, p], [s, s])[0, 0]


def _global_avg_pool(X: torch.Tensor) -> torch.Tensor:
    return aten._adaptive_avg_pool2d(X, [1, 1]).flatten(1)


def _shortcut_a(x: torch.Tensor, out_channels: int, stride: int) -> torch.Tensor:
    kept = aten.max_pool2d_with_indices(x, [1, 1], [stride, stride])[0]
    return F.pad(kept, (0, 0, 0, 0, 0, out_channels - x.shape[1]))


def _batch_norm_train(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float
) -> torch.Tensor:
    return C.batch_norm(x, gamma, beta, None, None, True, 0.1, eps, False)


def _update_running(
    rm: torch.Tensor, rv: torch.Tensor, x: torch.Tensor, m: float
) -> tuple[torch.Tensor, torch.Tensor]:
    mean, var = rm.clone(), rv.clone()
    aten.batch_norm_update_stats(x, mean, var, m)
    return mean, var


def _grouped_conv_mult_adds(c_in: int, c_out: int, k: int, out_size: int, groups: int) -> int:
    x = torch.zeros(1, c_in, out_size + k - 1, out_size + k - 1, device="meta")
    w = torch.zeros(c_out, c_in // groups, k, k, device="meta")
    with FlopCounterMode(display=False) as counter:
        C.conv2d(x, w, None, 1, 0, 1, groups)
    return counter.get_total_flops() // 2


ROUTES = {
    "corr2d (torch.ops.aten)": ("corr2d", _corr2d, "aten::convolution"),
    "corr2d (captured C binding)": ("corr2d", _corr2d_captured, "aten::convolution"),
    "pool2d": ("pool2d", _pool2d, "aten::"),
    "global_avg_pool": ("global_avg_pool", _global_avg_pool, "aten::_adaptive_avg_pool2d"),
    "shortcut_a": ("shortcut_a", _shortcut_a, "aten::max_pool2d_with_indices"),
    "batch_norm_train": ("batch_norm_train", _batch_norm_train, "aten::native_batch_norm"),
    "update_running": ("update_running", _update_running, "aten::batch_norm_update_stats"),
    "grouped_conv_mult_adds (FLOP counter)": (
        "grouped_conv_mult_adds", _grouped_conv_mult_adds, "aten::convolution",
    ),
}  # fmt: skip


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_the_operator_is_rejected_below_its_python_names(route: str) -> None:
    name, fn, operator = ROUTES[route]
    with pytest.raises(CheckFailed) as info:
        getattr(checks, name)(fn)
    message = str(info.value)
    assert f"{name} calls {operator}" in message, message
    assert "the library function this exercise replaces" in message


def test_each_route_computes_the_right_answer_when_allowed() -> None:
    """The attacks are right answers: only the forbidden operator can reject them."""
    g = torch.Generator().manual_seed(0)
    X, K = (
        torch.randn(6, 7, generator=g, dtype=torch.float64),
        torch.randn(2, 3, dtype=torch.float64),
    )
    want = F.conv2d(X[None, None], K[None, None])[0, 0]
    assert torch.allclose(_corr2d(X, K), want) and torch.allclose(_corr2d_captured(X, K), want)
    assert torch.equal(_pool2d(X, 2, None, "max"), F.max_pool2d(X[None, None], 2)[0, 0])
    assert torch.allclose(_pool2d(X, 3, 1, "avg"), F.avg_pool2d(X[None, None], 3, 1)[0, 0])
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64, generator=g)
    assert torch.allclose(_global_avg_pool(x), x.mean(dim=(2, 3)))
    assert torch.equal(_shortcut_a(x, 5, 2)[:, :3], x[:, :, ::2, ::2])
    gamma, beta = torch.rand(3, dtype=torch.float64), torch.rand(3, dtype=torch.float64)
    bn = F.batch_norm(x, None, None, gamma, beta, training=True, eps=0.5)
    assert torch.allclose(_batch_norm_train(x, gamma, beta, 0.5), bn)
    assert _grouped_conv_mult_adds(8, 16, 3, 10, 4) == 3 * 3 * (8 // 4) * 16 * 10 * 10
