"""Exercise checks: a student's function against PyTorch on seeded random cases.

Each exercise of the solution/exercise notebooks is followed by one call, for example
``checks.corr2d(corr2d)``. A check runs the student's function on a fixed list of cases (the
lecture's worked example first, then seeded random ones in float64), compares every answer with
PyTorch (``torch.nn.functional.conv2d``, ``max_pool2d``, ``nn.Conv2d``, autograd, ...) and

- prints one deterministic line such as ``✔ corr2d: 60 random cases match ...`` on success;
- raises :class:`CheckFailed` (an ``AssertionError``) otherwise, naming the input, the expected
  and the received answer (shapes when they differ, else the first wrong position) and, when it
  recognises a classic mistake (a flipped kernel, an off-by-one size, max instead of average,
  an ignored stride ...), a hint about it.

A NumPy array is accepted wherever a tensor is expected. The checks use their own random
generator, so calling one does not change the notebook's global random state.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.shapes import measured_receptive_field

__all__ = [
    "CheckFailed",
    "conv1x1",
    "conv_output_size",
    "conv_params",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "global_avg_pool",
    "pool2d",
    "receptive_field",
]

# Students often build outputs with torch.zeros(...) (float32): allow float32 round-off.
_RTOL, _ATOL = 1e-4, 1e-4
_SHOW_LIMIT = 64  # tensors with at most this many entries are printed in a failure message
_STUB_HINT = (
    "replace `# YOUR CODE HERE` and `raise NotImplementedError()` in its cell with your code, "
    "run that cell, then run this check again"
)

Hint = tuple[torch.Tensor, str]  # (what a classic mistake returns, what to tell the student)
Mistake = tuple[Callable[..., float], str]  # (formula of a classic mistake, hint)


class CheckFailed(AssertionError):  # noqa: N818 (the name students see)
    """A student's function gave a wrong answer (or none); the message says what and why."""


# --------------------------------------------------------------------------------------------
# shared machinery


def _require_callable(name: str, fn: object) -> Callable[..., Any]:
    if not callable(fn):
        raise TypeError(
            f"checks.{name} expects your function itself, e.g. checks.{name}({name}), "
            f"got {type(fn).__name__}"
        )
    return fn


def _generator(name: str) -> torch.Generator:
    # One fixed seed per check (from its name) so every run tests the same cases.
    return torch.Generator().manual_seed(sum(map(ord, name)) * 7919)


def _randint(g: torch.Generator, *shape: int, low: int = -4, high: int = 4) -> torch.Tensor:
    """Small integers as float64: exact arithmetic, readable failure messages."""
    return torch.randint(low, high + 1, shape, generator=g).to(torch.float64)


def _pick(g: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high]."""
    return int(torch.randint(low, high + 1, (1,), generator=g))


def _num(value: float) -> str:
    if math.isfinite(value) and value == round(value):
        return str(int(round(value)))
    return f"{value:.4g}"


def _show(t: torch.Tensor) -> str:
    arr = t.detach().cpu().to(torch.float64).numpy()
    return np.array2string(arr, formatter={"float_kind": _num}, max_line_width=100, separator=", ")


def _call(name: str, fn: Callable[..., Any], args: Sequence[Any], call: str) -> Any:
    """Call the student's function; turn a stub or a crash into a readable CheckFailed."""
    saved = [a.clone() if isinstance(a, torch.Tensor) else None for a in args]
    try:
        result = fn(*args)
    except NotImplementedError:
        raise CheckFailed(f"{name} is not implemented yet: {_STUB_HINT}.") from None
    except CheckFailed:
        raise
    except Exception as exc:
        raise CheckFailed(
            f"{name} raised {type(exc).__name__} for {call}: {exc}\n"
            "(the traceback above shows the line of your function that failed)"
        ) from exc
    for i, (before, after) in enumerate(zip(saved, args, strict=True)):
        if before is not None and not torch.equal(before, after):
            raise CheckFailed(
                f"{name} changed its input (argument {i + 1}) in place for {call}; "
                "compute a new tensor instead (or work on a .clone())"
            )
    return result


def _as_tensor(name: str, value: object, call: str) -> torch.Tensor:
    if value is None:
        raise CheckFailed(
            f"{name} returned None for {call}: did you forget the `return` statement?"
        )
    if isinstance(value, torch.Tensor):
        t = value.detach()
    else:
        try:
            t = torch.as_tensor(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise CheckFailed(
                f"{name} returned a {type(value).__name__} for {call}; return a torch.Tensor "
                "(a NumPy array is accepted too)"
            ) from None
    if t.is_complex():
        raise CheckFailed(f"{name} returned a complex tensor for {call}; expected real values")
    return t.to(torch.float64)


def _as_int(name: str, value: object, call: str, what: str) -> int | float:
    """The student's answer as an int; a non-integral float is returned as is (and reported)."""
    if value is None:
        raise CheckFailed(
            f"{name} returned None for {call}: did you forget the `return` statement?"
        )
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool):
        raise CheckFailed(f"{name} returned the bool {value} for {call}; return an int")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if float(value).is_integer():
            raise CheckFailed(
                f"{name} returned the float {float(value)} for {call}; {what} is a whole "
                f"number: return an int (use // for the division, or int(...))"
            )
        return float(value)
    raise CheckFailed(f"{name} returned a {type(value).__name__} for {call}; return an int")


def _first_difference(got: torch.Tensor, expected: torch.Tensor) -> str | None:
    """None if equal (within float32 round-off), else a sentence naming the first difference."""
    if tuple(got.shape) != tuple(expected.shape):
        return f"expected output shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    close = torch.isclose(got, expected, rtol=_RTOL, atol=_ATOL)
    if bool(close.all()):
        return None
    wrong = (~close).nonzero()
    pos = tuple(int(i) for i in wrong[0])
    where = f"[{', '.join(map(str, pos))}]"
    return (
        f"wrong value at output{where}: expected {_num(float(expected[pos]))}, "
        f"got {_num(float(got[pos]))} ({len(wrong)} of {expected.numel()} values differ)"
    )


def _matches(got: torch.Tensor, other: torch.Tensor) -> bool:
    return tuple(got.shape) == tuple(other.shape) and bool(
        torch.allclose(got, other, rtol=_RTOL, atol=_ATOL)
    )


def _compare(
    name: str,
    got: torch.Tensor,
    expected: torch.Tensor,
    call: str,
    *,
    show: Sequence[tuple[str, torch.Tensor]] = (),
    wrong_answers: Sequence[Hint] = (),
    wrong_shapes: Sequence[tuple[tuple[int, ...], str]] = (),
) -> None:
    """Raise CheckFailed unless ``got`` equals ``expected``; add the first hint that applies.

    ``wrong_answers``: (tensor a classic mistake would give, hint); ``wrong_shapes``:
    (shape a classic mistake would give, hint), used when the values cannot be recognised.
    """
    problem = _first_difference(got, expected)
    if problem is None:
        return
    hint = next((h for alt, h in wrong_answers if _matches(got, alt)), None)
    if hint is None and tuple(got.shape) != tuple(expected.shape):
        hint = next((h for shape, h in wrong_shapes if tuple(got.shape) == tuple(shape)), None)
    lines = [f"{name} is wrong for {call}:", f"  {problem}."]
    if hint:
        lines.append(f"  Hint: {hint}")
    for label, value in (*show, ("expected", expected), ("got", got)):
        if value.numel() <= _SHOW_LIMIT and value.dim() <= 3:
            lines.append(f"{label} =\n{_show(value)}")
    raise CheckFailed("\n".join(lines))


def _ok(message: str) -> None:
    print(f"✔ {message}")


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


_FLIP_HINT = (
    "your output equals the *flipped-kernel* (true) convolution; cross-correlation does not "
    "flip K: Y[i, j] = (X[i:i+kh, j:j+kw] * K).sum()"
)


def _size_hints(h: int, w: int, kh: int, kw: int, lead: tuple[int, ...] = ()) -> list:
    """Shape hints shared by the cross-correlation checks (``lead``: leading output dims)."""
    oh, ow = h - kh + 1, w - kw + 1
    return [
        (
            (*lead, oh - 1, ow - 1),
            f"your output is one row and one column short: without padding the window fits "
            f"N − F + 1 times along an axis ((N − F)/S + 1 with S = 1), i.e. "
            f"{h} − {kh} + 1 = {oh} rows and {w} − {kw} + 1 = {ow} columns: "
            "loop over range(h - kh + 1) and range(w - kw + 1)",
        ),
        (
            (*lead, oh + 1, ow + 1),
            f"your output is one row and one column too big: the output size is (N − F)/S + 1, "
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


# --------------------------------------------------------------------------------------------
# notebook 1: cross-correlation


_ShapeHint = tuple[tuple[int, ...], str]  # (shape a classic mistake gives, what to tell)
_Judged = tuple[torch.Tensor, list[Hint], list[_ShapeHint]]  # expected, wrong answers, shapes


def _check_xk(
    name: str,
    fn: Callable[..., Any],
    inputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
    cases: int,
    judge: Callable[[torch.Tensor, torch.Tensor], _Judged],
) -> None:
    """Call ``fn(X, K)`` on copies of each pair in ``inputs`` and compare the result with
    ``judge(X, K)``: (expected, wrong answers with hints, wrong shapes with hints)."""
    for X, K in inputs:
        call = f"X of shape {_shape(X)} and K of shape {_shape(K)}"
        got = _as_tensor(name, _call(name, fn, (X.clone(), K.clone()), call), call)
        expected, wrong_answers, wrong_shapes = judge(X, K)
        _compare(
            name,
            got,
            expected,
            call,
            show=(("X", X), ("K", K)),
            wrong_answers=wrong_answers,
            wrong_shapes=wrong_shapes,
        )
    _ok(f"{name}: {cases} random cases match torch.nn.functional.conv2d")


def corr2d(fn: Callable[..., Any], cases: int = 60) -> None:
    """Check ``fn(X, K)``: 2-D cross-correlation, X: H×W, K: kh×kw -> (H−kh+1)×(W−kw+1)."""
    name = "corr2d"
    fn = _require_callable(name, fn)
    g = _generator(name)
    inputs = [
        (
            torch.arange(9, dtype=torch.float64).reshape(3, 3),
            torch.arange(4, dtype=torch.float64).reshape(2, 2),
        )
    ]
    while len(inputs) < cases:
        h, w = _pick(g, 1, 7), _pick(g, 1, 7)
        kh, kw = _pick(g, 1, h), _pick(g, 1, w)
        inputs.append((_randint(g, h, w), _randint(g, kh, kw)))

    def judge(X: torch.Tensor, K: torch.Tensor) -> _Judged:
        expected = F.conv2d(X[None, None], K[None, None])[0, 0]
        h, w = X.shape
        kh, kw = K.shape
        wrong_answers = [
            (F.conv2d(X[None, None], K.flip(0, 1)[None, None])[0, 0], _FLIP_HINT),
            (
                expected.T,
                "your output is the correct one transposed: Y[i, j] is row i, "
                "column j (i moves down the rows of X)",
            ),
        ]
        if kw <= h and kh <= w:
            wrong_answers.append(
                (
                    F.conv2d(X[None, None], K.T[None, None])[0, 0],
                    "you used K transposed: multiply the window X[i:i+kh, j:j+kw] by K itself",
                )
            )
        return expected, wrong_answers, _size_hints(h, w, kh, kw)

    _check_xk(name, fn, inputs, cases, judge)


def corr2d_multi_in(fn: Callable[..., Any], cases: int = 40) -> None:
    """Check ``fn(X, K)``: X: C×H×W, K: C×kh×kw -> H'×W' (the per-channel results summed)."""
    name = "corr2d_multi_in"
    fn = _require_callable(name, fn)
    g = _generator(name)
    X0 = torch.stack([torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)])
    K0 = torch.stack([torch.arange(4.0).reshape(2, 2), torch.arange(1.0, 5.0).reshape(2, 2)])
    inputs = [(X0.double(), K0.double())]
    while len(inputs) < cases:
        c, h, w = _pick(g, 2, 4), _pick(g, 2, 6), _pick(g, 2, 6)
        kh, kw = _pick(g, 1, h), _pick(g, 1, w)
        inputs.append((_randint(g, c, h, w), _randint(g, c, kh, kw)))

    def judge(X: torch.Tensor, K: torch.Tensor) -> _Judged:
        per_channel = F.conv2d(X[None], K[:, None], groups=X.shape[0])[0]
        c, h, w = X.shape
        kh, kw = K.shape[1:]
        wrong_answers = [
            (_conv(X, K.flip(-2, -1)[None])[0], _FLIP_HINT),
            (
                per_channel[0],
                "your output uses only the first channel: cross-correlate "
                "every channel X[c] with its own kernel K[c] and add the C results",
            ),
            (
                per_channel.mean(0),
                "you averaged the per-channel results; a multi-channel "
                "filter *sums* them (one weighted sum over the whole C×kh×kw window)",
            ),
            (
                per_channel.sum(0) * c,
                "your output is C times too large: add each channel's cross-correlation once",
            ),
        ]
        wrong_shapes = [
            (
                (c, h - kh + 1, w - kw + 1),
                "you returned one map per input channel; a filter "
                "spans the full depth, so add the C per-channel results into one H'×W' map "
                "(e.g. sum(...) or torch.stack(...).sum(0))",
            ),
            *_size_hints(h, w, kh, kw),
        ]
        return per_channel.sum(0), wrong_answers, wrong_shapes

    _check_xk(name, fn, inputs, cases, judge)


def _multi_out_cases(name: str, cases: int, kernel: bool) -> list[tuple[torch.Tensor, ...]]:
    g = _generator(name)
    inputs = []
    while len(inputs) < cases:
        c_in, c_out = _pick(g, 1, 3), _pick(g, 1, 4)
        if len(inputs) % 3 == 0 and c_in == c_out:  # keep C_in != C_out often, to catch mix-ups
            c_out += 1
        h, w = _pick(g, 1, 6), _pick(g, 1, 6)
        kh, kw = (_pick(g, 1, h), _pick(g, 1, w)) if kernel else (1, 1)
        inputs.append((_randint(g, c_in, h, w), _randint(g, c_out, c_in, kh, kw)))
    return inputs


def corr2d_multi_in_out(fn: Callable[..., Any], cases: int = 30) -> None:
    """Check ``fn(X, K)``: X: C_in×H×W, K: C_out×C_in×kh×kw -> C_out×H'×W'."""
    name = "corr2d_multi_in_out"
    fn = _require_callable(name, fn)

    def judge(X: torch.Tensor, K: torch.Tensor) -> _Judged:
        expected = _conv(X, K)
        c_in, h, w = X.shape
        c_out, _, kh, kw = K.shape
        wrong_answers = [
            (_conv(X, K.flip(-2, -1)), _FLIP_HINT),
            (
                expected.sum(0),
                "you added the output channels together: keep one map per "
                "filter K[o] and stack them (torch.stack([... for k in K]))",
            ),
        ]
        wrong_shapes = [
            (
                (h - kh + 1, w - kw + 1),
                "you returned a single map: the output has one "
                "channel per filter, C_out = K.shape[0], stacked with torch.stack",
            ),
            (
                (c_in, h - kh + 1, w - kw + 1),
                "your output has C_in channels; it needs one "
                "per *output* filter, C_out = K.shape[0]",
            ),
            (
                (c_out, c_in, h - kh + 1, w - kw + 1),
                "you kept one map per (output, input) "
                "channel pair: sum over the input channels of each filter",
            ),
            *_size_hints(h, w, kh, kw, (c_out,)),
        ]
        return expected, wrong_answers, wrong_shapes

    _check_xk(name, fn, _multi_out_cases(name, cases, kernel=True), cases, judge)


def conv1x1(fn: Callable[..., Any], cases: int = 30) -> None:
    """Check ``fn(X, K)``: 1×1 convolution, X: C_in×H×W, K: C_out×C_in×1×1 -> C_out×H×W."""
    name = "conv1x1"
    fn = _require_callable(name, fn)

    def judge(X: torch.Tensor, K: torch.Tensor) -> _Judged:
        expected = _conv(X, K)
        _, h, w = X.shape
        c_out = K.shape[0]
        wrong_answers = [
            (
                expected.sum(0),
                "you added the output channels together: the result has "
                "C_out = K.shape[0] channels",
            ),
        ]
        wrong_shapes = [
            ((c_out, h * w), "reshape the C_out×(H·W) product back to C_out×H×W"),
            (
                (h * w, c_out),
                "your result is (H·W)×C_out: compute K (C_out×C_in) @ X "
                "(C_in×H·W), then reshape to C_out×H×W",
            ),
            (
                (h, w, c_out),
                "channels must come first: C_out×H×W (use .reshape(c_o, h, w) "
                "on a C_out×(H·W) product, not a permute of the pixel-major layout)",
            ),
        ]
        return expected, wrong_answers, wrong_shapes

    _check_xk(name, fn, _multi_out_cases(name, cases, kernel=False), cases, judge)


# --------------------------------------------------------------------------------------------
# notebook 2: padding, stride and shape arithmetic


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
                _as_int(name, _call(name, fn, args, call_of(*args)), call_of(*args), what)
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
        "PyTorch *floors* (N − F + 2P)/S + 1: a last window that would hang over the edge is "
        "dropped; you rounded up",
    ),
    (
        lambda n, f, s, p: (n - f + 2 * p) // s,
        "you forgot the + 1: (N − F + 2P)/S counts the steps, + 1 the first window",
    ),
    (lambda n, f, s, p: (n - f + p) // s + 1, "padding adds P pixels on *both* sides: N + 2P"),
    (lambda n, f, s, p: (n - f) // s + 1, "you ignored the padding: N + 2P pixels are available"),
    (lambda n, f, s, p: n - f + 2 * p + 1, "you ignored the stride: divide N − F + 2P by S"),
    (
        lambda n, f, s, p: (n + 2 * p - f + 1) // s,
        "the + 1 comes after the division: (N − F + 2P)/S + 1",
    ),
]


def conv_output_size(fn: Callable[..., Any], cases: int = 60) -> None:
    """Check ``fn(n, f, stride, padding) -> int``: floor((n − f + 2p)/s) + 1, like PyTorch.

    A filter larger than the padded input (f > n + 2p) must raise ``ValueError``.
    """
    name = "conv_output_size"
    fn = _require_callable(name, fn)
    g = _generator(name)
    valid = [(7, 3, 1, 0), (7, 3, 2, 0), (7, 3, 3, 0), (7, 3, 1, 1), (32, 5, 1, 2), (227, 11, 4, 0)]
    while len(valid) < cases:
        f = _pick(g, 1, 7)
        s, p = _pick(g, 1, 4), _pick(g, 0, 3)
        n = _pick(g, max(1, f - 2 * p), 40)
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
            f"{_num(got)}: output size = floor({formula}) = {want}.\n  Hint: {hint}"
        )
    invalid = [(3, 5, 1, 0), (4, 7, 1, 1), (1, 2, 1, 0), (5, 11, 2, 2), (2, 6, 3, 1), (6, 9, 1, 1)]
    for n, f, s, p in invalid:
        call = _conv_size_call(n, f, s, p)
        assert _torch_conv_size(n, f, s, p) is None
        try:
            got = fn(n, f, s, p)
        except ValueError:
            continue
        except NotImplementedError:
            raise CheckFailed(f"{name} is not implemented yet: {_STUB_HINT}.") from None
        except Exception as exc:
            raise CheckFailed(
                f"{name} raised {type(exc).__name__} for {call}; a filter that does not fit "
                f"should raise ValueError (raise ValueError('...'))"
            ) from exc
        raise CheckFailed(
            f"{name} returned {got!r} for {call}, but a {f}-wide filter does not fit even once "
            f"in the padded input ({n} + 2·{p} = {n + 2 * p} pixels), and PyTorch refuses it.\n"
            f"  Hint: check `if f > n + 2 * padding:` and raise ValueError with a message."
        )
    total = len(valid) + len(invalid)
    _ok(
        f"{name}: {total} cases match the output size of torch.nn.functional.conv2d "
        f"({len(invalid)} of them raise ValueError)"
    )


def _params_call(d: int, k: int, f: int, bias: bool) -> str:
    return f"conv_params(in_channels={d}, out_channels={k}, kernel_size={f}, bias={bias})"


_PARAMS_MISTAKES: list[Mistake] = [
    (
        lambda d, k, f, b: f * f * d * k,
        "each of the K filters also has one bias (when bias=True): F·F·D1·K + K",
    ),
    (lambda d, k, f, b: f * f * d * k + k, "bias=False means no bias terms: F·F·D1·K only"),
    (
        lambda d, k, f, b: f * f * k + (k if b else 0),
        "a filter spans the full input depth D1 = in_channels: F·F·D1 weights per filter",
    ),
    (
        lambda d, k, f, b: f * f * d + (1 if b else 0),
        "that is one filter; the layer has K = out_channels of them",
    ),
    (lambda d, k, f, b: f * d * k + (k if b else 0), "a filter is F×F, so F·F·D1 weights each"),
    (lambda d, k, f, b: f * f * d * k + (1 if b else 0), "one bias per filter: + K, not + 1"),
]


def conv_params(fn: Callable[..., Any], cases: int = 40) -> None:
    """Check ``fn(in_channels, out_channels, kernel_size, bias) -> int`` against nn.Conv2d."""
    name = "conv_params"
    fn = _require_callable(name, fn)
    g = _generator(name)
    layers = [(3, 10, 5, True), (3, 6, 5, True), (64, 64, 3, False)]
    while len(layers) < cases:
        c_in, c_out = _pick(g, 1, 64), _pick(g, 1, 64)
        layers.append((c_in, c_out, _pick(g, 1, 7), _pick(g, 0, 3) > 0))
    expected = [
        sum(p.numel() for p in nn.Conv2d(d, k, f, bias=b, device="meta").parameters())
        for d, k, f, b in layers
    ]
    answers, bad = _scalar_answers(name, fn, layers, expected, _params_call, "a parameter count")
    if bad is not None:
        d, k, f, b = layers[bad]
        hint = _diagnose(layers, answers, bad, _PARAMS_MISTAKES) or (
            "weights F·F·D1·K plus K biases"
        )
        raise CheckFailed(
            f"{name} is wrong for {_params_call(d, k, f, b)}:\n  expected {expected[bad]} (the "
            f"parameter count of nn.Conv2d({d}, {k}, {f}, bias={b})), got {_num(answers[bad])}."
            f"\n  Hint: {hint}"
        )
    _ok(f"{name}: {cases} random layers match the parameter count of torch.nn.Conv2d")


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
    fn = _require_callable(name, fn)
    g = _generator(name)
    stacks: list[tuple[list[int], ...]] = [
        ([3],), ([3, 3],), ([3, 3, 3],), ([5, 5],), ([7],), ([2, 2], [2, 2]), ([11, 3], [4, 1]),
    ]  # fmt: skip
    while len(stacks) < cases:
        depth = _pick(g, 1, 5)
        kernels = [_pick(g, 1, 7) for _ in range(depth)]
        if len(stacks) % 2:
            stacks.append((kernels, [_pick(g, 1, 2) for _ in range(depth)]))
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
            f"PyTorch), got {_num(answers[bad])}.\n  Hint: {hint}"
        )
    _ok(f"{name}: {cases} random stacks match the input footprint found by autograd")


# --------------------------------------------------------------------------------------------
# notebook 3: pooling


def _torch_pool(X: torch.Tensor, p: int, s: int, mode: str) -> torch.Tensor:
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], p, s)[0, 0]


def pool2d(fn: Callable[..., Any], cases: int = 60) -> None:
    """Check ``fn(X, pool_size, stride, mode)``: X: H×W -> floor((H − p)/s) + 1 rows (same for
    columns); ``mode`` is "max" or "avg"; ``stride=None`` means ``stride = pool_size``."""
    name = "pool2d"
    fn = _require_callable(name, fn)
    g = _generator(name)
    X0 = torch.arange(9, dtype=torch.float64).reshape(3, 3)
    inputs: list[tuple[torch.Tensor, int, int | None, str]] = [
        (X0, 2, 1, "max"), (X0, 2, 1, "avg"),
        (torch.arange(16.0).double().reshape(4, 4), 2, None, "max"),
    ]  # fmt: skip
    while len(inputs) < cases:
        h, w = _pick(g, 2, 8), _pick(g, 2, 8)
        p = _pick(g, 1, min(h, w, 4))
        s = _pick(g, 1, 3) if len(inputs) % 8 else None
        inputs.append((_randint(g, h, w), p, s, "max" if len(inputs) % 2 else "avg"))
    for X, p, s, mode in inputs:
        stride = p if s is None else s
        call = f"pool2d(X of shape {_shape(X)}, pool_size={p}, stride={s}, mode={mode!r})"
        got = _as_tensor(name, _call(name, fn, (X.clone(), p, s, mode), call), call)
        expected = _torch_pool(X, p, stride, mode)
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
                f"your windows start at X[i:i+p, j:j+p]; with stride {stride} the "
                f"window of output (i, j) is X[i*s : i*s+p, j*s : j*s+p]",
            ),
        ]
        if mode == "avg":
            wrong_answers.append(
                (
                    expected * p * p,
                    "that is the window *sum*: the average divides by the p·p values of the window",
                )
            )
        wrong_shapes = [
            (
                (oh - 1, ow - 1),
                f"your output is one row and one column short: the size is "
                f"floor((W − F)/S + 1) = floor(({h} − {p})/{stride}) + 1 = {oh} rows",
            ),
            (
                (oh + 1, ow + 1),
                f"your output is one row and one column too big: the size is "
                f"floor((W − F)/S + 1) = floor(({h} − {p})/{stride}) + 1 = {oh} rows",
            ),
            ((ow, oh), "rows and columns are swapped"),
        ]
        if stride != 1:
            wrong_shapes.insert(
                0,
                (
                    tuple(step1.shape),
                    "your output has the shape of stride 1: "
                    f"move the window {stride} pixels per step; the size is "
                    "floor((W − F)/S) + 1",
                ),
            )
        if s is None:
            wrong_shapes.insert(
                0,
                (
                    tuple(step1.shape),
                    "stride=None means stride = pool_size "
                    "(PyTorch's default); your output has the shape of stride 1",
                ),
            )
        _compare(
            name,
            got,
            expected,
            call,
            show=(("X", X),),
            wrong_answers=wrong_answers,
            wrong_shapes=wrong_shapes,
        )
    _ok(
        f"{name}: {cases} random cases (max and avg) match "
        "torch.nn.functional.max_pool2d / avg_pool2d"
    )


def global_avg_pool(fn: Callable[..., Any], cases: int = 20) -> None:
    """Check ``fn(X)``: global average pooling, X: N×C×H×W -> N×C (the mean of each map)."""
    name = "global_avg_pool"
    fn = _require_callable(name, fn)
    g = _generator(name)
    inputs = []
    while len(inputs) < cases:
        n, c = _pick(g, 1, 3), _pick(g, 1, 5)
        if c == n:
            c += 1  # different N and C so that a mix-up shows in the shape
        h, w = _pick(g, 1, 6), _pick(g, 1, 6)
        inputs.append(_randint(g, n, c, h, w))
    for X in inputs:
        call = f"X of shape {_shape(X)}"
        got = _as_tensor(name, _call(name, fn, (X.clone(),), call), call)
        expected = F.adaptive_avg_pool2d(X, 1).flatten(1)
        n, c, h, w = X.shape
        _compare(
            name,
            got,
            expected,
            call,
            wrong_answers=[
                (
                    F.adaptive_max_pool2d(X, 1).flatten(1),
                    "that is global *max* pooling: average each H×W map instead",
                ),
                (X.sum(dim=(2, 3)), "that is the sum of each map: divide by H·W"),
                (X.mean(dim=3), "you averaged over W only: average over H and W (dims 2 and 3)"),
            ],
            wrong_shapes=[
                (
                    (n, c, 1, 1),
                    "return N×C: drop the trailing 1×1 (e.g. .flatten(1) or "
                    "mean(dim=(2, 3)) without keepdim)",
                ),
                (
                    (n, h, w),
                    "you averaged over the channels; average over the spatial "
                    "dims H and W (2 and 3) instead",
                ),
                ((n,), "you averaged over everything per example: keep one value per channel"),
                ((), "you averaged the whole batch into one number: keep N×C"),
                ((c,), "keep the batch dimension: the output is N×C"),
            ],
        )
    _ok(f"{name}: {cases} random cases match torch.nn.functional.adaptive_avg_pool2d")


# --------------------------------------------------------------------------------------------
# notebook 4: filter visualisation. Those checks live in cnnlab._checks_features, which uses the
# machinery above; they are looked up on first use, so neither module imports the other at load.

_FEATURE_CHECKS = ("capture_activations", "saliency")
__all__ += _FEATURE_CHECKS


def __getattr__(name: str) -> Any:
    if name in _FEATURE_CHECKS:
        from cnnlab import _checks_features

        return getattr(_checks_features, name)
    raise AttributeError(f"module 'cnnlab.checks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_FEATURE_CHECKS])
