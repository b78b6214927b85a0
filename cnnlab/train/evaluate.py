"""``evaluate(model, data) -> {"loss", "top1", "top5", "n"}``: batched, no per-batch sync."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_int
from cnnlab.train.devices import pick_device, resolve_amp
from cnnlab.train.inputs import (
    as_tensors,
    check_image_dtype,
    checked_forward,
)


def _topk(topk: object) -> list[int]:
    """``topk`` as a list of ks: an int k means (k,); an empty sequence is an error."""
    if isinstance(topk, numbers.Integral) and not isinstance(topk, bool):
        return [as_int(topk, "topk", minimum=1)]
    if isinstance(topk, (str, bytes)) or not isinstance(topk, Sequence):
        raise TypeError(f"topk must be an int k or a sequence of ks such as (1, 5), got {topk!r}")
    if not topk:
        raise ValueError("topk is empty: give at least one k, e.g. topk=(1,) or topk=(1, 5)")
    return [as_int(k, "topk", minimum=1) for k in topk]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: object,
    *,
    topk: int | Sequence[int] = (1, 5),
    batch_size: int = 512,
    device: str | torch.device | None = None,
    amp: bool | str | torch.dtype | None = False,
) -> dict[str, float]:
    """Mean cross-entropy and top-k accuracies of ``model`` on ``data``.

    Returns ``{"loss": ..., "top1": ..., "top5": ..., "n": N}``; top-k is the fraction of images
    whose label is among the k highest logits (k above the number of classes counts every
    image); ``topk`` is a sequence of ks or one int k. Runs in eval mode and restores the
    model's mode. ``device`` defaults to the model's. Labels outside the model's outputs, a
    model that does not return (N, classes) logits and images of another dtype than the model's
    weights raise a clear ``ValueError``/``TypeError``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    images, labels = as_tensors(data, "data")
    ks = _topk(topk)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    check_image_dtype(model, images, "data")
    if device is None:
        first = next(iter(model.parameters()), None)
        dev = first.device if first is not None else torch.device("cpu")
    else:
        dev = pick_device(device)
    dtype = amp if isinstance(amp, torch.dtype) else resolve_amp(amp, dev)
    was_training = model.training
    model.eval()
    acc_dtype = torch.float32 if dev.type == "mps" else torch.float64  # MPS has no float64
    loss_sum = torch.zeros((), device=dev, dtype=acc_dtype)
    hits = torch.zeros(len(ks), device=dev, dtype=torch.long)
    try:
        for start in range(0, images.shape[0], batch_size):
            x = images[start : start + batch_size].to(dev)
            y = labels[start : start + batch_size].to(dev)
            with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                # the first batch is checked: a shape error names the layer, labels are checked
                out = model(x) if start else checked_forward(model, x, labels, "data")
            out = out.float()
            loss_sum += F.cross_entropy(out, y, reduction="sum").to(acc_dtype)
            kmax = min(max(ks), out.shape[1])
            top = out.topk(kmax, dim=1).indices == y[:, None]  # (B, kmax) one-hot of the hit
            cum = top.cumsum(1).clamp_(max=1).sum(0)  # images with a hit within the first k
            hits += torch.stack([cum[min(k, kmax) - 1] for k in ks])
    finally:
        model.train(was_training)
    n = images.shape[0]
    result: dict[str, float] = {"loss": float(loss_sum) / n}
    for k, h in zip(ks, hits.tolist(), strict=True):
        result[f"top{k}"] = h / n
    result["n"] = n
    return result
