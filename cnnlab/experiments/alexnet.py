"""Topic 6's training runs: ReLU against tanh in a small AlexNet, and what an ensemble gains.

Krizhevsky et al. (2012, Figure 1) report that a four-layer CNN with ReLUs reached 25 %
training error on CIFAR-10 six times faster than the same net with tanh units. Config ``relu``
and ``tanh`` repeat the measurement at course scale: ``alexnet_course`` narrowed and on the
8×8 digits upscaled to 16×16 (grey), He-initialised, SGD with momentum, no dropout (the paper's
experiment used no regularisation); the metric is the number of SGD steps until the training
error, averaged over the last ``window`` batches, first falls to ``target_error``.
:func:`train_member` is the notebook's training cell, so its seed s is this experiment's seed s.
The ensemble measurement lives in :mod:`cnnlab.experiments.alexnet_ensemble`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnlab.experiments.registry import Experiment

TOPIC = 6


def topk_error(logits: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """The fraction of rows whose label is not among the k highest scores: (N, C), (N,) -> float."""
    if not 1 <= k <= logits.shape[1]:
        raise ValueError(f"k must be in [1, {logits.shape[1]}], got {k}")
    top = logits.topk(k, dim=1).indices  # (N, k)
    hit = (top == labels[:, None]).any(dim=1)
    return 1.0 - float(hit.float().mean())


def steps_to_target(errors: Sequence[float], target: float, window: int) -> int:
    """The first step (1-based) at which the mean of the last ``window`` batch errors is at most
    ``target``; ``len(errors) + 1`` if it never is (the run ended first)."""
    for step in range(window, len(errors) + 1):
        if statistics.fmean(errors[step - window : step]) <= target:
            return step
    return len(errors) + 1


class BatchErrors:
    """A ``fit`` callback keeping each training batch's error (1 − accuracy), in step order."""

    def __init__(self) -> None:
        self.errors: list[float] = []

    def on_batch_end(self, trainer: object, info: Any) -> None:
        self.errors.append(1.0 - float(info.correct) / info.size)


@dataclass
class Member:
    """One trained run: the model, its per-epoch history and per-step training errors."""

    model: nn.Module
    history: Any
    errors: list[float]
    val_logits: torch.Tensor  # (N_val, 10), eval mode


def load_digits(sizes: dict[str, Any], seed: int) -> tuple[Any, Any]:
    """(train, val) digits at ``sizes["image_size"]`` (grey, 1 channel)."""
    from cnnlab.data import load_dataset

    size = sizes["image_size"]
    return (
        load_dataset("digits", "train", size=size, seed=seed),
        load_dataset("digits", "val", size=size, seed=seed),
    )


def make_model(sizes: dict[str, Any], activation: str, seed: int) -> nn.Module:
    """The course AlexNet of the experiment, He-initialised from ``seed``."""
    from cnnlab.models import create_model
    from cnnlab.models.layers import init_weights

    torch.manual_seed(seed)
    model = create_model(
        "alexnet_course",
        in_channels=1,
        widths=tuple(sizes["widths"]),
        hidden=sizes["hidden"],
        image_size=sizes["image_size"],
        activation=activation,
        dropout=0.0,
        lrn=sizes["lrn"],
    )
    init_weights(model, conv_mode="fan_in")  # PyTorch's default init stalls an 8-layer net
    return model


def train_member(
    sizes: dict[str, Any], activation: str, seed: int, data: tuple[Any, Any] | None = None
) -> Member:
    """Train one model (the notebook's cell): SGD with momentum, no dropout, fixed lr."""
    from cnnlab.train import fit, pick_device

    train, val = data if data is not None else load_digits(sizes, seed)
    model = make_model(sizes, activation, seed)
    recorder = BatchErrors()
    history = fit(
        model,
        train,
        val,
        epochs=sizes["epochs"],
        batch_size=sizes["batch_size"],
        lr=sizes["lr"],
        optimizer="sgd",
        momentum=0.9,
        seed=seed,
        device=pick_device(),
        progress=False,
        callbacks=[recorder],
    )
    model.eval()
    with torch.no_grad():
        device = next(model.parameters()).device
        logits = model(val.images.to(device)).cpu()
    return Member(model, history, recorder.errors, logits)


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic

    sizes = get_topic(TOPIC).profile_sizes(profile)
    member = train_member(sizes, config, seed)
    return {
        "steps_to_target": float(
            steps_to_target(member.errors, sizes["target_error"], sizes["window"])
        ),
        "val_acc": member.history.val_acc[-1],
        "train_err_curve": [1.0 - a for a in member.history.train_acc],
    }


EXPERIMENT = Experiment(
    name="alexnet",
    topic=TOPIC,
    description=(
        "SGD steps to a training error target, and validation accuracy, of a small AlexNet "
        "with ReLU or tanh units on the digits"
    ),
    configs=("relu", "tanh"),
    metrics=("steps_to_target", "val_acc", "train_err_curve"),
    run=_run,
    # other hardware acts like another seed; steps are counted in batches
    tolerance={"steps_to_target": 10.0, "val_acc": 0.05, "train_err_curve": 0.05},
    seeds=10,
)
