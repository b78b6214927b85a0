"""Topic 8's training run as a band: a small NIN with a global-average-pooling head against the
same network with a fully connected head, on the shapes images.

Configs ``gap`` and ``fc``: ``create_model("nin_small", head=...)`` on shapes (Adam, cosine
schedule), mirroring the lecture notebook's training cell, so the notebook's fresh run with
seed s is this experiment's seed s (on the same hardware). Besides the accuracies it stores the
parameter count (the same for every seed) and the generalisation gap, train minus validation
accuracy: how much better the network does on the images it was trained on.
"""

from __future__ import annotations

import torch

from cnnlab.experiments.common import fit_profile
from cnnlab.experiments.registry import Experiment

TOPIC = 8


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic
    from cnnlab.data import load_dataset
    from cnnlab.models import create_model

    sizes = get_topic(TOPIC).profile_sizes(profile)
    size = sizes["image_size"]
    train = load_dataset("shapes", "train", n=sizes["n_train"], size=size, seed=seed)
    val = load_dataset("shapes", "val", size=size, seed=seed)
    torch.manual_seed(seed)
    model = create_model("nin_small", head=config, channels=sizes["channels"], image_size=size)
    history = fit_profile(model, train, val, sizes, seed)
    train_acc, val_acc = history.train_acc[-1], history.val_acc[-1]
    return {
        "val_acc": val_acc,
        "train_acc": train_acc,
        "generalisation_gap": train_acc - val_acc,
        "params": float(sum(p.numel() for p in model.parameters())),
        "val_acc_curve": list(history.val_acc),
    }


EXPERIMENT = Experiment(
    name="nin",
    topic=TOPIC,
    description="a small NIN on shapes: global average pooling head vs fully connected head",
    configs=("gap", "fc"),
    metrics=("val_acc", "train_acc", "generalisation_gap", "params", "val_acc_curve"),
    run=_run,
    # Training is chaotic: another CPU, thread count or torch version acts like another seed.
    # Ten seeds span that spread; the tolerance adds a few images' worth. Parameters are exact.
    tolerance={
        "val_acc": 0.03,
        "train_acc": 0.03,
        "generalisation_gap": 0.04,
        "params": 0.0,
        "val_acc_curve": 0.05,
    },
    seeds=10,
)
