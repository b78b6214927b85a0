"""Topic 11's training runs as a band: plain nets against residual nets of the same depths.

Configs ``plain<depth>`` and ``resnet<depth>`` (depth 6n + 2): He et al.'s CIFAR networks
(Section 4.2; three stages of n basic blocks, option-A shortcuts, no shortcuts at all in the
plain twin) at widths w/2w/4w, trained with SGD (momentum 0.9, weight decay 1e-4, learning rate
0.1, cosine schedule) — the quick profile on 1000 digits at 8×8 with w = 8, the full profile on
shapes at 32×32 with the paper's w = 16 (then ``plain20`` is exactly ``create_model("plain20")``
with 10 classes). The same budget for every depth. It mirrors the lecture notebook's training
cell, so the notebook's fresh run with seed s is this experiment's seed s (on the same hardware).

Metrics: ``train_error`` (final, the model in eval mode on the whole training set),
``test_error`` (the test split), ``train_error_curve`` (per epoch, the running error of the
epoch's mini-batches), ``branch_ratio`` (‖F(x)‖ / ‖x‖ per block after training,
:func:`cnnlab.residuals.branch_ratios`) and ``params``.
"""

from __future__ import annotations

import re

import torch

from cnnlab._limits import check_memory
from cnnlab._validate import as_int
from cnnlab.experiments.registry import Experiment
from cnnlab.models.resnet import ResNet

TOPIC = 11
PLAIN_DEPTHS: tuple[int, ...] = (8, 20, 32, 44, 56)
RESNET_DEPTHS: tuple[int, ...] = (8, 20, 32, 44, 56, 110)
CONFIGS: tuple[str, ...] = tuple(f"plain{d}" for d in PLAIN_DEPTHS) + tuple(
    f"resnet{d}" for d in RESNET_DEPTHS
)


def parse_config(config: str) -> tuple[bool, int]:
    """``"plain20"`` -> ``(False, 20)``, ``"resnet56"`` -> ``(True, 56)``."""
    m = re.fullmatch(r"(plain|resnet)([1-9][0-9]*)", config) if isinstance(config, str) else None
    if m:
        return m.group(1) == "resnet", int(m.group(2))
    raise ValueError(f"config must be plain<depth> or resnet<depth>, got {config!r}")


def degradation_model(
    depth: int, *, residual: bool, width: int = 16, in_channels: int = 3, num_classes: int = 10
) -> ResNet:
    """A CIFAR-style ResNet-``depth`` (6n + 2) or its plain twin, stage widths w/2w/4w.

    ``(N, in_channels, H, W) -> (N, num_classes)``; option-A shortcuts, so plain and residual
    nets of one depth have exactly the same parameters.
    """
    from cnnlab.models.resnet import build_resnet

    depth = as_int(depth, "depth")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (8, 14, 20, ...), got {depth}")
    width = as_int(width, "width", minimum=1)
    n = (depth - 2) // 6
    # float32 weights (two 3×3 convolutions per block at w, 2w, 4w), and Python objects
    check_memory(
        4 * 9 * 2 * n * 21 * width * width + 8192 * 3 * n,
        f"degradation_model({depth}, width={width})", "use a smaller depth or width",
    )  # fmt: skip
    return build_resnet(
        "basic",
        (n, n, n),
        (width, 2 * width, 4 * width),
        stem="cifar",
        stem_width=width,
        num_classes=num_classes,
        in_channels=in_channels,
        residual=residual,
        shortcut="A",
    )


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic
    from cnnlab.data import load_dataset
    from cnnlab.residuals import branch_ratios
    from cnnlab.train import evaluate, fit, pick_device

    residual, depth = parse_config(config)
    sizes = get_topic(TOPIC).profile_sizes(profile)
    size = sizes["image_size"]
    train = load_dataset(sizes["dataset"], "train", n=sizes["n_train"], size=size, seed=seed)
    test = load_dataset(sizes["dataset"], "test", size=size, seed=seed)
    torch.manual_seed(seed)
    model = degradation_model(
        depth, residual=residual, width=sizes["width"], in_channels=train.images.shape[1]
    )
    history = fit(
        model,
        train,
        epochs=sizes["epochs"],
        batch_size=sizes["batch_size"],
        lr=sizes["lr"],
        weight_decay=sizes["weight_decay"],
        optimizer="sgd",
        schedule="cosine",
        seed=seed,
        device=pick_device(),
        progress=False,
    )
    ratios = branch_ratios(model, train.images[: sizes["n_probe"]].to(next(model.parameters())))
    return {
        "train_error": 1.0 - evaluate(model, train, topk=1)["top1"],
        "test_error": 1.0 - evaluate(model, test, topk=1)["top1"],
        "train_error_curve": [1.0 - a for a in history.train_acc],
        "branch_ratio": ratios,
        "params": float(sum(p.numel() for p in model.parameters())),
    }


EXPERIMENT = Experiment(
    name="degradation",
    topic=TOPIC,
    description="plain vs residual nets of depth 8-110: final and per-epoch training error",
    configs=CONFIGS,
    metrics=("train_error", "test_error", "train_error_curve", "branch_ratio", "params"),
    run=_run,
    # Training is chaotic: another CPU, thread count or torch version acts like another seed.
    # The seeds span that spread; the tolerance adds a few images' worth. Params are exact.
    tolerance={
        "train_error": 0.03,
        "test_error": 0.03,
        "train_error_curve": 0.05,
        "branch_ratio": 0.1,
        "params": 0.0,
    },
    seeds=10,
)
