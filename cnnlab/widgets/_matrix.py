"""Small matrices for the widgets: coerce user input, parse a typed matrix, format one as text."""

from __future__ import annotations

import re

import torch

_ROW_SPLIT = re.compile(r"[;\n]+")
_VALUE_SPLIT = re.compile(r"[,\s]+")


def as_matrix(value: object, name: str) -> torch.Tensor:
    """Return a tensor, array or nested list as a finite float64 tensor of shape (H, W)."""
    if isinstance(value, torch.Tensor):
        t = value.detach().to("cpu", torch.float64)
    else:
        try:
            t = torch.as_tensor(value, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(
                f"{name} must be a 2-D tensor, array or list of equal-length rows of numbers, "
                f"got {type(value).__name__}"
            ) from err
    if t.dim() != 2:
        raise ValueError(f"{name} must be 2-D (rows, columns), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return t


def parse_matrix(text: str, name: str = "matrix") -> torch.Tensor:
    """Parse a typed matrix into a float64 tensor of shape (H, W).

    Rows are separated by new lines or ``;``, values by spaces or commas; brackets are ignored, so
    ``"0 1\\n2 3"``, ``"0, 1; 2, 3"`` and ``"[[0, 1], [2, 3]]"`` all give ``[[0, 1], [2, 3]]``.
    Raises ``ValueError`` with a message meant to be shown to a student.
    """
    if not isinstance(text, str):
        raise TypeError(f"{name} text must be a str, got {type(text).__name__}")
    cleaned = text.replace("],", ";").replace("[", " ").replace("]", " ")
    rows = [r.strip(" ,") for r in _ROW_SPLIT.split(cleaned) if r.strip(" ,")]
    if not rows:
        raise ValueError(f"{name} is empty: type rows of numbers, one row per line")
    values: list[list[float]] = []
    for i, row in enumerate(rows, start=1):
        parsed = []
        for item in _VALUE_SPLIT.split(row):
            try:
                parsed.append(float(item))
            except ValueError:
                raise ValueError(f"{name} row {i}: {item!r} is not a number") from None
        if values and len(parsed) != len(values[0]):
            raise ValueError(
                f"{name} row {i} has {len(parsed)} values but row 1 has {len(values[0])}: "
                "every row needs the same number of values"
            )
        values.append(parsed)
    return as_matrix(values, name)


def format_matrix(t: torch.Tensor) -> str:
    """Format a 2-D tensor as text that :func:`parse_matrix` reads back (one row per line)."""

    def one(v: float) -> str:
        # 6 significant digits: enough for 1/9 or 1/16 to survive a round trip visibly
        return str(int(v)) if float(v).is_integer() else f"{v:.6g}"

    return "\n".join(" ".join(one(v) for v in row) for row in t.tolist())
