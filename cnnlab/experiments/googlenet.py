"""Topic 9's training run as a band: the course GoogLeNet trained with and without its two
auxiliary classifiers, on the shapes images.

Configs ``aux`` and ``plain``: ``create_model("googlenet_course", aux_logits=..., batch_norm=True,
lrn=False, width_mult=...)`` on shapes (Adam, cosine schedule), mirroring the lecture notebook's
training cell, so the notebook's fresh run with seed s is this experiment's seed s (on the same
hardware). ``cnnlab.train.fit`` minimises the cross-entropy of one logits tensor; with ``aux``
the model is wrapped in :class:`AuxLoss`, which adds the paper's 0.3-weighted auxiliary losses
to the gradient (Section 5 of Szegedy et al. 2015).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.experiments.common import fit_profile
from cnnlab.experiments.registry import Experiment

TOPIC = 9


class _AddAuxGrad(torch.autograd.Function):
    """Identity on the main logits; in backward, adds ``weight`` × the cross-entropy gradient
    of each auxiliary output.

    The labels are read back from the incoming gradient of the main cross-entropy,
    g = s · (softmax(logits) − onehot(y)) with s = 1/N (times a loss scale under AMP): its only
    negative entry per row is the label's, and s = g_y / (p_y − 1). Plain cross-entropy only
    (no label smoothing).
    """

    @staticmethod
    def forward(ctx: Any, weight: float, logits: torch.Tensor, *aux: torch.Tensor) -> torch.Tensor:
        ctx.weight = weight
        ctx.save_for_backward(logits, *aux)
        return logits.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        logits, *aux = ctx.saved_tensors
        dt = torch.promote_types(logits.dtype, torch.float32)  # float32 at least (AMP)
        y = grad.argmin(dim=1, keepdim=True)
        p_y = torch.softmax(logits.to(dt), dim=1).gather(1, y)
        denom = p_y - 1
        safe = torch.where(denom < -1e-12, denom, torch.ones_like(denom))
        scale = torch.where(denom < -1e-12, grad.to(dt).gather(1, y) / safe, 0.0)  # (N, 1)
        onehot = torch.zeros_like(logits, dtype=dt).scatter_(1, y, 1.0)
        grads = [
            (ctx.weight * scale * (torch.softmax(a.to(dt), dim=1) - onehot)).to(a.dtype)
            for a in aux
        ]
        return (None, grad, *grads)


class AuxLoss(nn.Module):
    """Train a model with auxiliary heads through a one-logits trainer.

    ``model`` returns ``(logits, aux, ...)`` in training mode (GoogLeNet with
    ``aux_logits=True``) and logits in eval mode. In training mode this returns the logits
    (N, K), and backward of ``cross_entropy(logits, y)`` yields the gradient of
    ``CE(logits, y) + weight · Σ CE(aux_i, y)``. In eval mode it returns the model's logits.
    """

    def __init__(self, model: nn.Module, weight: float = 0.3) -> None:
        super().__init__()
        self.model = model
        self.weight = float(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        if isinstance(out, torch.Tensor):
            return out
        logits, *aux = out
        return _AddAuxGrad.apply(self.weight, logits, *aux)


def total_loss(out: Any, y: torch.Tensor, weight: float = 0.3) -> torch.Tensor:
    """The paper's training loss: CE of the logits plus ``weight`` × CE of each aux output."""
    if isinstance(out, torch.Tensor):
        return F.cross_entropy(out, y)
    logits, *aux = out
    return F.cross_entropy(logits, y) + weight * sum(F.cross_entropy(a, y) for a in aux)


def build(config: str, sizes: dict[str, Any]) -> nn.Module:
    """The course GoogLeNet of ``config`` ("aux" wrapped in :class:`AuxLoss`, or "plain")."""
    from cnnlab.models import create_model

    model = create_model(
        "googlenet_course",
        aux_logits=config == "aux",
        batch_norm=True,
        lrn=False,
        width_mult=sizes["width_mult"],
    )
    return AuxLoss(model, sizes["aux_weight"]) if config == "aux" else model


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic
    from cnnlab.data import load_dataset

    sizes = get_topic(TOPIC).profile_sizes(profile)
    size = sizes["image_size"]
    train = load_dataset("shapes", "train", n=sizes["n_train"], size=size, seed=seed)
    val = load_dataset("shapes", "val", size=size, seed=seed)
    torch.manual_seed(seed)
    model = build(config, sizes)
    history = fit_profile(model, train, val, sizes, seed)
    return {
        "val_acc": history.val_acc[-1],
        "train_acc": history.train_acc[-1],
        "params": float(sum(p.numel() for p in model.parameters())),
        "val_acc_curve": list(history.val_acc),
    }


EXPERIMENT = Experiment(
    name="googlenet",
    topic=TOPIC,
    description="the course GoogLeNet on shapes, with and without its auxiliary classifiers",
    configs=("aux", "plain"),
    metrics=("val_acc", "train_acc", "params", "val_acc_curve"),
    run=_run,
    # Training is chaotic: another CPU, thread count or torch version acts like another seed.
    tolerance={"val_acc": 0.04, "train_acc": 0.04, "params": 0.0, "val_acc_curve": 0.06},
    seeds=10,
)
