"""Argument checks shared by every public function.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the parameter and the
allowed values, so that bad input never surfaces as an obscure error deep inside torch.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Iterable, Sequence

import torch


def as_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, rejecting bools, floats with a fraction and values < minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif (
            isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point()
        ):
            value = int(value.item())
        else:
            raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def as_threads(value: object, name: str = "threads") -> int:
    """A CPU thread count for torch, in 1..this machine's CPUs: torch starts (and allocates for)
    as many OpenMP threads as asked, and a count like 10**9 aborts the Python process."""
    threads = as_int(value, name, minimum=1)
    most = max(os.cpu_count() or 1, torch.get_num_threads())
    if threads > most:
        raise ValueError(f"{name} must be in 1..{most} (this machine's CPUs), got {threads}")
    return threads


def as_float(
    value: object, name: str, *, minimum: float | None = None, exclusive: bool = False
) -> float:
    """Return ``value`` as a finite float; reject non-numbers (``TypeError``), NaN/inf and values
    below ``minimum`` (or equal to it with ``exclusive``) with a ``ValueError``."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        value = float(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        if exclusive and minimum == 0:
            wanted = "a positive number"
        else:
            wanted = f"a number {'>' if exclusive else '>='} {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return value


def as_pair(value: object, name: str, *, minimum: int | None = None) -> tuple[int, int]:
    """Accept ``k`` or ``(kh, kw)`` and return ``(kh, kw)`` as checked ints."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        return (
            as_int(value[0], f"{name}[0]", minimum=minimum),
            as_int(value[1], f"{name}[1]", minimum=minimum),
        )
    v = as_int(value, name, minimum=minimum)
    return v, v


def check_tensor(
    x: object, name: str, ndim: int | Iterable[int], shape_hint: str = ""
) -> torch.Tensor:
    """Check that ``x`` is a tensor with one of the allowed numbers of dimensions."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        hint = f" ({shape_hint})" if shape_hint else ""
        raise ValueError(f"{name} must be {dims}{hint}, got shape {tuple(x.shape)}")
    return x


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices``; suggest close matches otherwise."""
    options = list(choices)
    if value in options:
        return str(value)
    close = difflib.get_close_matches(str(value), options, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"unknown {name} {value!r}.{hint} Valid: {', '.join(options)}")
