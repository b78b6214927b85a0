"""Load pretrained weights from a local ``state_dict`` file into a cnnlab model.

cnnlab never downloads weights. Where a user already has an ImageNet checkpoint saved by
torchvision (``torch.save(model.state_dict(), path)`` or a file from torchvision's model URLs),
the 24 models of :data:`TORCHVISION_MODELS` accept it as is — they use torchvision's module
names and compute torchvision's networks (same outputs, tested against torchvision's classes)::

    model = create_model("resnet18")
    load_pretrained(model, "resnet18-f37072fd.pth")
    model = create_model("googlenet", variant="torchvision", transform_input=True)
    load_pretrained(model, "googlenet-1378be20.pth")

Which models: resnet18/34/50/101/152, wide_resnet50_2/101_2, resnext50_32x4d/101_32x8d/
101_64x4d, densenet121/161/169/201, vgg11/13/16/19 and their ``_bn`` versions, googlenet (with
``variant="torchvision"``; the paper's variant has other modules) and inception_v3. No
torchvision counterpart: alexnet (torchvision's is the one-GPU 64-192-384-256-256 variant),
mobilenet_v1 (torchvision has v2/v3), the course-scale models and the rest.

Key renames applied (:func:`normalize_state_dict`): a ``{"state_dict": ...}`` (or
``model_state_dict``/``model``) wrapper is unwrapped, a ``module.`` prefix (``DataParallel``)
is removed, and DenseNet keys from before torchvision 0.3 (``norm.1``) become ``norm1``.
Auxiliary heads (``aux1.*``/``aux2.*`` of googlenet, ``AuxLogits.*`` of inception_v3), which
torchvision's files hold, are dropped when the model was built without them (``drop_aux``).

torchvision's pretrained googlenet and inception_v3 re-scale their ImageNet-normalised input to
[-1, 1] (``transform_input=True``); build ours with ``transform_input=True`` to do the same.

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
# Auxiliary classifier heads of torchvision's files: googlenet's two, inception_v3's one.
AUX_PREFIXES = ("aux1.", "aux2.", "AuxLogits.")

# Our registry names whose state_dict layout and forward computation are torchvision's, with
# the options that make them so (torchvision builder of the same name).
TORCHVISION_MODELS: dict[str, dict[str, object]] = {
    **{f"resnet{d}": {} for d in (18, 34, 50, 101, 152)},
    "wide_resnet50_2": {},
    "wide_resnet101_2": {},
    "resnext50_32x4d": {},
    "resnext101_32x8d": {},
    "resnext101_64x4d": {},
    **{f"densenet{d}": {} for d in (121, 161, 169, 201)},
    **{f"vgg{d}{bn}": {} for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    "googlenet": {"variant": "torchvision"},
    "inception_v3": {},
}
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
    drop_aux: bool = True,
) -> nn.Module:
    """Load the ``state_dict`` stored at ``path`` into ``model`` and return ``model``.

    Loads torchvision files into the models of :data:`TORCHVISION_MODELS` (see the module
    docstring for the renames applied and ``docs/pretrained.md``).

    ``ignore``: key prefixes to leave at the model's own values, e.g. ``("fc.",)`` to load an
    ImageNet backbone into a model built with ``num_classes=10``. ``strict=False`` allows keys
    missing from the file or unknown to the model (they are skipped); shapes must always match.
    ``drop_aux`` (default True): the file's auxiliary-head keys (``aux1.``, ``aux2.``,
    ``AuxLogits.``) are skipped when the model has no such head (built with
    ``aux_logits=False``, our default; torchvision's files hold them). With ``drop_aux=False``
    they count as unknown keys; build the model with ``aux_logits=True`` to load them.

    Raises ``FileNotFoundError`` if there is no such file, ``ValueError`` if it is not a
    readable state_dict, if keys do not match (listing a few) or if shapes differ.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike), got {type(path).__name__}")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    if not isinstance(drop_aux, bool):
        raise TypeError(f"drop_aux must be True or False, got {drop_aux!r}")
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
    if drop_aux:
        # a head the model was built without: torchvision itself drops it the same way
        absent = tuple(p for p in AUX_PREFIXES if not any(k.startswith(p) for k in own))
        state = {k: v for k, v in state.items() if not k.startswith(absent)}
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
        aux = [k for k in unexpected if k.startswith(AUX_PREFIXES)]
        hint = (
            " The file holds auxiliary-head keys: pass drop_aux=True to skip them, or build the"
            " model with aux_logits=True."
            if aux
            else ""
        )
        raise ValueError(
            f"the keys of {str(file)!r} do not match {type(model).__name__}: "
            + "; ".join(parts)
            + ". Is it the state_dict of the same architecture (torchvision's key layout)? "
            "Use ignore=(...) for layers you replaced, or strict=False to load what matches." + hint
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
