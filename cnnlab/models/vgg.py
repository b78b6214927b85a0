"""VGG configurations A, A-LRN, B, C, D, E from one table, at ImageNet and at course scale.

Paper
    K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
    Recognition", ICLR 2015 (arXiv:1409.1556) — Table 1 (configurations) and Table 2
    (parameters: 133, 133, 133, 134, 138, 144 million).

``VGG_CFGS`` is Table 1 as data (an int is a 3×3 convolution with that many maps, ``(1, n)`` a
1×1 convolution, ``"M"`` a 2×2/2 max pool, ``"LRN"`` local response normalisation);
``build_vgg`` builds any column. The ImageNet models keep torchvision's module names and indices
(``features.0``, ``classifier.0``/``3``/``6``), so a torchvision ``vgg16`` or ``vgg16_bn``
state dict loads into ``vgg16``/``vgg16_bn`` unchanged (A-LRN and C have no torchvision twin).

Registered names
    ImageNet (3×224×224): ``vgg11`` (A), ``vgg11_lrn`` (A-LRN), ``vgg13`` (B), ``vgg16_1x1``
    (C), ``vgg16`` (D), ``vgg19`` (E), and each with ``_bn``.
    Course (3×32×32): ``vgg11_course``, ``vgg13_course``, ``vgg16_course``, ``vgg19_course``
    and each ``_bn_course``.

Deviations, for every model of the family
    * An adaptive average pool to 7×7 sits between the convolutions and fc6 (as torchvision):
      a no-op at 224×224 that lets the model accept other sizes. The paper instead turns the FC
      layers into convolutions for "dense" evaluation at test time: see
      ``to_fully_convolutional``.
    * Initialisation as torchvision (He normal for convolutions, N(0, 0.01) for FC layers,
      zero biases); the paper trained A from N(0, 0.01) and initialised deeper nets from it.
    * ``_bn`` models add batch normalisation after every convolution (not in the paper, which
      predates it; torchvision's ``vgg*_bn``). A-LRN's LRN uses AlexNet's constants (k=2, n=5,
      α=1e-4, β=0.75), as the paper says.
    * ``in_channels``/``num_classes`` replace the 3 inputs and 1000 outputs.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import nn

from cnnlab._validate import as_int
from cnnlab.models.layers import LRN, check_dropout, init_weights, make_classifier
from cnnlab.models.registry import register

SIMONYAN2015 = (
    "Simonyan, Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, "
    "ICLR 2015 (arXiv:1409.1556)"
)

CfgItem = int | str | tuple[int, int]

# Table 1 of the paper, one column per configuration.
VGG_CFGS: dict[str, tuple[CfgItem, ...]] = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "A-LRN": (64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "C": (
        64, 64, "M", 128, 128, "M", 256, 256, (1, 256), "M",
        512, 512, (1, 512), "M", 512, 512, (1, 512), "M",
    ),
    "D": (
        64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
    ),
    "E": (
        64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
        512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
    ),
}  # fmt: skip

# Registered depth -> configuration.
_NAMES: dict[str, str] = {
    "vgg11": "A",
    "vgg11_lrn": "A-LRN",
    "vgg13": "B",
    "vgg16_1x1": "C",
    "vgg16": "D",
    "vgg19": "E",
}


def make_vgg_features(
    cfg: Sequence[CfgItem], *, batch_norm: bool = False, in_channels: int = 3, width: float = 1.0
) -> tuple[nn.Sequential, int]:
    """The convolutional part of a configuration, and its number of output maps.

    Layers follow torchvision's ``make_layers``: conv -> [BN] -> ReLU, and the pools, all in one
    ``nn.Sequential`` so the indices (and state-dict keys) match torchvision's.
    """
    layers: list[nn.Module] = []
    channels = as_int(in_channels, "in_channels", minimum=1)
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif item == "LRN":
            layers.append(LRN(5, alpha=1e-4, beta=0.75, k=2.0))
        else:
            kernel, maps = item if isinstance(item, tuple) else (3, item)
            out = max(1, round(maps * width))
            layers.append(nn.Conv2d(channels, out, kernel, padding=kernel // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU())
            channels = out
    return nn.Sequential(*layers), channels


def build_vgg(
    cfg: str,
    *,
    batch_norm: bool = False,
    scale: str = "imagenet",
    num_classes: int = 1000,
    in_channels: int = 3,
    dropout: float = 0.5,
    width_mult: float = 1.0,
) -> nn.Sequential:
    """Build configuration ``cfg`` ("A" ... "E") at ``scale`` "imagenet" or "course".

    ImageNet: (N, C, 224, 224) -> features (N, 512, 7, 7) -> adaptive pool 7×7 -> fc 4096,
    4096 -> num_classes. Course: (N, C, 32, 32) -> features (N, 512·w, 1, 1) -> fc 512·w,
    512·w -> num_classes, with ``w = width_mult``.
    """
    if cfg not in VGG_CFGS:
        raise ValueError(f"unknown VGG configuration {cfg!r}; valid: {', '.join(VGG_CFGS)}")
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    dropout = check_dropout(dropout)
    if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)):
        raise TypeError(f"width_mult must be a positive float, got {width_mult!r}")
    if width_mult <= 0:
        raise ValueError(f"width_mult must be a positive float, got {width_mult!r}")
    features, maps = make_vgg_features(
        VGG_CFGS[cfg], batch_norm=batch_norm, in_channels=in_channels, width=width_mult
    )
    layers: OrderedDict[str, nn.Module] = OrderedDict(features=features)
    if scale == "imagenet":
        layers["avgpool"] = nn.AdaptiveAvgPool2d((7, 7))
        layers["flatten"] = nn.Flatten(1)
        layers["classifier"] = make_classifier(
            maps * 7 * 7, (4096, 4096), num_classes, dropout=dropout
        )
    elif scale == "course":
        hidden = max(1, round(512 * width_mult))
        layers["flatten"] = nn.Flatten(1)
        layers["classifier"] = make_classifier(maps, (hidden, hidden), num_classes, dropout=dropout)
    else:
        raise ValueError(f"scale must be 'imagenet' or 'course', got {scale!r}")
    model = nn.Sequential(layers)
    init_weights(model, linear_std=0.01, zero_bias=True)  # as torchvision's VGG
    return model


def _last_conv_maps(features: nn.Module) -> int:
    convs = [m for m in features.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise TypeError("model.features has no convolution: not a VGG from cnnlab.models")
    return convs[-1].out_channels


def linear_as_conv(fc: nn.Linear, in_shape: tuple[int, int, int]) -> nn.Conv2d:
    """The convolution equal to ``fc`` acting on a flattened (C, H, W) map: kernel H×W.

    ``fc``: (N, C·H·W) -> (N, out); the result: (N, C, H, W) -> (N, out, 1, 1), and on a larger
    map (N, C, H', W') -> (N, out, H' - H + 1, W' - W + 1): the FC layer slid over the map.
    Its weight is ``fc.weight`` reshaped to (out, C, H, W) (the order ``Flatten`` uses).
    """
    c, h, w = (as_int(v, "in_shape", minimum=1) for v in in_shape)
    if fc.in_features != c * h * w:
        raise ValueError(f"the linear layer takes {fc.in_features} inputs, not C·H·W = {c}·{h}·{w}")
    conv = nn.Conv2d(c, fc.out_features, (h, w), bias=fc.bias is not None)
    conv = conv.to(fc.weight.device, fc.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(fc.weight.reshape(fc.out_features, c, h, w))
        if fc.bias is not None:
            conv.bias.copy_(fc.bias)
    return conv


def to_fully_convolutional(model: nn.Sequential) -> nn.Sequential:
    """The same VGG with its FC layers as convolutions ("dense" evaluation, paper section 3.2).

    ImageNet models: fc6 becomes a 7×7 convolution, fc7 and fc8 1×1 ones, and the adaptive
    pool is dropped: (N, C, H, W) -> (N, classes, (H - 224) / 32 + 1, (W - 224) / 32 + 1).
    Course models (fc6 on a 1×1 map): every FC layer becomes a 1×1 convolution:
    (N, C, H, W) -> (N, classes, H / 32, W / 32). At the design size the single score vector
    equals ``model``'s output exactly; weights are copied, not shared.
    """
    if not (isinstance(model, nn.Sequential) and hasattr(model, "classifier")):
        raise TypeError("model must be a VGG from cnnlab.models (with .features, .classifier)")
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    maps = _last_conv_maps(model.features)
    side = round((linears[0].in_features // maps) ** 0.5)
    if maps * side * side != linears[0].in_features:
        raise ValueError(
            f"fc6 takes {linears[0].in_features} inputs, not {maps}·k·k for a square k×k map"
        )
    layers: list[nn.Module] = []
    for m in model.classifier:
        if isinstance(m, nn.Linear):
            k = side if m is linears[0] else 1
            layers.append(linear_as_conv(m, (m.in_features // (k * k), k, k)))
        else:
            layers.append(copy.deepcopy(m))
    dense = nn.Sequential(
        OrderedDict(features=copy.deepcopy(model.features), classifier=nn.Sequential(*layers))
    )
    return dense.train(model.training)


fully_convolutional = to_fully_convolutional  # the name of earlier versions


_IMAGENET_DOC = """{title} (Simonyan & Zisserman 2015, Table 1, configuration {cfg}){bn}.

    (N, 3, 224, 224) -> (N, num_classes); {params} parameters{tv}. Options: ``dropout`` (0.5,
    on fc6 and fc7). Deviations from the paper: the family deviations in the module docstring
    (adaptive 7×7 pool, torchvision initialisation{bn_dev}).
    """

_COURSE_DOC = """{title} at course scale: configuration {cfg} of Simonyan & Zisserman (2015){bn}.

    (N, 3, 32, 32) -> (N, num_classes); {params} parameters with the defaults.

    What was scaled (deviations from the paper)
        * 32×32 input: the five 2×2 pools take it to 1×1×512, so fc6 sees 512 values
          (not 7×7×512) and there is no adaptive pool.
        * The hidden FC layers have 512 units, not 4096 (``width_mult`` scales them and every
          convolution: ``width_mult=0.25`` gives 16-32-64-128-128 maps).
        * torchvision initialisation{bn_dev}; ``num_classes`` defaults to 10.
    """


def _make(name: str, cfg: str, batch_norm: bool, scale: str) -> Callable[..., nn.Module]:
    if scale == "imagenet":

        def builder(
            *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5
        ) -> nn.Module:
            return build_vgg(
                cfg,
                batch_norm=batch_norm,
                num_classes=num_classes,
                in_channels=in_channels,
                dropout=dropout,
            )

    else:

        def builder(
            *,
            num_classes: int = 10,
            in_channels: int = 3,
            dropout: float = 0.5,
            width_mult: float = 1.0,
        ) -> nn.Module:
            return build_vgg(
                cfg,
                batch_norm=batch_norm,
                scale="course",
                num_classes=num_classes,
                in_channels=in_channels,
                dropout=dropout,
                width_mult=width_mult,
            )

    torchvision_twin = cfg not in ("A-LRN", "C")
    template = _IMAGENET_DOC if scale == "imagenet" else _COURSE_DOC
    builder.__doc__ = template.format(
        title=f"VGG {name}",
        cfg=cfg,
        bn=", with batch normalisation" if batch_norm else "",
        bn_dev=", batch norm after every convolution" if batch_norm else "",
        params=_PARAM_COUNTS[(cfg, batch_norm, scale)],
        tv="; the same modules and count as torchvision's" if torchvision_twin else "",
    )
    builder.__name__ = builder.__qualname__ = name
    input_size = (3, 224, 224) if scale == "imagenet" else (3, 32, 32)
    return register(name, input_size=input_size, scale=scale, paper=SIMONYAN2015, tags=("vgg",))(
        builder
    )


# Counts at the default options (num_classes 1000 / 10, in_channels 3), pinned by the tests.
_PARAM_COUNTS: dict[tuple[str, bool, str], str] = {
    ("A", False, "imagenet"): "132,863,336",
    ("A", True, "imagenet"): "132,868,840",
    ("A-LRN", False, "imagenet"): "132,863,336",
    ("A-LRN", True, "imagenet"): "132,868,840",
    ("B", False, "imagenet"): "133,047,848",
    ("B", True, "imagenet"): "133,053,736",
    ("C", False, "imagenet"): "133,638,952",
    ("C", True, "imagenet"): "133,647,400",
    ("D", False, "imagenet"): "138,357,544",
    ("D", True, "imagenet"): "138,365,992",
    ("E", False, "imagenet"): "143,667,240",
    ("E", True, "imagenet"): "143,678,248",
    ("A", False, "course"): "9,750,922",
    ("A", True, "course"): "9,756,426",
    ("B", False, "course"): "9,935,434",
    ("B", True, "course"): "9,941,322",
    ("D", False, "course"): "15,245,130",
    ("D", True, "course"): "15,253,578",
    ("E", False, "course"): "20,554,826",
    ("E", True, "course"): "20,565,834",
}

for _name, _cfg in _NAMES.items():
    for _bn in (False, True):
        _make(f"{_name}{'_bn' if _bn else ''}", _cfg, _bn, "imagenet")
for _name in ("vgg11", "vgg13", "vgg16", "vgg19"):
    for _bn in (False, True):
        _make(f"{_name}{'_bn' if _bn else ''}_course", _NAMES[_name], _bn, "course")

__all__ = [
    "VGG_CFGS",
    "build_vgg",
    "fully_convolutional",
    "linear_as_conv",
    "make_vgg_features",
    "to_fully_convolutional",
]
