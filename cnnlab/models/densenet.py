"""Densely connected networks: DenseNet-121/169/201/161 and the CIFAR DenseNet(-BC).

Paper
    Huang, Liu, van der Maaten, Weinberger, "Densely Connected Convolutional Networks",
    CVPR 2017 (arXiv:1608.06993) — Table 1 (ImageNet) and Section 3/4 (CIFAR, Table 2).

Every layer of a dense block sees the concatenation of all earlier feature maps of the block and
adds ``growth_rate`` new channels. DenseNet-B puts a 1×1 bottleneck (``bn_size · growth_rate``
channels) before each 3×3; DenseNet-C halves the channels in each transition (compression 0.5).
One builder, :func:`build_densenet`, makes every configuration from the tables below.

The ImageNet models keep torchvision's module names (``features.conv0``, ``features.norm0``,
``features.denseblock1.denselayer1.norm1`` … ``conv2``, ``features.transition1.conv``,
``features.norm5``, ``classifier``), so torchvision ``state_dict`` files load with
``strict=True``: 7,978,856 / 14,149,480 / 20,013,928 / 28,681,000 parameters.

Deviations
    * The paper's fixed 7×7 (ImageNet) / 8×8 (CIFAR) average pool is adaptive (as torchvision).
    * Dropout (``dropout``, default 0) acts once per dense layer, on its new ``growth_rate``
      channels, as torchvision; the paper drops after every convolution when training without
      augmentation.
    * Initialisation follows torchvision (He normal convolutions, BN γ=1, β=0, zero linear
      bias); the paper uses He initialisation too.
    * ``in_channels`` replaces the 3 input channels of the first convolution.
    * ReLUs are not in-place (torchvision's are), so a forward hook may keep an activation.
    * CIFAR models: a single 3×3 convolution stem (16 channels, or 2·growth_rate for BC) with no
      BN-ReLU or pooling after it (the first dense layer starts with BN-ReLU), as the authors'
      Torch code; transition and final layers as ImageNet. Counts are our own, pinned in tests:
      DenseNet-BC-100 (k=12) 769,162 (paper 0.8 M), DenseNet-40 (k=12) 1,019,722 (paper 1.0 M).
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_int, check_choice
from cnnlab.models.layers import check_dropout, init_weights
from cnnlab.models.registry import register
from cnnlab.models.resnet import check_model_input

HUANG2017 = "Huang et al., Densely Connected Convolutional Networks, CVPR 2017 (arXiv:1608.06993)"

# depth -> (growth_rate, layers per block, stem channels): Table 1 of Huang et al.
IMAGENET_DENSENETS: dict[int, tuple[int, tuple[int, ...], int]] = {
    121: (32, (6, 12, 24, 16), 64),
    169: (32, (6, 12, 32, 32), 64),
    201: (32, (6, 12, 48, 32), 64),
    161: (48, (6, 12, 36, 24), 96),
}


class DenseLayer(nn.Module):
    """BN-ReLU-conv1×1 (bottleneck) then BN-ReLU-conv3×3: ``(N, C, H, W) -> (N, k, H, W)``.

    Without the bottleneck (plain DenseNet) only ``norm1``/``conv1`` (3×3) exist.
    """

    def __init__(
        self, in_features: int, growth_rate: int, bn_size: int | None, dropout: float
    ) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_features)
        self.relu1 = nn.ReLU()
        if bn_size is None:
            self.conv1 = nn.Conv2d(in_features, growth_rate, 3, padding=1, bias=False)
            self.norm2 = self.relu2 = self.conv2 = None
        else:
            width = bn_size * growth_rate
            self.conv1 = nn.Conv2d(in_features, width, 1, bias=False)
            self.norm2 = nn.BatchNorm2d(width)
            self.relu2 = nn.ReLU()
            self.conv2 = nn.Conv2d(width, growth_rate, 3, padding=1, bias=False)
        self.dropout = dropout

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)
        out = self.conv1(self.relu1(self.norm1(x)))
        if self.conv2 is not None:
            out = self.conv2(self.relu2(self.norm2(out)))
        if self.dropout > 0:
            out = F.dropout(out, p=self.dropout, training=self.training)
        return out


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers: ``(N, C, H, W) -> (N, C + num_layers·k, H, W)``."""

    def __init__(
        self,
        num_layers: int,
        in_features: int,
        growth_rate: int,
        bn_size: int | None,
        dropout: float,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(in_features + i * growth_rate, growth_rate, bn_size, dropout)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN-ReLU-conv1×1-avgpool2: ``(N, C_in, H, W) -> (N, C_out, H/2, W/2)``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_features)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(in_features, out_features, 1, bias=False)
        self.pool = nn.AvgPool2d(2, stride=2)


class DenseNet(nn.Module):
    """``(N, in_channels, H, W) -> (N, num_classes)``: ``features`` then ``classifier``."""

    def __init__(
        self,
        growth_rate: int,
        block_config: tuple[int, ...],
        *,
        num_init_features: int,
        bn_size: int | None,
        compression: float,
        stem: str,
        dropout: float,
        num_classes: int,
        in_channels: int,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        if stem == "imagenet":
            self.features = nn.Sequential(
                OrderedDict(
                    conv0=nn.Conv2d(in_channels, num_init_features, 7, 2, 3, bias=False),
                    norm0=nn.BatchNorm2d(num_init_features),
                    relu0=nn.ReLU(),
                    pool0=nn.MaxPool2d(3, stride=2, padding=1),
                )
            )
        else:
            conv0 = nn.Conv2d(in_channels, num_init_features, 3, padding=1, bias=False)
            self.features = nn.Sequential(OrderedDict(conv0=conv0))
        n = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, n, growth_rate, bn_size, dropout)
            self.features.add_module(f"denseblock{i + 1}", block)
            n += num_layers * growth_rate
            if i != len(block_config) - 1:
                out = int(math.floor(n * compression))
                self.features.add_module(f"transition{i + 1}", Transition(n, out))
                n = out
        self.features.add_module(f"norm{len(block_config) + 1}", nn.BatchNorm2d(n))
        self.classifier = nn.Linear(n, num_classes)
        self.num_features = n
        # torchvision's DenseNet init: He normal with fan-in (the others use fan-out)
        init_weights(self, conv_mode="fan_in", zero_bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, num_classes)`` logits."""
        check_model_input(self, x)
        out = F.relu(self.features(x))
        out = torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)
        return self.classifier(out)


def build_densenet(
    growth_rate: int,
    block_config: tuple[int, ...] | list[int],
    *,
    num_init_features: int = 64,
    bn_size: int | None = 4,
    compression: float = 0.5,
    stem: str = "imagenet",
    dropout: float = 0.0,
    num_classes: int = 1000,
    in_channels: int = 3,
) -> DenseNet:
    """The family builder: a DenseNet from its growth rate and layers per block.

    ``bn_size=None`` drops the 1×1 bottleneck (plain DenseNet); ``compression`` in (0, 1] is the
    fraction of channels a transition keeps. ``stem``: ``"imagenet"`` (7×7/2 conv, BN, ReLU,
    3×3/2 max-pool) or ``"cifar"`` (one 3×3 convolution).
    """
    growth_rate = as_int(growth_rate, "growth_rate", minimum=1)
    if isinstance(block_config, (str, bytes)) or not hasattr(block_config, "__len__"):
        raise TypeError(f"block_config must be a list of layer counts, got {block_config!r}")
    if len(block_config) == 0:
        raise ValueError("block_config must not be empty")
    blocks = tuple(as_int(v, f"block_config[{i}]", minimum=1) for i, v in enumerate(block_config))
    if bn_size is not None:
        bn_size = as_int(bn_size, "bn_size", minimum=1)
    if isinstance(compression, bool) or not isinstance(compression, numbers.Real):
        raise TypeError(f"compression must be a float in (0, 1], got {compression!r}")
    if not 0.0 < float(compression) <= 1.0:
        raise ValueError(f"compression must be a float in (0, 1], got {compression!r}")
    dropout = check_dropout(dropout)
    return DenseNet(
        growth_rate,
        blocks,
        num_init_features=as_int(num_init_features, "num_init_features", minimum=1),
        bn_size=bn_size,
        compression=float(compression),
        stem=check_choice(stem, "stem", ("imagenet", "cifar")),
        dropout=dropout,
        num_classes=as_int(num_classes, "num_classes", minimum=1),
        in_channels=as_int(in_channels, "in_channels", minimum=1),
    )


def imagenet_densenet(
    depth: int, *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.0
) -> DenseNet:
    """DenseNet-BC-``depth`` of Huang et al. Table 1 (121, 169, 201 or 161), 224×224 input."""
    depth = as_int(depth, "depth")
    if depth not in IMAGENET_DENSENETS:
        raise ValueError(f"depth must be one of {sorted(IMAGENET_DENSENETS)}, got {depth}")
    k, blocks, init = IMAGENET_DENSENETS[depth]
    return build_densenet(
        k,
        blocks,
        num_init_features=init,
        dropout=dropout,
        num_classes=num_classes,
        in_channels=in_channels,
    )


def cifar_densenet(
    depth: int,
    growth_rate: int,
    *,
    bc: bool = True,
    dropout: float = 0.0,
    num_classes: int = 10,
    in_channels: int = 3,
) -> DenseNet:
    """CIFAR DenseNet with three equal dense blocks, 32×32 input.

    ``bc=True``: DenseNet-BC, depth ``6n + 4`` (n bottleneck layers per block, compression 0.5,
    stem 2·growth_rate channels). ``bc=False``: DenseNet, depth ``3n + 4``, 16-channel stem.
    """
    depth = as_int(depth, "depth", minimum=7)
    if not isinstance(bc, bool):
        raise TypeError(f"bc must be True or False, got {bc!r}")
    per_layer = 6 if bc else 3
    if (depth - 4) % per_layer:
        raise ValueError(f"depth must be {per_layer}n + 4 for bc={bc}, got {depth}")
    n = (depth - 4) // per_layer
    k = as_int(growth_rate, "growth_rate", minimum=1)
    return build_densenet(
        k,
        (n, n, n),
        num_init_features=2 * k if bc else 16,
        bn_size=4 if bc else None,
        compression=0.5 if bc else 1.0,
        stem="cifar",
        dropout=dropout,
        num_classes=num_classes,
        in_channels=in_channels,
    )


_IMAGENET = dict(input_size=(3, 224, 224), scale="imagenet", paper=HUANG2017)


@register("densenet121", **_IMAGENET, tags=("densenet",))
def densenet121(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.0) -> DenseNet:
    """DenseNet-121 (k=32): 7,978,856 parameters."""
    return imagenet_densenet(121, num_classes=num_classes, in_channels=in_channels, dropout=dropout)


@register("densenet169", **_IMAGENET, tags=("densenet",))
def densenet169(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.0) -> DenseNet:
    """DenseNet-169 (k=32): 14,149,480 parameters."""
    return imagenet_densenet(169, num_classes=num_classes, in_channels=in_channels, dropout=dropout)


@register("densenet201", **_IMAGENET, tags=("densenet",))
def densenet201(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.0) -> DenseNet:
    """DenseNet-201 (k=32): 20,013,928 parameters."""
    return imagenet_densenet(201, num_classes=num_classes, in_channels=in_channels, dropout=dropout)


@register("densenet161", **_IMAGENET, tags=("densenet",))
def densenet161(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.0) -> DenseNet:
    """DenseNet-161 (k=48, 96-channel stem): 28,681,000 parameters."""
    return imagenet_densenet(161, num_classes=num_classes, in_channels=in_channels, dropout=dropout)


_CIFAR = dict(input_size=(3, 32, 32), scale="course", paper=HUANG2017)


@register("densenet_bc_100_12", **_CIFAR, aliases=("densenet_bc100",), tags=("densenet", "cifar"))
def densenet_bc_100_12(
    *, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0
) -> DenseNet:
    """DenseNet-BC-100 (k=12): 769,162 parameters (paper 0.8 M)."""
    return cifar_densenet(
        100, 12, bc=True, dropout=dropout, num_classes=num_classes, in_channels=in_channels
    )


@register("densenet_40_12", **_CIFAR, aliases=("densenet40",), tags=("densenet", "cifar"))
def densenet_40_12(
    *, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0
) -> DenseNet:
    """DenseNet-40 (k=12, no bottleneck or compression): 1,019,722 parameters (paper 1.0 M)."""
    return cifar_densenet(
        40, 12, bc=False, dropout=dropout, num_classes=num_classes, in_channels=in_channels
    )
