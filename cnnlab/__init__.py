"""cnnlab: the helper package behind an interactive course on convolutional neural networks.

Importing it has no side effects: no seeding, no rcParams, no downloads. Submodules are
imported on first use so that ``import cnnlab`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {
    "ops",
    "shapes",
    "filters",
    "widgets",
    "checks",
    "data",
    "train",
    "models",
    "viz",
    "experiments",
    "course",
    "cli",
    "bench",
    "profiles",
    "cost",
    "session",
    "plots",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"cnnlab.{name}")
    if name == "summary":
        return importlib.import_module("cnnlab.cost").summary
    raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES, "summary"])
