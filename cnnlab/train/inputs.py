"""Checks on the data ``fit`` and ``evaluate`` get, and errors that name the failing layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class InputShapeError(ValueError):
    """The model cannot take the data's image size or channels; says which layer fails."""


class ChannelsLastError(ValueError):
    """The model's forward uses ``.view`` on a feature map, which channels_last cannot take."""


def is_view_error(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) and "view size is not compatible" in str(exc)


def as_tensors(data: object, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Accept a ``cnnlab.data.Dataset`` (or anything with .images/.labels) or (images, labels)."""
    if hasattr(data, "images") and hasattr(data, "labels"):
        images, labels = data.images, data.labels  # type: ignore[attr-defined]
    elif isinstance(data, Sequence) and len(data) == 2:
        images, labels = data
    else:
        raise TypeError(
            f"{what} must be a cnnlab.data.Dataset or a pair (images, labels), "
            f"got {type(data).__name__}"
        )
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        raise ValueError(
            f"{what} images must be a float tensor (N, C, H, W), got "
            f"{getattr(images, 'dtype', type(images).__name__)} of shape "
            f"{tuple(getattr(images, 'shape', ()))}"
            + (
                "; convert with images.float() (and scale, e.g. / 255)"
                if isinstance(images, torch.Tensor) and not images.is_floating_point()
                else ""
            )
        )
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.is_floating_point():
        raise ValueError(f"{what} labels must be an integer tensor (N,) of class indices")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"{what} has {images.shape[0]} images but {labels.shape[0]} labels")
    if images.shape[0] == 0:
        raise ValueError(f"{what} is empty")
    return images, labels.long()


def check_image_dtype(model: nn.Module, images: torch.Tensor, what: str) -> None:
    """Refuse images whose float dtype differs from the model's weights (torch would only say
    "Input type (double) and bias type (float) should be the same" from deep inside a layer)."""
    weight = next((p for p in model.parameters() if p.is_floating_point()), None)
    if weight is not None and images.dtype != weight.dtype:
        raise TypeError(
            f"{what} images are {images.dtype} but the model's weights are {weight.dtype}: "
            f"convert the images with images.to({weight.dtype}) (images.float() for float32), "
            f"or the model with model.to({images.dtype})"
        )


def check_logits(out: object, batch: int, name: str) -> torch.Tensor:
    """``out`` if it is a (batch, classes) float tensor; a clear ``TypeError``/``ValueError`` else.

    Catches models that return a tuple (auxiliary heads), a dict (detection-style outputs) or a
    feature map, which would otherwise fail inside ``cross_entropy`` or ``topk``.
    """
    if not isinstance(out, torch.Tensor):
        if isinstance(out, (tuple, list)):
            kind = f"a {type(out).__name__} of length {len(out)}"
        elif isinstance(out, dict):
            kind = f"a dict with keys {sorted(map(str, out))}"
        else:
            kind = f"a {type(out).__name__}"
        raise TypeError(
            f"model {name!r} must return one logits tensor (N, classes), got {kind}; with "
            "auxiliary outputs, return only the main logits (or wrap the model to pick them)"
        )
    if out.dim() != 2 or out.shape[0] != batch or out.shape[1] < 1:
        raise ValueError(
            f"model {name!r} must return logits (N, classes) with N = {batch} (the batch), got "
            f"shape {tuple(out.shape)}"
        )
    if not out.is_floating_point():
        raise TypeError(f"model {name!r} must return float logits, got {out.dtype}")
    return out


def check_label_range(labels: torch.Tensor, num_outputs: int, what: str, name: str) -> None:
    """Labels must index the model's outputs: 0 <= label < num_outputs."""
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= num_outputs:
        fix = (
            "class indices start at 0"
            if lo < 0
            else f"build it with num_classes={hi + 1}, or check the labels"
        )
        raise ValueError(
            f"{what} labels range over {lo}..{hi} but model {name!r} has {num_outputs} outputs "
            f"(classes 0..{num_outputs - 1}); {fix}"
        )


def describe_forward_failure(
    model: nn.Module, x: torch.Tensor, exc: BaseException, name: str
) -> InputShapeError:
    """Run the failing forward again with hooks to find the innermost module that failed."""
    stack: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    names = {m: n for n, m in model.named_modules()}

    def pre(module: nn.Module, args: tuple[Any, ...]) -> None:
        shape = tuple(args[0].shape) if args and isinstance(args[0], torch.Tensor) else ()
        stack.append((names.get(module, "?"), module, shape))

    def post(module: nn.Module, args: tuple[Any, ...], out: Any) -> None:
        if stack:
            stack.pop()

    handles = [m.register_forward_pre_hook(pre) for m in model.modules()]
    handles += [m.register_forward_hook(post) for m in model.modules()]
    try:
        with torch.no_grad():
            model(x)
    except Exception:  # the same failure again: the stack now ends at the failing module
        pass
    finally:
        for h in handles:
            h.remove()
    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = ""
    if stack and "layer '" not in cause:  # cnnlab models name the layer themselves
        layer, module, shape = stack[-1]
        layer = layer or "(the model itself)"
        where = f" Layer {layer!r} ({type(module).__name__}) failed on input of shape {shape}."
    return InputShapeError(
        f"model {name!r} cannot take input of shape {tuple(x.shape)}.{where} Cause: {cause}"
    )


def checked_forward(
    model: nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None, what: str = "data"
) -> torch.Tensor:
    """``model(x)`` (N, classes), checked: a failing layer, output that is not logits, or labels
    beyond the outputs are named (``what`` names the labels' source in the message)."""
    name = type(model).__name__
    try:
        out = model(x)
    except (RuntimeError, IndexError) as exc:
        raise describe_forward_failure(model, x, exc, name) from exc
    out = check_logits(out, x.shape[0], name)
    if labels is not None:
        check_label_range(labels, out.shape[1], what, name)
    return out
