"""Topic 5's training runs as a band: LeNet-5 as published against today's LeNet-5.

Both train on scikit-learn's handwritten digits, resized to 28×28 and padded to 32×32 as the
paper pads MNIST (:func:`padded_digits`), with the same optimiser, schedule and epochs. Config
``lenet5``: the paper's network (scaled tanh, trainable subsampling, C3's partial table; a
linear output layer). Config ``lenet5_modern``: ReLU, max pooling, full C3. The lecture
notebook's training cell is this experiment's run for its seed (on the same hardware).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlab.data import Dataset
from cnnlab.experiments.registry import Experiment

TOPIC = 5


def padded_digits(split: str, seed: int = 0) -> Dataset:
    """The digits at 28×28 inside a 32×32 field of background (zeros), as LeCun et al. pad
    MNIST: (N, 1, 32, 32) float32 in [0, 1]; ``split`` and ``seed`` as ``load_dataset``."""
    from cnnlab.data import load_dataset

    d = load_dataset("digits", split, size=28, seed=seed)
    return Dataset(F.pad(d.images, (2, 2, 2, 2)), d.labels, d.classes, f"{d.name} (32×32)")


def train_options(sizes: dict) -> dict:
    """The ``fit`` options both configs share, from the topic's profile sizes."""
    return {
        "epochs": sizes["epochs"],
        "batch_size": sizes["batch_size"],
        "lr": sizes["lr"],
        "optimizer": "adam",
        "schedule": "cosine",
    }


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic
    from cnnlab.models import create_model
    from cnnlab.train import fit, pick_device

    sizes = get_topic(TOPIC).profile_sizes(profile)
    train, val = padded_digits("train", seed), padded_digits("val", seed)
    torch.manual_seed(seed)
    model = create_model(config)
    history = fit(
        model,
        train,
        val,
        seed=seed,
        device=pick_device(),
        progress=False,
        **train_options(sizes),
    )
    return {
        "val_acc": history.val_acc[-1],
        "train_acc": history.train_acc[-1],
        "val_acc_curve": list(history.val_acc),
        "train_loss_curve": list(history.train_loss),
    }


EXPERIMENT = Experiment(
    name="lenet",
    topic=TOPIC,
    description="LeNet-5 as published vs today's LeNet-5 on the digits padded to 32×32",
    configs=("lenet5", "lenet5_modern"),
    metrics=("val_acc", "train_acc", "val_acc_curve", "train_loss_curve"),
    run=_run,
    # Chaotic training: other hardware or threads act like another seed. The validation split
    # has 144 digits, so one digit is 0.7 %; the tolerance adds about three of them.
    tolerance={"val_acc": 0.02, "train_acc": 0.02, "val_acc_curve": 0.05, "train_loss_curve": 0.1},
    seeds=10,
)
