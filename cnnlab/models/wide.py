"""Wide ResNets and ResNeXt: wider or grouped residual blocks, built with :func:`build_resnet`.

Papers
    Zagoruyko, Komodakis, "Wide Residual Networks", BMVC 2016 (arXiv:1605.07146) — CIFAR
    WRN-d-k (Table 1) and the ImageNet WRN-50-2 (Section 4, torchvision ``wide_resnet50_2``).
    Xie, Girshick, Dollár, Tu, He, "Aggregated Residual Transformations for Deep Neural
    Networks", CVPR 2017 (arXiv:1611.05431) — ResNeXt-50/101 (32×4d, Table 1) and the CIFAR
    ResNeXt-29 (Section 5.3, Table 7).

Configurations
    * CIFAR WRN-d-k: ``(d - 4) / 6`` pre-activation basic blocks per stage, widths 16k/32k/64k,
      a bare 3×3 16-channel stem, 1×1 projection (no BN) where the shape changes, BN-ReLU
      before pooling, optional dropout between the two convolutions (the paper uses 0.3). This is
      the authors' own code; counts: WRN-28-10 36,479,194 (paper 36.5 M), WRN-16-8 10,961,370
      (11.0 M), WRN-40-4 8,949,210 (8.9 M), WRN-16-4 2,748,890 (2.7 M).
    * ImageNet WRN-50-2 / ResNeXt: torchvision's ResNet with a wider or grouped 3×3
      (``width_per_group``, ``groups``), so torchvision ``state_dict`` files load unchanged.
    * CIFAR ResNeXt-29 (C×Dd): 3 stages of 3 bottlenecks with output 256/512/1024 and inner width
      C·D·(1, 2, 4), a 3×3 64-channel conv-BN-ReLU stem, projection + BN where the shape changes
      (the authors' CIFAR code). ResNeXt-29 8×64d: 34,426,698 (paper 34.4 M).

Deviations (besides those listed in :mod:`cnnlab.models.resnet`)
    * Adaptive average pooling instead of the fixed 8×8 (CIFAR) / 7×7 (ImageNet) pooling.
    * ``resnext101_32x4d`` is not in torchvision (it has 32×8d and 64×4d); it uses the same
      layout, so weights saved from a torchvision-style ResNeXt-101 32×4d load.
    * ``resnext29_4x16d`` is our own small course configuration (not in the paper), for quick
      training; its count (3,172,426) is pinned by our tests.

The three equivalent forms of the ResNeXt block (Xie et al. Fig. 3) are functions of the same
weights: :func:`resnext_aggregated` (a), :func:`resnext_concatenated` (b), :func:`resnext_grouped`
(c, the grouped convolution every model here uses).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlab._validate import as_int
from cnnlab.models.registry import register
from cnnlab.models.resnet import IMAGENET_LAYERS, IMAGENET_PLANES, ResNet, build_resnet

ZAGORUYKO2016 = "Zagoruyko & Komodakis, Wide Residual Networks, BMVC 2016 (arXiv:1605.07146)"
XIE2017 = (
    "Xie et al., Aggregated Residual Transformations for Deep Neural Networks, CVPR 2017 "
    "(arXiv:1611.05431)"
)
RESNEXT_CIFAR_PLANES: tuple[int, ...] = (64, 128, 256)  # bottleneck outputs 256/512/1024


def wide_resnet_cifar(
    depth: int,
    widen_factor: int,
    *,
    dropout: float = 0.0,
    num_classes: int = 10,
    in_channels: int = 3,
) -> ResNet:
    """CIFAR WRN-``depth``-``widen_factor`` (depth ``6n + 4``), 32×32 input."""
    depth = as_int(depth, "depth", minimum=10)
    k = as_int(widen_factor, "widen_factor", minimum=1)
    if (depth - 4) % 6:
        raise ValueError(f"depth must be 6n + 4 (10, 16, 22, 28, 40, ...), got {depth}")
    n = (depth - 4) // 6
    return build_resnet(
        "basic",
        (n, n, n),
        (16 * k, 32 * k, 64 * k),
        stem="cifar",
        stem_width=16,
        shortcut="B",
        preact=True,
        dropout=dropout,
        num_classes=num_classes,
        in_channels=in_channels,
    )


def resnext_cifar(
    depth: int,
    cardinality: int,
    base_width: int,
    *,
    num_classes: int = 10,
    in_channels: int = 3,
) -> ResNet:
    """CIFAR ResNeXt-``depth`` (``cardinality`` × ``base_width``d), depth ``9n + 2``."""
    depth = as_int(depth, "depth", minimum=11)
    if (depth - 2) % 9:
        raise ValueError(f"depth must be 9n + 2 (11, 20, 29, ...), got {depth}")
    n = (depth - 2) // 9
    return build_resnet(
        "bottleneck",
        (n, n, n),
        RESNEXT_CIFAR_PLANES,
        stem="cifar",
        stem_width=64,
        shortcut="B",
        groups=as_int(cardinality, "cardinality", minimum=1),
        width_per_group=as_int(base_width, "base_width", minimum=1),
        num_classes=num_classes,
        in_channels=in_channels,
    )


def _imagenet(
    depth: int, groups: int, width: int, num_classes: int, in_channels: int, stride_in: str
) -> ResNet:
    block, layers = IMAGENET_LAYERS[depth]
    return build_resnet(
        block,
        layers,
        IMAGENET_PLANES,
        groups=groups,
        width_per_group=width,
        num_classes=num_classes,
        in_channels=in_channels,
        stride_in=stride_in,
    )


# ------------------------------------------------------------------------ CIFAR Wide ResNets
_CIFAR_WRN = dict(input_size=(3, 32, 32), scale="course", paper=ZAGORUYKO2016)


@register("wrn_16_4", **_CIFAR_WRN, aliases=("wrn16_4",), tags=("wide", "cifar"))
def wrn_16_4(*, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> ResNet:
    """WRN-16-4: 2,748,890 parameters (paper 2.7 M); the quick course Wide ResNet."""
    return wide_resnet_cifar(
        16, 4, dropout=dropout, num_classes=num_classes, in_channels=in_channels
    )


@register("wrn_16_8", **_CIFAR_WRN, aliases=("wrn16_8",), tags=("wide", "cifar"))
def wrn_16_8(*, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> ResNet:
    """WRN-16-8: 10,961,370 parameters (paper 11.0 M)."""
    return wide_resnet_cifar(
        16, 8, dropout=dropout, num_classes=num_classes, in_channels=in_channels
    )


@register("wrn_28_10", **_CIFAR_WRN, aliases=("wrn28_10",), tags=("wide", "cifar"))
def wrn_28_10(*, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> ResNet:
    """WRN-28-10: 36,479,194 parameters (paper 36.5 M)."""
    return wide_resnet_cifar(
        28, 10, dropout=dropout, num_classes=num_classes, in_channels=in_channels
    )


@register("wrn_40_4", **_CIFAR_WRN, aliases=("wrn40_4",), tags=("wide", "cifar"))
def wrn_40_4(*, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> ResNet:
    """WRN-40-4: 8,949,210 parameters (paper 8.9 M)."""
    return wide_resnet_cifar(
        40, 4, dropout=dropout, num_classes=num_classes, in_channels=in_channels
    )


# ------------------------------------------------------------------------- ImageNet models
_IMAGENET_WRN = dict(input_size=(3, 224, 224), scale="imagenet", paper=ZAGORUYKO2016)
_IMAGENET_X = dict(input_size=(3, 224, 224), scale="imagenet", paper=XIE2017)


@register("wide_resnet50_2", **_IMAGENET_WRN, tags=("wide",))
def wide_resnet50_2(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3"
) -> ResNet:
    """WRN-50-2: ResNet-50 with bottlenecks twice as wide (68,883,240 parameters)."""
    return _imagenet(50, 1, 128, num_classes, in_channels, stride_in)


@register("wide_resnet101_2", **_IMAGENET_WRN, tags=("wide",))
def wide_resnet101_2(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3"
) -> ResNet:
    """WRN-101-2: ResNet-101 with bottlenecks twice as wide (126,886,696 parameters)."""
    return _imagenet(101, 1, 128, num_classes, in_channels, stride_in)


@register("resnext50_32x4d", **_IMAGENET_X, tags=("resnext",))
def resnext50_32x4d(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3"
) -> ResNet:
    """ResNeXt-50 (32×4d): 25,028,904 parameters, 4.23 G multiply-adds (paper 25.0 M, 4.2 G)."""
    return _imagenet(50, 32, 4, num_classes, in_channels, stride_in)


@register("resnext101_32x4d", **_IMAGENET_X, tags=("resnext",))
def resnext101_32x4d(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3"
) -> ResNet:
    """ResNeXt-101 (32×4d): 44,177,704 parameters, 7.97 G multiply-adds.

    The DPN paper's table prints 44.3 M (it counts BN statistics, see :mod:`cnnlab.models.dpn`)
    and 8.0 G.
    """
    return _imagenet(101, 32, 4, num_classes, in_channels, stride_in)


@register("resnext101_32x8d", **_IMAGENET_X, tags=("resnext",))
def resnext101_32x8d(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3"
) -> ResNet:
    """ResNeXt-101 (32×8d): 88,791,336 parameters (torchvision)."""
    return _imagenet(101, 32, 8, num_classes, in_channels, stride_in)


@register("resnext101_64x4d", **_IMAGENET_X, tags=("resnext",))
def resnext101_64x4d(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3"
) -> ResNet:
    """ResNeXt-101 (64×4d): 83,455,272 parameters (83.7 M in the DPN table, with BN statistics)."""
    return _imagenet(101, 64, 4, num_classes, in_channels, stride_in)


# --------------------------------------------------------------------------- CIFAR ResNeXt
_CIFAR_X = dict(input_size=(3, 32, 32), scale="course", paper=XIE2017)


@register("resnext29_8x64d", **_CIFAR_X, tags=("resnext", "cifar"))
def resnext29_8x64d(*, num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNeXt-29 (8×64d): 34,426,698 parameters (paper 34.4 M)."""
    return resnext_cifar(29, 8, 64, num_classes=num_classes, in_channels=in_channels)


@register("resnext29_16x64d", **_CIFAR_X, tags=("resnext", "cifar"))
def resnext29_16x64d(*, num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNeXt-29 (16×64d): 68,155,210 parameters (paper 68.1 M)."""
    return resnext_cifar(29, 16, 64, num_classes=num_classes, in_channels=in_channels)


@register("resnext29_4x16d", **_CIFAR_X, tags=("resnext", "cifar"))
def resnext29_4x16d(*, num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNeXt-29 (4×16d): our small course configuration (3,172,426 parameters)."""
    return resnext_cifar(29, 4, 16, num_classes=num_classes, in_channels=in_channels)


# ------------------------------------------------------- ResNeXt: three forms of one block
def _check_weights(
    x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor, groups: int
) -> int:
    """The width ``d`` of one path; a clear error if the weights do not fit together."""
    groups = as_int(groups, "groups", minimum=1)
    inner = w1.shape[0]
    if inner % groups or w2.shape[:2] != (inner, inner // groups) or w3.shape[1] != inner:
        raise ValueError(
            f"weights do not form a ResNeXt block with {groups} groups: w1 {tuple(w1.shape)}, "
            f"w2 {tuple(w2.shape)}, w3 {tuple(w3.shape)} (expected (G·d, C_in, 1, 1), "
            "(G·d, d, 3, 3), (C_out, G·d, 1, 1))"
        )
    if x.dim() != 4 or x.shape[1] != w1.shape[1]:
        raise ValueError(f"x must be (N, {w1.shape[1]}, H, W), got {tuple(x.shape)}")
    return inner // groups


def resnext_grouped(
    x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor, groups: int
) -> torch.Tensor:
    """Form (c) of Xie et al. Fig. 3: 1×1, ReLU, grouped 3×3, ReLU, 1×1 (no BN, no shortcut).

    ``x`` (N, C_in, H, W); ``w1`` (G·d, C_in, 1, 1); ``w2`` (G·d, d, 3, 3); ``w3``
    (C_out, G·d, 1, 1) -> (N, C_out, H, W). What ``Bottleneck`` computes with ``groups=G``.
    """
    _check_weights(x, w1, w2, w3, groups)
    h = torch.relu(F.conv2d(x, w1))
    h = torch.relu(F.conv2d(h, w2, padding=1, groups=groups))
    return F.conv2d(h, w3)


def resnext_concatenated(
    x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor, groups: int
) -> torch.Tensor:
    """Form (b): G paths of 1×1 and 3×3 (width d each), concatenated, then one 1×1.

    Same shapes as :func:`resnext_grouped`; path ``g`` owns channels ``g·d … (g+1)·d − 1``.
    """
    d = _check_weights(x, w1, w2, w3, groups)
    paths = []
    for g in range(groups):
        rows = slice(g * d, (g + 1) * d)
        h = torch.relu(F.conv2d(x, w1[rows]))
        paths.append(torch.relu(F.conv2d(h, w2[rows], padding=1)))
    return F.conv2d(torch.cat(paths, dim=1), w3)


def resnext_aggregated(
    x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor, groups: int
) -> torch.Tensor:
    """Form (a): G complete paths 1×1 -> 3×3 -> 1×1 (C_out), their outputs *summed*.

    Same shapes as :func:`resnext_grouped`. The last 1×1 of path ``g`` is the slice of ``w3``
    that reads that path's d channels: summing the paths is one 1×1 on their concatenation.
    """
    d = _check_weights(x, w1, w2, w3, groups)
    total = torch.zeros(())
    for g in range(groups):
        rows = slice(g * d, (g + 1) * d)
        h = torch.relu(F.conv2d(x, w1[rows]))
        h = torch.relu(F.conv2d(h, w2[rows], padding=1))
        total = total + F.conv2d(h, w3[:, rows])
    return total
