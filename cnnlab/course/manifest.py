"""The course manifest: the one list of topics. Everything else derives from ``TOPICS``.

A topic is a unit: its lecture notebook (``notebooks/NN_slug.ipynb``), its solution notebook
(``solutions/NN_slug.ipynb``, the source of its exercises), the generated student notebook
(``exercises/NN_slug.ipynb``), its checks module (``cnnlab.checks.<slug>``), its widgets, its
models, its stored experiments and its profile sizes. ``tests/test_manifest.py`` names what a
built topic lacks. Adding topic N is adding its row here and its files where the row says.

This module holds data only (no torch, no notebooks): the CLI, the exercise generator, the
notebook setup and the tests all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cnnlab.profiles import resolve_profile

PARTS: dict[str, str] = {
    "I": "convolution mechanics",
    "II": "architectures",
    "III": "training deep networks",
    "IV": "transfer",
}


def _frozen(sizes: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in sizes.items()})


_NO_SIZES = _frozen({"quick": {}, "full": {}})


@dataclass(frozen=True)
class Topic:
    """One row of the course: where its pieces live and how big its computations are.

    ``sizes`` maps each profile ("quick": a 2-core CPU in CI, "full": a GPU) to the values its
    notebooks' training and search cells read (``cnnlab.session.setup`` returns them).
    ``built`` is False for a topic announced in the sequence but not written yet.
    """

    number: int
    slug: str
    title: str
    part: str
    summary: str  # one line, for students (README, ``python -m cnnlab topics``)
    widgets: tuple[str, ...] = ()  # factory names in cnnlab.widgets
    models: tuple[str, ...] = ()  # names in the model registry
    experiments: tuple[str, ...] = ()  # names in cnnlab.experiments
    sizes: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _NO_SIZES)
    built: bool = True

    @property
    def stem(self) -> str:
        """``NN_slug``: the file name (without ``.ipynb``) of all three notebooks."""
        return f"{self.number:02d}_{self.slug}"

    @property
    def notebook(self) -> Path:
        return Path("notebooks") / f"{self.stem}.ipynb"

    @property
    def solution(self) -> Path:
        return Path("solutions") / f"{self.stem}.ipynb"

    @property
    def exercise(self) -> Path:
        return Path("exercises") / f"{self.stem}.ipynb"

    @property
    def checks(self) -> str:
        """The dotted name of the topic's checks module."""
        return f"cnnlab.checks.{self.slug}"

    def profile_sizes(self, profile: object) -> dict[str, Any]:
        """The sizes of ``profile`` (checked: a known profile, same keys and types in each)."""
        return resolve_profile(profile, self.sizes)


TOPICS: tuple[Topic, ...] = (
    Topic(
        1,
        "cross_correlation",
        "Cross-correlation",
        "I",
        "the 2-D cross-correlation by hand and vectorised, channels in and out, 1×1 convolution",
        widgets=("correlation_stepper",),
    ),
    Topic(
        2,
        "padding_stride",
        "Padding, stride and shape arithmetic",
        "I",
        "output size, parameters, dilation and receptive fields of stacked layers",
        widgets=("arithmetic_explorer",),
    ),
    Topic(
        3,
        "pooling",
        "Pooling",
        "I",
        "max and average pooling from scratch, global average pooling, what pooling buys",
        widgets=("pooling_explorer",),
    ),
    Topic(
        4,
        "filter_visualisation",
        "Filter visualisation",
        "I",
        "train a small CNN, then look at its filters, activations, saliency and top inputs",
        widgets=("feature_explorer",),
        models=("simple_cnn", "simple_cnn_digits"),
        experiments=("filter_visualisation",),
        sizes=_frozen(
            {
                "quick": {
                    "n_train": 2000,
                    "epochs": 8,
                    "channels": (16, 16, 32),
                    "batch_size": 64,
                    "lr": 0.01,
                    "ascent_steps": 40,
                    "exercise_epochs": 10,
                },
                "full": {
                    "n_train": 5400,
                    "epochs": 30,
                    "channels": (32, 64, 128),
                    "batch_size": 128,
                    "lr": 0.005,
                    "ascent_steps": 200,
                    "exercise_epochs": 40,
                },
            }
        ),
    ),
    Topic(
        5,
        "lenet",
        "LeNet-5",
        "II",
        "the first CNN, layer by layer: about 60 thousand parameters",
        widgets=("c3_explorer",),
        models=("lenet5", "lenet5_modern"),
        experiments=("lenet",),
        sizes=_frozen(
            {
                "quick": {"epochs": 6, "batch_size": 32, "lr": 0.003},
                "full": {"epochs": 30, "batch_size": 32, "lr": 0.003},
            }
        ),
    ),
    Topic(
        6,
        "alexnet",
        "AlexNet and its successors",
        "II",
        "ReLU, LRN, overlapping pooling, dropout, augmentation; ZFNet, OverFeat, CNN-F/M/S",
        widgets=("augmentation_explorer",),
        models=("alexnet", "alexnet_2gpu", "zfnet", "overfeat_fast", "cnn_f", "alexnet_course"),
        experiments=("alexnet", "alexnet_ensemble"),
        sizes=_frozen(
            {
                "quick": {
                    "image_size": 16,
                    "widths": (16, 32, 48, 48, 32),
                    "hidden": 128,
                    "lrn": False,
                    "epochs": 8,
                    "batch_size": 64,
                    "lr": 0.01,
                    "target_error": 0.5,
                    "window": 10,
                    "members": 3,
                },
                "full": {
                    "image_size": 32,
                    "widths": (48, 128, 192, 192, 128),
                    "hidden": 512,
                    "lrn": True,
                    "epochs": 30,
                    "batch_size": 64,
                    "lr": 0.01,
                    "target_error": 0.25,
                    "window": 20,
                    "members": 5,
                },
            }
        ),
    ),
    Topic(
        7,
        "vgg",
        "VGG",
        "II",
        "configurations A–E from one table, stacks of 3×3, dense evaluation",
        widgets=("vgg_picker",),
        models=(
            "vgg11",
            "vgg11_lrn",
            "vgg13",
            "vgg16_1x1",
            "vgg16",
            "vgg19",
            "vgg11_bn_course",
            "vgg16_bn_course",
        ),
        experiments=("vgg",),
        sizes=_frozen(
            {
                "quick": {
                    "n_train": 1000,
                    "epochs": 4,
                    "width_mult": 0.125,
                    "batch_size": 64,
                    "lr": 0.003,
                    "test_sides": (32, 40, 48),
                },
                "full": {
                    "n_train": 5400,
                    "epochs": 30,
                    "width_mult": 0.5,
                    "batch_size": 128,
                    "lr": 0.002,
                    "test_sides": (32, 40, 48),
                },
            }
        ),
    ),
    Topic(
        8,
        "nin",
        "Network in Network",
        "II",
        "mlpconv (1×1 convolutions) and global average pooling",
        widgets=("mlpconv_explorer",),
        models=("nin", "nin_cifar", "nin_small", "alexnet"),
        experiments=("nin",),
        sizes=_frozen(
            {
                "quick": {
                    "image_size": 16,
                    "n_train": 1200,
                    "epochs": 8,
                    "channels": (16, 32),
                    "batch_size": 64,
                    "lr": 0.003,
                },
                "full": {
                    "image_size": 32,
                    "n_train": 5400,
                    "epochs": 30,
                    "channels": (96, 192),
                    "batch_size": 128,
                    "lr": 0.002,
                },
            }
        ),
    ),
    Topic(
        9,
        "googlenet",
        "GoogLeNet / Inception",
        "II",
        "the inception module, 1×1 reductions, auxiliary classifiers, v2–v4",
        widgets=("inception_designer",),
        models=(
            "googlenet",
            "googlenet_course",
            "vgg16",
            "bn_inception",
            "inception_v3",
            "inception_v4",
            "inception_resnet_v2",
        ),
        experiments=("googlenet",),
        sizes=_frozen(
            {
                "quick": {
                    "image_size": 16,
                    "n_train": 1000,
                    "epochs": 4,
                    "width_mult": 0.25,
                    "batch_size": 64,
                    "lr": 0.003,
                    "aux_weight": 0.3,
                },
                "full": {
                    "image_size": 32,
                    "n_train": 5400,
                    "epochs": 30,
                    "width_mult": 1.0,
                    "batch_size": 128,
                    "lr": 0.002,
                    "aux_weight": 0.3,
                },
            }
        ),
    ),
    Topic(
        10,
        "batch_norm",
        "Vanishing gradients vs batch normalisation",
        "III",
        "gradient flow over depth, initialisation, batch norm from scratch",
        widgets=("gradient_flow_explorer",),
        models=("deep_plain", "deep_plain_bn"),
        experiments=("vanishing_gradients",),
        sizes=_frozen(
            {
                "quick": {
                    "dataset": "digits",
                    "image_size": 8,
                    "n_train": 1024,
                    "depth": 20,
                    "width": 16,
                    "probe_batch": 64,
                    "epochs": 4,
                    "batch_size": 64,
                    "lr": 0.02,
                    # the lr sweep's shallower net: the 20-layer plain one trains at no rate
                    "sweep_depth": 4,
                    "sweep_epochs": 8,
                },
                "full": {
                    "dataset": "shapes",
                    "image_size": 32,
                    "n_train": 5400,
                    "depth": 30,
                    "width": 32,
                    "probe_batch": 128,
                    "epochs": 20,
                    "batch_size": 128,
                    "lr": 0.02,
                    "sweep_depth": 6,
                    "sweep_epochs": 20,
                },
            }
        ),
        built=True,
    ),
    Topic(
        11,
        "resnet",
        "Degradation vs ResNet",
        "III",
        "deeper plain nets train worse; residual connections fix it",
        built=True,
        widgets=("degradation_explorer",),
        models=(
            "plain20",
            "plain32",
            "plain44",
            "plain56",
            "resnet20",
            "resnet32",
            "resnet44",
            "resnet56",
            "resnet110",
            "resnet18",
            "resnet34",
            "resnet50",
            "resnet101",
            "resnet152",
        ),
        experiments=("degradation",),
        sizes=_frozen(
            {
                "quick": {
                    "dataset": "digits",
                    "image_size": 8,
                    "n_train": 1000,
                    "width": 8,
                    "epochs": 8,
                    "batch_size": 64,
                    "lr": 0.1,
                    "weight_decay": 0.0001,
                    "depth": 32,
                    "n_probe": 256,
                },
                "full": {
                    "dataset": "shapes",
                    "image_size": 32,
                    "n_train": 5400,
                    "width": 16,
                    "epochs": 40,
                    "batch_size": 128,
                    "lr": 0.1,
                    "weight_decay": 0.0001,
                    "depth": 56,
                    "n_probe": 512,
                },
            }
        ),
    ),
    Topic(
        12,
        "resnet_family",
        "The ResNet family",
        "III",
        "Wide ResNet, ResNeXt, DenseNet, Dual Path Networks",
        built=True,
        widgets=("densenet_explorer",),
        models=(
            "wrn_16_4",
            "wrn_28_10",
            "resnext29_8x64d",
            "resnext29_16x64d",
            "resnext50_32x4d",
            "resnext101_32x4d",
            "resnext101_64x4d",
            "resnet50",
            "densenet121",
            "densenet169",
            "densenet201",
            "densenet161",
            "densenet_bc_100_12",
            "densenet_40_12",
            "dpn92",
            "dpn98",
        ),
        experiments=("resnet_family",),
        sizes=_frozen(
            {
                "quick": {
                    "dataset": "digits",
                    "image_size": 8,
                    "n_train": 960,
                    "epochs": 6,
                    "batch_size": 64,
                    "lr": 0.01,
                },
                "full": {
                    "dataset": "shapes",
                    "image_size": 32,
                    "n_train": 5400,
                    "epochs": 30,
                    "batch_size": 128,
                    "lr": 0.005,
                },
            }
        ),
    ),
    Topic(
        13,
        "mobilenet",
        "MobileNet",
        "III",
        "depthwise separable convolution and the width multiplier",
        widgets=("mobilenet_explorer",),
        models=("mobilenet_v1", "mobilenet_v1_cifar"),
        experiments=("mobilenet",),
        sizes=_frozen(
            {
                "quick": {
                    "image_size": 16,
                    "n_train": 800,
                    "epochs": 5,
                    "batch_size": 64,
                    "lr": 0.01,
                    "latency_repeats": 5,
                },
                "full": {
                    "image_size": 32,
                    "n_train": 5400,
                    "epochs": 30,
                    "batch_size": 128,
                    "lr": 0.005,
                    "latency_repeats": 20,
                },
            }
        ),
    ),
    Topic(
        14,
        "comparing",
        "Comparing architectures",
        "III",
        "accuracy against multiply-adds against parameters, published and measured",
        widgets=("model_comparison_explorer",),
        models=(
            "alexnet",
            "zfnet",
            "nin",
            "vgg11",
            "vgg13",
            "vgg16",
            "vgg19",
            "googlenet",
            "bn_inception",
            "inception_v3",
            "inception_v4",
            "inception_resnet_v2",
            "resnet18",
            "resnet34",
            "resnet50",
            "resnet101",
            "resnet152",
            "resnext50_32x4d",
            "resnext101_32x4d",
            "resnext101_64x4d",
            "densenet121",
            "densenet161",
            "dpn92",
            "dpn98",
            "mobilenet_v1",
        ),
        experiments=("latency",),
        sizes=_frozen(
            {
                "quick": {
                    "latency_repeats": 5,
                    "latency_warmup": 2,
                    "fresh_models": ("nin", "resnet18", "mobilenet_v1"),
                    "fresh_repeats": 3,
                },
                "full": {
                    "latency_repeats": 20,
                    "latency_warmup": 5,
                    "fresh_models": ("nin", "vgg16", "resnet18", "resnet50", "mobilenet_v1"),
                    "fresh_repeats": 10,
                },
            }
        ),
    ),
    Topic(
        15,
        "transfer",
        "Transfer learning",
        "IV",
        "the Yosinski experiment; frozen features vs fine-tuning vs from scratch",
        widgets=("transfer_explorer",),
        models=("resnet18",),
        experiments=("transfer",),
        sizes=_frozen(
            {
                "quick": {
                    "image_size": 16,
                    "n_train": 600,
                    "epochs": 6,
                    "batch_size": 64,
                    "lr": 0.01,
                    "little_per_class": 20,
                    "finetune_lr_scale": 0.1,
                },
                "full": {
                    "image_size": 16,
                    "n_train": 2700,
                    "epochs": 20,
                    "batch_size": 128,
                    "lr": 0.005,
                    "little_per_class": 20,
                    "finetune_lr_scale": 0.1,
                },
            }
        ),
    ),
)


def topics(*, built: bool | None = None) -> tuple[Topic, ...]:
    """All topics in course order, or only the built (``True``) or planned (``False``) ones."""
    return tuple(t for t in TOPICS if built is None or t.built == built)


def get_topic(key: object) -> Topic:
    """The topic with this number (1, "04") or slug ("pooling") or file stem ("03_pooling")."""
    text = str(key).strip()
    for t in TOPICS:
        if text in (t.slug, t.stem) or (text.isdigit() and int(text) == t.number):
            return t
    known = ", ".join(f"{t.number} {t.slug}" for t in TOPICS)
    raise ValueError(f"unknown topic {key!r}; topics: {known}")
