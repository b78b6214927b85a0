"""Checks of topic 3, pooling: ``pool2d`` (max and average) and ``global_avg_pool``.

Each compares the student's function with ``torch.nn.functional`` (``max_pool2d``,
``avg_pool2d``, ``adaptive_avg_pool2d``) on the lecture's examples first, then on real-valued
float64 inputs of non-square shapes, then on small integers and degenerate shapes. torch's
pooling functions and layers (and ``cnnlab.ops``') are blocked while the student's code runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.checks._core import (
    Hint,
    ShapeHint,
    as_tensor,
    call_student,
    compare,
    generator,
    ok,
    pick,
    randint,
    randreal,
    require_callable,
    shape_of,
)

__all__ = ["global_avg_pool", "pool2d"]

_POOL = (
    "torch.nn.MaxPool2d.forward",
    "torch.nn.AvgPool2d.forward",
    "torch.nn.AdaptiveMaxPool2d.forward",
    "torch.nn.AdaptiveAvgPool2d.forward",
    "torch.nn.functional.max_pool2d",
    "torch.nn.functional.max_pool2d_with_indices",
    "torch.nn.functional.avg_pool2d",
    "torch.nn.functional.adaptive_max_pool2d",
    "torch.nn.functional.adaptive_avg_pool2d",
    "torch.max_pool2d",
    "cnnlab.ops.max_pool2d",
    "cnnlab.ops.avg_pool2d",
    "cnnlab.ops.global_avg_pool2d",
    # the operators behind torch's, however they are reached (torch.ops.aten, a captured alias)
    *(
        f"aten::{op}"
        for op in (
            "max_pool2d_with_indices",
            "max_pool2d",
            "avg_pool2d",
            "adaptive_max_pool2d",
            "adaptive_avg_pool2d",
            "_adaptive_avg_pool2d",
        )
    ),
)
# Global average pooling: the average pooling functions; max pooling is no shortcut to it.
_GLOBAL_POOL = (
    "torch.nn.AvgPool2d.forward",
    "torch.nn.AdaptiveAvgPool2d.forward",
    "torch.nn.functional.avg_pool2d",
    "torch.nn.functional.adaptive_avg_pool2d",
    "cnnlab.ops.avg_pool2d",
    "cnnlab.ops.global_avg_pool2d",
    *(f"aten::{op}" for op in ("avg_pool2d", "adaptive_avg_pool2d", "_adaptive_avg_pool2d")),
)

PoolCase = tuple[torch.Tensor, int, int | None, str]  # X, pool_size, stride, mode


def _torch_pool(X: torch.Tensor, p: int, s: int, mode: str) -> torch.Tensor:
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], p, s)[0, 0]


def _two_sizes(g: torch.Generator, low: int, high: int) -> tuple[int, int]:
    """Two different sizes in [low, high] (a non-square shape shows swapped axes)."""
    a = pick(g, low, high)
    b = pick(g, low, high - 1)
    return a, b + (b >= a)


def _pool_inputs(cases: int) -> list[PoolCase]:
    g = generator("pool2d")
    X0 = torch.arange(9, dtype=torch.float64).reshape(3, 3)
    # the lecture's examples: 2×2 max and average pooling of arange(9) with stride 1, and the
    # default stride (= pool_size) on arange(16)
    inputs: list[PoolCase] = [
        (X0, 2, 1, "max"), (X0, 2, 1, "avg"),
        (torch.arange(16.0).double().reshape(4, 4), 2, None, "max"),
    ]  # fmt: skip
    while len(inputs) < cases:
        i = len(inputs)
        mode = "max" if i % 2 else "avg"
        if i <= cases // 2:  # real values, non-square, every kind of stride
            h, w = _two_sizes(g, 4, 8)
            p = pick(g, 2, 3)
            s = (None, 1, 2, 3)[(i // 2) % 4]
            inputs.append((randreal(g, h, w), p, s, mode))
            continue
        h, w = pick(g, 2, 8), pick(g, 2, 8)
        p = pick(g, 1, min(h, w, 4))
        s = pick(g, 1, 3) if i % 8 else None
        make = randint if i % 3 == 0 else randreal
        inputs.append((make(g, h, w), p, s, mode))
    return inputs


def _pool_hints(
    X: torch.Tensor, p: int, s: int | None, mode: str, expected: torch.Tensor
) -> tuple[list[Hint], list[ShapeHint]]:
    stride = p if s is None else s
    other = "avg" if mode == "max" else "max"
    h, w = X.shape
    oh, ow = expected.shape
    step1 = _torch_pool(X, p, 1, mode)
    wrong_answers = [
        (
            _torch_pool(X, p, stride, other),
            f"your output is {other} pooling, but mode={mode!r} asks for {mode} pooling",
        ),
        (
            step1[:oh, :ow],
            f"your windows start at X[i:i+p, j:j+p]; with stride {stride} the window of "
            f"output (i, j) is X[i*s : i*s+p, j*s : j*s+p]",
        ),
    ]
    if oh == ow:
        wrong_answers.append(
            (
                expected.T,
                "your output is the correct one transposed: output (i, j) pools the window "
                "starting at row i*s and column j*s of X",
            )
        )
    if mode == "avg":
        wrong_answers += [
            (
                expected * p * p,
                "that is the window *sum*: the average divides by the p·p values of the window",
            ),
            (expected * p, "divide the window's sum by all p·p values, not by p"),
        ]
    wrong_shapes: list[ShapeHint] = [
        (
            (oh - 1, ow - 1),
            f"your output is one row and one column short: the size is floor((W − k)/s + 1) "
            f"= floor(({h} − {p})/{stride}) + 1 = {oh} rows",
        ),
        (
            (oh + 1, ow + 1),
            f"your output is one row and one column too big: the size is floor((W − k)/s + 1) "
            f"= floor(({h} − {p})/{stride}) + 1 = {oh} rows",
        ),
        ((ow, oh), "rows and columns are swapped"),
    ]
    if stride != 1:
        wrong_shapes.insert(
            0,
            (
                tuple(step1.shape),
                f"your output has the shape of stride 1: move the window {stride} pixels per "
                "step; the size is floor((W − k)/s) + 1",
            ),
        )
    if s is None:
        wrong_shapes.insert(
            0,
            (
                tuple(step1.shape),
                "stride=None means stride = pool_size (PyTorch's default); your output has the "
                "shape of stride 1",
            ),
        )
    return wrong_answers, wrong_shapes


def pool2d(fn: Callable[..., Any], cases: int = 60) -> None:
    """Check ``fn(X, pool_size, stride, mode)``: X: H×W -> floor((H − p)/s) + 1 rows (same for
    columns) in X's dtype; ``mode`` is "max" or "avg"; ``stride=None`` means
    ``stride = pool_size``."""
    name = "pool2d"
    fn = require_callable(name, fn)
    instead = (
        "loop over the output positions and reduce each window X[i*s : i*s+p, j*s : j*s+p] "
        "with .max() or .mean()"
    )
    for X, p, s, mode in _pool_inputs(cases):
        stride = p if s is None else s
        call = f"pool2d(X of shape {shape_of(X)}, pool_size={p}, stride={s}, mode={mode!r})"
        answer = call_student(
            name, fn, (X.clone(), p, s, mode), call, forbidden=_POOL, instead=instead
        )
        got = as_tensor(name, answer, call)
        expected = _torch_pool(X, p, stride, mode)
        wrong_answers, wrong_shapes = _pool_hints(X, p, s, mode, expected)
        compare(
            name,
            got,
            expected,
            call,
            scale=_torch_pool(X.abs(), p, stride, "avg"),  # the size of the window's values
            show_inputs=(("X", X),),
            wrong_answers=wrong_answers,
            wrong_shapes=wrong_shapes,
        )
    ok(
        f"{name}: {cases} random cases (max and avg) match "
        "torch.nn.functional.max_pool2d / avg_pool2d"
    )


def _global_inputs(cases: int) -> list[torch.Tensor]:
    g = generator("global_avg_pool")
    inputs = []
    while len(inputs) < cases:
        if len(inputs) <= cases // 2:
            # real values; N, C, H, W all different, so that any mix-up shows in the shape
            n, c, h, w = 1, 1, 1, 1
            while len({n, c, h, w}) < 4:
                n, c, h, w = pick(g, 2, 3), pick(g, 2, 5), pick(g, 2, 6), pick(g, 2, 6)
            inputs.append(randreal(g, n, c, h, w))
            continue
        n, c = pick(g, 1, 3), pick(g, 1, 5)
        if c == n:
            c += 1  # different N and C so that a mix-up shows in the shape
        h, w = pick(g, 1, 6), pick(g, 1, 6)
        make = randint if len(inputs) % 2 else randreal
        inputs.append(make(g, n, c, h, w))
    return inputs


def _squeezed(n: int, c: int) -> list[ShapeHint]:
    """Shape hints for a .squeeze() that removed a dimension of size 1 (N or C)."""
    if n == 1 or c == 1:
        kept = tuple(d for d in (n, c) if d != 1)
        return [
            (
                kept,
                f"keep both dimensions: the output is N×C = {n}×{c}, even with a size of 1 "
                "(did .squeeze() drop it? use .flatten(1) or mean(dim=(2, 3)))",
            )
        ]
    return []


def global_avg_pool(fn: Callable[..., Any], cases: int = 20) -> None:
    """Check ``fn(X)``: global average pooling, X: N×C×H×W -> N×C (the mean of each map)."""
    name = "global_avg_pool"
    fn = require_callable(name, fn)
    instead = "average each H×W map yourself (the mean over dims 2 and 3)"
    for X in _global_inputs(cases):
        call = f"X of shape {shape_of(X)}"
        answer = call_student(name, fn, (X.clone(),), call, forbidden=_GLOBAL_POOL, instead=instead)
        got = as_tensor(name, answer, call)
        expected = F.adaptive_avg_pool2d(X, 1).flatten(1)
        n, c, h, w = X.shape
        compare(
            name,
            got,
            expected,
            call,
            scale=X.abs().mean(dim=(2, 3)),
            wrong_answers=[
                (
                    F.adaptive_max_pool2d(X, 1).flatten(1),
                    "that is global *max* pooling: average each H×W map instead",
                ),
                (X.sum(dim=(2, 3)), "that is the sum of each map: divide by H·W"),
                (X.sum(dim=(2, 3)) / h, "divide each map's sum by all H·W values, not by H"),
                (X.sum(dim=(2, 3)) / w, "divide each map's sum by all H·W values, not by W"),
            ],
            wrong_shapes=[
                (
                    (n, c, 1, 1),
                    "return N×C: drop the trailing 1×1 (e.g. .flatten(1) or mean(dim=(2, 3)) "
                    "without keepdim)",
                ),
                ((n, c, h), "you averaged over W only (dim 3): average over H and W, dims 2 and 3"),
                ((n, c, w), "you averaged over H only (dim 2): average over H and W, dims 2 and 3"),
                (
                    (n, h, w),
                    "you averaged over the channels; average over the spatial dims H and W "
                    "(2 and 3) instead",
                ),
                ((h, w), "you averaged over the batch and the channels; average over H and W"),
                *_squeezed(n, c),
                ((n,), "you averaged over everything per example: keep one value per channel"),
                ((), "you averaged the whole batch into one number: keep N×C"),
                ((c,), "keep the batch dimension: the output is N×C"),
            ],
        )
    ok(f"{name}: {cases} random cases match torch.nn.functional.adaptive_avg_pool2d")
