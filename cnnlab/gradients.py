"""Gradient flow through depth: the sigmoid's bound, the chain-rule product, per-layer norms.

- :func:`sigmoid_derivative` — σ'(x) = σ(x)(1 - σ(x)), at most 1/4 (at x = 0);
- :func:`chain_product` — the product of one derivative factor per layer over ``depth`` layers
  (the bound on how much a gradient can shrink through ``depth`` sigmoids: 0.25^depth);
- :func:`grad_norm_profile` — the L2 norm of each convolution weight's gradient after one
  backward pass on a batch, first layer first (recorded by
  :class:`cnnlab.train.GradNormRecorder`, the same recorder ``fit`` uses during training);
- :func:`recorded_profile` — a recorder's norms during training as one mean per layer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_float, as_int


def sigmoid_derivative(x: torch.Tensor) -> torch.Tensor:
    """σ'(x) = σ(x)·(1 - σ(x)), elementwise (same shape and dtype as ``x``)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor (e.g. torch.tensor(x)), got {type(x).__name__}")
    s = torch.sigmoid(x)
    return s * (1 - s)


def chain_product(factors: Sequence[float] | float, depth: int | None = None) -> float:
    """The product of per-layer factors: ``chain_product(0.25, 10)`` = 0.25¹⁰, or of a list."""
    if isinstance(factors, (numbers.Real, torch.Tensor)) and not (
        isinstance(factors, torch.Tensor) and factors.dim() > 0
    ):
        factor = as_float(factors, "factors")
        depth = as_int(depth, "depth", minimum=0)
        try:
            return factor**depth
        except OverflowError:  # the product of finite floats overflows to inf
            return math.copysign(math.inf, factor) if depth % 2 else math.inf
    if isinstance(factors, (str, bytes)) or not isinstance(factors, Iterable):
        raise TypeError(f"factors must be a number or a list of numbers, got {factors!r}")
    if depth is not None:
        raise ValueError(f"depth is for a single factor; got a list of factors and depth={depth!r}")
    return math.prod(as_float(f, f"factors[{i}]") for i, f in enumerate(factors))


def is_layer_weight(name: str, param: nn.Parameter) -> bool:
    """True for the weight of a convolution (4-D): the layers a profile is drawn over."""
    if not isinstance(name, str) or not isinstance(param, torch.Tensor):
        raise TypeError(
            f"is_layer_weight takes (name, parameter) as model.named_parameters() gives, got "
            f"({type(name).__name__}, {type(param).__name__})"
        )
    return name.endswith("weight") and param.dim() == 4


def grad_norm_profile(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """‖∂loss/∂W_l‖ for each conv layer l (first layer first) after one backward pass of the
    cross-entropy on ``images`` (N, C, H, W) and ``labels`` (N,). The model's mode is kept and
    its gradients are cleared afterwards (nothing is trained)."""
    from cnnlab.train import GradNormRecorder
    from cnnlab.train.inputs import (
        as_tensors,
        check_image_dtype,
        checked_forward,
    )

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    images, labels = as_tensors((images, labels), "grad_norm_profile")
    check_image_dtype(model, images, "grad_norm_profile")
    if not bool(torch.isfinite(images).all()):
        raise ValueError("grad_norm_profile images contain NaN or inf values")
    if not any(p.requires_grad for n, p in model.named_parameters() if is_layer_weight(n, p)):
        raise ValueError(
            f"model {type(model).__name__!r} has no trainable convolution weight to profile"
        )
    recorder = GradNormRecorder(include=is_layer_weight)
    model.zero_grad(set_to_none=True)
    out = checked_forward(model, images, labels, "grad_norm_profile")
    F.cross_entropy(out, labels.to(out.device)).backward()
    recorder.on_after_backward(model)
    model.zero_grad(set_to_none=True)
    return [values[0] for values in recorder.norms.values()]


def recorded_profile(recorder: object, last: int | None = None) -> list[float]:
    """Mean gradient norm per layer over a ``GradNormRecorder``'s steps (``last``: only the
    last that many steps), in layer order; NaN/inf steps (a diverged run) are skipped, and a
    layer without any finite step gets NaN."""
    norms = getattr(recorder, "norms", None)
    if not isinstance(norms, Mapping):
        raise TypeError(
            f"recorder must be a cnnlab.train.GradNormRecorder, got {type(recorder).__name__}"
        )
    if not norms:
        raise ValueError("the recorder holds no steps: pass it to fit(callbacks=[recorder])")
    table = torch.tensor(list(norms.values()), dtype=torch.float64)  # (layers, steps)
    if last is not None:
        table = table[:, -as_int(last, "last", minimum=1) :]
    finite = torch.isfinite(table)
    counts = finite.sum(1)
    means = torch.where(finite, table, 0).sum(1) / counts.clamp(min=1)
    return torch.where(counts > 0, means, math.nan).tolist()  # NaN: no finite step at all


def profile_in_band(
    band: Mapping[str, Any], config: str, metric: str, values: Sequence[float]
) -> str:
    """Check a fresh per-layer profile against a stored band, layer by layer (the band's
    element-wise [min, max] widened by its tolerance and by 1 % of the value, for other CPUs).

    Returns one line to print; raises ``AssertionError`` naming the first layer outside."""
    results = band.get("results") if isinstance(band, Mapping) else None
    if not isinstance(results, Mapping):
        raise TypeError("band must be a band file (see cnnlab.experiments.load_band)")
    if config not in results:
        raise ValueError(f"the band has no config {config!r}; configs: {', '.join(results)}")
    if metric not in results[config]:
        metrics = ", ".join(results[config])
        raise ValueError(f"no {metric!r} for config {config!r}; metrics: {metrics}")
    entry = results[config][metric]
    tol = float(band.get("tolerance", {}).get(metric, 0.0))
    low, high = entry["min"], entry["max"]
    if not isinstance(low, list):
        raise ValueError(f"{metric!r} is one number per run, not a per-layer profile")
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"values must be a list of per-layer numbers, got {values!r}")
    values = list(values)
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, torch.Tensor)):
            raise TypeError(f"values[{i}] must be a number, got {v!r} ({type(v).__name__})")
    values = [float(v) for v in values]
    if len(values) != len(low):
        raise AssertionError(f"{config}: {len(values)} layers, the band has {len(low)}")
    for i, (v, lo, hi) in enumerate(zip(values, low, high, strict=True)):
        slack = tol + 0.01 * abs(v)
        if not (math.isfinite(v) and lo - slack <= v <= hi + slack):
            raise AssertionError(
                f"{config}: layer {i + 1} has {metric} {v:.3g}, outside the stored band "
                f"[{lo:.3g}, {hi:.3g}]; regenerate it: {band.get('command', '')}"
            )
    return f"{config}: all {len(values)} layers lie in the stored {metric} band"
