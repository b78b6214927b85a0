"""Checks of topic 5, LeNet-5: ``c3_params`` and ``lenet_subsampling``.

* :func:`c3_params` checks ``partial_conv_params(table, kernel_size) -> int``: the trainable
  parameters of a partially connected convolution, first on the paper's C3 (1,516), then on
  random tables against the parameter count of a real
  :class:`cnnlab.models.lenet.PartialConv2d`;
* :func:`lenet_subsampling` checks a ``Subsampling(channels, kernel_size=2)`` ``nn.Module``:
  the sum of each k×k block times a per-map coefficient plus a per-map bias, against
  :class:`cnnlab.models.lenet.Subsampling` (outputs, gradients, train and eval mode).

Each prints one ``✔ ...`` line on success and raises :class:`cnnlab.checks.CheckFailed` naming
the case and, for a classic mistake, what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.checks._core import (
    as_int,
    call_student,
    fail,
    first_difference,
    generator,
    matches,
    ok,
    pick,
    randreal,
    require_callable,
    seeded,
    show,
)
from cnnlab.checks._module import module_matches

__all__ = ["c3_params", "lenet_subsampling"]

_C3_FORBIDDEN = (
    "cnnlab.models.lenet.partial_conv_params",
    "cnnlab.models.lenet.PartialConv2d.__init__",
)
_SUBSAMPLING_FORBIDDEN = (
    "cnnlab.models.lenet.Subsampling.forward",
    "torch.nn.functional.avg_pool2d",
    "torch.nn.AvgPool2d.forward",
    "torch.nn.functional.lp_pool2d",
    "torch.nn.functional.adaptive_avg_pool2d",
    "torch.nn.AdaptiveAvgPool2d.forward",
    # the operators behind them, however they are reached (torch.ops.aten, a captured alias)
    *(f"aten::{op}" for op in ("avg_pool2d", "adaptive_avg_pool2d", "_adaptive_avg_pool2d")),
)
_SUM_BLOCKS = "sum each k×k block yourself: x.reshape(N, C, H // k, k, W // k, k).sum(dim=(3, 5))"


# --------------------------------------------------------------------------------------------
# partial_conv_params(table, kernel_size)


def _paper_c3() -> tuple[tuple[int, ...], ...]:
    from cnnlab.models.lenet import C3_TABLE

    return C3_TABLE


def _random_table(g: torch.Generator, in_channels: int, n_out: int) -> tuple[tuple[int, ...], ...]:
    """A table in which every input map is used and the fan-ins differ from map to map."""
    rows = []
    for _ in range(n_out):
        fan_in = pick(g, 1, in_channels)
        chosen = torch.randperm(in_channels, generator=g)[:fan_in].sort().values
        rows.append(tuple(int(c) for c in chosen))
    rows[0] = tuple(range(in_channels))  # one fully connected map: every input map is used
    rows[-1] = (pick(g, 0, in_channels - 1),)  # and one map with a single input
    return tuple(rows)


def _real_count(table: tuple[tuple[int, ...], ...], in_channels: int, k: int) -> int:
    from cnnlab.models.lenet import PartialConv2d

    with seeded(0):
        layer = PartialConv2d(in_channels, table, k)
    return sum(p.numel() for p in layer.parameters())


def _c3_hints(
    table: tuple[tuple[int, ...], ...], in_channels: int, k: int
) -> list[tuple[int, str]]:
    conn, n_out = sum(len(row) for row in table), len(table)
    return [
        (
            conn * k * k,
            "you forgot the biases: every output map has one bias of its own (+ len(table))",
        ),
        (
            conn * (k * k + 1),
            "you gave every connection a bias; there is one bias per output map, however many "
            "input maps it reads",
        ),
        (
            conn * k * k + in_channels,
            "you counted one bias per input map; the biases belong to the output maps "
            "(len(table) of them)",
        ),
        (
            conn * k * k + 1,
            "you counted one bias for the whole layer; every output map has its own",
        ),
        (
            n_out * (in_channels * k * k + 1),
            "that is the count of a full convolution, every output map reading every input "
            "map: count only the input maps each row of the table lists",
        ),
        (
            conn * k + n_out,
            "a kernel of size k has k × k weights, not k",
        ),
        (
            conn * 2 * k + n_out,
            "a kernel of size k has k × k weights, not 2k",
        ),
    ]


def c3_params(fn: Callable[..., Any]) -> None:
    """Check ``fn(table, kernel_size) -> int``: the trainable parameters of a convolution
    whose output map ``j`` reads the input maps ``table[j]`` with k×k kernels (one kernel per
    connection, one bias per output map)."""
    name = "partial_conv_params"
    fn = require_callable("c3_params", fn)
    g = generator(name)
    cases: list[tuple[tuple[tuple[int, ...], ...], int, int]] = [(_paper_c3(), 6, 5)]
    for _ in range(8):
        in_channels = pick(g, 3, 8)
        cases.append((_random_table(g, in_channels, pick(g, 3, 12)), in_channels, pick(g, 3, 7)))
    for table, in_channels, k in cases:
        rows = [list(row) for row in table]
        call = f"{name}({rows}, kernel_size={k})"
        got = as_int(
            name,
            call_student(
                name,
                fn,
                (rows, k),
                call,
                forbidden=_C3_FORBIDDEN,
                instead="count the kernels and the biases yourself",
            ),
            call,
            "a parameter count",
        )
        expected = _real_count(table, in_channels, k)
        if got == expected:
            continue
        hint = next((h for value, h in _c3_hints(table, in_channels, k) if value == got), None)
        where = " (the paper's C3: 1,516 parameters)" if table == _paper_c3() else ""
        fail(
            f"{name} is wrong for {call}{where}:\n  expected {expected:,} (the parameters of "
            f"PartialConv2d({in_channels}, table, {k})), got {got:,}."
            + (f"\n  Hint: {hint}." if hint else "")
        )
    ok(
        f"c3_params: LeNet-5's C3 (1,516) and {len(cases) - 1} random connection tables match "
        "the parameter count of a real PartialConv2d"
    )


# --------------------------------------------------------------------------------------------
# class Subsampling(nn.Module)


def _reference() -> type:
    from cnnlab.models.lenet import Subsampling

    return Subsampling


def _init_args(g: torch.Generator) -> Mapping[str, Any]:
    return {"channels": pick(g, 2, 5), "kernel_size": pick(g, 2, 3)}


def _inputs(g: torch.Generator, kwargs: Mapping[str, Any]) -> torch.Tensor:
    k = kwargs.get("kernel_size", 2)
    h, w = pick(g, 2, 4), pick(g, 2, 4)
    if h == w:
        w += 1  # non-square maps: height and width must not be swapped
    return randreal(g, pick(g, 1, 3), kwargs["channels"], h * k, w * k)


def _subsampling_hints(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, k: int
) -> list[tuple[torch.Tensor, str]]:
    w, b = weight.view(1, -1, 1, 1), bias.view(1, -1, 1, 1)
    mean = F.avg_pool2d(x, k)
    total = mean * k * k
    return [
        (
            mean * w + b,
            "you averaged each block; LeNet's S layers add the k × k inputs up (the sum is "
            "k² times the mean)",
        ),
        (total * w, "you forgot the trainable bias: sum × weight + bias"),
        (
            (total + b) * w,
            "the bias is added after multiplying by the coefficient: sum × weight + bias",
        ),
        (
            F.max_pool2d(x, k) * w + b,
            "you took the maximum of each block; LeNet's S layers sum it",
        ),
        (
            torch.tanh(total * w + b),
            "forward returns sum × weight + bias; the squashing function is a separate layer",
        ),
        (
            1.7159 * torch.tanh(2 / 3 * (total * w + b)),
            "forward returns sum × weight + bias; the squashing function is a separate layer",
        ),
        (
            total * weight.sum() + bias.sum(),
            "each map has its own coefficient and bias: weight[c] and bias[c] for channel c",
        ),
    ]


def _diagnose(student: Callable[..., Any]) -> None:
    """One forward on a fixed case: a classic mistake fails here with its own hint."""
    name = "Subsampling"
    g = generator("lenet_subsampling/diagnose")
    channels, k = 3, 2
    ctor = f"Subsampling(channels={channels}, kernel_size={k})"
    with seeded(5):
        built = call_student(
            name, student, (), ctor, kwargs={"channels": channels, "kernel_size": k}
        )
    if not isinstance(built, torch.nn.Module):
        return  # module_matches says what is wrong with it
    mod = built.double()
    params = dict(mod.named_parameters())
    if set(params) != {"weight", "bias"} or any(p.shape != (channels,) for p in params.values()):
        return  # the harness lists the names and shapes
    with torch.no_grad():
        weight = randreal(g, channels) + 0.5
        bias = randreal(g, channels)
        params["weight"].copy_(weight)
        params["bias"].copy_(bias)
    x = randreal(g, 2, channels, 4, 6)
    call = (
        f"{ctor} on an input of shape {tuple(x.shape)} (weight = {show(weight)}, "
        f"bias = {show(bias)})"
    )
    out = call_student(name, mod, (x,), call, forbidden=_SUBSAMPLING_FORBIDDEN, instead=_SUM_BLOCKS)
    if not isinstance(out, torch.Tensor):
        return
    expected = F.avg_pool2d(x, k) * k * k * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    problem = first_difference(out.detach(), expected, scale=expected.abs() + 1, at="")
    if problem is None:
        return
    hint = next(
        (h for alt, h in _subsampling_hints(x, weight, bias, k) if matches(out.detach(), alt)),
        None,
    )
    if hint is None and tuple(out.shape) != tuple(expected.shape):
        hint = (
            f"each k×k block gives one value: (N, C, H, W) -> (N, C, H // k, W // k), here "
            f"{tuple(expected.shape)}"
        )
    fail(f"Subsampling is wrong for {call}:\n  {problem}." + (f"\n  Hint: {hint}." if hint else ""))


def lenet_subsampling(cls: Callable[..., Any]) -> None:
    """Check a class ``Subsampling(channels, kernel_size=2)``: an ``nn.Module`` with parameters
    ``weight`` and ``bias`` of shape (channels,) whose forward maps (N, C, H, W) to
    (N, C, H // k, W // k): the sum of each k×k block × weight[c] + bias[c]."""
    cls = require_callable("lenet_subsampling", cls)
    _diagnose(cls)
    module_matches(
        "lenet_subsampling",
        cls,
        _reference(),
        make_inputs=_inputs,
        init_args=_init_args,
        cases=4,
        forbidden=_SUBSAMPLING_FORBIDDEN,
        instead=_SUM_BLOCKS,
        label="cnnlab.models.lenet.Subsampling",
    )
