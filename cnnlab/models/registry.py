"""The one model registry: ``create_model(name, ...)`` and ``list_models()``.

Family modules register builder functions with ``@register("name", ...)``. A builder takes
keyword-only options (at least ``num_classes`` and ``in_channels``) and returns an ``nn.Module``.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from cnnlab._validate import check_choice

# Family modules, imported on the first registry call (not at ``import cnnlab``).
_FAMILIES: tuple[str, ...] = (
    "lenet",
    "alexnet",
    "vgg",
    "nin",
    "inception",
    "resnet",
    "wide",
    "densenet",
    "dpn",
    "mobilenet",
    "simple",
    "deep_plain",
)


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one name."""

    name: str
    builder: Callable[..., nn.Module]
    input_size: tuple[int, int, int]  # (C, H, W) the configuration was designed for
    scale: str  # "imagenet" or "course"
    paper: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


_REGISTRY: dict[str, ModelInfo] = {}
_ALIASES: dict[str, str] = {}
_loaded = False


def register(
    name: str,
    *,
    input_size: tuple[int, int, int],
    scale: str,
    paper: str = "",
    aliases: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: register ``builder`` under ``name`` (and ``aliases``)."""
    if scale not in ("imagenet", "course"):
        raise ValueError(f"scale must be 'imagenet' or 'course', got {scale!r}")

    def deco(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelInfo(name, builder, input_size, scale, paper, tags)
        for alias in aliases:
            _ALIASES[alias] = name
        return builder

    return deco


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for fam in _FAMILIES:
            try:
                importlib.import_module(f"cnnlab.models.{fam}")
            except ModuleNotFoundError as exc:  # a family not written yet
                if exc.name != f"cnnlab.models.{fam}":
                    raise


def _resolve(name: str) -> str:
    _load()
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}")
    key = name.lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, [*_REGISTRY, *_ALIASES], n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown model {name!r}.{hint} See cnnlab.models.list_models() for all "
            f"{len(_REGISTRY)} names."
        )
    return key


def list_models(scale: str | None = None, tag: str | None = None) -> list[str]:
    """Sorted names of registered models, optionally only one ``scale`` or ``tag``.

    An unknown ``scale`` ("imagenet" or "course") or ``tag`` (one that some model has) raises
    ``ValueError`` listing the valid ones, rather than quietly returning an empty list.
    """
    _load()
    if scale is not None:
        check_choice(scale, "scale", ("imagenet", "course"))
    if tag is not None:
        check_choice(tag, "tag", sorted({t for info in _REGISTRY.values() for t in info.tags}))
    return sorted(
        n
        for n, info in _REGISTRY.items()
        if (scale is None or info.scale == scale) and (tag is None or tag in info.tags)
    )


def model_info(name: str) -> ModelInfo:
    """The registry entry of ``name`` (its builder, design input size, scale, paper)."""
    return _REGISTRY[_resolve(name)]


def create_model(name: str, **options: object) -> nn.Module:
    """Build a registered model, e.g. ``create_model("resnet20", num_classes=10)``.

    Raises ``ValueError`` listing close matches for an unknown name, and ``TypeError`` for an
    option the builder does not take. The model gets input checks
    (``cnnlab.models.layers.install_input_checks``): a bad input raises ``ValueError`` naming
    the layer where it breaks.
    """
    info = model_info(name)
    try:
        model = info.builder(**options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise TypeError(f"{info.name}: {exc}") from None
        raise
    # A wrong channel count or a too-small image then names the layer where it breaks.
    from cnnlab.models.layers import install_input_checks

    return install_input_checks(model, input_size=info.input_size)
