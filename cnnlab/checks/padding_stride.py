"""Checks of topic 2, padding and stride: ``conv_output_size``, ``conv_params``,
``receptive_field``.

Each compares the student's formula with what PyTorch does (the shape of a real convolution,
the parameters of ``nn.Conv2d``, the input footprint of a stack found by autograd) on classic
layers first, then seeded random ones. The answer must be a Python (or NumPy) int; when it is
wrong, the hint names the classic formula mistake that explains the student's answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.checks._core import (
    STUB_HINT,
    CheckFailed,
    as_int,
    call_student,
    generator,
    num,
    ok,
    pick,
    require_callable,
)
from cnnlab.shapes import measured_receptive_field

__all__ = ["conv_output_size", "conv_params", "receptive_field"]

Mistake = tuple[Callable[..., float], str]  # (formula of a classic mistake, hint)


def _torch_conv_size(n: int, f: int, s: int, p: int) -> int | None:
    """PyTorch's output size (from a convolution of an n×1 column); None if it refuses."""
    x = torch.zeros(1, 1, n, 1)
    k = torch.zeros(1, 1, f, 1)
    try:
        return int(F.conv2d(x, k, stride=(s, 1), padding=(p, 0)).shape[2])
    except RuntimeError:
        return None


def _scalar_answers(
    name: str,
    fn: Callable[..., Any],
    cases: Sequence[tuple[Any, ...]],
    expected: Sequence[int],
    call_of: Callable[..., str],
    what: str,
) -> tuple[list[int | float], int | None]:
    """The student's answers and the index of the first wrong one (None if all are right).

    A crash or a non-integer answer is reported at once, unless an earlier answer was already
    wrong: then the wrong answer is the more useful report.
    """
    answers: list[int | float] = []
    for args in cases:
        try:
            answers.append(
                as_int(name, call_student(name, fn, args, call_of(*args)), call_of(*args), what)
            )
        except CheckFailed:
            if any(got != exp for got, exp in zip(answers, expected, strict=False)):
                break
            raise
        if isinstance(answers[-1], float):
            break  # a fraction is never right: report it as such
    bad = next((i for i, (g, e) in enumerate(zip(answers, expected, strict=False)) if g != e), None)
    return answers, bad


def _diagnose(
    cases: Sequence[tuple[Any, ...]],
    answers: Sequence[float],
    bad: int,
    mistakes: Sequence[Mistake],
) -> str | None:
    """The hint of a classic mistake that explains every answer (else the first wrong one)."""
    for rule, hint in mistakes:
        if all(rule(*args) == got for args, got in zip(cases, answers, strict=False)):
            return hint
    for rule, hint in mistakes:
        if rule(*cases[bad]) == answers[bad]:
            return hint
    return None


def _conv_size_call(n: int, f: int, s: int, p: int) -> str:
    return f"conv_output_size({n}, {f}, stride={s}, padding={p})"


_CONV_SIZE_MISTAKES: list[Mistake] = [
    (
        lambda n, f, s, p: -(-(n - f + 2 * p) // s) + 1,
        "PyTorch *floors* (n − k + 2p)/s + 1: a last window that would hang over the edge is "
        "dropped; you rounded up",
    ),
    (
        lambda n, f, s, p: (n - f + 2 * p) // s,
        "you forgot the + 1: (n − k + 2p)/s counts the steps, + 1 the first window",
    ),
    (lambda n, f, s, p: (n - f + p) // s + 1, "padding adds p pixels on *both* sides: n + 2p"),
    (lambda n, f, s, p: (n - f) // s + 1, "you ignored the padding: n + 2p pixels are available"),
    (lambda n, f, s, p: n - f + 2 * p + 1, "you ignored the stride: divide n − k + 2p by s"),
    (
        lambda n, f, s, p: (n + 2 * p - f + 1) // s,
        "the + 1 comes after the division: (n − k + 2p)/s + 1",
    ),
]


def conv_output_size(fn: Callable[..., Any], cases: int = 60) -> None:
    """Check ``fn(n, f, stride, padding) -> int``: floor((n − f + 2p)/s) + 1, like PyTorch.

    A filter larger than the padded input (f > n + 2p) must raise ``ValueError``.
    """
    name = "conv_output_size"
    fn = require_callable(name, fn)
    g = generator(name)
    valid = [(7, 3, 1, 0), (7, 3, 2, 0), (7, 3, 3, 0), (7, 3, 1, 1), (32, 5, 1, 2), (227, 11, 4, 0)]
    while len(valid) < cases:
        f = pick(g, 1, 7)
        s, p = pick(g, 1, 4), pick(g, 0, 3)
        n = pick(g, max(1, f - 2 * p), 40)
        valid.append((n, f, s, p))
    expected = [_torch_conv_size(*case) for case in valid]
    answers, bad = _scalar_answers(name, fn, valid, expected, _conv_size_call, "an output size")
    if bad is not None:
        n, f, s, p = valid[bad]
        got, want = answers[bad], expected[bad]
        formula = f"({n} − {f} + 2·{p})/{s} + 1"
        if isinstance(got, float):
            value = (n - f + 2 * p) / s + 1
            hint = (
                f"a size is a whole number: PyTorch floors {formula} = {value:.2f} to {want} "
                "(use // for the division)"
            )
        else:
            hint = _diagnose(valid, answers, bad, _CONV_SIZE_MISTAKES) or (
                f"the output size is {formula}, floored"
            )
        raise CheckFailed(
            f"{name} is wrong for {_conv_size_call(n, f, s, p)}:\n  expected {want}, got "
            f"{num(got)}: output size = floor({formula}) = {want}.\n  Hint: {hint}"
        )
    invalid = [(3, 5, 1, 0), (4, 7, 1, 1), (1, 2, 1, 0), (5, 11, 2, 2), (2, 6, 3, 1), (6, 9, 1, 1)]
    for n, f, s, p in invalid:
        call = _conv_size_call(n, f, s, p)
        try:
            got = fn(n, f, s, p)
        except ValueError:
            continue
        except NotImplementedError:
            raise CheckFailed(f"{name} is not implemented yet: {STUB_HINT}.") from None
        except Exception as exc:
            raise CheckFailed(
                f"{name} raised {type(exc).__name__} for {call}; a filter that does not fit "
                f"should raise ValueError (raise ValueError('...'))"
            ) from exc
        raise CheckFailed(
            f"{name} returned {got!r} for {call}, but a {f}-wide kernel does not fit even once "
            f"in the padded input ({n} + 2·{p} = {n + 2 * p} pixels), and PyTorch refuses it.\n"
            f"  Hint: check `if k > n + 2 * padding:` and raise ValueError with a message."
        )
    total = len(valid) + len(invalid)
    ok(
        f"{name}: {total} cases match the output size of torch.nn.functional.conv2d "
        f"({len(invalid)} of them raise ValueError)"
    )


def _params_call(d: int, k: int, f: int, bias: bool) -> str:
    return f"conv_params(in_channels={d}, out_channels={k}, kernel_size={f}, bias={bias})"


_PARAMS_MISTAKES: list[Mistake] = [
    (
        lambda d, k, f, b: f * f * d * k,
        "each of the C_out filters also has one bias (when bias=True): k·k·C_in·C_out + C_out",
    ),
    (lambda d, k, f, b: f * f * d * k + k, "bias=False means no bias terms: k·k·C_in·C_out only"),
    (
        lambda d, k, f, b: f * f * k + (k if b else 0),
        "a filter spans the full input depth C_in = in_channels: k·k·C_in weights per filter",
    ),
    (
        lambda d, k, f, b: f * f * d + (1 if b else 0),
        "that is one filter; the layer has C_out = out_channels of them",
    ),
    (lambda d, k, f, b: f * d * k + (k if b else 0), "a filter is k×k, so k·k·C_in weights each"),
    (lambda d, k, f, b: f * f * d * k + (1 if b else 0), "one bias per filter: + C_out, not + 1"),
]


def conv_params(fn: Callable[..., Any], cases: int = 40) -> None:
    """Check ``fn(in_channels, out_channels, kernel_size, bias) -> int`` against nn.Conv2d."""
    name = "conv_params"
    fn = require_callable(name, fn)
    g = generator(name)
    layers = [(3, 10, 5, True), (3, 6, 5, True), (64, 64, 3, False)]
    while len(layers) < cases:
        c_in, c_out = pick(g, 1, 64), pick(g, 1, 64)
        layers.append((c_in, c_out, pick(g, 1, 7), pick(g, 0, 3) > 0))
    expected = [
        sum(p.numel() for p in nn.Conv2d(d, k, f, bias=b, device="meta").parameters())
        for d, k, f, b in layers
    ]
    answers, bad = _scalar_answers(name, fn, layers, expected, _params_call, "a parameter count")
    if bad is not None:
        d, k, f, b = layers[bad]
        hint = _diagnose(layers, answers, bad, _PARAMS_MISTAKES) or (
            "weights k·k·C_in·C_out plus C_out biases"
        )
        raise CheckFailed(
            f"{name} is wrong for {_params_call(d, k, f, b)}:\n  expected {expected[bad]} (the "
            f"parameter count of nn.Conv2d({d}, {k}, {f}, bias={b})), got {num(answers[bad])}."
            f"\n  Hint: {hint}"
        )
    ok(f"{name}: {cases} random layers match the parameter count of torch.nn.Conv2d")


def _field_call(kernels: list[int], strides: list[int] | None = None) -> str:
    args = f"{kernels}" if strides is None else f"{kernels}, {strides}"
    return f"receptive_field({args})"


def _jumps(strides: Sequence[int]) -> list[int]:
    """J_i: the product of the strides of the layers before layer i."""
    return [math.prod(strides[:i]) for i in range(len(strides))]


def _field_rule(
    step: Callable[[int, int, int], int],
) -> Callable[[list[int], list[int] | None], int]:
    """A receptive-field formula ``1 + Σ step(F_i, J_i, S_i)`` as a function of a call's args."""

    def rule(kernels: list[int], strides: list[int] | None = None) -> int:
        s = strides or [1] * len(kernels)
        return 1 + sum(step(k, j, st) for k, j, st in zip(kernels, _jumps(s), s, strict=True))

    return rule


_FIELD_MISTAKES: list[Mistake] = [
    (
        lambda kernels, strides=None: sum(kernels),
        "each extra layer adds F − 1 pixels, not F: r = 1 + Σ (F_i − 1)·J_i",
    ),
    (
        _field_rule(lambda k, j, s: k - 1),
        "a stride multiplies the step between the windows of every later layer: "
        "r = 1 + Σ (F_i − 1)·J_i with J_i the product of the strides *before* layer i",
    ),
    (
        _field_rule(lambda k, j, s: (k - 1) * j * s),
        "J_i is the product of the strides of the layers *before* layer i, not including its own",
    ),
    (
        lambda kernels, strides=None: math.prod(kernels),
        "receptive fields do not multiply: each layer adds (F − 1)·J",
    ),
]


def receptive_field(fn: Callable[..., Any], cases: int = 40) -> None:
    """Check ``fn(kernel_sizes, strides=None) -> int``: the receptive field of a conv stack.

    ``kernel_sizes`` and ``strides`` are lists (one entry per layer, no padding or dilation);
    ``strides=None`` means stride 1 everywhere.
    """
    name = "receptive_field"
    fn = require_callable(name, fn)
    g = generator(name)
    stacks: list[tuple[list[int], ...]] = [
        ([3],), ([3, 3],), ([3, 3, 3],), ([5, 5],), ([7],), ([2, 2], [2, 2]), ([11, 3], [4, 1]),
    ]  # fmt: skip
    while len(stacks) < cases:
        depth = pick(g, 1, 5)
        kernels = [pick(g, 1, 7) for _ in range(depth)]
        if len(stacks) % 2:
            stacks.append((kernels, [pick(g, 1, 2) for _ in range(depth)]))
        else:
            stacks.append((kernels,))
    # The footprint of one output unit, measured by backpropagation (not by the formula).
    expected = [
        measured_receptive_field(
            list(zip(args[0], args[1] if len(args) > 1 else [1] * len(args[0]), strict=True))
        )
        for args in stacks
    ]
    # Each call gets fresh lists, so a function that changes them cannot affect the next case.
    fresh = [tuple(list(a) for a in args) for args in stacks]
    answers, bad = _scalar_answers(name, fn, fresh, expected, _field_call, "a receptive field")
    if bad is not None:
        hint = _diagnose(stacks, answers, bad, _FIELD_MISTAKES) or "r = 1 + Σ (F_i − 1)·J_i"
        raise CheckFailed(
            f"{name} is wrong for {_field_call(*stacks[bad])}:\n  expected {expected[bad]} "
            f"(the input pixels that reach one output unit, found by backpropagation in "
            f"PyTorch), got {num(answers[bad])}.\n  Hint: {hint}"
        )
    ok(f"{name}: {cases} random stacks match the input footprint found by autograd")
