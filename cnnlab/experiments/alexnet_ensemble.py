"""Topic 6's ensemble run: average the logits of several small AlexNets trained from different
seeds and compare with the single models (the AlexNet paper averaged five to seven CNNs).

Config ``relu``: ``sizes["members"]`` models of :mod:`cnnlab.experiments.alexnet` with ReLU,
seeds s, s+1, ... (the notebook's ensemble cell with seed s). Metrics: the ensemble's
validation accuracy, the median accuracy of its members, and the gain (their difference).
"""

from __future__ import annotations

import statistics

import torch

from cnnlab.experiments.alexnet import TOPIC, load_digits, train_member
from cnnlab.experiments.registry import Experiment


def ensemble_accuracy(logits: list[torch.Tensor], labels: torch.Tensor) -> tuple[float, float]:
    """(accuracy of the averaged logits, median accuracy of the members): K × (N, C), (N,)."""
    if not logits:
        raise ValueError("an ensemble needs at least one member")
    singles = [float((x.argmax(1) == labels).float().mean()) for x in logits]
    mean = torch.stack(logits).mean(0)
    return float((mean.argmax(1) == labels).float().mean()), statistics.median(singles)


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic

    sizes = get_topic(TOPIC).profile_sizes(profile)
    data = load_digits(sizes, seed)
    members = [train_member(sizes, config, seed + i, data) for i in range(sizes["members"])]
    acc, single = ensemble_accuracy([m.val_logits for m in members], data[1].labels)
    return {"ensemble_acc": acc, "single_median_acc": single, "gain": acc - single}


EXPERIMENT = Experiment(
    name="alexnet_ensemble",
    topic=TOPIC,
    description="validation accuracy of an ensemble of small AlexNets against its members",
    configs=("relu",),
    metrics=("ensemble_acc", "single_median_acc", "gain"),
    run=_run,
    tolerance={"ensemble_acc": 0.05, "single_median_acc": 0.05, "gain": 0.03},
    seeds=10,
)
