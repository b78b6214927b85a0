"""torchvision's model classes as a test reference, without cnnlab depending on torchvision.

PyPI's torchvision wheels are built against one exact torch; the one for our torch 2.13 is a
CUDA build whose compiled ops (``torchvision::nms`` ...) fail to register beside the CPU torch,
so ``import torchvision`` raises ``RuntimeError``. Its model classes are plain PyTorch, though:
:func:`torchvision_models` imports ``torchvision.models`` from a wheel or an unpacked copy with
an empty stand-in for the ``torchvision`` package, so ``torchvision/__init__.py`` (which loads the
compiled ops) never runs. Nothing is downloaded here; ``python tools/record_torchvision_layouts.py
--fetch`` puts the wheel into ``build/torchvision/`` (``pip download --no-deps``).

Where it looks, in order: ``$CNNLAB_TORCHVISION`` (a ``.whl`` file or a folder holding
``torchvision/``), the newest wheel in ``build/torchvision/``, then an ordinary
``import torchvision`` (where one that works is installed).
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

TORCHVISION_VERSION = "0.28.0"  # the release built for torch 2.13
CACHE = Path(__file__).resolve().parents[1] / "build" / "torchvision"
FETCH = "python tools/record_torchvision_layouts.py --fetch"


class UnavailableError(Exception):
    """torchvision's model classes could not be imported; the message says why."""


def _source() -> Path | None:
    env = os.environ.get("CNNLAB_TORCHVISION")
    if env:
        path = Path(env).expanduser()
        if not path.exists():
            raise UnavailableError(f"CNNLAB_TORCHVISION={env!r}: no such file or folder")
        return path
    wheels = sorted(CACHE.glob("torchvision-*.whl"))
    return wheels[-1] if wheels else None


def _package_dir(source: Path) -> str:
    if source.is_file():  # a wheel is a zip: zipimport reads the package inside it
        return f"{source}/torchvision"
    if (source / "torchvision" / "models").is_dir():
        return str(source / "torchvision")
    if (source / "models").is_dir() and source.name == "torchvision":
        return str(source)
    raise UnavailableError(f"{str(source)!r} holds no torchvision/models package")


def _forget_torchvision() -> None:
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]


_cached: types.ModuleType | None = None


def torchvision_models() -> types.ModuleType:
    """The ``torchvision.models`` module, or :class:`UnavailableError` with the reason."""
    global _cached
    if _cached is not None:
        return _cached
    source = _source()
    if source is None:
        try:
            _cached = importlib.import_module("torchvision.models")
            return _cached
        except Exception as exc:  # ImportError, or RuntimeError from its compiled ops
            _forget_torchvision()
            raise UnavailableError(
                f"torchvision's model classes are not importable ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}); `{FETCH}` stores the "
                f"torchvision {TORCHVISION_VERSION} wheel in build/torchvision/, or set "
                "CNNLAB_TORCHVISION to a wheel or unpacked copy"
            ) from None
    _forget_torchvision()
    stub = types.ModuleType("torchvision")
    stub.__path__ = [_package_dir(source)]  # a package whose __init__ (the ops) never runs
    # "torchvision-0.28.0-cp311-....whl" -> "0.28.0"; an unpacked copy keeps its folder name
    parts = source.name.split("-")
    stub.__version__ = parts[1] if parts[0] == "torchvision" and len(parts) > 2 else source.name
    sys.modules["torchvision"] = stub
    try:
        _cached = importlib.import_module("torchvision.models")
    except Exception as exc:
        _forget_torchvision()
        raise UnavailableError(
            f"could not import torchvision.models from {str(source)!r}: {type(exc).__name__}: {exc}"
        ) from None
    return _cached


def torchvision_model(name: str) -> object:
    """torchvision's ``name`` model with random weights (never a download) and its
    defaults (so googlenet and inception_v3 hold their auxiliary heads)."""
    models = torchvision_models()
    kwargs: dict[str, object] = {"weights": None}
    if name == "googlenet":
        kwargs["init_weights"] = True  # silences its warning; init is irrelevant to the layout
    if name == "inception_v3":
        kwargs["init_weights"] = True
    return getattr(models, name)(**kwargs)
