"""Load pretrained weights from a local ``state_dict`` file into a cnnlab model.

cnnlab never downloads weights. Where a user already has an ImageNet checkpoint saved by
torchvision (``torch.save(model.state_dict(), path)`` or a file from torchvision's model URLs),
the ResNet, Wide ResNet, ResNeXt and DenseNet models of :mod:`cnnlab.models` accept it as is,
because they use torchvision's module names::

    model = create_model("resnet18")
    load_pretrained(model, "resnet18-f37072fd.pth")

Problems come back as clear errors (missing file, keys that do not match — a few of them
listed —, tensors of the wrong shape) before anything in the model is changed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

# torchvision's DenseNet files from before v0.3 name ``norm.1`` what is now ``norm1`` (the same
# rename torchvision's own loader applies).
_LEGACY_DENSENET = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\."
    r"((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$"
)
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
_SHOW = 5  # how many offending keys an error message lists


def _listing(keys: Iterable[str]) -> str:
    keys = sorted(keys)
    shown = ", ".join(repr(k) for k in keys[:_SHOW])
    more = f" and {len(keys) - _SHOW} more" if len(keys) > _SHOW else ""
    return shown + more


def normalize_state_dict(state: Mapping[str, object]) -> dict[str, torch.Tensor]:
    """Undo common wrappers and renames: ``{"state_dict": ...}``, a ``module.`` prefix (from
    ``nn.DataParallel``) on every key, and torchvision's legacy DenseNet key names."""
    if not isinstance(state, Mapping):
        raise TypeError(f"a state_dict must be a mapping of names to tensors, got {type(state)}")
    for key in _WRAPPER_KEYS:
        if key in state and isinstance(state[key], Mapping):
            state = state[key]  # type: ignore[assignment]
            break
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise TypeError(
                "a state_dict must map parameter names (str) to tensors; found "
                f"{key!r}: {type(value).__name__}"
            )
        out[key] = value
    if out and all(k.startswith("module.") for k in out):
        out = {k[len("module.") :]: v for k, v in out.items()}
    renamed = {}
    for key, value in out.items():
        match = _LEGACY_DENSENET.match(key)
        renamed[match.group(1) + match.group(2) if match else key] = value
    return renamed


def load_pretrained(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    strict: bool = True,
    ignore: Iterable[str] = (),
) -> nn.Module:
    """Load the ``state_dict`` stored at ``path`` into ``model`` and return ``model``.

    ``ignore``: key prefixes to leave at the model's own values, e.g. ``("fc.",)`` to load an
    ImageNet backbone into a model built with ``num_classes=10``. ``strict=False`` allows keys
    missing from the file or unknown to the model (they are skipped); shapes must always match.

    Raises ``FileNotFoundError`` if there is no such file, ``ValueError`` if it is not a
    readable state_dict, if keys do not match (listing a few) or if shapes differ.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike), got {type(path).__name__}")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    if isinstance(ignore, str):
        ignore = (ignore,)
    prefixes = tuple(ignore)
    if not all(isinstance(p, str) for p in prefixes):
        raise TypeError(f"ignore must be a list of key prefixes (str), got {ignore!r}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(
            f"no pretrained weights file at {str(file)!r}; cnnlab never downloads weights, so "
            "pass the path of a state_dict you saved or downloaded yourself"
        )
    try:
        # weights_only: a checkpoint is data; never run code from a file.
        loaded = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, pickle with code, not a torch file ...
        raise ValueError(f"could not read {str(file)!r} as a PyTorch state_dict: {exc}") from exc
    try:
        state = normalize_state_dict(loaded)
    except TypeError as exc:
        raise ValueError(f"{str(file)!r} does not hold a state_dict: {exc}") from None

    def skipped(key: str) -> bool:
        return key.startswith(prefixes) if prefixes else False

    own = {k: v for k, v in model.state_dict().items() if not skipped(k)}
    state = {k: v for k, v in state.items() if not skipped(k)}
    # Files written before PyTorch 0.4 have no BN ``num_batches_tracked``; keep the model's.
    missing = {k for k in own.keys() - state.keys() if not k.endswith("num_batches_tracked")}
    unexpected = state.keys() - own.keys()
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f"{len(missing)} model keys missing from the file: {_listing(missing)}")
        if unexpected:
            parts.append(
                f"{len(unexpected)} file keys unknown to the model: {_listing(unexpected)}"
            )
        raise ValueError(
            f"the keys of {str(file)!r} do not match {type(model).__name__}: "
            + "; ".join(parts)
            + ". Is it the state_dict of the same architecture (torchvision's key layout)? "
            "Use ignore=(...) for layers you replaced, or strict=False to load what matches."
        )
    wrong = [
        f"{k!r}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(own.keys() & state.keys())
        if state[k].shape != own[k].shape
    ]
    if wrong:
        more = f" and {len(wrong) - _SHOW} more" if len(wrong) > _SHOW else ""
        raise ValueError(
            f"{len(wrong)} tensors of {str(file)!r} have the wrong shape: "
            + "; ".join(wrong[:_SHOW])
            + more
            + ". A different num_classes or in_channels? Pass ignore=('fc.',) (or the layer "
            "you changed) to keep the model's own values there."
        )
    load = {k: v for k, v in state.items() if k in own}
    model.load_state_dict(load, strict=False)
    return model
