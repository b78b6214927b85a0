"""Exercise checks: a student's function against PyTorch on seeded cases.

Each exercise of the solution/exercise notebooks is followed by one call, for example
``checks.corr2d(corr2d)``: it prints one deterministic ``✔ ...`` line on success and raises
:class:`CheckFailed` (an ``AssertionError``) otherwise, naming the input, the expected and the
received answer and, when it recognises a classic mistake, a hint about it.

The checks of a topic live in ``cnnlab.checks.<slug>`` (the course manifest's ``Topic.checks``),
each listing its checks in ``__all__``. This package holds no list of its own: a name is looked
up, on first use, in the checks modules of the built topics of :mod:`cnnlab.course.manifest`.
Besides the checks it exports :class:`CheckFailed` and :func:`module_matches` (the harness of
exercises where the student writes an ``nn.Module``). Importing it imports nothing heavy and
has no side effects.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

# not checks of a topic: the failure type (from _core) and the module harness (from _module)
_CORE_EXPORTS = {"CheckFailed": "cnnlab.checks._core", "module_matches": "cnnlab.checks._module"}

_exports: dict[str, str] | None = None  # check name -> dotted name of its topic module


def _topic_exports() -> dict[str, str]:
    """Every check name of the built topics, mapped to its module (imported here, once)."""
    global _exports
    if _exports is None:
        from cnnlab.course.manifest import topics

        found: dict[str, str] = {}
        for topic in topics(built=True):
            if importlib.util.find_spec(topic.checks) is None:
                continue  # a topic without exercises has no checks module
            module = importlib.import_module(topic.checks)
            for name in module.__all__:
                if name in found or name in _CORE_EXPORTS:
                    raise ImportError(
                        f"check {name!r} of {topic.checks} is also defined by "
                        f"{found.get(name, 'cnnlab.checks._core')}: check names must be unique"
                    )
                found[name] = topic.checks
        _exports = found
    return _exports


def __getattr__(name: str) -> Any:
    if name in _CORE_EXPORTS:
        return getattr(importlib.import_module(_CORE_EXPORTS[name]), name)
    if name == "__all__":
        return sorted([*_CORE_EXPORTS, *_topic_exports()])
    if not name.startswith("__"):  # dunder probes (copy, pickle, doctest) need no imports
        module = _topic_exports().get(name)
        if module is not None:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'cnnlab.checks' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the public names and the topic modules (no helpers or imports of this file)
    loaded = [k for k, v in globals().items() if getattr(v, "__name__", "").startswith(__name__)]
    return sorted({*_CORE_EXPORTS, *_topic_exports(), *loaded})
