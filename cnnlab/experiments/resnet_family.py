"""Topic 12's training run as a band: five residual-family networks at a matched budget.

Configs ``resnet`` (deep and narrow: 14 layers of basic blocks), ``wrn`` (shallow and wide: a
pre-activation WRN-10, widths 12/24/48), ``resnext`` (grouped bottlenecks, cardinality 8),
``densenet`` (DenseNet-BC, growth rate 8) and ``dpn`` (a dual path network), each built with
its family's builder at 20–45 k parameters (``family_model``), trained with Adam and a cosine
schedule on the course's digits (quick profile, 8×8) or shapes (full profile, 32×32).
It mirrors the lecture notebook's training cell, so the
notebook's fresh run with seed s is this experiment's seed s (on the same hardware). Besides the
accuracies it stores the parameter count and the multiply-adds per image (the same every seed).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.experiments.common import fit_profile
from cnnlab.experiments.registry import Experiment

TOPIC = 12
FAMILIES = ("resnet", "wrn", "resnext", "densenet", "dpn")


def family_model(family: str, *, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """A small member of ``family`` (one of :data:`FAMILIES`), 20–45 k parameters.

    Input ``(N, in_channels, H, W)`` with H, W ≥ 8 (two stride-2 stages); output
    ``(N, num_classes)``. Each is the family's own builder at a narrow width.
    """
    from cnnlab.models.densenet import build_densenet
    from cnnlab.models.dpn import build_dpn
    from cnnlab.models.resnet import build_resnet

    common = dict(num_classes=num_classes, in_channels=in_channels)
    if family == "resnet":  # depth 6·2 + 2 = 14, widths 8/16/32
        return build_resnet("basic", (2, 2, 2), (8, 16, 32), stem="cifar", stem_width=8, **common)
    if family == "wrn":  # depth 6·1 + 4 = 10, widths 12/24/48 (= 16k/32k/64k with k = 0.75)
        return build_resnet(
            "basic", (1, 1, 1), (12, 24, 48), stem="cifar", stem_width=8, preact=True, **common
        )
    if family == "resnext":  # one grouped bottleneck per stage, 8 groups of width 8, 16, 32
        return build_resnet(
            "bottleneck",
            (1, 1, 1),
            (8, 16, 32),
            stem="cifar",
            stem_width=16,
            groups=8,
            width_per_group=8,
            **common,
        )
    if family == "densenet":  # DenseNet-BC, growth rate 8, three blocks of 3 layers
        return build_densenet(8, (3, 3, 3), num_init_features=16, bn_size=4, stem="cifar", **common)
    if family == "dpn":
        return build_dpn(
            num_init_features=16,
            widths=(16, 32, 64),
            res_channels=(16, 32, 64),
            groups=4,
            blocks=(1, 2, 1),
            increments=(4, 8, 8),
            stem="cifar",
            **common,
        )
    raise ValueError(f"unknown family {family!r}; families: {', '.join(FAMILIES)}")


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.cost import summary
    from cnnlab.course.manifest import get_topic
    from cnnlab.data import load_dataset

    sizes = get_topic(TOPIC).profile_sizes(profile)
    size = sizes["image_size"]
    train = load_dataset(sizes["dataset"], "train", n=sizes["n_train"], size=size, seed=seed)
    val = load_dataset(sizes["dataset"], "val", size=size, seed=seed)
    channels = train.images.shape[1]  # digits: 1, shapes: 3
    torch.manual_seed(seed)
    model = family_model(config, in_channels=channels)
    cost = summary(model, (channels, size, size)).totals
    history = fit_profile(model, train, val, sizes, seed)
    return {
        "val_acc": history.val_acc[-1],
        "train_acc": history.train_acc[-1],
        "params": float(cost.params),
        "mult_adds": float(cost.mult_adds),
        "val_acc_curve": list(history.val_acc),
    }


EXPERIMENT = Experiment(
    name="resnet_family",
    topic=TOPIC,
    description="five residual-family networks at 20-45 k parameters on digits/shapes",
    configs=FAMILIES,
    metrics=("val_acc", "train_acc", "params", "mult_adds", "val_acc_curve"),
    run=_run,
    # Training is chaotic: another CPU, thread count or torch version acts like another seed.
    # The seeds span that spread; the tolerance adds a few images' worth. Costs are exact.
    tolerance={
        "val_acc": 0.04,
        "train_acc": 0.04,
        "params": 0.0,
        "mult_adds": 0.0,
        "val_acc_curve": 0.06,
    },
    seeds=10,
)
