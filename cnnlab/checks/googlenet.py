"""Checks of topic 9, GoogLeNet: ``inception_branches`` and ``conv_mult_adds``.

* :func:`inception_branches` checks ``inception_branches(in_channels, c1, c3r, c3, c5r, c5,
  proj)``: the four branches of an inception module with dimension reductions, a list of
  ``nn.Sequential``. Wrapped in :class:`cnnlab.models.inception.Concat` (concatenation along
  channels), :func:`module_matches` compares it with the reference (outputs and gradients in
  float64); the output's channel count is checked first, with a hint naming the wrong branch.
* :func:`conv_mult_adds` checks ``conv_mult_adds(size, in_channels, out_channels, kernel,
  reduce=None)``: the multiply-adds of a "same" k×k convolution on a size×size map, directly
  or through a ``reduce``-map 1×1 convolution first.

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn
from torch.nn.modules.utils import _pair

from cnnlab.checks._core import (
    CheckFailed,
    as_int,
    call_student,
    fail,
    generator,
    num,
    ok,
    pick,
    require_callable,
)
from cnnlab.checks._module import module_matches

__all__ = ["conv_mult_adds", "inception_branches"]

_FORBIDDEN = ("cnnlab.models.inception.Inception", "cnnlab.models.inception.build_ops")
_INSTEAD = "build the branches yourself from nn.Conv2d, nn.ReLU and nn.MaxPool2d"
_NAMES = ("c1", "c3r", "c3", "c5r", "c5", "proj")


def _branches(in_channels: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, proj: int):
    def conv(cin: int, cout: int, k: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, k, padding=k // 2), nn.ReLU()]

    return [
        nn.Sequential(*conv(in_channels, c1, 1)),
        nn.Sequential(*conv(in_channels, c3r, 1), *conv(c3r, c3, 3)),
        nn.Sequential(*conv(in_channels, c5r, 1), *conv(c5r, c5, 5)),
        nn.Sequential(nn.MaxPool2d(3, 1, 1), *conv(in_channels, proj, 1)),
    ]


def _module(fn: Callable[..., Any], kwargs: Mapping[str, int]) -> nn.Module:
    from cnnlab.models.inception import Concat

    branches = list(fn(**kwargs))
    out = kwargs["c1"] + kwargs["c3"] + kwargs["c5"] + kwargs["proj"]
    return Concat(branches, out)


def _call(kwargs: Mapping[str, int]) -> str:
    return "inception_branches(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def _branch_hint(i: int, got: list[nn.Conv2d], want: list[nn.Conv2d]) -> str | None:
    names = ("1×1", "1×1 -> 3×3", "1×1 -> 5×5", "pool -> 1×1 projection")
    where = f"branch {i + 1} ({names[i]})"
    if len(got) != len(want):
        return f"{where} has {len(got)} convolution(s), expected {len(want)}"
    for g, w in zip(got, want, strict=True):
        if g.in_channels != w.in_channels:
            return f"{where}: a convolution reads {g.in_channels} maps, expected {w.in_channels}"
        if g.out_channels != w.out_channels:
            return f"{where}: a convolution makes {g.out_channels} maps, expected {w.out_channels}"
        if tuple(g.kernel_size) != tuple(w.kernel_size):
            return f"{where}: kernel {tuple(g.kernel_size)}, expected {tuple(w.kernel_size)}"
        if tuple(g.padding) != tuple(w.padding):
            k = w.kernel_size[0]
            return (
                f"{where}: padding {tuple(g.padding)}; a {k}×{k} convolution needs padding "
                f"{k // 2} to keep H×W, or the branches cannot be concatenated"
            )
        if g.bias is None:
            return f"{where}: a convolution has no bias; keep nn.Conv2d's default bias=True"
    return None


def _structure(fn: Callable[..., Any], kwargs: Mapping[str, int]) -> None:
    call = _call(kwargs)
    got = call_student(
        "inception_branches", fn, (), call, kwargs=dict(kwargs), forbidden=_FORBIDDEN,
        instead=_INSTEAD,
    )  # fmt: skip
    if not isinstance(got, (list, tuple)) or len(got) != 4:
        fail(
            f"inception_branches returned {type(got).__name__} for {call}; return a list of the "
            "four branches (1×1; 1×1 -> 3×3; 1×1 -> 5×5; max pool -> 1×1), each an nn.Sequential"
        )
    want = _branches(**kwargs)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if not isinstance(g, nn.Module):
            fail(f"branch {i + 1} is a {type(g).__name__}; make each branch an nn.Sequential")
        if any(type(m).__module__.startswith("cnnlab.") for m in g.modules()):
            fail(
                f"branch {i + 1} for {call} holds layers of cnnlab.models (the zoo's "
                f"Inception): {_INSTEAD}"
            )
        gc = [m for m in g.modules() if isinstance(m, nn.Conv2d)]
        wc = [m for m in w.modules() if isinstance(m, nn.Conv2d)]
        hint = _branch_hint(i, gc, wc)
        if hint:
            fail(f"inception_branches is wrong for {call}:\n  Hint: {hint}.")
        pools = [m for m in g.modules() if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
        if i == 3 and (len(pools) != 1 or not isinstance(pools[0], nn.MaxPool2d)):
            fail(
                f"branch 4 for {call} needs one nn.MaxPool2d(3, stride=1, padding=1) before its "
                "1×1 projection"
            )
        if i == 3:
            p = pools[0]
            if tuple(_pair(v) for v in (p.kernel_size, p.stride, p.padding)) != (
                (3, 3),
                (1, 1),
                (1, 1),
            ):
                fail(
                    f"branch 4's pool is MaxPool2d(kernel_size={p.kernel_size}, stride={p.stride},"
                    f" padding={p.padding}); use 3×3, stride 1, padding 1: the map keeps its size"
                )
        relus = sum(isinstance(m, nn.ReLU) for m in g.modules())
        if relus != len(wc):
            fail(
                f"branch {i + 1} for {call} has {relus} ReLU(s), expected {len(wc)}: every "
                "convolution, the 1×1 reductions included, is followed by nn.ReLU()"
            )


def _inputs(g: torch.Generator, kwargs: Mapping[str, Any]) -> torch.Tensor:
    h, w = pick(g, 5, 8), pick(g, 5, 8)
    return torch.randn(2, kwargs["in_channels"], h, w, generator=g, dtype=torch.float64)


def inception_branches(fn: Callable[..., Any], cases: int = 4) -> None:
    """Check ``fn(in_channels, c1, c3r, c3, c5r, c5, proj) -> [4 branches]`` against the
    reference inception module (layers, then outputs and gradients after concatenation)."""
    name = "inception_branches"
    fn = require_callable(name, fn)
    g = generator(name)
    example = {"in_channels": 192, "c1": 64, "c3r": 96, "c3": 128, "c5r": 16, "c5": 32, "proj": 32}
    configs = [example] + [
        {"in_channels": pick(g, 2, 6), **{k: pick(g, 1, 5) for k in _NAMES}} for _ in range(cases)
    ]
    for kwargs in configs:
        _structure(fn, kwargs)
    with torch.no_grad():
        x = torch.randn(1, 192, 8, 8)
        out = _module(fn, example)(x)
    if out.shape != (1, 256, 8, 8):
        fail(f"inception 3a's output is {tuple(out.shape)}, expected (1, 256, 8, 8)")
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        module_matches(
            name,
            lambda **kw: _module(fn, kw),
            lambda **kw: _module(_branches, kw),
            make_inputs=_inputs,
            init_args=configs[1:],
            cases=cases,
            forbidden=_FORBIDDEN,
            instead=_INSTEAD,
            label="the reference inception module",
        )
    ok(
        f"inception_branches: inception 3a gives 192 -> 256 maps, and {cases} random modules "
        "match the reference (outputs and gradients, float64)"
    )


# --------------------------------------------------------------------------------------------
# conv_mult_adds(size, in_channels, out_channels, kernel, reduce=None)


def _ma(size: int, cin: int, cout: int, k: int, reduce: int | None) -> int:
    area = size * size
    if reduce is None:
        return area * cout * k * k * cin
    return area * reduce * cin + area * cout * k * k * reduce


def _ma_hint(answer: float, size: int, cin: int, cout: int, k: int, reduce: int | None) -> str:
    area = size * size
    if answer and abs(answer * 1e6 - _ma(size, cin, cout, k, reduce)) < 1e5:
        return "return the count itself, not millions of multiply-adds"
    if reduce is None:
        if answer == cout * k * k * cin:
            return "that is the weight count; every weight is used once per output position: × H·W"
        if answer == area * cout * k * cin:
            return "a k×k kernel has k·k taps: multiply by k², not k"
        if answer == area * cout * k * k * cin + area * cout:
            return "count multiply-adds only; the bias additions are not multiply-adds"
        return "multiply-adds = (H·W·C_out) outputs × (k·k·C_in) per output"
    if answer == area * cout * k * k * reduce:
        return "you left out the 1×1 reduction itself: H·W·reduce·C_in more"
    if answer == area * cout * k * k * cin:
        return "with a reduction the k×k convolution reads the reduce maps, not C_in"
    if answer == area * reduce * cin + area * cout * k * k * cin:
        return "the k×k convolution reads the reduce maps (its input), not the C_in maps"
    if answer == area * reduce * cin * k * k + area * cout * k * k * reduce:
        return "the reduction is a 1×1 convolution: one tap per input map, no k²"
    return "add the 1×1 layer (H·W·reduce·C_in) and the k×k layer on reduce maps"


def conv_mult_adds(fn: Callable[..., Any], cases: int = 24) -> None:
    """Check ``fn(size, in_channels, out_channels, kernel, reduce=None) -> int``: multiply-adds of
    a "same" k×k convolution on size×size, optionally after a 1×1 reduction to ``reduce`` maps."""
    name = "conv_mult_adds"
    fn = require_callable(name, fn)
    g = generator(name)
    layers: list[tuple[int, int, int, int, int | None]] = [
        (28, 192, 32, 5, None),
        (28, 192, 32, 5, 16),
    ]
    while len(layers) < cases:
        reduce = None if len(layers) % 2 == 0 else pick(g, 2, 40)
        layers.append(
            (pick(g, 3, 30), pick(g, 3, 300), pick(g, 2, 200), (1, 3, 5, 7)[pick(g, 0, 3)], reduce)
        )
    for size, cin, cout, k, reduce in layers:
        call = f"conv_mult_adds({size}, {cin}, {cout}, {k}, reduce={reduce})"
        value = call_student(
            name, fn, (size, cin, cout, k), call, kwargs={"reduce": reduce},
            forbidden=("cnnlab.cost.summary", "torch.nn.Conv2d"),
            instead="count with the formula; do not build the layers",
        )  # fmt: skip
        answer = as_int(name, value, call, "a count of multiply-adds")
        expected = _ma(size, cin, cout, k, reduce)
        if answer != expected:
            raise CheckFailed(
                f"{name} is wrong for {call}:\n  expected {expected:,}, got {num(answer)}.\n"
                f"  Hint: {_ma_hint(answer, size, cin, cout, k, reduce)}"
            )
    direct, reduced = _ma(28, 192, 32, 5, None), _ma(28, 192, 32, 5, 16)
    ok(
        f"conv_mult_adds: {cases} layers right; 28×28×192 -> 5×5×32 costs {direct / 1e6:.1f} M "
        f"directly and {reduced / 1e6:.1f} M through 16 maps ({direct / reduced:.1f}× fewer)"
    )
