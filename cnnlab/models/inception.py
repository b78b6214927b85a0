"""GoogLeNet and its successors: BN-Inception, Inception-v3, Inception-v4, Inception-ResNet-v2.

Papers
    Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842): GoogLeNet,
    Table 1 (``GOOGLENET_TABLE``), Figure 3, Section 5 (auxiliary classifiers).
    Ioffe, Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
    Internal Covariate Shift", ICML 2015 (arXiv:1502.03167): BN-Inception, Figure 5
    (``BN_INCEPTION_TABLE``).
    Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016
    (arXiv:1512.00567): Inception-v3.
    Szegedy, Ioffe, Vanhoucke, Alemi, "Inception-v4, Inception-ResNet and the Impact of Residual
    Connections on Learning", AAAI 2017 (arXiv:1602.07261): Figures 3-9 and 15-19.

Registered names: ``googlenet``, ``bn_inception``, ``inception_v3``, ``inception_v4``,
``inception_resnet_v2`` (ImageNet scale) and ``googlenet_course`` (32×32).

Auxiliary classifiers (``googlenet``, ``googlenet_course``, ``inception_v3``): off by default
(``aux_logits=False``). With ``aux_logits=True`` a model in training mode returns a namedtuple
(``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`` / ``InceptionOutputs(logits,
aux_logits)``, torchvision's types and order); in eval mode it always returns the logits tensor.

Deviations, for every model of the family
    * Initialisation: He normal (fan-out) for convolutions, N(0, 0.01) for linear layers, zero
      biases, BN γ=1 β=0 — not the papers' (Caffe "xavier", TF truncated normals).
    * The final average pool is a global (adaptive) average pool: the same at the design input.
    * ``in_channels``/``num_classes`` replace the 3 inputs and 1000 (or 1001) outputs.

torchvision ``state_dict`` files (see :func:`cnnlab.models.load_pretrained` and
``docs/pretrained.md``): ``googlenet(variant="torchvision")`` and ``inception_v3`` have
torchvision's module names and compute torchvision's networks; ``transform_input=True`` adds the
input re-scaling that torchvision's pretrained Google weights expect (:class:`TransformInput`).
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cnnlab._validate import as_int, check_choice
from cnnlab.models.layers import LRN, ConvBNAct, check_dropout, concat_branches, init_weights
from cnnlab.models.registry import register

SZEGEDY2015 = "Szegedy et al., Going Deeper with Convolutions, CVPR 2015 (arXiv:1409.4842)"
IOFFE2015 = "Ioffe, Szegedy, Batch Normalization, ICML 2015 (arXiv:1502.03167)"
SZEGEDY2016 = (
    "Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016 "
    "(arXiv:1512.00567)"
)
SZEGEDY2017 = (
    "Szegedy, Ioffe, Vanhoucke, Alemi, Inception-v4, Inception-ResNet and the Impact of "
    "Residual Connections on Learning, AAAI 2017 (arXiv:1602.07261)"
)

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
InceptionOutputs = namedtuple("InceptionOutputs", ["logits", "aux_logits"])


def _check_float(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float in [{low}, {high}), got {value!r}")
    if not low <= value < high:
        raise ValueError(f"{name} must be a float in [{low}, {high}), got {value!r}")
    return float(value)


class TransformInput(nn.Module):
    """torchvision's ``transform_input`` for the Google-trained GoogLeNet and Inception-v3.

    Input normalised with the ImageNet mean and std, ``(x - mean) / std``, is mapped to the
    [-1, 1] scaling the Google weights were trained on, ``(x·std + mean - 0.5) / 0.5``, channel
    by channel, with torchvision's exact arithmetic (so outputs stay bit-identical).
    (N, 3, H, W) -> (N, 3, H, W); no parameters, so no ``state_dict`` keys.
    """

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(
                f"transform_input needs (N, 3, H, W) RGB input, got shape {tuple(x.shape)}"
            )
        chans = [
            torch.unsqueeze(x[:, c], 1) * (s / 0.5) + (m - 0.5) / 0.5
            for c, (m, s) in enumerate(zip(self.MEAN, self.STD, strict=True))
        ]
        return torch.cat(chans, 1)


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _init_weights(model: nn.Module) -> None:
    # torchvision's Inception convention: fan-out He normal, N(0, 0.01²) linear, zero biases
    init_weights(model, linear_std=0.01, zero_bias=True)


# ----------------------------------------------------------------------------------------------
# GoogLeNet (Inception v1)

# Table 1 of Szegedy et al. (2015): #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
GOOGLENET_TABLE: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


class Inception(nn.Module):
    """GoogLeNet's inception module with dimension reductions (Figure 2b of the paper).

    Four branches concatenated along channels: 1×1; 1×1 -> 3×3; 1×1 -> 5×5 (or 3×3 as in
    torchvision); 3×3/1 max pool -> 1×1. (N, C, H, W) -> (N, c1 + c3 + c5 + proj, H, W).
    Branch names (``branch1`` ... ``branch4``) are torchvision's.
    """

    def __init__(
        self,
        in_ch: int,
        c1: int,
        c3r: int,
        c3: int,
        c5r: int,
        c5: int,
        proj: int,
        *,
        bn: bool = False,
        k5: int = 5,
        bn_eps: float = 1e-3,
    ) -> None:
        super().__init__()

        def conv(cin: int, cout: int, k: int) -> ConvBNAct:
            return ConvBNAct(cin, cout, k, bn=bn, bn_eps=bn_eps)

        self.branch1 = conv(in_ch, c1, 1)
        self.branch2 = nn.Sequential(conv(in_ch, c3r, 1), conv(c3r, c3, 3))
        self.branch3 = nn.Sequential(conv(in_ch, c5r, 1), conv(c5r, c5, k5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv(in_ch, proj, 1))
        self.out_channels = c1 + c3 + c5 + proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([b(x) for b in branches], dim=1)


class GoogLeNetAux(nn.Sequential):
    """Auxiliary classifier (Section 5): avg pool 5×5/3 -> 1×1 conv 128 -> fc 1024 -> dropout
    0.7 -> fc classes. (N, C, 14, 14) -> (N, num_classes). ``pool`` may be adaptive (4×4)."""

    def __init__(
        self, in_ch: int, num_classes: int, *, bn: bool, pool: nn.Module, bn_eps: float = 1e-3
    ) -> None:
        super().__init__(
            OrderedDict(
                [
                    ("pool", pool),
                    ("conv", ConvBNAct(in_ch, 128, 1, bn=bn, bn_eps=bn_eps)),
                    ("flatten", nn.Flatten(1)),
                    ("fc1", nn.Linear(128 * 4 * 4, 1024)),
                    ("relu", nn.ReLU()),
                    ("dropout", nn.Dropout(0.7)),
                    ("fc2", nn.Linear(1024, num_classes)),
                ]
            )
        )


class GoogLeNet(nn.Module):
    """GoogLeNet from ``GOOGLENET_TABLE``; see ``googlenet`` for the options.

    Attribute names follow torchvision (``conv1``, ``maxpool1``, ``inception3a``, ``aux1``,
    ``fc``); the LRN layers, absent from torchvision, are ``lrn1`` and ``lrn2``.
    """

    def __init__(
        self,
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        aux_logits: bool = False,
        dropout: float = 0.4,
        bn: bool = False,
        lrn: bool = True,
        k5: int = 5,
        course: bool = False,
        width_mult: float = 1.0,
        tv_pooling: bool = False,
        transform_input: bool = False,
    ) -> None:
        super().__init__()
        num_classes = as_int(num_classes, "num_classes", minimum=1)
        in_channels = as_int(in_channels, "in_channels", minimum=1)
        dropout = check_dropout(dropout)
        if k5 not in (3, 5):
            raise ValueError(f"branch3_kernel must be 3 or 5, got {k5!r}")
        if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)):
            raise TypeError(f"width_mult must be a positive float, got {width_mult!r}")
        if width_mult <= 0:
            raise ValueError(f"width_mult must be a positive float, got {width_mult!r}")
        self.aux_logits = bool(aux_logits)
        transform_input = _check_bool(transform_input, "transform_input")
        if transform_input and in_channels != 3:
            raise ValueError(f"transform_input needs in_channels=3, got {in_channels}")
        self.transform_input = TransformInput() if transform_input else None

        def w(c: int) -> int:
            return max(1, round(c * width_mult))

        def conv(cin: int, cout: int, k: int, s: int = 1) -> ConvBNAct:
            return ConvBNAct(cin, cout, k, s, bn=bn, bn_eps=1e-3)

        def lrn_layer() -> nn.Module | None:
            # Caffe's bvlc_googlenet: local_size 5, alpha 1e-4 averaged over the 5 maps, k = 1.
            return LRN(5, alpha=1e-4 / 5, beta=0.75, k=1.0) if lrn else None

        if course:  # 32×32: a 3×3/1 first conv and one pool in the stem (32 -> 16)
            self.conv1 = conv(in_channels, w(64), 3)
        else:
            self.conv1 = conv(in_channels, w(64), 7, 2)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.lrn1 = lrn_layer()
        self.conv2 = conv(w(64), w(64), 1)
        self.conv3 = conv(w(64), w(192), 3)
        self.lrn2 = lrn_layer()
        self.maxpool2 = None if course else nn.MaxPool2d(3, 2, ceil_mode=True)
        channels = w(192)
        for name, row in GOOGLENET_TABLE.items():
            module = Inception(channels, *(w(c) for c in row), bn=bn, k5=k5)
            setattr(self, f"inception{name}", module)
            channels = module.out_channels
            if name == "3b":
                self.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
            elif name == "4e":
                # torchvision's googlenet pools 2×2/2 here (the paper: 3×3/2): 7×7 maps from
                # 14×14 either way, but different windows, so different values.
                k4 = 2 if tv_pooling else 3
                self.maxpool4 = nn.MaxPool2d(k4, 2, ceil_mode=True)
        if self.aux_logits:

            def aux_pool() -> nn.Module:
                # torchvision pools the auxiliary heads adaptively to 4×4 (the paper: 5×5/3);
                # both give 4×4 from 14×14, over different windows (4 wide vs 5 wide).
                adaptive = course or tv_pooling
                return nn.AdaptiveAvgPool2d(4) if adaptive else nn.AvgPool2d(5, 3)

            self.aux1 = GoogLeNetAux(
                self.inception4a.out_channels, num_classes, bn=bn, pool=aux_pool()
            )
            self.aux2 = GoogLeNetAux(
                self.inception4d.out_channels, num_classes, bn=bn, pool=aux_pool()
            )
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:
        if self.transform_input is not None:
            x = self.transform_input(x)
        x = self.maxpool1(self.conv1(x))
        if self.lrn1 is not None:
            x = self.lrn1(x)
        x = self.conv3(self.conv2(x))
        if self.lrn2 is not None:
            x = self.lrn2(x)
        if self.maxpool2 is not None:
            x = self.maxpool2(x)
        x = self.inception3b(self.inception3a(x))
        x = self.inception4a(self.maxpool3(x))
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(self.flatten(self.avgpool(x))))
        if aux1 is not None and aux2 is not None:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


@register(
    "googlenet",
    input_size=(3, 224, 224),
    scale="imagenet",
    paper=SZEGEDY2015,
    aliases=("inception_v1",),
    tags=("inception",),
)
def googlenet(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    aux_logits: bool = False,
    dropout: float | None = None,
    batch_norm: bool | None = None,
    lrn: bool | None = None,
    branch3_kernel: int | None = None,
    variant: str = "paper",
    transform_input: bool = False,
) -> nn.Module:
    """GoogLeNet (Szegedy et al. 2015): (N, 3, 224, 224) -> (N, num_classes).

    ``variant="paper"`` (default) is the paper's network: stem conv 7×7/2 (64) -> max 3×3/2 ->
    LRN -> conv 1×1 (64) -> conv 3×3 (192) -> LRN -> max 3×3/2, then the nine inception modules
    of ``GOOGLENET_TABLE`` (3a, 3b, max 3×3/2, 4a-4e, max 3×3/2, 5a, 5b), global average pool,
    dropout 40 %, linear. Biased convolutions with ReLU, real 5×5 convolutions, no batch norm.
    6,998,552 parameters (+ 6,379,728 with ``aux_logits=True``; auxiliary heads pool 5×5/3).

    ``variant="torchvision"`` is torchvision's ``googlenet``, module for module, so its
    ``state_dict`` files load and give the same outputs: batch norm (eps 1e-3) after every
    convolution and no conv bias, a 3×3 convolution in the "5×5" branch, no LRN, a 2×2/2 max
    pool before 5a, auxiliary heads with an adaptive 4×4 average pool, dropout 0.2. 6,624,904
    parameters (13,004,888 with ``aux_logits=True``).

    Options: ``aux_logits`` adds the two auxiliary classifiers on 4a and 4d (returned only in
    training mode, see the module docstring); ``dropout`` (default 0.4 paper, 0.2 torchvision);
    ``batch_norm``, ``lrn`` and ``branch3_kernel`` (3 or 5) change the paper variant (together,
    ``True``, ``False``, ``3`` give torchvision's keys and shapes but not its two pools — use
    ``variant="torchvision"``); ``transform_input=True`` re-scales ImageNet-normalised input to
    the [-1, 1] range the Google-trained weights expect, as torchvision does for its pretrained
    googlenet (:class:`TransformInput`).

    Deviations from the paper
        * The LRN constants are those of the authors' Caffe release (n=5, α=1e-4 averaged over
          the 5 maps, β=0.75, k=1); the paper gives none. Max pools round up (Caffe).
        * The family deviations (initialisation, adaptive final pool).
    """
    variant = check_choice(variant, "variant", ("paper", "torchvision"))
    tv = variant == "torchvision"
    if tv:
        fixed = {"batch_norm": (batch_norm, True), "lrn": (lrn, False)}
        fixed["branch3_kernel"] = (branch3_kernel, 3)
        for name, (given, want) in fixed.items():
            if given is not None and given != want:
                raise ValueError(
                    f"variant='torchvision' has {name}={want!r}; got {name}={given!r} "
                    "(leave it out, or use variant='paper')"
                )
    return GoogLeNet(
        num_classes=num_classes,
        in_channels=in_channels,
        aux_logits=aux_logits,
        dropout=(0.2 if tv else 0.4) if dropout is None else dropout,
        bn=tv if batch_norm is None else batch_norm,
        lrn=(not tv) if lrn is None else lrn,
        k5=(3 if tv else 5) if branch3_kernel is None else branch3_kernel,
        tv_pooling=tv,
        transform_input=transform_input,
    )


@register(
    "googlenet_course",
    input_size=(3, 32, 32),
    scale="course",
    paper=SZEGEDY2015,
    tags=("inception",),
)
def googlenet_course(
    *,
    num_classes: int = 10,
    in_channels: int = 3,
    aux_logits: bool = False,
    dropout: float = 0.4,
    batch_norm: bool = False,
    lrn: bool = True,
    width_mult: float = 1.0,
) -> nn.Module:
    """GoogLeNet at course scale: (N, 3, 32, 32) -> (N, num_classes); 5,976,122 parameters.

    The paper's nine inception modules (``GOOGLENET_TABLE``) with the paper's widths, on 32×32.

    What was scaled (deviations from the paper)
        * Stem: conv 3×3/1 (not 7×7/2), and no max pool after conv 3×3, so the maps go
          32 -> 16 (3a, 3b) -> 8 (4a-4e) -> 4 (5a, 5b) instead of 224 -> 28 -> 14 -> 7.
        * Auxiliary classifiers (if ``aux_logits``) use an adaptive 4×4 pool (8×8 -> 4×4).
        * ``width_mult`` scales every width (0.25 gives a 16-…-256 network with about 1/16 of
          the multiply-adds). Plus the options and deviations of ``googlenet``.
    """
    return GoogLeNet(
        num_classes=num_classes,
        in_channels=in_channels,
        aux_logits=aux_logits,
        dropout=dropout,
        bn=batch_norm,
        lrn=lrn,
        course=True,
        width_mult=width_mult,
    )


# ----------------------------------------------------------------------------------------------
# BN-Inception (Inception v2 of the BN paper)

# Figure 5 of Ioffe & Szegedy (2015): #1×1, #3×3 reduce, #3×3, double #3×3 reduce, double #3×3,
# pool type, pool proj (0 = pass through), stride.
BN_INCEPTION_TABLE: dict[str, tuple[int, int, int, int, int, str, int, int]] = {
    "3a": (64, 64, 64, 64, 96, "avg", 32, 1),
    "3b": (64, 64, 96, 64, 96, "avg", 64, 1),
    "3c": (0, 128, 160, 64, 96, "max", 0, 2),
    "4a": (224, 64, 96, 96, 128, "avg", 128, 1),
    "4b": (192, 96, 128, 96, 128, "avg", 128, 1),
    "4c": (160, 128, 160, 128, 160, "avg", 128, 1),
    "4d": (96, 128, 192, 160, 192, "avg", 128, 1),
    "4e": (0, 128, 192, 192, 256, "max", 0, 2),
    "5a": (352, 192, 320, 160, 224, "avg", 128, 1),
    "5b": (352, 192, 320, 192, 224, "max", 128, 1),
}


class InceptionBN(nn.Module):
    """BN-Inception module: [1×1], 1×1 -> 3×3, 1×1 -> 3×3 -> 3×3, pool [-> 1×1 proj].

    With ``stride=2`` the 3×3 branches and a 3×3/2 max pool halve the map and the pooled input
    passes through unprojected. (N, C, H, W) -> (N, C', H / stride, W / stride).
    """

    def __init__(
        self,
        in_ch: int,
        c1: int,
        c3r: int,
        c3: int,
        d3r: int,
        d3: int,
        pool: str,
        proj: int,
        stride: int = 1,
    ) -> None:
        super().__init__()
        self.branch1 = ConvBNAct(in_ch, c1, 1) if c1 else None
        self.branch2 = nn.Sequential(ConvBNAct(in_ch, c3r, 1), ConvBNAct(c3r, c3, 3, stride))
        self.branch3 = nn.Sequential(
            ConvBNAct(in_ch, d3r, 1), ConvBNAct(d3r, d3, 3), ConvBNAct(d3, d3, 3, stride)
        )
        if stride == 1:
            pool_layer: nn.Module = (
                nn.AvgPool2d(3, 1, 1) if pool == "avg" else nn.MaxPool2d(3, 1, 1)
            )
        else:
            pool_layer = nn.MaxPool2d(3, stride, ceil_mode=True)
        self.branch4 = nn.Sequential(pool_layer, *([ConvBNAct(in_ch, proj, 1)] if proj else []))
        self.out_channels = c1 + c3 + d3 + (proj or in_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [] if self.branch1 is None else [self.branch1(x)]
        outs += [self.branch2(x), self.branch3(x), self.branch4(x)]
        return concat_branches(outs, self)


@register(
    "bn_inception",
    input_size=(3, 224, 224),
    scale="imagenet",
    paper=IOFFE2015,
    aliases=("bninception", "inception_bn"),
    tags=("inception",),
)
def bn_inception(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """BN-Inception (Ioffe & Szegedy 2015, Figure 5): (N, 3, 224, 224) -> (N, num_classes).

    GoogLeNet with batch normalisation after every convolution, the 5×5 branch replaced by two
    3×3 convolutions, average pooling in most modules, stride-2 modules 3c and 4e instead of
    separate max pools, no LRN and no dropout (``BN_INCEPTION_TABLE``). 11,285,224 parameters.

    Deviations from the paper
        * The table's "output size" column says 576 maps after 4c and 4d and 1024 after 4e, but
          its own filter counts give 608, 608 and 1056; the counts are used, as in the authors'
          Caffe release.
        * Convolutions have no bias (batch norm follows); the Caffe release keeps one (+10,016:
          11,295,240 in all, the count of its PyTorch port in pretrainedmodels).
        * No auxiliary classifier. The family deviations. No torchvision counterpart.
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        [
            ("conv1", ConvBNAct(in_channels, 64, 7, 2)),
            ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv2_reduce", ConvBNAct(64, 64, 1)),
            ("conv2", ConvBNAct(64, 192, 3)),
            ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ]
    )
    channels = 192
    for name, row in BN_INCEPTION_TABLE.items():
        module = InceptionBN(channels, *row)
        layers[f"inception{name}"] = module
        channels = module.out_channels
    layers["avgpool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten(1)
    layers["fc"] = nn.Linear(channels, num_classes)
    model = nn.Sequential(layers)
    _init_weights(model)
    return model


# ----------------------------------------------------------------------------------------------
# Inception-v3: torchvision's modules and names, so that its state dicts load.


def _bconv(cin: int, cout: int, k: int | tuple[int, int], s: int = 1, p: object = 0) -> ConvBNAct:
    return ConvBNAct(cin, cout, k, s, padding=p, bn_eps=1e-3)


class InceptionA(nn.Module):
    """35×35 module: 1×1 | 1×1 -> 5×5 | 1×1 -> 3×3 -> 3×3 | avg pool -> 1×1 (pool_features)."""

    def __init__(self, in_ch: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _bconv(in_ch, 64, 1)
        self.branch5x5_1 = _bconv(in_ch, 48, 1)
        self.branch5x5_2 = _bconv(48, 64, 5, p=2)
        self.branch3x3dbl_1 = _bconv(in_ch, 64, 1)
        self.branch3x3dbl_2 = _bconv(64, 96, 3, p=1)
        self.branch3x3dbl_3 = _bconv(96, 96, 3, p=1)
        self.pool = nn.AvgPool2d(3, 1, 1)
        self.branch_pool = _bconv(in_ch, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b1, b5, b3, self.branch_pool(self.pool(x))], 1)


class InceptionB(nn.Module):
    """35×35 -> 17×17 grid reduction: 3×3/2 | 1×1 -> 3×3 -> 3×3/2 | max pool 3×3/2."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3 = _bconv(in_ch, 384, 3, 2)
        self.branch3x3dbl_1 = _bconv(in_ch, 64, 1)
        self.branch3x3dbl_2 = _bconv(64, 96, 3, p=1)
        self.branch3x3dbl_3 = _bconv(96, 96, 3, 2)
        self.pool = nn.MaxPool2d(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, self.pool(x)], 1)


class InceptionC(nn.Module):
    """17×17 module with factorised 7×7 (1×7 and 7×1) convolutions, ``c7`` inner maps."""

    def __init__(self, in_ch: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = _bconv(in_ch, 192, 1)
        self.branch7x7_1 = _bconv(in_ch, c7, 1)
        self.branch7x7_2 = _bconv(c7, c7, (1, 7), p=(0, 3))
        self.branch7x7_3 = _bconv(c7, 192, (7, 1), p=(3, 0))
        self.branch7x7dbl_1 = _bconv(in_ch, c7, 1)
        self.branch7x7dbl_2 = _bconv(c7, c7, (7, 1), p=(3, 0))
        self.branch7x7dbl_3 = _bconv(c7, c7, (1, 7), p=(0, 3))
        self.branch7x7dbl_4 = _bconv(c7, c7, (7, 1), p=(3, 0))
        self.branch7x7dbl_5 = _bconv(c7, 192, (1, 7), p=(0, 3))
        self.pool = nn.AvgPool2d(3, 1, 1)
        self.branch_pool = _bconv(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            bd = layer(bd)
        bd = self.branch7x7dbl_5(bd)
        return torch.cat([b1, b7, bd, self.branch_pool(self.pool(x))], 1)


class InceptionD(nn.Module):
    """17×17 -> 8×8 grid reduction: 1×1 -> 3×3/2 | 1×1 -> 1×7 -> 7×1 -> 3×3/2 | max pool."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3_1 = _bconv(in_ch, 192, 1)
        self.branch3x3_2 = _bconv(192, 320, 3, 2)
        self.branch7x7x3_1 = _bconv(in_ch, 192, 1)
        self.branch7x7x3_2 = _bconv(192, 192, (1, 7), p=(0, 3))
        self.branch7x7x3_3 = _bconv(192, 192, (7, 1), p=(3, 0))
        self.branch7x7x3_4 = _bconv(192, 192, 3, 2)
        self.pool = nn.MaxPool2d(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([b3, b7, self.pool(x)], 1)


class InceptionE(nn.Module):
    """8×8 module with expanded filter banks (1×3 and 3×1 side by side)."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch1x1 = _bconv(in_ch, 320, 1)
        self.branch3x3_1 = _bconv(in_ch, 384, 1)
        self.branch3x3_2a = _bconv(384, 384, (1, 3), p=(0, 1))
        self.branch3x3_2b = _bconv(384, 384, (3, 1), p=(1, 0))
        self.branch3x3dbl_1 = _bconv(in_ch, 448, 1)
        self.branch3x3dbl_2 = _bconv(448, 384, 3, p=1)
        self.branch3x3dbl_3a = _bconv(384, 384, (1, 3), p=(0, 1))
        self.branch3x3dbl_3b = _bconv(384, 384, (3, 1), p=(1, 0))
        self.pool = nn.AvgPool2d(3, 1, 1)
        self.branch_pool = _bconv(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        return torch.cat([b1, b3, bd, self.branch_pool(self.pool(x))], 1)


class InceptionAux(nn.Module):
    """Inception-v3 auxiliary head on the 17×17×768 maps: avg 5×5/3 -> 1×1 128 -> 5×5 768 ->
    global pool -> fc. (N, 768, 17, 17) -> (N, num_classes)."""

    def __init__(self, in_ch: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(5, 3)
        self.conv0 = _bconv(in_ch, 128, 1)
        self.conv1 = _bconv(128, 768, 5)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.conv0(self.pool(x)))
        return self.fc(self.flatten(self.avgpool(x)))


# Inception-v3 after the stem: (name, module kind, argument) as in torchvision's Inception3.
INCEPTION_V3_TABLE: tuple[tuple[str, str, int], ...] = (
    ("Mixed_5b", "A", 32),
    ("Mixed_5c", "A", 64),
    ("Mixed_5d", "A", 64),
    ("Mixed_6a", "B", 0),
    ("Mixed_6b", "C", 128),
    ("Mixed_6c", "C", 160),
    ("Mixed_6d", "C", 160),
    ("Mixed_6e", "C", 192),
    ("Mixed_7a", "D", 0),
    ("Mixed_7b", "E", 0),
    ("Mixed_7c", "E", 0),
)
_V3_OUT = {"A": lambda c, a: 224 + a, "B": lambda c, a: c + 480, "C": lambda c, a: 768,
           "D": lambda c, a: c + 512, "E": lambda c, a: 2048}  # fmt: skip


class Inception3(nn.Module):
    """Inception-v3 with torchvision's module names; see ``inception_v3``."""

    def __init__(
        self,
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        aux_logits: bool = False,
        dropout: float = 0.5,
        transform_input: bool = False,
    ) -> None:
        super().__init__()
        num_classes = as_int(num_classes, "num_classes", minimum=1)
        in_channels = as_int(in_channels, "in_channels", minimum=1)
        dropout = check_dropout(dropout)
        self.aux_logits = bool(aux_logits)
        transform_input = _check_bool(transform_input, "transform_input")
        if transform_input and in_channels != 3:
            raise ValueError(f"transform_input needs in_channels=3, got {in_channels}")
        self.transform_input = TransformInput() if transform_input else None
        self.Conv2d_1a_3x3 = _bconv(in_channels, 32, 3, 2)
        self.Conv2d_2a_3x3 = _bconv(32, 32, 3)
        self.Conv2d_2b_3x3 = _bconv(32, 64, 3, p=1)
        self.maxpool1 = nn.MaxPool2d(3, 2)
        self.Conv2d_3b_1x1 = _bconv(64, 80, 1)
        self.Conv2d_4a_3x3 = _bconv(80, 192, 3)
        self.maxpool2 = nn.MaxPool2d(3, 2)
        kinds = {"A": InceptionA, "B": InceptionB, "C": InceptionC, "D": InceptionD}
        channels = 192
        for name, kind, arg in INCEPTION_V3_TABLE:
            cls = kinds.get(kind, InceptionE)
            setattr(self, name, cls(channels, arg) if arg else cls(channels))
            channels = _V3_OUT[kind](channels, arg)
            if name == "Mixed_6e":
                self.AuxLogits = InceptionAux(768, num_classes) if self.aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(2048, num_classes)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        if self.transform_input is not None:
            x = self.transform_input(x)
        for layer in (self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3, self.maxpool1):
            x = layer(x)
        for layer in (self.Conv2d_3b_1x1, self.Conv2d_4a_3x3, self.maxpool2):
            x = layer(x)
        aux = None
        for name, _, _ in INCEPTION_V3_TABLE:
            x = getattr(self, name)(x)
            if name == "Mixed_6e" and self.AuxLogits is not None and self.training:
                aux = self.AuxLogits(x)
        x = self.fc(self.flatten(self.dropout(self.avgpool(x))))
        return InceptionOutputs(x, aux) if aux is not None else x


@register(
    "inception_v3",
    input_size=(3, 299, 299),
    scale="imagenet",
    paper=SZEGEDY2016,
    tags=("inception",),
)
def inception_v3(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    aux_logits: bool = False,
    dropout: float = 0.5,
    transform_input: bool = False,
) -> nn.Module:
    """Inception-v3 (Szegedy et al. 2016): (N, 3, 299, 299) -> (N, num_classes).

    The released (TF-slim / torchvision) network: stem of five convolutions and two max pools
    (299 -> 35), three 35×35 modules (``InceptionA``), a grid reduction, four 17×17 modules
    with factorised 7×7 convolutions, a grid reduction, two 8×8 modules with expanded filter
    banks, global average pool, dropout, fc. Conv -> BN (eps 1e-3) -> ReLU throughout.
    23,834,568 parameters; 27,161,264 with ``aux_logits=True`` — torchvision's counts, with its
    module names (``Conv2d_1a_3x3``, ``Mixed_5b``, ``AuxLogits`` ...), so its weights load
    and give torchvision's outputs. A torchvision file holds the auxiliary head
    (``AuxLogits.*``); :func:`cnnlab.models.load_pretrained` drops it when the model has none
    (``drop_aux=True``, its default), or build with ``aux_logits=True`` to keep it.
    ``transform_input=True`` re-scales ImageNet-normalised input to the [-1, 1] range of the
    Google-trained weights, as torchvision does for its pretrained inception_v3
    (:class:`TransformInput`).

    Deviations from the paper
        * The paper's Table 1 (e.g. a 3×3 conv to 80 maps and a 35×35×288 input to the first
          modules) does not match the released network or its own figures; the released one is
          used. Not modelled: label smoothing and the BN auxiliary head variant (training).
        * ``aux_logits`` defaults to False (torchvision: True); pools are modules (named
          ``pool``), not functional calls, so they appear in cost tables — no new parameters.
        * The family deviations (initialisation: torchvision uses truncated normals).
    """
    return Inception3(
        num_classes=num_classes,
        in_channels=in_channels,
        aux_logits=aux_logits,
        dropout=dropout,
        transform_input=transform_input,
    )


# ----------------------------------------------------------------------------------------------
# Inception-v4 and Inception-ResNet-v2: modules as tables of branches.


@dataclass(frozen=True)
class Conv:
    """conv -> BN (eps 1e-3) -> ReLU; ``padding=None`` is "same", 0 is the papers' "V"."""

    out: int
    kernel: int | tuple[int, int] = 1
    stride: int = 1
    padding: int | None = None


@dataclass(frozen=True)
class Pool:
    """A max or average pool (average pools exclude the padding, as TensorFlow's "SAME")."""

    kind: str
    kernel: int = 3
    stride: int = 1
    padding: int = 0


@dataclass(frozen=True)
class Mixed:
    """Parallel branches, each a sequence of ops, concatenated along channels."""

    branches: tuple[tuple[Conv | Pool | Mixed, ...], ...]


Op = Conv | Pool | Mixed
V = 0  # "valid" padding, the papers' "V"


class Concat(nn.Module):
    """Run each branch on the input and concatenate the outputs along channels."""

    def __init__(self, branches: Sequence[nn.Module], out_channels: int) -> None:
        super().__init__()
        for i, branch in enumerate(branches):
            self.add_module(f"branch{i}", branch)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.children()], dim=1)


def build_ops(ops: Sequence[Op], in_ch: int) -> tuple[nn.Module, int]:
    """Build a sequence of table ops; returns the module and its number of output maps."""
    layers: list[nn.Module] = []
    channels = in_ch
    for op in ops:
        if isinstance(op, Conv):
            layers.append(
                ConvBNAct(channels, op.out, op.kernel, op.stride, op.padding, bn_eps=1e-3)
            )
            channels = op.out
        elif isinstance(op, Pool):
            if op.kind == "max":
                layers.append(nn.MaxPool2d(op.kernel, op.stride, op.padding))
            else:
                layers.append(
                    nn.AvgPool2d(op.kernel, op.stride, op.padding, count_include_pad=False)
                )
        else:
            built = [build_ops(branch, channels) for branch in op.branches]
            channels = sum(c for _, c in built)
            layers.append(Concat([m for m, _ in built], channels))
    module = layers[0] if len(layers) == 1 else nn.Sequential(*layers)
    return module, channels


# Inception-v4 (Figures 3-8); Reduction-A with k, l, m, n = 192, 224, 256, 384 (Table 1).
INCEPTION_V4_STEM: tuple[Op, ...] = (
    Conv(32, 3, 2, V),
    Conv(32, 3, 1, V),
    Conv(64, 3),
    Mixed(((Pool("max", 3, 2),), (Conv(96, 3, 2, V),))),
    Mixed(
        (
            (Conv(64, 1), Conv(96, 3, 1, V)),
            (Conv(64, 1), Conv(64, (7, 1)), Conv(64, (1, 7)), Conv(96, 3, 1, V)),
        )
    ),
    Mixed(((Conv(192, 3, 2, V),), (Pool("max", 3, 2),))),
)
INCEPTION_V4_A = Mixed(
    (
        (Pool("avg", 3, 1, 1), Conv(96, 1)),
        (Conv(96, 1),),
        (Conv(64, 1), Conv(96, 3)),
        (Conv(64, 1), Conv(96, 3), Conv(96, 3)),
    )
)
INCEPTION_V4_REDUCTION_A = Mixed(
    (
        (Pool("max", 3, 2),),
        (Conv(384, 3, 2, V),),
        (Conv(192, 1), Conv(224, 3), Conv(256, 3, 2, V)),
    )
)
INCEPTION_V4_B = Mixed(
    (
        (Pool("avg", 3, 1, 1), Conv(128, 1)),
        (Conv(384, 1),),
        (Conv(192, 1), Conv(224, (1, 7)), Conv(256, (7, 1))),
        (Conv(192, 1), Conv(192, (1, 7)), Conv(224, (7, 1)), Conv(224, (1, 7)), Conv(256, (7, 1))),
    )
)
INCEPTION_V4_REDUCTION_B = Mixed(
    (
        (Pool("max", 3, 2),),
        (Conv(192, 1), Conv(192, 3, 2, V)),
        (Conv(256, 1), Conv(256, (1, 7)), Conv(320, (7, 1)), Conv(320, 3, 2, V)),
    )
)
_SPLIT_256 = Mixed(((Conv(256, (1, 3)),), (Conv(256, (3, 1)),)))
INCEPTION_V4_C = Mixed(
    (
        (Pool("avg", 3, 1, 1), Conv(256, 1)),
        (Conv(256, 1),),
        (Conv(384, 1), _SPLIT_256),
        (Conv(384, 1), Conv(448, (1, 3)), Conv(512, (3, 1)), _SPLIT_256),
    )
)
# (stage name, op, repeats): Figure 9.
INCEPTION_V4_LAYOUT: tuple[tuple[str, Op, int], ...] = (
    ("inception_a", INCEPTION_V4_A, 4),
    ("reduction_a", INCEPTION_V4_REDUCTION_A, 1),
    ("inception_b", INCEPTION_V4_B, 7),
    ("reduction_b", INCEPTION_V4_REDUCTION_B, 1),
    ("inception_c", INCEPTION_V4_C, 3),
)


def _head(layers: OrderedDict[str, nn.Module], channels: int, num_classes: int, p: float) -> None:
    layers["avgpool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten(1)
    layers["dropout"] = nn.Dropout(p)
    layers["fc"] = nn.Linear(channels, num_classes)


@register(
    "inception_v4",
    input_size=(3, 299, 299),
    scale="imagenet",
    paper=SZEGEDY2017,
    tags=("inception",),
)
def inception_v4(
    *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.2
) -> nn.Module:
    """Inception-v4 (Szegedy et al. 2017, Figure 9): (N, 3, 299, 299) -> (N, num_classes).

    Stem (Figure 3, 299 -> 35×35×384), 4 × Inception-A, Reduction-A (k, l, m, n = 192, 224,
    256, 384), 7 × Inception-B, Reduction-B, 3 × Inception-C (1536 maps at 8×8), global average
    pool, dropout (keep 0.8), fc. Every op is a table row (``INCEPTION_V4_*``); convolutions are
    conv -> BN (eps 1e-3) -> ReLU. 42,679,816 parameters, the count of the TF-slim release's
    PyTorch ports (timm, Cadene) at 1000 classes.

    Deviations from the paper: the family deviations; the ordering of 1×7/7×1 pairs and of the
    concatenated branches follows the figures (the TF release swaps some; same parameters).
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    dropout = check_dropout(dropout)
    stem, channels = build_ops(INCEPTION_V4_STEM, in_channels)
    layers: OrderedDict[str, nn.Module] = OrderedDict(stem=stem)
    for name, op, repeats in INCEPTION_V4_LAYOUT:
        blocks = []
        for _ in range(repeats):
            block, channels = build_ops((op,), channels)
            blocks.append(block)
        layers[name] = blocks[0] if repeats == 1 else nn.Sequential(*blocks)
    _head(layers, channels, num_classes, dropout)
    model = nn.Sequential(layers)
    _init_weights(model)
    return model


class InceptionResidual(nn.Module):
    """Inception-ResNet block: x + scale · conv1×1(concat(branches(x))), then ReLU.

    The 1×1 "up" convolution restores the input width; it has a bias and no BN or ReLU.
    (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, in_ch: int, branches: Mixed, scale: float, activate: bool = True) -> None:
        super().__init__()
        self.branches, width = build_ops((branches,), in_ch)
        self.up = nn.Conv2d(width, in_ch, 1, bias=True)
        self.scale = float(scale)
        self.act = nn.ReLU() if activate else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x + self.scale * self.up(self.branches(x))
        return self.act(y) if self.act is not None else y

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}"


# Inception-ResNet-v2 as released (TF-slim), see the builder's docstring.
IRV2_STEM: tuple[Op, ...] = (
    Conv(32, 3, 2, V),
    Conv(32, 3, 1, V),
    Conv(64, 3),
    Pool("max", 3, 2),
    Conv(80, 1),
    Conv(192, 3, 1, V),
    Pool("max", 3, 2),
    Mixed(
        (
            (Conv(96, 1),),
            (Conv(48, 1), Conv(64, 5)),
            (Conv(64, 1), Conv(96, 3), Conv(96, 3)),
            (Pool("avg", 3, 1, 1), Conv(64, 1)),
        )
    ),
)
IRV2_A = Mixed(
    ((Conv(32, 1),), (Conv(32, 1), Conv(32, 3)), (Conv(32, 1), Conv(48, 3), Conv(64, 3)))
)
IRV2_REDUCTION_A = Mixed(
    ((Conv(384, 3, 2, V),), (Conv(256, 1), Conv(256, 3), Conv(384, 3, 2, V)), (Pool("max", 3, 2),))
)
IRV2_B = Mixed(((Conv(192, 1),), (Conv(128, 1), Conv(160, (1, 7)), Conv(192, (7, 1)))))
IRV2_REDUCTION_B = Mixed(
    (
        (Conv(256, 1), Conv(384, 3, 2, V)),
        (Conv(256, 1), Conv(288, 3, 2, V)),
        (Conv(256, 1), Conv(288, 3), Conv(320, 3, 2, V)),
        (Pool("max", 3, 2),),
    )
)
IRV2_C = Mixed(((Conv(192, 1),), (Conv(192, 1), Conv(224, (1, 3)), Conv(256, (3, 1)))))
IRV2_REPEATS: tuple[int, int, int] = (10, 20, 10)  # the last C block has no ReLU
IRV2_SCALES: tuple[float, float, float] = (0.17, 0.10, 0.20)


@register(
    "inception_resnet_v2",
    input_size=(3, 299, 299),
    scale="imagenet",
    paper=SZEGEDY2017,
    tags=("inception",),
)
def inception_resnet_v2(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    dropout: float = 0.2,
    residual_scale: float | tuple[float, float, float] | None = None,
) -> nn.Module:
    """Inception-ResNet-v2 (Szegedy et al. 2017): (N, 3, 299, 299) -> (N, num_classes).

    Stem to 35×35×320, 10 × Inception-ResNet-A (320 maps), Reduction-A (1088), 20 ×
    Inception-ResNet-B, Reduction-B (2080), 10 × Inception-ResNet-C (the last without ReLU),
    1×1 conv to 1536, global average pool, dropout (keep 0.8), fc. Each residual block adds
    ``scale · conv1×1(branches(x))`` to its input (Section 3.3: scaling by 0.1-0.3 stabilises
    training). 55,843,464 parameters, the count of the TF-slim release's PyTorch ports (timm).

    ``residual_scale``: one float for all blocks or (A, B, C); default (0.17, 0.10, 0.20), the
    release's values. As released, the very last C block has scale 1 and no ReLU.

    Deviations from the paper
        * The paper's figures do not add up for v2 (Figure 17's 1×1 expands to 1154 maps on a
          1152-map input, Reduction-B's output is not what Figure 19 expects) and its Figure 15
          shows 5/10/5 blocks on the Figure 3 stem; the authors' released model (TF-slim, used
          here as in timm) has the stem above, 10/20/10 blocks and 320/1088/2080 maps.
        * The family deviations.
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    dropout = check_dropout(dropout)
    if residual_scale is None:
        scales = IRV2_SCALES
    elif isinstance(residual_scale, (int, float)) and not isinstance(residual_scale, bool):
        scales = (float(residual_scale),) * 3
    elif isinstance(residual_scale, Sequence) and len(residual_scale) == 3:
        scales = tuple(_check_float(s, "residual_scale", 0.0, 10.0) for s in residual_scale)
    else:
        raise TypeError(
            "residual_scale must be a float or a tuple of 3 floats (A, B, C), got "
            f"{residual_scale!r}"
        )
    for s in scales:
        _check_float(s, "residual_scale", 0.0, 10.0)
    stem, channels = build_ops(IRV2_STEM, in_channels)
    layers: OrderedDict[str, nn.Module] = OrderedDict(stem=stem)
    stages = (
        ("block_a", IRV2_A, "reduction_a", IRV2_REDUCTION_A),
        ("block_b", IRV2_B, "reduction_b", IRV2_REDUCTION_B),
        ("block_c", IRV2_C, None, None),
    )
    for (name, block, red_name, red), repeats, scale in zip(
        stages, IRV2_REPEATS, scales, strict=True
    ):
        blocks = [InceptionResidual(channels, block, scale) for _ in range(repeats)]
        if name == "block_c":  # as released: the last block has scale 1 and no ReLU
            blocks[-1] = InceptionResidual(channels, block, 1.0, activate=False)
        layers[name] = nn.Sequential(*blocks)
        if red is not None:
            layers[red_name], channels = build_ops((red,), channels)
    layers["conv_final"] = ConvBNAct(channels, 1536, 1, bn_eps=1e-3)
    _head(layers, 1536, num_classes, dropout)
    model = nn.Sequential(layers)
    _init_weights(model)
    return model
