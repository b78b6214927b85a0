"""Published results of topic 12, the ResNet family, as data.

All tables are read from the course notes (seed 004, "Residual Network and Variants",
"DenseNet", "Dual Path Networks"), which reproduce them from the papers:

* Zagoruyko, Komodakis, "Wide Residual Networks", BMVC 2016 (arXiv:1605.07146);
* Xie et al., "Aggregated Residual Transformations for Deep Neural Networks", CVPR 2017
  (arXiv:1611.05431);
* Huang et al., "Densely Connected Convolutional Networks", CVPR 2017 (arXiv:1608.06993);
* Chen et al., "Dual Path Networks", NeurIPS 2017 (arXiv:1707.01629).

Parameters in millions ("M"); errors in %; FLOPs as the papers print them (multiply-adds, 10⁹).
"""

from __future__ import annotations

from cnnlab.published import Table

NOTES = "course notes (seed 004)"
WRN = f"{NOTES}, Wide Residual Network: Zagoruyko & Komodakis, BMVC 2016"
RESNEXT = f"{NOTES}, ResNeXt: Xie et al., CVPR 2017"
DENSENET = f"{NOTES}, DenseNet: Huang et al., CVPR 2017"
DPN = f"{NOTES}, Dual Path Networks: Chen et al., NeurIPS 2017"

WRN_CIFAR = Table(
    name="wrn_cifar",
    source=WRN,
    columns=("model", "depth-k", "parameters", "C10", "C100"),
    rows=(
        ("pre-act ResNet", "110", 1.7, 6.37, None),
        ("pre-act ResNet", "164", 1.7, 5.46, 24.33),
        ("pre-act ResNet", "1001", 10.2, 4.92, 22.71),
        ("WRN", "40-4", 8.9, 4.53, 21.18),
        ("WRN", "16-8", 11.0, 4.27, 20.43),
        ("WRN", "28-10", 36.5, 4.00, 19.25),
    ),
    units=(("parameters", "M"), ("C10", "%"), ("C100", "%")),
    note="CIFAR-10/100 test error with standard augmentation; None: not reported",
)

WRN_DROPOUT = Table(
    name="wrn_dropout",
    source=WRN,
    columns=("depth", "k", "dropout", "C10", "C100", "SVHN"),
    rows=(
        (16, 4, False, 5.02, 24.03, 1.85),
        (16, 4, True, 5.24, 23.91, 1.64),
        (28, 10, False, 4.00, 19.25, None),
        (28, 10, True, 3.89, 18.85, None),
        (52, 1, False, 6.43, 29.89, 2.08),
        (52, 1, True, 6.28, 29.78, 1.70),
    ),
    units=(("C10", "%"), ("C100", "%"), ("SVHN", "%")),
    note="test error; dropout between the two convolutions of each block",
)

RESNEXT_CIFAR = Table(
    name="resnext_cifar",
    source=RESNEXT,
    columns=("model", "parameters", "C10", "C100"),
    rows=(
        ("Wide ResNet (28-10)", 36.5, 4.17, 20.50),
        ("ResNeXt-29, 8×64d", 34.4, 3.65, 17.77),
        ("ResNeXt-29, 16×64d", 68.1, 3.58, 17.31),
    ),
    units=(("parameters", "M"), ("C10", "%"), ("C100", "%")),
    note="CIFAR test error with standard augmentation",
)

RESNEXT_IMAGENET = Table(
    name="resnext_imagenet",
    source=RESNEXT,
    columns=("model", "top-1 224", "top-5 224", "top-1 320/299", "top-5 320/299"),
    rows=(
        ("ResNet-101", 22.0, 6.0, None, None),
        ("ResNet-200", 21.7, 5.8, 20.1, 4.8),
        ("Inception-v3", None, None, 21.2, 5.6),
        ("Inception-v4", None, None, 20.0, 5.0),
        ("Inception-ResNet-v2", None, None, 19.9, 4.9),
        ("ResNeXt-101 (64×4d)", 20.4, 5.3, 19.1, 4.4),
    ),
    units=tuple((c, "%") for c in ("top-1 224", "top-5 224", "top-1 320/299", "top-5 320/299")),
    note="ImageNet validation error, single crop of 224 or of 320/299 pixels",
)

DENSENET_IMAGENET = Table(
    name="densenet_imagenet",
    source=f"{DENSENET} (architectures for ImageNet); DenseNet-161's 96-channel stem from the "
    "DPN table of the same notes",
    columns=("model", "growth rate", "block 1", "block 2", "block 3", "block 4"),
    rows=(
        ("DenseNet-121", 32, 6, 12, 24, 16),
        ("DenseNet-169", 32, 6, 12, 32, 32),
        ("DenseNet-201", 32, 6, 12, 48, 32),
        ("DenseNet-161", 48, 6, 12, 36, 24),
    ),
    note="layers (1×1 conv then 3×3 conv) per dense block; transitions: 1×1 conv, 2×2 avg pool",
)

DENSENET_CIFAR = Table(
    name="densenet_cifar",
    source=DENSENET,
    columns=("model", "depth", "parameters", "C10", "C10+", "C100", "C100+", "SVHN"),
    rows=(
        ("ResNet (pre-activation)", 164, 1.7, 11.26, 5.46, 35.58, 24.33, None),
        ("ResNet (pre-activation)", 1001, 10.2, 10.56, 4.62, 33.47, 22.71, None),
        ("Wide ResNet", 16, 11.0, None, 4.81, None, 22.07, None),
        ("Wide ResNet", 28, 36.5, None, 4.17, None, 20.50, None),
        ("DenseNet (k=12)", 40, 1.0, 7.00, 5.24, 27.55, 24.42, 1.79),
        ("DenseNet (k=12)", 100, 7.0, 5.77, 4.10, 23.79, 20.20, 1.67),
        ("DenseNet (k=24)", 100, 27.2, 5.83, 3.74, 23.42, 19.25, 1.59),
        ("DenseNet-BC (k=12)", 100, 0.8, 5.92, 4.51, 24.15, 22.27, 1.76),
        ("DenseNet-BC (k=24)", 250, 15.3, 5.19, 3.62, 19.64, 17.60, 1.74),
        ("DenseNet-BC (k=40)", 190, 25.6, None, 3.46, None, 17.18, None),
    ),
    units=(("parameters", "M"),)
    + tuple((c, "%") for c in ("C10", "C10+", "C100", "C100+", "SVHN")),
    note="test error; '+': standard augmentation (translation, flips); None: not reported",
)

DPN_ARCHITECTURES = Table(
    name="dpn_architectures",
    source=DPN,
    columns=("model", "parameters", "FLOPs"),
    rows=(
        ("DenseNet-161 (k=48)", 28.9, 7.7),
        ("ResNeXt-101 (32×4d)", 44.3, 8.0),
        ("ResNeXt-101 (64×4d)", 83.7, 15.5),
        ("DPN-92 (32×3d)", 37.8, 6.5),
        ("DPN-98 (40×4d)", 61.7, 11.7),
    ),
    units=(("parameters", "M"), ("FLOPs", "G")),
    note="224×224 input; the parameter counts include batch-norm statistics (see the notebook)",
)

DPN_IMAGENET = Table(
    name="dpn_imagenet",
    source=DPN,
    columns=("model", "model size", "FLOPs", "top-1", "top-5"),
    rows=(
        ("DenseNet-161 (k=48)", 111, 7.7, 22.2, None),
        ("ResNet-101", 170, 7.8, 22.0, 6.0),
        ("ResNeXt-101 (32×4d)", 170, 8.0, 21.2, 5.6),
        ("DPN-92 (32×3d)", 145, 6.5, 20.7, 5.4),
        ("ResNet-200", 247, 15.0, 21.7, 5.8),
        ("ResNeXt-101 (64×4d)", 320, 15.5, 20.4, 5.3),
        ("DPN-98 (40×4d)", 236, 11.7, 20.2, 5.2),
        ("DPN-131 (40×4d)", 304, 16.0, 19.93, 5.12),
    ),
    units=(("model size", "MB"), ("FLOPs", "G"), ("top-1", "%"), ("top-5", "%")),
    note="ImageNet-1k validation error, single 224×224 crop",
)
