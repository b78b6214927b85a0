"""Which parameters train, and how fast: freezing and per-pattern learning rates by name.

A pattern matches a parameter (or module) name if it equals it, is a prefix ending at a dot
(``"features"`` matches ``"features.0.weight"``) or matches it as an fnmatch pattern
(``"features.*"``, ``"*.bias"``; ``*`` also crosses dots).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

import torch
from torch import nn

from cnnlab.train.devices import fused_ok


def matches(name: str, pattern: str) -> bool:
    """Whether ``pattern`` selects the parameter or module called ``name``."""
    return name == pattern or name.startswith(pattern + ".") or fnmatchcase(name, pattern)


def _no_match(model: nn.Module, pattern: str, option: str, extra: str = "") -> ValueError:
    names = [n for n, _ in model.named_parameters()]
    modules = [n for n, _ in model.named_modules() if n]
    close = difflib.get_close_matches(pattern, modules + names, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    top = [n for n, _ in model.named_children()]
    return ValueError(
        f"{option} pattern {pattern!r} matches no{extra} parameter of the model.{hint} "
        f"Its top-level modules: {', '.join(top) or '(none)'}"
    )


def freeze(model: nn.Module, patterns: Sequence[str]) -> list[nn.Module]:
    """Set ``requires_grad=False`` on the parameters ``patterns`` select; return the frozen
    batch-norm layers (a BN layer whose name matches, or whose parameters all do).

    Frozen BN layers should run in eval mode while the rest trains (``Trainer`` does so): their
    running statistics stay as they were, so a frozen block computes exactly what it did.
    """
    if not patterns:
        return []
    named = list(model.named_parameters())
    for pattern in patterns:
        if not any(matches(n, pattern) for n, _ in named):
            raise _no_match(model, pattern, "freeze")
    chosen = {n for n, _ in named if any(matches(n, p) for p in patterns)}
    for name, p in named:
        if name in chosen:
            p.requires_grad_(False)
    frozen_bn = []
    for mname, module in model.named_modules():
        if not isinstance(module, nn.modules.batchnorm._BatchNorm):
            continue
        own = [f"{mname}.{n}" if mname else n for n, _ in module.named_parameters()]
        by_name = bool(mname) and any(matches(mname, p) for p in patterns)
        if by_name or (own and all(n in chosen for n in own)):
            frozen_bn.append(module)
    return frozen_bn


def param_groups(model: nn.Module, lr: float, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Optimizer parameter groups: the unmatched trainable parameters first (at ``lr``), then
    one group per pattern of ``spec`` (a parameter joins the first pattern that matches it).

    ``spec`` values: an lr multiplier, or a dict with ``"lr"`` (absolute) or ``"lr_scale"`` and
    optionally ``"weight_decay"``. Each group keeps its unscheduled lr as ``"initial_lr"``.
    """
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    chosen: dict[str, list[nn.Parameter]] = {pattern: [] for pattern in spec}
    rest: list[nn.Parameter] = []
    for name, p in trainable:
        pattern = next((pat for pat in spec if matches(name, pat)), None)
        (rest if pattern is None else chosen[pattern]).append(p)
    groups = [{"params": rest, "initial_lr": lr}] if rest else []
    for pattern, value in spec.items():
        if not chosen[pattern]:
            frozen = any(matches(n, pattern) for n, _ in model.named_parameters())
            raise _no_match(model, pattern, "param_groups", " trainable" if frozen else "")
        options = value if isinstance(value, Mapping) else {"lr_scale": value}
        group_lr = options["lr"] if "lr" in options else lr * options.get("lr_scale", 1.0)
        group: dict[str, Any] = {"params": chosen[pattern], "lr": group_lr, "pattern": pattern}
        if "weight_decay" in options:
            group["weight_decay"] = options["weight_decay"]
        group["initial_lr"] = group_lr
        groups.append(group)
    return groups


def make_optimizer(
    model: nn.Module,
    name: str,
    lr: float,
    weight_decay: float,
    momentum: float,
    device: torch.device,
    groups: Mapping[str, Any] | None = None,
) -> torch.optim.Optimizer:
    """SGD (with ``momentum``), Adam or AdamW over the trainable parameters, fused if it can."""
    spec = param_groups(model, lr, groups or {})
    params = [p for g in spec for p in g["params"]]
    if not params:
        raise ValueError("the model has no trainable parameters")
    # The fused kernels update every parameter in one pass instead of a few ops per tensor.
    options: dict[str, Any] = {"fused": True} if fused_ok(params, device) else {}
    if name == "sgd":
        return torch.optim.SGD(spec, lr=lr, momentum=momentum, weight_decay=weight_decay, **options)
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return cls(spec, lr=lr, weight_decay=weight_decay, **options)
