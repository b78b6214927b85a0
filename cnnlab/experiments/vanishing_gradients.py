"""Topic 10's measurements as bands: gradient flow through a deep plain CNN, with and without
batch norm, and the learning rates each tolerates.

Every config builds ``build_deep_plain`` (``depth`` 3×3 convolutions of ``width`` maps) with one
activation and initialisation, measures the per-layer gradient norms at initialisation on a
batch (:func:`cnnlab.gradients.grad_norm_profile`), then trains it with SGD (momentum 0.9,
constant learning rate) on digits (quick) or shapes (full), recording the gradient norms at
every step (:class:`cnnlab.train.GradNormRecorder`). Configs:

* ``sigmoid_default``, ``sigmoid_glorot``, ``tanh_glorot``, ``relu_default``, ``relu_he``:
  plain nets of ``depth`` layers at the profile's ``lr`` for ``epochs``;
* ``relu_he_bn``: the same ReLU-He net with batch norm, at the profile's ``lr``;
* ``plain_lr<r>`` / ``bn_lr<r>`` for r in :data:`LRS`, the learning-rate sweep: ReLU, He init,
  without / with batch norm, a *shallower* net of ``sweep_depth`` layers trained for
  ``sweep_epochs``. (The ``depth``-layer plain net does not train at any rate in the quick
  budget — an earlier band measured it at ln 10 after 64 steps at 0.02, 0.1 and 0.5 — so it
  could not show where the plain net's rates end; a 4-layer one trains at a low rate and fails
  at a high one, where its batch-norm twin still trains.)

``diverged`` is 1 when the run diverged: its training loss became non-finite (NaN or inf), or
its last epoch's mean training loss is above the loss of the untrained network on the training
set (:func:`start_loss`) — training made it worse than where it started.

The notebook calls :func:`run_config` for the configs it shows, so its fresh run with seed s is
this experiment's seed s (on the same hardware).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnlab._validate import as_int
from cnnlab.experiments.registry import Experiment
from cnnlab.profiles import require_sizes
from cnnlab.train.callbacks import Callback

TOPIC = 10
LRS = (0.03, 0.1, 0.3, 1.0)
# A run whose loss became NaN (NaN weights too) learned nothing: its loss counts as chance, ln 10.
CHANCE_LOSS = math.log(10)
ACTIVATION_CONFIGS = ("sigmoid_default", "sigmoid_glorot", "tanh_glorot", "relu_default", "relu_he")
BN_CONFIG = "relu_he_bn"
SWEEP_CONFIGS = tuple(f"{kind}_lr{lr:g}" for kind in ("plain", "bn") for lr in LRS)
CONFIGS = ACTIVATION_CONFIGS + (BN_CONFIG,) + SWEEP_CONFIGS
SIZE_KEYS = ("dataset", "image_size", "n_train", "depth", "width", "probe_batch", "epochs",
             "batch_size", "lr", "sweep_depth", "sweep_epochs")  # fmt: skip


def _sizes(sizes: object) -> Mapping[str, Any]:
    return require_sizes(sizes, SIZE_KEYS, f"get_topic({TOPIC}).profile_sizes(profile)")


def _size(sizes: object, key: str) -> int:
    return as_int(require_sizes(sizes, (key,), f"get_topic({TOPIC}).profile_sizes(profile)")[key],
                  f"sizes[{key!r}]", minimum=1)  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """What a config name means: the network's activation, init, batch norm, the lr, and
    whether it is the sweep's shallower net (``sweep_depth`` layers, ``sweep_epochs``)."""

    activation: str
    init: str
    batch_norm: bool
    lr: float | None  # None: the profile's lr
    sweep: bool = False

    def depth(self, sizes: Mapping[str, Any]) -> int:
        return _size(sizes, "sweep_depth" if self.sweep else "depth")

    def epochs(self, sizes: Mapping[str, Any]) -> int:
        return _size(sizes, "sweep_epochs" if self.sweep else "epochs")


def spec_of(config: str) -> Spec:
    """``"relu_he"`` -> Spec("relu", "he", False, None); ``"bn_lr0.3"`` -> the sweep's BN
    ReLU-He net at 0.3."""
    if config in ACTIVATION_CONFIGS:
        activation, init = config.split("_")
        return Spec(activation, init, False, None)
    if config == BN_CONFIG:
        return Spec("relu", "he", True, None)
    if config in SWEEP_CONFIGS:
        kind, lr = config.split("_lr")
        return Spec("relu", "he", kind == "bn", float(lr), sweep=True)
    raise ValueError(f"unknown config {config!r}; configs: {', '.join(CONFIGS)}")


@dataclass
class Run:
    """One config's measurements. ``history``: the ``fit`` History of the epochs completed;
    ``val_acc_curve``: validation accuracy per epoch, where the epochs after a non-finite loss
    (NaN, and so are the weights) hold the accuracy of the broken network; ``start_loss``: the
    untrained network's loss on the training set; ``diverged``: the loss became non-finite or
    ended above ``start_loss``."""

    init_profile: list[float]
    train_profile: list[float]
    history: Any
    val_acc_curve: list[float]
    diverged: bool
    start_loss: float = math.nan

    @property
    def loss_curve(self) -> list[float]:
        """Mean training loss per epoch; the epochs from a divergence on count as chance."""
        curve = list(self.history.train_loss)
        return curve + [CHANCE_LOSS] * (len(self.val_acc_curve) - len(curve))

    def metrics(self) -> dict[str, float | list[float]]:
        return {
            "init_profile": self.init_profile,
            "train_profile": self.train_profile,
            "train_loss": self.loss_curve[-1],
            "val_acc": self.val_acc_curve[-1],
            "diverged": float(self.diverged),
            "loss_curve": self.loss_curve,
            "val_acc_curve": self.val_acc_curve,
        }


class _KeepTrainer(Callback):
    """Keeps the trainer, whose history survives a divergence (``fit`` then raises)."""

    trainer: Any = None

    def on_fit_start(self, trainer: Any) -> None:
        self.trainer = trainer


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` (eval mode); NaN logits predict class 0, as argmax does."""
    images, labels = _checked_data(model, (images, labels), "accuracy")
    device = _device(model)
    model.eval()
    with torch.no_grad():
        pred = _logits(model, images.to(device)).argmax(1).cpu()
    return float((pred == labels.cpu()).double().mean())


def _checked_data(model: object, data: object, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    from cnnlab.train.inputs import as_tensors, check_image_dtype

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    images, labels = as_tensors(data, what)
    check_image_dtype(model, images, what)
    return images, labels


def _device(model: nn.Module) -> torch.device:
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def _logits(model: nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """``model(x)``, checked: a failing layer, non-logits or labels beyond them are named."""
    from cnnlab.train.inputs import checked_forward

    return checked_forward(model, x, labels, "train")


def start_loss(model: nn.Module, train: Any, batch_size: int) -> float:
    """Mean cross-entropy of the untrained ``model`` on the training set, in training mode
    (batch norm with the statistics of each batch of ``batch_size``, as training sees them);
    measured on a copy, so the model's running statistics stay untouched."""
    import copy

    images, labels = _checked_data(model, train, "train")
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    probe = copy.deepcopy(model).train()
    device = _device(probe)
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(labels), batch_size):
            x = images[i : i + batch_size].to(device)
            y = labels[i : i + batch_size].to(device)
            out = _logits(probe, x, labels) if i == 0 else probe(x)
            total += float(nn.functional.cross_entropy(out, y, reduction="sum"))
    return total / len(labels)


def load_data(sizes: Mapping[str, Any], seed: int) -> tuple[Any, Any]:
    """The profile's training and validation sets (seeded split)."""
    from cnnlab.data import load_dataset

    sizes = _sizes(sizes)
    size = sizes["image_size"]
    train = load_dataset(sizes["dataset"], "train", n=sizes["n_train"], size=size, seed=seed)
    val = load_dataset(sizes["dataset"], "val", size=size, seed=seed)
    return train, val


def probe_config(
    config: str, seed: int, sizes: Mapping[str, Any], train: Any
) -> tuple[nn.Module, list[float]]:
    """The config's network, seeded with ``seed``, and its per-layer gradient norms at
    initialisation on the first ``probe_batch`` training images."""
    from cnnlab.gradients import grad_norm_profile
    from cnnlab.models.deep_plain import build_deep_plain
    from cnnlab.train.inputs import as_tensors

    spec = spec_of(config)
    seed = as_int(seed, "seed", minimum=0)
    probe = _size(_sizes(sizes), "probe_batch")
    images, labels = as_tensors(train, "train")
    torch.manual_seed(seed)
    model = build_deep_plain(
        depth=spec.depth(sizes), width=sizes["width"], activation=spec.activation,
        init=spec.init, batch_norm=spec.batch_norm, in_channels=images.shape[1],
    )  # fmt: skip
    return model, grad_norm_profile(model, images[:probe], labels[:probe])


def run_config(config: str, seed: int, sizes: Mapping[str, Any], data: Any = None) -> Run:
    """Build, probe and train one config with ``seed`` (weights, batch order); ``data``: the
    (train, val) pair of :func:`load_data` if already loaded."""
    from cnnlab.gradients import is_layer_weight, recorded_profile
    from cnnlab.train import GradNormRecorder, fit, pick_device

    spec = spec_of(config)
    seed = as_int(seed, "seed", minimum=0)
    sizes = _sizes(sizes)
    if data is not None and (not isinstance(data, (tuple, list)) or len(data) != 2):
        raise TypeError(f"data must be the (train, val) pair load_data returns, got {data!r:.80}")
    train, val = data or load_data(sizes, seed)
    model, init_profile = probe_config(config, seed, sizes, train)
    start = start_loss(model, train, sizes["batch_size"])
    epochs = spec.epochs(sizes)
    recorder, keep = GradNormRecorder(include=is_layer_weight), _KeepTrainer()
    try:
        fit(
            model, train, val, epochs=epochs, batch_size=sizes["batch_size"],
            lr=spec.lr or sizes["lr"], optimizer="sgd", momentum=0.9, seed=seed,
            device=pick_device(), progress=False, callbacks=[recorder, keep],
        )  # fmt: skip
        finite = True
    except FloatingPointError:  # the loss became NaN: the lr is too high for this network
        finite = False
    history = keep.trainer.history
    curve = list(history.val_acc)
    if not finite:
        curve += [accuracy(model, val.images, val.labels)] * (epochs - len(curve))
    diverged = not finite or history.train_loss[-1] > start
    return Run(init_profile, recorded_profile(recorder), history, curve, diverged, start)


def _run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    from cnnlab.course.manifest import get_topic

    return run_config(config, seed, get_topic(TOPIC).profile_sizes(profile)).metrics()


EXPERIMENT = Experiment(
    name="vanishing_gradients",
    topic=TOPIC,
    description="gradient norms per layer and training of a deep plain CNN, with and without BN",
    configs=CONFIGS,
    metrics=(
        "init_profile",
        "train_profile",
        "train_loss",
        "val_acc",
        "diverged",
        "loss_curve",
        "val_acc_curve",
    ),  # fmt: skip
    run=_run,
    # Gradient norms at initialisation depend only on the seed's weights: another CPU moves
    # only their last digits, which cnnlab.gradients.profile_in_band allows as 1 % of each
    # value (an absolute tolerance would swamp the sigmoid's 1e-18). Training is chaotic:
    # other hardware acts like another seed; "diverged" is exact.
    tolerance={
        "init_profile": 0.0,
        "train_profile": 0.02,
        "train_loss": 0.1,
        "val_acc": 0.05,
        "diverged": 0.0,
        "loss_curve": 0.1,
        "val_acc_curve": 0.06,
    },
    seeds=10,
)
