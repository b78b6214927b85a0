"""Topic 4's training runs as a band: the small CNN the lecture inspects, and the exercise's.

Config ``simple_cnn``: the lecture notebook's run (shapes data, ``simple_cnn`` with conv1
started small, Adam, cosine schedule). Config ``simple_cnn_digits``: the solution notebook's
run (digits at 16×16, ``simple_cnn_digits``). Each mirrors its notebook cell by cell, so the
notebook's fresh run with seed s is this experiment's seed s (on the same hardware).
"""

from __future__ import annotations

import torch

from cnnlab.experiments.registry import Experiment

TOPIC = 4


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic
    from cnnlab.data import load_dataset
    from cnnlab.models import create_model
    from cnnlab.train import fit, pick_device

    sizes = get_topic(TOPIC).profile_sizes(profile)
    if config == "simple_cnn":
        train = load_dataset("shapes", "train", n=sizes["n_train"], seed=seed)
        val = load_dataset("shapes", "val", seed=seed)
        torch.manual_seed(seed)
        model = create_model("simple_cnn", channels=sizes["channels"])
        with torch.no_grad():
            model.conv1.weight.mul_(0.05)  # as the lecture: conv1 starts small
        options = {
            "epochs": sizes["epochs"],
            "batch_size": sizes["batch_size"],
            "lr": sizes["lr"],
            "schedule": "cosine",
        }
    else:
        train = load_dataset("digits", "train", size=16, seed=seed)
        val = load_dataset("digits", "val", size=16, seed=seed)
        torch.manual_seed(seed)
        model = create_model("simple_cnn_digits", channels=(8, 16), image_size=16)
        options = {"epochs": sizes["exercise_epochs"], "batch_size": 64, "lr": 0.01}
    history = fit(
        model,
        train,
        val,
        optimizer="adam",
        seed=seed,
        device=pick_device(),
        progress=False,
        **options,
    )
    return {
        "val_acc": history.val_acc[-1],
        "train_acc": history.train_acc[-1],
        "val_acc_curve": list(history.val_acc),
    }


EXPERIMENT = Experiment(
    name="filter_visualisation",
    topic=TOPIC,
    description="final and per-epoch validation accuracy of topic 4's two small CNNs",
    configs=("simple_cnn", "simple_cnn_digits"),
    metrics=("val_acc", "train_acc", "val_acc_curve"),
    run=_run,
    # Training is chaotic: another CPU (instruction set), thread count or torch version acts
    # like another seed. Ten seeds span that spread; the tolerance adds a few images' worth.
    tolerance={"val_acc": 0.03, "train_acc": 0.03, "val_acc_curve": 0.05},
    seeds=10,
)
