"""Checks of topic 8, Network in Network: ``mlpconv`` and ``head_params``.

* :func:`mlpconv` checks ``mlpconv(in_channels, channels, kernel_size, padding)``: an
  ``nn.Sequential`` of a k×k convolution and 1×1 convolutions, each followed by a ReLU. Its
  layers are compared one by one with the reference (:func:`cnnlab.models.nin.mlpconv`), so a
  wrong kernel, padding or channel count is named; then :func:`module_matches` compares
  outputs and gradients in float64 on random configurations.
* :func:`head_params` checks ``head_params(channels, height, width, num_classes, head)``: the
  parameters of a classifier head on a C×H×W feature map, NIN's (a 1×1 convolution to K maps,
  then global average pooling) or a fully connected one (flatten, one linear layer), against
  the parameter count of the PyTorch layers themselves.

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Mapping, Sequence
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

__all__ = ["head_params", "mlpconv"]

_MLPCONV_FORBIDDEN = ("cnnlab.models.nin.mlpconv", "cnnlab.models.nin.build_nin")
_INSTEAD = "build the layers yourself with nn.Conv2d and nn.ReLU inside nn.Sequential"


# --------------------------------------------------------------------------------------------
# mlpconv(in_channels, channels, kernel_size, padding)


def _reference(
    in_channels: int, channels: Sequence[int], kernel_size: int, padding: int = 0
) -> nn.Sequential:
    from cnnlab.models.nin import mlpconv as build

    return build(in_channels, list(channels), kernel_size, padding=padding)


def _call(kwargs: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"mlpconv({args})"


def _layer_kinds(module: nn.Module) -> list[str]:
    return (
        [type(m).__name__ for m in module.children()] if isinstance(module, nn.Sequential) else []
    )


def _conv_problem(i: int, got: nn.Conv2d, want: nn.Conv2d, kwargs: Mapping[str, Any]) -> str | None:
    """What is wrong with convolution ``i`` of the student's block (None: nothing)."""
    k, p = kwargs["kernel_size"], kwargs["padding"]
    where = "the first (k×k) convolution" if i == 0 else f"1×1 convolution {i}"
    if got.in_channels != want.in_channels:
        source = (
            f"the input has in_channels={want.in_channels}"
            if i == 0
            else f"it reads the previous layer's {want.in_channels} maps (channels[{i - 1}])"
        )
        return f"{where} has in_channels={got.in_channels}: {source}"
    if got.out_channels != want.out_channels:
        return (
            f"{where} has out_channels={got.out_channels}, expected channels[{i}] = "
            f"{want.out_channels}"
        )
    if tuple(got.kernel_size) != tuple(want.kernel_size):
        if i == 0:
            return f"{where} has kernel_size {tuple(got.kernel_size)}, expected ({k}, {k})"
        return (
            f"{where} has kernel_size {tuple(got.kernel_size)}: the layers after the first are "
            "1×1 convolutions (kernel_size=1), the per-pixel hidden layers of the MLP; a larger "
            "kernel would mix neighbouring positions again"
        )
    if tuple(got.padding) != tuple(want.padding):
        if i == 0:
            return (
                f"{where} has padding {tuple(got.padding)}, expected ({p}, {p}): pass "
                "padding=padding to the k×k convolution"
            )
        return (
            f"{where} has padding {tuple(got.padding)}: a 1×1 convolution needs no padding (it "
            "would add a border of zeros and grow the map)"
        )
    if tuple(got.stride) != (1, 1):
        return f"{where} has stride {tuple(got.stride)}; every convolution here has stride 1"
    if got.bias is None:
        return f"{where} has no bias: keep nn.Conv2d's default bias=True"
    return None


def _structure(built: object, kwargs: Mapping[str, Any]) -> None:
    """Fail with a specific hint if the student's block is not the reference's layer list."""
    call = _call(kwargs)
    if not isinstance(built, nn.Module):
        fail(
            f"mlpconv returned a {type(built).__name__} for {call}; return an nn.Sequential of "
            "the layers (conv, ReLU, conv, ReLU, ...)"
        )
    want = _reference(**kwargs)
    convs = [m for m in built.modules() if isinstance(m, nn.Conv2d)]
    ref_convs = [m for m in want if isinstance(m, nn.Conv2d)]
    n = len(ref_convs)
    if len(convs) != n:
        fail(
            f"mlpconv({', '.join(map(repr, kwargs.values()))}) has {len(convs)} convolution(s), "
            f"expected {n}: one {kwargs['kernel_size']}×{kwargs['kernel_size']} convolution to "
            f"channels[0] maps, then one 1×1 convolution for each further entry of channels "
            f"({list(kwargs['channels'])})."
        )
    for i, (got, ref) in enumerate(zip(convs, ref_convs, strict=True)):
        problem = _conv_problem(i, got, ref, kwargs)
        if problem:
            fail(f"mlpconv is wrong for {call}:\n  Hint: {problem}.")
    relus = sum(isinstance(m, nn.ReLU) for m in built.modules())
    if relus < n:
        fail(
            f"mlpconv has {relus} ReLU(s) for {call}, expected {n}: every convolution, the 1×1 "
            "ones and the last one included, is followed by nn.ReLU().\n  Hint: without the "
            "ReLU between them, two 1×1 convolutions collapse into one linear map (W2·W1): the "
            "micro network would be no more than one convolution."
        )
    kinds, expected = _layer_kinds(built), ["Conv2d", "ReLU"] * n
    if kinds != expected:
        fail(
            f"mlpconv's layers for {call} are {kinds or type(built).__name__}, expected "
            f"nn.Sequential({', '.join(expected)}).\n  Hint: put the layers in one "
            "nn.Sequential in this order (numbered 0, 1, 2, ...), each convolution followed by "
            "its ReLU."
        )


def _inputs(g: torch.Generator, kwargs: Mapping[str, Any]) -> torch.Tensor:
    h, w = pick(g, 6, 9), pick(g, 6, 9)
    return torch.randn(2, kwargs["in_channels"], h, w, generator=g, dtype=torch.float64)


def _configs(g: torch.Generator, cases: int) -> list[dict[str, Any]]:
    configs = []
    for _ in range(cases):
        k = (1, 3, 5)[pick(g, 0, 2)]
        depth = pick(g, 1, 3)
        configs.append(
            {
                "in_channels": pick(g, 1, 4),
                "channels": [pick(g, 2, 6) for _ in range(depth)],
                "kernel_size": k,
                "padding": pick(g, 0, k // 2),
            }
        )
    return configs


def mlpconv(fn: Callable[..., Any], cases: int = 6) -> None:
    """Check ``fn(in_channels, channels, kernel_size, padding) -> nn.Sequential``: a k×k
    convolution to ``channels[0]`` maps then a 1×1 convolution per further entry, each followed
    by a ReLU, equal to :func:`cnnlab.models.nin.mlpconv` (layers, outputs, gradients)."""
    name = "mlpconv"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example of the exercise: NIN's first CIFAR-10 mlpconv, then random blocks
    example = {"in_channels": 3, "channels": [192, 160, 96], "kernel_size": 5, "padding": 2}
    configs = [example, *_configs(g, cases)]
    for kwargs in configs:
        built = call_student(
            name, fn, (), _call(kwargs), kwargs=kwargs, forbidden=_MLPCONV_FORBIDDEN,
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
            forbidden=_MLPCONV_FORBIDDEN,
            instead=_INSTEAD,
            label="cnnlab.models.nin.mlpconv",
        )
    ok(
        f"mlpconv: NIN's first CIFAR-10 block has the right layers ({n_example:,} parameters), "
        f"and {cases} random blocks match the reference (outputs and gradients, float64)"
    )


# --------------------------------------------------------------------------------------------
# head_params(channels, height, width, num_classes, head)

_HEAD_FORBIDDEN = ("torch.nn.Linear", "torch.nn.Conv2d", "cnnlab.cost.summary")


def _true_params(c: int, h: int, w: int, k: int, head: str) -> int:
    """The parameters of the real layers (built on the meta device: no memory)."""
    if head == "gap":
        layer: nn.Module = nn.Conv2d(c, k, 1, device="meta")
    else:
        layer = nn.Linear(c * h * w, k, device="meta")
    return sum(p.numel() for p in layer.parameters())


def _head_hint(answer: float, c: int, h: int, w: int, k: int, head: str) -> str:
    expected = _true_params(c, h, w, k, head)
    if answer == expected - k:
        return f"you forgot the biases: one per class, {k} here"
    if head == "fc":
        if answer == c * k + k:
            return (
                "the fully connected layer sees every position of every map: its input has "
                "C·H·W numbers, so multiply by the spatial size H·W"
            )
        if answer in (c * h * k + k, c * w * k + k):
            return "the flattened map has C·H·W numbers: multiply by both H and W"
        if h != w and answer in (c * h * h * k + k, c * w * w * k + k):
            return f"the map is {h}×{w}, not square: multiply by H·W, not by the square of one side"
        if answer == c * h * w * k + c * h * w:
            return "a linear layer has one bias per output (K), not one per input"
        return "flatten gives C·H·W inputs; the layer has (C·H·W)·K weights plus K biases"
    if answer == c * h * w * k + k:
        return (
            "global average pooling reduces each map to one number first, so the head sees "
            "only C inputs: the spatial size does not enter"
        )
    if answer == 0:
        return (
            "the pooling itself has no parameters, but NIN's head has the 1×1 convolution "
            "from C maps to K class maps before it"
        )
    if answer == c * k + c:
        return "a 1×1 convolution has one bias per output map (K), not one per input"
    return "a 1×1 convolution from C to K maps: C·K weights plus K biases"


def _head_call(c: int, h: int, w: int, k: int, head: str) -> str:
    return f"head_params({c}, {h}, {w}, {k}, {head!r})"


def head_params(fn: Callable[..., Any], cases: int = 30) -> None:
    """Check ``fn(channels, height, width, num_classes, head) -> int``: the parameters of a
    ``"gap"`` head (1×1 convolution C -> K, global average pooling) or an ``"fc"`` head
    (flatten, linear C·H·W -> K) on a C×H×W map, against the PyTorch layers' count."""
    name = "head_params"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: AlexNet's pool5 map (256×6×6) with 1000 classes, then random maps
    layers = [(256, 6, 6, 1000, "fc"), (256, 6, 6, 1000, "gap")]
    while len(layers) < cases:
        h, w = pick(g, 2, 9), pick(g, 2, 9)
        head = ("gap", "fc")[len(layers) % 2]
        layers.append((pick(g, 3, 300), h, w, pick(g, 2, 120), head))
    for c, h, w, k, head in layers:
        call = _head_call(c, h, w, k, head)
        value = call_student(
            name, fn, (c, h, w, k, head), call, forbidden=_HEAD_FORBIDDEN,
            instead="count the weights and biases with the formula, do not build the layer",
        )  # fmt: skip
        answer = as_int(name, value, call, "a parameter count")
        expected = _true_params(c, h, w, k, head)
        if answer != expected:
            layer = f"nn.Conv2d({c}, {k}, 1)" if head == "gap" else f"nn.Linear({c * h * w}, {k})"
            raise CheckFailed(
                f"{name} is wrong for {call}:\n  expected {expected:,} (the parameters of "
                f"{layer}), got {num(answer)}.\n  Hint: {_head_hint(answer, c, h, w, k, head)}"
            )
    fc, gap = _true_params(256, 6, 6, 1000, "fc"), _true_params(256, 6, 6, 1000, "gap")
    ok(
        f"head_params: {cases} heads match the PyTorch layers (on AlexNet's 256×6×6 pool5 map "
        f"with 1000 classes: FC {fc:,}, GAP {gap:,} parameters)"
    )
