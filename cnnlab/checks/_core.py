"""The machinery of every exercise check: call the student's code, compare, hint, forbid.

A check (one per exercise, in ``cnnlab.checks.<topic slug>``) runs the student's function on a
fixed list of seeded cases, compares each answer with PyTorch and either prints one ``✔ ...``
line or raises :class:`CheckFailed` naming the input, the expected and the received answer and,
when a classic mistake explains the answer, a hint about it. Topic modules import only from
here; nothing here knows about a topic.

- :func:`call_student` calls the student's function: a stub, a crash, a changed input or a call
  of a forbidden library function (see :func:`forbid`) becomes a readable failure.
- :func:`as_tensor` / :func:`as_int` check the *type* of an answer; :func:`compare` its shape,
  dtype and values (float64 precision: a float32 or integer computation fails, with a hint).
- The harness for exercises where the student writes an ``nn.Module`` is ``_module.py``.

Every check uses its own random generator (or :func:`seeded`, which restores the global state),
so calling one does not change the notebook's random state.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import math
import numbers
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = [
    "RTOL",
    "STUB_HINT",
    "CheckFailed",
    "ForbiddenCall",
    "Hint",
    "ShapeHint",
    "as_int",
    "as_tensor",
    "call_student",
    "compare",
    "fail",
    "first_difference",
    "forbid",
    "generator",
    "matches",
    "num",
    "ok",
    "pick",
    "randint",
    "randreal",
    "require_callable",
    "seeded",
    "shape_of",
    "show",
]

# Answers must have float64 precision: the tolerance is relative to the size of the terms that
# make up a value (``scale``), far below float32 round-off (≈ 6e-8), far above float64's.
RTOL = 1e-9
# float32 round-off: a wrong answer within it is explained as a float32 computation, and a
# classic mistake is recognised up to it (the student may have made two mistakes).
LOOSE = 1e-5
_ATOL = 1e-12  # values that are exactly 0 (all-zero windows) may come out as ±1e-17
_SHOW_LIMIT = 64  # tensors with at most this many entries are printed in a failure message
STUB_HINT = (
    "replace `# YOUR CODE HERE` and `raise NotImplementedError()` in its cell with your code, "
    "run that cell, then run this check again"
)

Hint = tuple[torch.Tensor, str]  # (what a classic mistake returns, what to tell the student)
ShapeHint = tuple[tuple[int, ...], str]  # (the shape a classic mistake gives, what to tell)


class CheckFailed(AssertionError):  # noqa: N818 (the name students see)
    """A student's function gave a wrong answer (or none); the message says what and why."""


class ForbiddenCall(Exception):  # noqa: N818 (raised inside the student's code, read by us)
    """Raised by a library function that :func:`forbid` has blocked."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is not allowed in this exercise")
        self.path = path


def fail(message: str) -> None:
    """Raise :class:`CheckFailed` with ``message`` (a helper for one-line failures)."""
    raise CheckFailed(message)


def ok(message: str) -> None:
    """Print the success line of a check."""
    print(f"✔ {message}")


def require_callable(name: str, fn: object) -> Callable[..., Any]:
    """``fn`` itself if callable; a TypeError naming the right call otherwise."""
    if not callable(fn):
        raise TypeError(
            f"checks.{name} expects your function itself, e.g. checks.{name}({name}), "
            f"got {type(fn).__name__}"
        )
    return fn


# --------------------------------------------------------------------------------------------
# random cases


def generator(name: str) -> torch.Generator:
    """A generator with one fixed seed per check (from its name): every run tests the same."""
    return torch.Generator().manual_seed(sum(map(ord, name)) * 7919)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator inside; restore the caller's random state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def pick(g: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high]."""
    return int(torch.randint(low, high + 1, (1,), generator=g))


def randint(g: torch.Generator, *shape: int, low: int = -4, high: int = 4) -> torch.Tensor:
    """Small integers as float64: exact in any dtype, readable in failure messages."""
    return torch.randint(low, high + 1, shape, generator=g).to(torch.float64)


def randreal(g: torch.Generator, *shape: int) -> torch.Tensor:
    """Real float64 values with two decimals (e.g. -1.37), about N(0, 2²).

    Fractions catch a truncation to int; values that float32 cannot represent exactly catch a
    float32 computation; two decimals keep failure messages readable.
    """
    return (2 * torch.randn(shape, generator=g, dtype=torch.float64)).round(decimals=2)


# --------------------------------------------------------------------------------------------
# forbidden library calls

_MISSING = object()


def _resolve(path: str) -> tuple[Any, str, Any] | None:
    """(owner, attribute name, current value) of a dotted path such as
    ``torch.nn.functional.conv2d`` or ``torch.nn.Conv2d.forward``; None if it does not exist.

    Modules of torch and cnnlab are imported if needed; others (scipy) only count when the
    student has imported them already (then the student may call them).
    """
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:i])
        module = sys.modules.get(module_name)
        if module is None and parts[0] in ("torch", "cnnlab"):
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
        if module is None:
            continue
        owner: Any = module
        try:
            for attr in parts[i:-1]:
                owner = getattr(owner, attr)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            return None
    return None


def _display(path: str) -> str:
    """How a message names a forbidden call: a layer by its class, not by ``.forward``."""
    return path.removesuffix(".forward")


def _blocker(path: str, calls: list[str]) -> Callable[..., Any]:
    def blocked(*_args: object, **_kwargs: object) -> Any:
        calls.append(path)  # recorded too: the student's code might swallow the exception
        raise ForbiddenCall(path)

    blocked.__name__ = blocked.__qualname__ = path.rsplit(".", 1)[-1]
    return blocked


class _OperatorGuard(TorchDispatchMode):
    """Raise :class:`ForbiddenCall` when one of the ATen operators ``ops`` runs.

    Below every Python name: the dispatcher runs it whichever alias the student called.
    """

    def __init__(self, ops: set[str], calls: list[str]) -> None:
        super().__init__()
        self.ops, self.calls = ops, calls

    def __torch_dispatch__(
        self,
        func: Any,
        types: Sequence[type],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        name = func._schema.name.removeprefix("aten::")
        if name in self.ops:
            path = f"aten::{name}"
            self.calls.append(path)  # recorded too: the student's code might swallow the error
            raise ForbiddenCall(path)
        return func(*args, **(kwargs or {}))


@contextmanager
def forbid(
    paths: Sequence[str], student: object = None, calls: list[str] | None = None
) -> Iterator[list[str]]:
    """Inside the block, every function in ``paths`` raises :class:`ForbiddenCall`.

    ``paths`` are dotted names (``torch.nn.functional.conv2d``, ``torch.nn.Conv2d.forward``).
    Names in ``student.__globals__`` bound to one of them (``from torch.nn.functional import
    conv2d``) are blocked too. A path ``aten::NAME`` blocks the ATen operator NAME (say
    ``aten::native_batch_norm``) however it is reached: through any Python alias,
    ``torch.ops.aten``, ``torch._C._VariableFunctions``, or a function captured in a default
    argument or closure that no renaming finds. Yields the list of blocked paths that were
    called (``calls`` if given). Everything is restored on exit, whatever ends the block
    (KeyboardInterrupt too).
    """
    called: list[str] = [] if calls is None else calls
    patched: list[tuple[Any, str, Any]] = []  # (owner, attribute, what its __dict__ held)
    renamed: list[tuple[dict[str, Any], str, Any]] = []  # (student globals, name, value)
    ops = {p.removeprefix("aten::") for p in paths if p.startswith("aten::")}
    guard = _OperatorGuard(ops, called) if ops else contextlib.nullcontext()
    try:
        originals: list[tuple[Any, str]] = []
        for path in paths:
            if path.startswith("aten::"):
                continue
            target = _resolve(path)
            if target is None:
                continue
            owner, attr, original = target
            # Restore what the owner's own __dict__ held: an inherited attribute is deleted
            # again rather than copied into the subclass.
            patched.append((owner, attr, vars(owner).get(attr, _MISSING)))
            setattr(owner, attr, _blocker(_display(path), called))
            originals.append((original, path))
        namespace = getattr(student, "__globals__", None)
        if isinstance(namespace, dict):
            for key, value in list(namespace.items()):
                path = next((p for o, p in originals if value is o), None)
                if path is not None:
                    renamed.append((namespace, key, value))
                    namespace[key] = _blocker(_display(path), called)
        with guard:
            yield called
    finally:
        for namespace, key, value in reversed(renamed):
            namespace[key] = value
        for owner, attr, saved in reversed(patched):
            if saved is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, saved)


# --------------------------------------------------------------------------------------------
# calling the student's function


def _snapshot(value: object) -> object:
    """A copy of an argument, to detect in-place changes (None: not worth watching)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, list):
        return copy.deepcopy(value)
    return None


def _changed(before: object, after: object) -> bool:
    if isinstance(before, torch.Tensor):
        return not (before.shape == after.shape and torch.equal(before, after.detach()))
    return before is not None and before != after


def call_student(
    name: str,
    fn: Callable[..., Any],
    args: Sequence[Any],
    call: str,
    *,
    kwargs: Mapping[str, Any] | None = None,
    forbidden: Sequence[str] = (),
    instead: str = "",
) -> Any:
    """``fn(*args, **kwargs)``, with the library functions in ``forbidden`` blocked.

    A stub (``NotImplementedError``), a crash, a forbidden call (``instead``: what to do
    instead) or a changed tensor/list argument raises :class:`CheckFailed` naming ``call``.
    """
    saved = [_snapshot(a) for a in args]
    calls: list[str] = []
    error: Exception | None = None
    result = None
    try:
        with forbid(forbidden, fn, calls):
            result = fn(*args, **(kwargs or {}))
    except Exception as exc:  # KeyboardInterrupt and SystemExit pass
        error = exc
    if calls:  # first: the error that follows a blocked call is only its consequence
        # a blocked layer is named by its class (torch.nn.Conv2d), a function in lower case
        kind = "layer" if calls[0].rsplit(".", 1)[-1][:1].isupper() else "function"
        verb = "uses" if kind == "layer" else "calls"
        raise CheckFailed(
            f"{name} {verb} {calls[0]}, the library {kind} this exercise replaces"
            + (f": {instead}" if instead else "")
            + f" (found for {call})."
        ) from None
    if isinstance(error, CheckFailed):
        raise error
    if isinstance(error, NotImplementedError):
        raise CheckFailed(f"{name} is not implemented yet: {STUB_HINT}.") from None
    if error is not None:
        raise CheckFailed(
            f"{name} raised {type(error).__name__} for {call}: {error}\n"
            "(the traceback above shows the line of your code that failed)"
        ) from error
    for i, (before, after) in enumerate(zip(saved, args, strict=True)):
        if _changed(before, after):
            what = "list" if isinstance(after, list) else "tensor"
            raise CheckFailed(
                f"{name} changed its input {what} (argument {i + 1}) in place for {call}; "
                "compute a new one instead (or work on a copy: .clone() for a tensor, "
                "list(...) for a list)"
            )
    return result


# --------------------------------------------------------------------------------------------
# the type of an answer


def _none(name: str, call: str) -> CheckFailed:
    return CheckFailed(f"{name} returned None for {call}: did you forget the `return` statement?")


def as_tensor(name: str, value: object, call: str) -> torch.Tensor:
    """The student's answer, which must be a real torch.Tensor, detached (dtype kept)."""
    if value is None:
        raise _none(name, call)
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise CheckFailed(
                f"{name} returned a complex tensor ({value.dtype}) for {call}; expected real values"
            )
        return value.detach()
    kind = type(value).__name__
    if isinstance(value, np.ndarray):
        raise CheckFailed(
            f"{name} returned a NumPy array (numpy.ndarray of {value.dtype}) for {call}; the "
            "exercise asks for a torch.Tensor.\n  Hint: stay in torch (torch.zeros, slicing, "
            ".sum(), torch.stack) instead of NumPy, or convert back with torch.from_numpy(...)."
        )
    if isinstance(value, (tuple, list)):
        first = (
            " (it holds a tensor: return that tensor alone)"
            if value and isinstance(value[0], torch.Tensor)
            else " (torch.stack or torch.tensor(..., dtype=...) turns values into a tensor)"
        )
        raise CheckFailed(
            f"{name} returned a {kind} of {len(value)} item(s) for {call}; return a single "
            f"torch.Tensor{first}"
        )
    raise CheckFailed(f"{name} returned a {kind} for {call}; return a torch.Tensor")


def as_int(name: str, value: object, call: str, what: str) -> int | float:
    """The student's answer as an int; a non-integral float is returned as is (and reported).

    Python and NumPy integers count as ints; a whole float, a bool or a tensor does not.
    """
    if value is None:
        raise _none(name, call)
    if isinstance(value, bool):
        raise CheckFailed(f"{name} returned the bool {value} for {call}; return an int")
    if isinstance(value, torch.Tensor):
        raise CheckFailed(
            f"{name} returned a torch.Tensor ({value.dtype}, shape {tuple(value.shape)}) for "
            f"{call}; {what} is a plain number: return a Python int (int(...) or .item())"
        )
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if float(value).is_integer():
            raise CheckFailed(
                f"{name} returned the float {float(value)} for {call}; {what} is a whole "
                f"number: return an int (use // for the division, or int(...))"
            )
        return float(value)
    raise CheckFailed(
        f"{name} returned a {type(value).__name__} for {call}; return one int ({what})"
    )


# --------------------------------------------------------------------------------------------
# comparing answers


def num(value: float) -> str:
    """A number as a student writes it: 19, not 19.0; 4 significant digits otherwise."""
    if math.isfinite(value) and value == round(value) and abs(value) < 1e15:
        return str(int(round(value)))
    return f"{value:.4g}"


def _two_numbers(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` with just enough digits to tell them apart."""
    for digits in (4, 6, 8, 10, 12, 14, 17):
        sa, sb = (num(v) if digits == 4 else f"{v:.{digits}g}" for v in (a, b))
        if sa != sb:
            return sa, sb
    return repr(a), repr(b)


def show(t: torch.Tensor) -> str:
    """A small tensor printed like a nested list of numbers."""
    arr = t.detach().cpu().to(torch.float64).numpy()
    return np.array2string(arr, formatter={"float_kind": num}, max_line_width=100, separator=", ")


def shape_of(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _tolerance(expected: torch.Tensor, scale: torch.Tensor | float | None, rtol: float) -> Any:
    """Per-value tolerance: ``rtol`` times the size of the terms behind each value."""
    if scale is None:
        scale = expected.abs()
    return rtol * torch.as_tensor(scale, dtype=torch.float64) + _ATOL


def _close(
    got: torch.Tensor, expected: torch.Tensor, scale: torch.Tensor | float | None, rtol: float
) -> torch.Tensor:
    diff = (got.to(torch.float64) - expected.to(torch.float64)).abs()
    return diff <= _tolerance(expected.to(torch.float64), scale, rtol)


def matches(
    got: torch.Tensor,
    other: torch.Tensor,
    scale: torch.Tensor | float | None = None,
    rtol: float = LOOSE,
) -> bool:
    """Same shape and the same values up to ``rtol`` (float32 round-off by default)."""
    return tuple(got.shape) == tuple(other.shape) and bool(_close(got, other, scale, rtol).all())


def first_difference(
    got: torch.Tensor,
    expected: torch.Tensor,
    *,
    scale: torch.Tensor | float | None = None,
    rtol: float = RTOL,
    what: str = "output",
    at: str = "output",
) -> str | None:
    """None if ``got`` has ``expected``'s shape and values (dtype aside), else a sentence."""
    if tuple(got.shape) != tuple(expected.shape):
        return f"expected {what} of shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    close = _close(got, expected, scale, rtol)
    if bool(close.all()):
        return None
    wrong = (~close).nonzero()
    pos = tuple(int(i) for i in wrong[0])
    want, have = _two_numbers(float(expected[pos]), float(got[pos]))
    return (
        f"wrong value at {at}[{', '.join(map(str, pos))}]: expected {want}, got {have} "
        f"({len(wrong)} of {expected.numel()} values differ)"
    )


def _dtype_hint(got: torch.dtype, expected: torch.dtype) -> str:
    if not got.is_floating_point:
        return (
            f"a {got} tensor holds whole numbers only, so every fraction is cut off: create the "
            f"output with the input's dtype (torch.zeros(..., dtype=X.dtype)), and do not "
            "convert with .int(), .long() or int(...)"
        )
    if torch.finfo(got).bits < torch.finfo(expected).bits:
        return (
            f"torch.zeros(...), torch.ones(...) and torch.tensor([...]) make {got} unless told "
            f"otherwise, which rounds every value to about {torch.finfo(got).resolution:.0e}: "
            f"create the output with the input's dtype (torch.zeros(..., dtype=X.dtype)), and "
            "avoid .float()"
        )
    return f"keep the input's dtype {expected}: create the output with dtype=X.dtype"


def compare(
    name: str,
    got: torch.Tensor,
    expected: torch.Tensor,
    call: str,
    *,
    scale: torch.Tensor | float | None = None,
    show_inputs: Sequence[tuple[str, torch.Tensor]] = (),
    wrong_answers: Sequence[Hint] = (),
    wrong_shapes: Sequence[ShapeHint] = (),
    what: str = "output",
    at: str = "output",
) -> None:
    """Raise CheckFailed unless ``got`` equals ``expected`` in shape, dtype and value.

    ``scale``: the size of the terms behind each expected value (default ``|expected|``); values
    may differ by float64 round-off of it. ``wrong_answers``: (tensor a classic mistake gives,
    hint), recognised up to float32 round-off; ``wrong_shapes``: (shape a mistake gives, hint).
    """
    shape_ok = tuple(got.shape) == tuple(expected.shape)
    problem = first_difference(got, expected, scale=scale, what=what, at=at)
    hints: list[str] = []
    if not shape_ok:
        hints += [h for shape, h in wrong_shapes if tuple(got.shape) == tuple(shape)][:1]
    elif got.dtype != expected.dtype:
        dtype_problem = f"expected dtype {expected.dtype} (the input's dtype), got {got.dtype}"
        problem = dtype_problem if problem is None else f"{dtype_problem}; {problem}"
        hints.append(_dtype_hint(got.dtype, expected.dtype))
    if problem is None:
        return
    if shape_ok:
        hints += [h for alt, h in wrong_answers if matches(got, alt, scale)][:1]
    if shape_ok and not hints and got.is_floating_point():
        integral = bool((got == got.round()).all())
        if matches(got, expected, scale):
            hints.append(
                "your values differ from the float64 answer by float32 round-off: part of your "
                "computation runs in float32 (torch.zeros(...) or torch.tensor([...]) without "
                "dtype=X.dtype, or .float()), and converting the result back does not restore "
                "the lost digits: keep the input's dtype throughout"
            )
        elif integral and not bool((expected == expected.round()).all()):
            hints.append(
                "your output holds whole numbers only, but the answer has fractions: something "
                "converts to int (.int(), .long(), int(...), .item() into an integer tensor, "
                "or an integer dtype); keep the input's float dtype throughout"
            )
    lines = [f"{name} is wrong for {call}:", f"  {problem}."]
    lines += [f"  Hint: {h}" for h in hints]
    for label, value in (*show_inputs, ("expected", expected), ("got", got)):
        if value.numel() <= _SHOW_LIMIT and value.dim() <= 3:
            lines.append(f"{label} =\n{show(value)}")
    raise CheckFailed("\n".join(lines))
