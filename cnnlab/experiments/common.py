"""What the topics' experiments share: one training run at a profile's sizes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn


def fit_profile(
    model: nn.Module,
    train: object,
    val: object,
    sizes: Mapping[str, Any],
    seed: int,
    **options: Any,
) -> Any:
    """``fit`` with the profile's ``epochs``, ``batch_size`` and ``lr``, Adam and a cosine schedule.

    ``options`` override or add training options (e.g. ``augment=...``); the device is the best
    available and there is no progress bar. Returns the ``History``.
    """
    from cnnlab.train import fit, pick_device

    settings: dict[str, Any] = {
        "epochs": sizes["epochs"],
        "batch_size": sizes["batch_size"],
        "lr": sizes["lr"],
        "optimizer": "adam",
        "schedule": "cosine",
        **options,
    }
    return fit(model, train, val, seed=seed, device=pick_device(), progress=False, **settings)
