"""Memory limits: refuse a valid but huge request before it allocates, with the estimate.

A request that would need tens of GB (a 4096×4096 "shapes" dataset, a grid of 10⁶×10⁶ cells)
must not freeze a shared classroom machine or die with a ``MemoryError`` deep inside numpy or
torch. Callers estimate the bytes they are about to allocate and call :func:`check_memory`,
which raises :class:`ResourceLimitError` (a ``ValueError``: the CLI reports it as bad input,
exit code 2) naming the estimate, the limit and what to do instead.

The limit is ``$CNNLAB_MEMORY_LIMIT`` when set (bytes, or a number with KiB/MiB/GiB/KB/MB/GB),
else min(8 GiB, half of the memory available now), else 4 GiB when that cannot be read.
"""

from __future__ import annotations

import os
import re

__all__ = ["ResourceLimitError", "check_memory", "format_bytes", "memory_limit"]

ENV_VAR = "CNNLAB_MEMORY_LIMIT"
GiB = 1024**3
MAX_LIMIT = 8 * GiB  # even a large machine is shared by a class: never plan more than this
FALLBACK_LIMIT = 4 * GiB  # when the available memory cannot be read
_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
    "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "tb": 1000**4,
}  # fmt: skip


class ResourceLimitError(ValueError):
    """A request would need more memory than :func:`memory_limit` allows."""


def format_bytes(n: float) -> str:
    """``n`` bytes as a short human-readable size, e.g. ``"37.3 GiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ValueError(
            f"{ENV_VAR}={text!r} is not a size: use bytes or a number with KiB/MiB/GiB (e.g. 2GiB)"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def _available_bytes() -> int | None:
    """Memory available to new allocations now (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # other POSIX systems: free pages (an underestimate, which errs on the safe side)
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit() -> int:
    """Bytes one request may allocate: ``$CNNLAB_MEMORY_LIMIT``, else min(8 GiB, available/2)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return _parse_size(env)
    available = _available_bytes()
    if available is None:
        return FALLBACK_LIMIT
    return max(1, min(MAX_LIMIT, available // 2))


def check_memory(estimate: float, what: str, hint: str = "") -> None:
    """Raise :class:`ResourceLimitError` when ``estimate`` bytes exceed :func:`memory_limit`.

    ``what`` names the request ("the 'shapes' dataset at 4096×4096"); ``hint`` says what to do.
    """
    limit = memory_limit()
    if estimate > limit:
        tail = f"; {hint}" if hint else ""
        raise ResourceLimitError(
            f"{what} would need about {format_bytes(estimate)} of memory, more than the limit of "
            f"{format_bytes(limit)} (min(8 GiB, half the available memory); set {ENV_VAR} to "
            f"change it){tail}"
        )
