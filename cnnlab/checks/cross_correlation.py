"""Checks of topic 1, cross-correlation: ``corr2d``, its multi-channel forms and ``conv1x1``.

Each compares the student's function with ``torch.nn.functional.conv2d`` on the lecture's
worked example first, then on real-valued float64 cases of non-square shapes (a transposed
output, swapped kernel sides, a float32 or integer computation show there), then on small
integer cases and degenerate shapes (1×1 kernels, a kernel as large as the input). The
convolution functions of torch (and of ``cnnlab.ops``, SciPy) are blocked while the student's
code runs: the exercise is to compute it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

__all__ = ["conv1x1", "corr2d", "corr2d_multi_in", "corr2d_multi_in_out"]

# Library functions that compute the exercise's answer (blocked during the student's call).
_CONV = (
    "torch.nn.Conv2d.forward",
    "torch.nn.functional.conv2d",
    "torch.conv2d",
    "torch.convolution",
    "torch._convolution",
    "cnnlab.ops.conv2d",
    "scipy.signal.correlate2d",
    "scipy.signal.convolve2d",
    "scipy.signal.correlate",
    "scipy.signal.convolve",
    # the operators behind torch's, however they are reached (torch.ops.aten, a captured alias)
    "aten::convolution",
    "aten::_convolution",
)

_FLIP_HINT = (
    "your output equals the *flipped-kernel* (true) convolution; cross-correlation does not "
    "flip K: Y[i, j] = (X[i:i+kh, j:j+kw] * K).sum()"
)

Reference = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Judged = tuple[list[Hint], list[ShapeHint]]  # wrong answers and wrong shapes, with hints
Pair = tuple[torch.Tensor, torch.Tensor]


def _size_hints(h: int, w: int, kh: int, kw: int, lead: tuple[int, ...] = ()) -> list[ShapeHint]:
    """Shape hints shared by the cross-correlation checks (``lead``: leading output dims)."""
    oh, ow = h - kh + 1, w - kw + 1
    return [
        (
            (*lead, oh - 1, ow - 1),
            f"your output is one row and one column short: without padding the window fits "
            f"n − k + 1 times along an axis ((n − k)/s + 1 with s = 1), i.e. "
            f"{h} − {kh} + 1 = {oh} rows and {w} − {kw} + 1 = {ow} columns: "
            "loop over range(h - kh + 1) and range(w - kw + 1)",
        ),
        (
            (*lead, oh + 1, ow + 1),
            f"your output is one row and one column too big: the output size is (n − k)/s + 1, "
            f"i.e. {h} − {kh} + 1 = {oh} rows and {w} − {kw} + 1 = {ow} columns",
        ),
        (
            (*lead, h, w),
            "your output has the input's shape, but without padding a kh×kw window fits only "
            "(h − kh + 1)×(w − kw + 1) times",
        ),
        (
            (*lead, ow, oh),
            "rows and columns are swapped: the output has h − kh + 1 rows and w − kw + 1 columns",
        ),
        (
            (*lead, h - kw + 1, w - kh + 1),
            "you mixed up the kernel's height and width: kh, kw = K.shape[-2], K.shape[-1]",
        ),
    ]


def _conv(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Reference: C×H×W input, O×C×kh×kw filters -> O×H'×W' with torch.nn.functional.conv2d."""
    return F.conv2d(X.unsqueeze(0), K)[0]


def _two_sizes(g: torch.Generator, low: int, high: int) -> tuple[int, int]:
    """Two different sizes in [low, high] (a non-square shape shows swapped axes)."""
    a = pick(g, low, high)
    b = pick(g, low, high - 1)
    return a, b + (b >= a)


def _kernel(g: torch.Generator, h: int, w: int) -> tuple[int, int]:
    """A kernel of 2 to N − 1 rows and columns, non-square where the input allows it."""
    kh, kw = pick(g, 2, h - 1), pick(g, 2, w - 1)
    if kh == kw and h > 3:
        kh = kh - 1 if kh > 2 else kh + 1
    return kh, kw


def _schedule(i: int, cases: int) -> str:
    """The kind of case ``i``: "real" (non-degenerate shapes) for the first half, then a mix
    of small integers ("int") and real values on any shape ("any")."""
    if i <= cases // 2:
        return "real"
    return "int" if i % 3 == 0 else "any"


def _check_xk(
    name: str,
    fn: Callable[..., Any],
    inputs: Sequence[Pair],
    reference: Reference,
    judge: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Judged],
    instead: str,
    forbidden: Sequence[str] = _CONV,
) -> None:
    """Call ``fn(X, K)`` on copies of each pair in ``inputs`` and compare the result with
    ``reference(X, K)``; ``judge(X, K, expected)`` gives the classic mistakes with hints."""
    for X, K in inputs:
        call = f"X of shape {shape_of(X)} and K of shape {shape_of(K)}"
        answer = call_student(
            name, fn, (X.clone(), K.clone()), call, forbidden=forbidden, instead=instead
        )
        got = as_tensor(name, answer, call)
        expected = reference(X, K)
        wrong_answers, wrong_shapes = judge(X, K, expected)
        compare(
            name,
            got,
            expected,
            call,
            # each value is a sum of products: round-off is relative to the sum of their sizes
            scale=reference(X.abs(), K.abs()),
            show_inputs=(("X", X), ("K", K)),
            wrong_answers=wrong_answers,
            wrong_shapes=wrong_shapes,
        )
    ok(f"{name}: {len(inputs)} random cases match torch.nn.functional.conv2d")


# --------------------------------------------------------------------------------------------
# corr2d


def _corr2d_inputs(cases: int) -> list[Pair]:
    g = generator("corr2d")
    # the lecture's worked example: [[0, 1, 2], [3, 4, 5], [6, 7, 8]] ⋆ [[0, 1], [2, 3]]
    inputs = [
        (
            torch.arange(9, dtype=torch.float64).reshape(3, 3),
            torch.arange(4, dtype=torch.float64).reshape(2, 2),
        )
    ]
    for i in range(1, cases):
        kind = _schedule(i, cases)
        if kind == "real":
            h, w = _two_sizes(g, 3, 7)
            kh, kw = _kernel(g, h, w)
            inputs.append((randreal(g, h, w), randreal(g, kh, kw)))
            continue
        h, w = pick(g, 1, 7), pick(g, 1, 7)
        kh, kw = pick(g, 1, h), pick(g, 1, w)
        make = randint if kind == "int" else randreal
        inputs.append((make(g, h, w), make(g, kh, kw)))
    return inputs


def _corr2d_reference(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return F.conv2d(X[None, None], K[None, None])[0, 0]


def _corr2d_judge(X: torch.Tensor, K: torch.Tensor, expected: torch.Tensor) -> Judged:
    h, w = X.shape
    kh, kw = K.shape
    wrong_answers = [
        (_corr2d_reference(X, K.flip(0, 1)), _FLIP_HINT),
        (
            expected.T,
            "your output is the correct one transposed: Y[i, j] is row i, column j "
            "(i moves down the rows of X)",
        ),
    ]
    if kw <= h and kh <= w:
        wrong_answers.append(
            (
                _corr2d_reference(X, K.T),
                "you used K transposed: multiply the window X[i:i+kh, j:j+kw] by K itself",
            )
        )
    return wrong_answers, _size_hints(h, w, kh, kw)


def corr2d(fn: Callable[..., Any], cases: int = 60) -> None:
    """Check ``fn(X, K)``: 2-D cross-correlation, X: H×W, K: kh×kw -> (H−kh+1)×(W−kw+1),
    in X's dtype, computed without torch's convolution functions."""
    name = "corr2d"
    fn = require_callable(name, fn)
    instead = "compute it yourself with loops and slicing, Y[i, j] = (X[i:i+kh, j:j+kw] * K).sum()"
    # the course's own corr2d (cnnlab.ops) is the answer too; later exercises may use it
    forbidden = (*_CONV, "cnnlab.ops.corr2d")
    inputs = _corr2d_inputs(cases)
    _check_xk(name, fn, inputs, _corr2d_reference, _corr2d_judge, instead, forbidden)


# --------------------------------------------------------------------------------------------
# corr2d_multi_in


def _multi_in_inputs(cases: int) -> list[Pair]:
    g = generator("corr2d_multi_in")
    # the lecture's example: two channels, X[1] = X[0] + 1, K[1] = K[0] + 1
    X0 = torch.stack([torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)])
    K0 = torch.stack([torch.arange(4.0).reshape(2, 2), torch.arange(1.0, 5.0).reshape(2, 2)])
    inputs = [(X0.double(), K0.double())]
    for i in range(1, cases):
        kind = _schedule(i, cases)
        c = pick(g, 2, 4)
        if kind == "real":
            h, w = _two_sizes(g, 3, 6)
            kh, kw = _kernel(g, h, w)
            inputs.append((randreal(g, c, h, w), randreal(g, c, kh, kw)))
            continue
        h, w = pick(g, 2, 6), pick(g, 2, 6)
        kh, kw = pick(g, 1, h), pick(g, 1, w)
        make = randint if kind == "int" else randreal
        inputs.append((make(g, c, h, w), make(g, c, kh, kw)))
    return inputs


def _multi_in_reference(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return _conv(X, K[None])[0]


def _multi_in_judge(X: torch.Tensor, K: torch.Tensor, expected: torch.Tensor) -> Judged:
    per_channel = F.conv2d(X[None], K[:, None], groups=X.shape[0])[0]
    c, h, w = X.shape
    kh, kw = K.shape[1:]
    wrong_answers = [
        (_multi_in_reference(X, K.flip(-2, -1)), _FLIP_HINT),
        (
            per_channel[0],
            "your output uses only the first channel: cross-correlate every channel X[c] "
            "with its own kernel K[c] and add the C results",
        ),
        (
            per_channel[-1],
            "your output is the last channel's alone: add the results of all C channels "
            "(did you overwrite instead of add, `Y = ...` instead of `Y = Y + ...`?)",
        ),
        (
            per_channel.mean(0),
            "you averaged the per-channel results; a multi-channel filter *sums* them (one "
            "weighted sum over the whole C×kh×kw window)",
        ),
        (
            expected * c,
            "your output is C times too large: add each channel's cross-correlation once",
        ),
    ]
    wrong_shapes = [
        (
            (c, h - kh + 1, w - kw + 1),
            "you returned one map per input channel; a filter spans the full depth, so add "
            "the C per-channel results into one H'×W' map (e.g. sum(...) or "
            "torch.stack(...).sum(0))",
        ),
        *_size_hints(h, w, kh, kw),
    ]
    return wrong_answers, wrong_shapes


def corr2d_multi_in(fn: Callable[..., Any], cases: int = 40) -> None:
    """Check ``fn(X, K)``: X: C×H×W, K: C×kh×kw -> H'×W' (the per-channel results summed)."""
    name = "corr2d_multi_in"
    fn = require_callable(name, fn)
    instead = "cross-correlate each channel with your corr2d and add the results"
    _check_xk(name, fn, _multi_in_inputs(cases), _multi_in_reference, _multi_in_judge, instead)


# --------------------------------------------------------------------------------------------
# corr2d_multi_in_out and conv1x1


def _multi_out_inputs(name: str, cases: int, kernel: bool) -> list[Pair]:
    """C_in×H×W inputs and C_out×C_in×kh×kw filters (1×1 if not ``kernel``); C_in ≠ C_out in
    the real-valued half, so that a mix-up of the two shows in the shape."""
    g = generator(name)
    inputs: list[Pair] = []
    if kernel:
        # the lecture's example: the two-channel X and K of corr2d_multi_in, K stacked with
        # K + 1 and K + 2 into three filters
        X0, K0 = _multi_in_inputs(1)[0]
        inputs.append((X0, torch.stack([K0, K0 + 1, K0 + 2])))
    while len(inputs) < cases:
        kind = _schedule(len(inputs) + (not kernel), cases)
        if kind == "real":
            c_in, c_out = _two_sizes(g, 2, 4)
            h, w = _two_sizes(g, 3, 6)
            kh, kw = _kernel(g, h, w) if kernel else (1, 1)
            inputs.append((randreal(g, c_in, h, w), randreal(g, c_out, c_in, kh, kw)))
            continue
        c_in, c_out = pick(g, 1, 3), pick(g, 1, 4)
        h, w = pick(g, 1, 6), pick(g, 1, 6)
        kh, kw = (pick(g, 1, h), pick(g, 1, w)) if kernel else (1, 1)
        make = randint if kind == "int" else randreal
        inputs.append((make(g, c_in, h, w), make(g, c_out, c_in, kh, kw)))
    return inputs


def _multi_in_out_judge(X: torch.Tensor, K: torch.Tensor, expected: torch.Tensor) -> Judged:
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    wrong_answers = [
        (_conv(X, K.flip(-2, -1)), _FLIP_HINT),
        (
            _conv(X, K[:1]).expand_as(expected),
            "every output channel is the map of the first filter K[0]: use the loop variable "
            "(torch.stack([corr2d_multi_in(X, k) for k in K]))",
        ),
    ]
    wrong_shapes = [
        (
            (h - kh + 1, w - kw + 1),
            "you returned a single map: the output has one channel per filter, C_out = "
            "K.shape[0], stacked with torch.stack([... for k in K])",
        ),
        (
            (c_in, h - kh + 1, w - kw + 1),
            "your output has C_in channels; it needs one per *output* filter, C_out = K.shape[0]",
        ),
        (
            (c_out, c_in, h - kh + 1, w - kw + 1),
            "you kept one map per (output, input) channel pair: sum over the input channels "
            "of each filter (your corr2d_multi_in does that)",
        ),
        *_size_hints(h, w, kh, kw, (c_out,)),
    ]
    return wrong_answers, wrong_shapes


def corr2d_multi_in_out(fn: Callable[..., Any], cases: int = 30) -> None:
    """Check ``fn(X, K)``: X: C_in×H×W, K: C_out×C_in×kh×kw -> C_out×H'×W'."""
    name = "corr2d_multi_in_out"
    fn = require_callable(name, fn)
    instead = "apply your corr2d_multi_in to each filter K[o] and torch.stack the maps"
    inputs = _multi_out_inputs(name, cases, kernel=True)
    _check_xk(name, fn, inputs, _conv, _multi_in_out_judge, instead)


def _conv1x1_judge(X: torch.Tensor, K: torch.Tensor, expected: torch.Tensor) -> Judged:
    c_in, h, w = X.shape
    c_out = K.shape[0]
    wrong_answers = []
    if c_in > 1 and h * w > 1:
        # X.reshape(h * w, c_in) reinterprets the memory rather than moving channels last
        pixels = X.reshape(h * w, c_in)
        wrong_answers.append(
            (
                (K.reshape(c_out, c_in) @ pixels.T).reshape(c_out, h, w),
                "X.reshape(h * w, c_in) does not put the channels last, it cuts the memory "
                "into rows of c_in values; use X.reshape(c_in, h * w): each column is one "
                "pixel's C_in values",
            )
        )
    wrong_shapes = [
        ((c_out, h * w), "reshape the C_out×(H·W) product back to C_out×H×W"),
        (
            (h * w, c_out),
            "your result is (H·W)×C_out: compute K (C_out×C_in) @ X (C_in×H·W), then reshape "
            "to C_out×H×W",
        ),
        (
            (h, w, c_out),
            "channels must come first: C_out×H×W (use .reshape(c_o, h, w) on a C_out×(H·W) "
            "product, not a permute of the pixel-major layout)",
        ),
        ((h, w), "you returned a single map: the output has C_out = K.shape[0] channels"),
        ((c_in, h, w), "your output has C_in channels; it needs C_out = K.shape[0]"),
    ]
    return wrong_answers, wrong_shapes


def conv1x1(fn: Callable[..., Any], cases: int = 30) -> None:
    """Check ``fn(X, K)``: 1×1 convolution, X: C_in×H×W, K: C_out×C_in×1×1 -> C_out×H×W."""
    name = "conv1x1"
    fn = require_callable(name, fn)
    instead = (
        "write it as one matrix product, K as C_out×C_in times X as C_in×(H·W), reshaped to "
        "C_out×H×W"
    )
    inputs = _multi_out_inputs(name, cases, kernel=False)
    _check_xk(name, fn, inputs, _conv, _conv1x1_judge, instead)
