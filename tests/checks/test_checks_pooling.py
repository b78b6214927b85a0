"""Topic 3 checks (pool2d, global_avg_pool) accept correct answers and reject classic wrong
ones with a hint naming the actual cause."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from check_helpers import failure, hints
from torch import nn

from cnnlab import checks, ops


def loop_pool(X: torch.Tensor, p: int, stride: int | None = None, mode: str = "max"):
    """The textbook loop, output in X's dtype."""
    s = p if stride is None else stride
    Y = torch.zeros(((X.shape[0] - p) // s + 1, (X.shape[1] - p) // s + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * s : i * s + p, j * s : j * s + p]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def unfold_pool(X: torch.Tensor, p: int, stride: int | None = None, mode: str = "max"):
    """Vectorised with Tensor.unfold (allowed: it only cuts out the windows)."""
    s = p if stride is None else stride
    windows = X.unfold(0, p, s).unfold(1, p, s)
    return windows.amax(dim=(-2, -1)) if mode == "max" else windows.mean(dim=(-2, -1))


def gap(X: torch.Tensor) -> torch.Tensor:
    return X.mean(dim=(2, 3))


def gap_sum(X: torch.Tensor) -> torch.Tensor:
    return X.sum(dim=(-1, -2)) / (X.shape[2] * X.shape[3])


SUCCESS = {
    "pool2d": (
        "✔ pool2d: 60 random cases (max and avg) match torch.nn.functional.max_pool2d / "
        "avg_pool2d\n"
    ),
    "global_avg_pool": (
        "✔ global_avg_pool: 20 random cases match torch.nn.functional.adaptive_avg_pool2d\n"
    ),
}
CORRECT: dict[str, list[Callable[..., Any]]] = {
    "pool2d": [loop_pool, unfold_pool],
    "global_avg_pool": [gap, gap_sum, lambda X: X.flatten(2).mean(-1)],
}
NAMES = sorted(CORRECT)


@pytest.mark.parametrize("name", NAMES)
def test_correct_implementations_pass_with_one_line(name: str, capsys) -> None:
    state = torch.get_rng_state()
    for fn in CORRECT[name]:
        getattr(checks, name)(fn)
        assert capsys.readouterr().out == SUCCESS[name]
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("name", NAMES)
def test_stub_none_and_non_functions(name: str) -> None:
    def stub(*args: object) -> None:
        raise NotImplementedError()

    assert failure(name, stub).startswith(f"{name} is not implemented yet")
    assert "did you forget the `return` statement?" in failure(name, lambda *a: None)
    with pytest.raises(TypeError, match=rf"checks\.{name}\({name}\)"):
        getattr(checks, name)("pool")


@pytest.mark.parametrize("name", NAMES)
def test_numpy_is_a_failure(name: str) -> None:
    fn = CORRECT[name][0]
    assert "returned a NumPy array" in failure(name, lambda *a: fn(*a).numpy())


def test_pool2d_cases_are_real_valued_and_varied_first() -> None:
    seen: list[tuple[Any, ...]] = []

    def spy(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max") -> torch.Tensor:
        seen.append((X, p, s, mode))
        return loop_pool(X, p, s, mode)

    checks.pool2d(spy)
    first = seen[3:11]  # after the lecture's three examples
    assert all(X.dtype == torch.float64 and not torch.equal(X, X.round()) for X, *_ in first)
    assert all(X.shape[0] != X.shape[1] for X, *_ in first)
    assert {s for _, _, s, _ in first} == {None, 1, 2, 3}
    assert {m for *_, m in first} == {"max", "avg"}


# --------------------------------------------------------------------------------------------
# pool2d


def test_pool2d_float32_and_int_outputs_fail_with_dtype_hints() -> None:
    def float32(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        return loop_pool(X.float(), p, s, mode)

    message = failure("pool2d", float32)
    assert "got torch.float32" in message and "dtype=X.dtype" in message
    assert "max pooling" not in message

    def truncated(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        return loop_pool(X, p, s, mode).trunc()

    message = failure("pool2d", truncated)
    assert "whole numbers only" in message and len(hints(message)) == 1


def test_pool2d_detects_max_instead_of_avg() -> None:
    message = failure("pool2d", lambda X, p, s=None, mode="max": loop_pool(X, p, s, "max"))
    assert "mode='avg'" in message and "your output is max pooling" in message
    assert "stride" not in message.split("Hint:")[1]


def test_pool2d_detects_window_sum_and_division_by_p() -> None:
    def summed(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        out = loop_pool(X, p, s, mode)
        return out * p * p if mode == "avg" else out

    assert "window *sum*" in failure("pool2d", summed)

    def by_p(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        out = loop_pool(X, p, s, mode)
        return out * p if mode == "avg" else out

    assert "not by p" in failure("pool2d", by_p)


def test_pool2d_detects_ignored_stride() -> None:
    message = failure("pool2d", lambda X, p, s=None, mode="max": loop_pool(X, p, 1, mode))
    assert "stride=None means stride = pool_size" in message
    assert "expected output of shape (2, 2), got (3, 3)" in message

    def stride_only_default(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        return loop_pool(X, p, p if s is None else 1, mode)

    message = failure("pool2d", stride_only_default)
    assert "shape of stride 1" in message and "stride=None" not in message


def test_pool2d_detects_unscaled_window_start() -> None:
    def unscaled(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        s = p if s is None else s
        full = loop_pool(X, p, 1, mode)
        oh, ow = (X.shape[0] - p) // s + 1, (X.shape[1] - p) // s + 1
        return full[:oh, :ow]

    assert "X[i*s : i*s+p, j*s : j*s+p]" in failure("pool2d", unscaled)


def test_pool2d_detects_off_by_one_and_swapped_axes() -> None:
    def short(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        return loop_pool(X, p, s, mode)[:-1, :-1]

    message = failure("pool2d", short)
    assert "one row and one column short" in message and "(W − k)/s + 1" in message

    def swapped(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        return loop_pool(X.T, p, s, mode)

    assert "transposed" in failure("pool2d", swapped)

    def swapped_shape(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        Y = loop_pool(X, p, s, mode)
        return Y if Y.shape[0] == Y.shape[1] else Y.T

    assert "rows and columns are swapped" in failure("pool2d", swapped_shape)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda X, p, s, m: F.max_pool2d(X[None], p, s)[0], "torch.nn.functional.max_pool2d"),
        (lambda X, p, s, m: F.avg_pool2d(X[None], p, s)[0], "torch.nn.functional.avg_pool2d"),
        (lambda X, p, s, m: nn.MaxPool2d(p, s)(X[None])[0], "torch.nn.MaxPool2d"),
        (lambda X, p, s, m: torch.max_pool2d(X[None], p, s or p)[0], "torch.max_pool2d"),
        (lambda X, p, s, m: ops.max_pool2d(X[None], p, s)[0], "cnnlab.ops.max_pool2d"),
    ],
)
def test_pool2d_forbids_the_pooling_functions(call: Callable[..., Any], named: str) -> None:
    message = failure("pool2d", call)
    verb = "uses" if "nn.M" in named else "calls"
    assert message.startswith(f"pool2d {verb} {named}, the library ")
    assert "reduce each window" in message
    assert F.max_pool2d.__name__ == "_fn" or F.max_pool2d.__module__ == "torch.nn.functional"
    assert "forward" in vars(nn.MaxPool2d)


# --------------------------------------------------------------------------------------------
# global_avg_pool


def test_global_avg_pool_detects_keepdim_max_and_channel_mean() -> None:
    message = failure("global_avg_pool", lambda X: X.mean(dim=(2, 3), keepdim=True))
    assert "drop the trailing 1×1" in message
    assert "global *max* pooling" in failure("global_avg_pool", lambda X: X.amax(dim=(2, 3)))
    assert "averaged over the channels" in failure("global_avg_pool", lambda X: X.mean(dim=1))


def test_global_avg_pool_detects_sums_and_single_axes() -> None:
    assert "divide by H·W" in failure("global_avg_pool", lambda X: X.sum(dim=(2, 3)))
    message = failure("global_avg_pool", lambda X: X.sum(dim=(2, 3)) / X.shape[2])
    assert "not by H" in message
    assert "over W only" in failure("global_avg_pool", lambda X: X.mean(dim=3))
    assert "over H only" in failure("global_avg_pool", lambda X: X.mean(dim=2))


def test_global_avg_pool_detects_a_squeezed_batch_of_one() -> None:
    message = failure("global_avg_pool", lambda X: X.mean(dim=(2, 3)).squeeze())
    assert "keep both dimensions: the output is N×C = 2×1" in message and ".squeeze()" in message
    assert "everything" not in message


def test_global_avg_pool_float32_fails() -> None:
    message = failure("global_avg_pool", lambda X: X.float().mean(dim=(2, 3)))
    assert "got torch.float32" in message


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (
            lambda X: F.adaptive_avg_pool2d(X, 1).flatten(1),
            "torch.nn.functional.adaptive_avg_pool2d",
        ),
        (lambda X: F.avg_pool2d(X, X.shape[2:]).flatten(1), "torch.nn.functional.avg_pool2d"),
        (lambda X: nn.AdaptiveAvgPool2d(1)(X).flatten(1), "torch.nn.AdaptiveAvgPool2d"),
        (lambda X: ops.global_avg_pool2d(X).flatten(1), "cnnlab.ops.global_avg_pool2d"),
    ],
)
def test_global_avg_pool_forbids_the_pooling_functions(
    call: Callable[..., Any], named: str
) -> None:
    message = failure("global_avg_pool", call)
    assert f" {named}, the library " in message and "average each H×W map yourself" in message
