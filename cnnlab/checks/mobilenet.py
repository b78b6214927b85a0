"""Checks of topic 13, MobileNet: ``separable_conv`` and ``separable_mult_adds``.

* :func:`separable_conv` checks ``separable_conv(in_ch, out_ch, k, stride) -> nn.Sequential``:
  the paper's Figure 3 layer — depthwise k×k convolution (one filter per input channel), BN,
  ReLU, pointwise 1×1 convolution, BN, ReLU. Its layers are compared one by one with the
  reference (:func:`cnnlab.models.mobilenet.separable_conv`), so wrong groups, a missing
  pointwise layer, wrong padding or stride, a bias or a misplaced BN/ReLU is named; then
  :func:`module_matches` compares outputs, running statistics and gradients in float64.
* :func:`separable_mult_adds` checks ``separable_mult_adds(d_k, m, n, d_f) -> int``: the
  multiply-adds of a depthwise separable convolution (Howard et al. Eq. 4),
  ``D_K²·M·D_F² + M·N·D_F²``, against the cost table of the real layers.

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

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

__all__ = ["separable_conv", "separable_mult_adds"]

_CONV_FORBIDDEN = (
    "cnnlab.models.mobilenet.separable_conv",
    "cnnlab.models.mobilenet.DepthwiseSeparableConv",
    "cnnlab.models.mobilenet.build_mobilenet",
    "cnnlab.models.layers.ConvBNAct",
)
_INSTEAD = "build the layers yourself with nn.Conv2d, nn.BatchNorm2d and nn.ReLU"
_KINDS = ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"]


# --------------------------------------------------------------------------------------------
# separable_conv(in_ch, out_ch, k, stride)


def _reference(in_ch: int, out_ch: int, k: int, stride: int) -> nn.Sequential:
    from cnnlab.models.mobilenet import separable_conv as build

    return build(in_ch, out_ch, k, stride)


def _call(kwargs: Mapping[str, Any]) -> str:
    return "separable_conv(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


def _conv_problem(which: str, got: nn.Conv2d, want: nn.Conv2d, kw: Mapping[str, Any]) -> str | None:
    """What is wrong with the depthwise or pointwise convolution (None: nothing)."""
    cin, k = kw["in_ch"], kw["k"]
    if which == "depthwise":
        if got.groups != want.groups:
            return (
                f"the depthwise convolution has groups={got.groups}: it needs groups=in_ch "
                f"({cin}), one k×k filter per input channel; groups=1 is a standard convolution"
            )
        if got.out_channels != cin or got.in_channels != cin:
            return (
                f"the depthwise convolution maps {got.in_channels} -> {got.out_channels} "
                f"channels: it keeps the channels (in_ch -> in_ch = {cin}); the pointwise layer "
                "changes them"
            )
        if tuple(got.kernel_size) != (k, k):
            return (
                f"the depthwise convolution has kernel_size {tuple(got.kernel_size)}, "
                f"expected ({k}, {k})"
            )
        if tuple(got.padding) != tuple(want.padding):
            return (
                f"the depthwise convolution has padding {tuple(got.padding)}: use padding=k // 2 "
                f"= {k // 2}, so that only the stride shrinks the map"
            )
        if tuple(got.stride) != tuple(want.stride):
            return (
                f"the depthwise convolution has stride {tuple(got.stride)}, expected "
                f"{tuple(want.stride)}: the stride belongs to the depthwise (k×k) layer"
            )
    else:
        if tuple(got.kernel_size) != (1, 1):
            return f"the pointwise convolution has kernel_size {tuple(got.kernel_size)}: it is 1×1"
        if (got.in_channels, got.out_channels) != (want.in_channels, want.out_channels):
            return (
                f"the pointwise convolution maps {got.in_channels} -> {got.out_channels} "
                f"channels, expected in_ch -> out_ch = {want.in_channels} -> {want.out_channels}"
            )
        if got.groups != 1:
            return (
                f"the pointwise convolution has groups={got.groups}: it mixes all channels "
                "(groups=1)"
            )
        if tuple(got.stride) != (1, 1) or tuple(got.padding) != (0, 0):
            return (
                f"the pointwise convolution has stride {tuple(got.stride)} and padding "
                f"{tuple(got.padding)}: a 1×1 convolution here needs stride 1 and no padding "
                "(the depthwise layer already applied the stride)"
            )
    if got.bias is not None:
        return (
            f"the {which} convolution has a bias: pass bias=False, batch norm right after it "
            "subtracts the mean and would cancel it"
        )
    return None


def _structure(built: object, kwargs: Mapping[str, Any]) -> None:
    """Fail with a specific hint if the student's layer is not the reference's layer list."""
    call = _call(kwargs)
    if not isinstance(built, nn.Module):
        fail(
            f"separable_conv returned a {type(built).__name__} for {call}; return an "
            "nn.Sequential of the six layers"
        )
    convs = [m for m in built.modules() if isinstance(m, nn.Conv2d)]
    if len(convs) == 1:
        only = convs[0]
        what = (
            "only the depthwise convolution: add the pointwise 1×1 convolution (in_ch -> out_ch) "
            "with its BN and ReLU — without it the channels never mix"
            if only.groups > 1
            else "a single convolution: a separable layer is two, a depthwise k×k "
            "(groups=in_ch) then a pointwise 1×1"
        )
        fail(f"separable_conv has {what} (found for {call}).")
    if len(convs) != 2:
        fail(
            f"separable_conv has {len(convs)} convolutions for {call}, expected 2: a depthwise "
            "k×k (groups=in_ch) then a pointwise 1×1."
        )
    want = [m for m in _reference(**kwargs) if isinstance(m, nn.Conv2d)]
    for which, got, ref in zip(("depthwise", "pointwise"), convs, want, strict=True):
        problem = _conv_problem(which, got, ref, kwargs)
        if problem:
            fail(f"separable_conv is wrong for {call}:\n  Hint: {problem}.")
    if any(isinstance(m, nn.ReLU6) for m in built.modules()):
        fail(
            f"separable_conv uses nn.ReLU6 for {call}: ReLU6 is what the released models use; "
            "this exercise follows the paper (Figure 3), which uses nn.ReLU."
        )
    kinds = [type(m).__name__ for m in built.children()] if isinstance(built, nn.Sequential) else []
    if kinds != _KINDS:
        bn = sum(isinstance(m, nn.BatchNorm2d) for m in built.modules())
        relu = sum(isinstance(m, (nn.ReLU, nn.ReLU6)) for m in built.modules())
        if bn != 2 or relu != 2:
            hint = (
                f"found {bn} BatchNorm2d and {relu} ReLU: the paper's Figure 3 puts BN and ReLU "
                "after each of the two convolutions"
            )
        else:
            hint = "each convolution is followed by its BN, then its ReLU, in one nn.Sequential"
        fail(
            f"separable_conv's layers for {call} are {kinds or type(built).__name__}, expected "
            f"nn.Sequential({', '.join(_KINDS)}).\n  Hint: {hint}."
        )


def _inputs(g: torch.Generator, kwargs: Mapping[str, Any]) -> torch.Tensor:
    h, w = pick(g, 5, 9), pick(g, 5, 9)
    return torch.randn(3, kwargs["in_ch"], h, w, generator=g, dtype=torch.float64)


def _configs(g: torch.Generator, cases: int) -> list[dict[str, Any]]:
    return [
        {
            "in_ch": pick(g, 2, 6),
            "out_ch": pick(g, 2, 7),
            "k": (3, 5, 3)[i % 3],
            "stride": 1 + i % 2,
        }
        for i in range(cases)
    ]


def separable_conv(fn: Callable[..., Any], cases: int = 4) -> None:
    """Check ``fn(in_ch, out_ch, k, stride) -> nn.Sequential``: depthwise k×k conv (groups =
    in_ch, padding k//2, no bias), BN, ReLU, pointwise 1×1 conv (no bias), BN, ReLU, equal to
    :func:`cnnlab.models.mobilenet.separable_conv` (layers, outputs, statistics, gradients)."""
    name = "separable_conv"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: MobileNet's separable layer at 14×14, 512 -> 512 maps, then random ones
    example = {"in_ch": 512, "out_ch": 512, "k": 3, "stride": 1}
    configs = [example, *_configs(g, cases)]
    for kwargs in configs:
        built = call_student(
            name, fn, (), _call(kwargs), kwargs=kwargs, forbidden=_CONV_FORBIDDEN,
            instead=_INSTEAD,
        )  # fmt: skip
        _structure(built, kwargs)
    n_example = sum(p.numel() for p in _reference(**example).parameters())
    quiet = io.StringIO()  # module_matches prints its own line; this check prints one
    with contextlib.redirect_stdout(quiet):
        module_matches(
            name,
            fn,
            _reference,
            make_inputs=_inputs,
            init_args=configs[1:],
            forbidden=_CONV_FORBIDDEN,
            instead=_INSTEAD,
            label="cnnlab.models.mobilenet.separable_conv",
        )
    ok(
        f"separable_conv: MobileNet's 512 -> 512 layer has the right layers ({n_example:,} "
        f"parameters), and {cases} random layers match the reference (outputs, running "
        "statistics and gradients, float64)"
    )


# --------------------------------------------------------------------------------------------
# separable_mult_adds(d_k, m, n, d_f)

_COST_FORBIDDEN = (
    "cnnlab.cost.summary",
    "cnnlab.models.mobilenet.separable_mult_adds",
    "cnnlab.models.mobilenet.separable_cost_ratio",
    "torch.nn.Conv2d",
)


def _true_mult_adds(k: int, m: int, n: int, f: int) -> int:
    """The multiply-adds of the real layers, from the course's cost table (meta device)."""
    from cnnlab.cost import summary

    with torch.device("meta"):
        layer = nn.Sequential(
            nn.Conv2d(m, m, k, padding=k // 2, groups=m, bias=False),
            nn.Conv2d(m, n, 1, bias=False),
        )
    return summary(layer, (m, f, f)).totals.mult_adds


def _cost_hint(answer: float, k: int, m: int, n: int, f: int) -> str:
    area = f * f
    depthwise, pointwise = k * k * m * area, m * n * area
    if answer == k * k * m + m * n:
        return "you forgot the map size: every output position costs that much, multiply by D_F²"
    if answer == (k * k * m + m * n) * f:
        return "the output map is D_F×D_F: multiply by D_F², not by D_F"
    if answer == k * k * n * area + m * n * area:
        return (
            "you swapped M and N in the depthwise term: it filters each of the M *input* "
            "channels once, D_K²·M·D_F²"
        )
    if answer == depthwise:
        return "that is only the depthwise term: add the pointwise 1×1 convolution, M·N·D_F²"
    if answer == pointwise:
        return "that is only the pointwise term: add the depthwise convolution, D_K²·M·D_F²"
    if answer == k * k * m * n * area:
        return (
            "that is a standard convolution, D_K²·M·N·D_F²; the separable one is two cheaper layers"
        )
    if answer == k * m * area + pointwise:
        return "a D_K×D_K filter has D_K² weights per channel: use D_K², not D_K"
    if isinstance(answer, float):
        return "the count of multiply-adds is a whole number: no ratio, no division"
    return "depthwise D_K²·M·D_F² plus pointwise M·N·D_F²"


def separable_mult_adds(fn: Callable[..., Any], cases: int = 30) -> None:
    """Check ``fn(d_k, m, n, d_f) -> int``: the multiply-adds of a depthwise separable
    convolution, D_K×D_K depthwise on M channels then 1×1 to N, on a D_F×D_F output."""
    name = "separable_mult_adds"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: MobileNet's 14×14, 512 -> 512 layer; then random, non-square-free sizes
    layers = [(3, 512, 512, 14)]
    while len(layers) < cases:
        m, n = pick(g, 2, 300), pick(g, 2, 300)
        if m == n:
            continue  # M ≠ N, so that swapping them shows
        layers.append(((3, 5, 7)[len(layers) % 3], m, n, pick(g, 2, 40)))
    for k, m, n, f in layers:
        call = f"{name}({k}, {m}, {n}, {f})"
        value = call_student(
            name, fn, (k, m, n, f), call, forbidden=_COST_FORBIDDEN,
            instead="count the multiply-adds with the formula, do not build the layers",
        )  # fmt: skip
        answer = as_int(name, value, call, "a number of multiply-adds")
        expected = _true_mult_adds(k, m, n, f)
        if answer != expected:
            raise CheckFailed(
                f"{name} is wrong for {call}:\n  expected {expected:,} (the cost table of the "
                f"depthwise and pointwise layers), got {num(answer)}.\n  Hint: "
                f"{_cost_hint(answer, k, m, n, f)}."
            )
    k, m, n, f = layers[0]
    sep, std = _true_mult_adds(k, m, n, f), k * k * m * n * f * f
    ok(
        f"{name}: {cases} layers match the cost table (MobileNet's 14×14, 512 -> 512 layer: "
        f"{sep:,} multiply-adds against {std:,} for a standard 3×3 convolution, "
        f"{std / sep:.2f}× fewer)"
    )
