"""MobileNet v1: a stack of depthwise separable convolutions, with a width multiplier.

Paper
    Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto, Adam, "MobileNets: Efficient
    Convolutional Neural Networks for Mobile Vision Applications", arXiv:1704.04861 (2017) —
    Table 1 (body), Section 3.1 (cost ratio 1/N + 1/D_K²), Section 3.3 (width multiplier α),
    Tables 6 and 7.

A depthwise separable convolution factors a D_K×D_K convolution from M to N channels into a
depthwise D_K×D_K convolution (one filter per input channel) and a pointwise 1×1 convolution,
each followed by BN and ReLU. It costs ``D_K²·M·D_F² + M·N·D_F²`` multiply-adds instead of
``D_K²·M·N·D_F²``: the ratio is ``1/N + 1/D_K²`` (:func:`separable_cost_ratio`).

``mobilenet_v1`` (α = 1, 224×224): 4,231,976 parameters and 568.7 M multiply-adds, classifier
included (paper: 4.2 M and 569 M); at 192/160/128 pixels 418.1/290.7/186.4 M (paper
418/290/186). One builder, :func:`build_mobilenet`, makes every configuration from
:data:`MOBILENET_V1`.

Deviations
    * Table 1 lists the second-to-last depthwise convolution with stride 2; the output stays
      7×7, so it is stride 1 here (as in the authors' TensorFlow code).
    * Width multiplier: a layer of ``c`` channels gets ``max(8, int(α·c))``, the rounding of the
      authors' code (the paper only says αM, αN).
    * The fixed 7×7 average pool is adaptive, so the resolution multiplier (inputs 192, 160,
      128) needs no change. No softmax layer (the loss applies it).
    * ``dropout`` (default 0) before the classifier; the released models use 0.001.
    * ``mobilenet_v1_cifar`` is our own course configuration (not in the paper): the same body
      with a stride-1 stem, so a 32×32 input is reduced 16× to 2×2 before pooling.
    * ``activation="relu"`` (default) is the paper's ReLU; the authors' released TensorFlow
      checkpoints were trained with ReLU6, ``min(max(x, 0), 6)``: pass ``activation="relu6"``
      to run converted released weights as trained. The choice adds no parameters.

No torchvision counterpart: torchvision has MobileNet v2 and v3 only, so no torchvision
``state_dict`` loads into these models (``docs/pretrained.md``).
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

from cnnlab._validate import as_int, as_pair, check_choice
from cnnlab.models.layers import ConvBNAct, check_dropout, init_weights
from cnnlab.models.registry import register
from cnnlab.models.resnet import check_model_input

HOWARD2017 = (
    "Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
    "Applications, arXiv:1704.04861 (2017)"
)

# (output channels, stride) of the 13 depthwise separable layers after the 32-channel stem.
MOBILENET_V1: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)
STEM_CHANNELS = 32
# Our course-scale body (not in the paper): the first five separable layers of Table 1, for
# 16×16 or 32×32 inputs with a stride-1 stem (topic 13 trains it on the shapes images).
MOBILENET_COURSE: tuple[tuple[int, int], ...] = MOBILENET_V1[:5]


def standard_mult_adds(k: int, m: int, n: int, f: int) -> int:
    """Multiply-adds of a standard k×k convolution, M -> N maps, on an F×F output:
    ``k²·M·N·F²`` (Howard et al. Eq. 2)."""
    return k * k * m * n * f * f


def separable_mult_adds(k: int, m: int, n: int, f: int) -> int:
    """Multiply-adds of a depthwise separable convolution on an F×F output: depthwise
    ``k²·M·F²`` plus pointwise ``M·N·F²`` (Howard et al. Eq. 4)."""
    return k * k * m * f * f + m * n * f * f


def separable_conv(in_ch: int, out_ch: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    """The separable layer as one flat ``nn.Sequential`` (the paper's Figure 3, right):
    depthwise k×k conv (groups=in_ch, padding k//2, no bias), BN, ReLU, pointwise 1×1 conv (no
    bias), BN, ReLU. ``(N, in_ch, H, W) -> (N, out_ch, H/stride, W/stride)``; the same layers
    as :class:`DepthwiseSeparableConv`, numbered 0–5 (the reference of topic 13's exercise).
    """
    cin = as_int(in_ch, "in_ch", minimum=1)
    cout = as_int(out_ch, "out_ch", minimum=1)
    k = as_int(k, "k", minimum=1)
    s = as_int(stride, "stride", minimum=1)
    return nn.Sequential(
        nn.Conv2d(cin, cin, k, s, padding=k // 2, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU(),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(),
    )


def separable_cost_ratio(n_out: int, k: int | tuple[int, int]) -> float:
    """Cost of a depthwise separable convolution relative to a standard one: ``1/N + 1/K²``.

    ``n_out`` is the number of output channels N; ``k`` the kernel size D_K (or ``(kh, kw)``,
    giving ``1/N + 1/(kh·kw)``). Independent of the input channels and of the map size.
    """
    n = as_int(n_out, "n_out", minimum=1)
    kh, kw = as_pair(k, "k", minimum=1)
    return 1.0 / n + 1.0 / (kh * kw)


ACTIVATIONS = ("relu", "relu6")


def _check_activation(activation: object) -> str:
    if not isinstance(activation, str):
        raise TypeError(f"activation must be 'relu' or 'relu6', got {activation!r}")
    return check_choice(activation, "activation", ACTIVATIONS)


class DepthwiseSeparableConv(nn.Module):
    """Depthwise k×k conv-BN-ReLU then pointwise 1×1 conv-BN-ReLU (Howard et al. Fig. 3).

    ``activation``: ``"relu"`` (the paper) or ``"relu6"`` (the released weights).

    ``(N, in_channels, H, W) -> (N, out_channels, H/stride, W/stride)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernel_size: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        cin = as_int(in_channels, "in_channels", minimum=1)
        cout = as_int(out_channels, "out_channels", minimum=1)
        k = as_int(kernel_size, "kernel_size", minimum=1)
        act = _check_activation(activation)
        s = as_int(stride, "stride", minimum=1)
        self.depthwise = ConvBNAct(cin, cin, k, s, groups=cin, act=act)
        self.pointwise = ConvBNAct(cin, cout, 1, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class MobileNetV1(nn.Module):
    """``(N, in_channels, H, W) -> (N, num_classes)``: ``features`` (stem + separable layers),
    global average pooling, ``classifier``."""

    def __init__(
        self,
        config: tuple[tuple[int, int], ...],
        *,
        alpha: float,
        stem_stride: int,
        dropout: float,
        num_classes: int,
        in_channels: int,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.activation = _check_activation(activation)

        def width(c: int) -> int:
            return max(8, int(c * alpha))

        cin = width(STEM_CHANNELS)
        layers: list[nn.Module] = [ConvBNAct(in_channels, cin, 3, stem_stride, act=activation)]
        for cout, stride in config:
            layers.append(DepthwiseSeparableConv(cin, width(cout), stride, activation=activation))
            cin = width(cout)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(cin, num_classes)
        self.num_features = cin
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, num_classes)`` logits."""
        check_model_input(self, x)
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(self.dropout(x))


def _as_fraction(value: object, name: str, low: float, high: float | None, low_open: bool) -> float:
    interval = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'})"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {interval}, got {value!r}")
    v = float(value)
    if (v <= low if low_open else v < low) or (high is not None and v >= high):
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return v


def build_mobilenet(
    config: tuple[tuple[int, int], ...] | list[tuple[int, int]] = MOBILENET_V1,
    *,
    alpha: float = 1.0,
    stem_stride: int = 2,
    dropout: float = 0.0,
    num_classes: int = 1000,
    in_channels: int = 3,
    activation: str = "relu",
) -> MobileNetV1:
    """The family builder: a 3×3 conv stem (32·α channels, stride ``stem_stride``) followed by
    one depthwise separable layer per ``(channels, stride)`` entry of ``config``.

    ``activation``: ``"relu"`` (the paper, default) or ``"relu6"`` (the authors' released
    TensorFlow weights were trained with ReLU6; use it to run converted released weights)."""
    if isinstance(config, (str, bytes)) or not hasattr(config, "__len__") or not config:
        raise TypeError(f"config must be a non-empty list of (channels, stride), got {config!r}")
    cfg = []
    for i, entry in enumerate(config):
        if not hasattr(entry, "__len__") or len(entry) != 2:
            raise ValueError(f"config[{i}] must be a (channels, stride) pair, got {entry!r}")
        cfg.append(
            (
                as_int(entry[0], f"config[{i}] channels", minimum=1),
                as_int(entry[1], f"config[{i}] stride", minimum=1),
            )
        )
    return MobileNetV1(
        tuple(cfg),
        alpha=_as_fraction(alpha, "alpha", 0.0, None, low_open=True),
        stem_stride=as_int(stem_stride, "stem_stride", minimum=1),
        dropout=check_dropout(dropout),
        num_classes=as_int(num_classes, "num_classes", minimum=1),
        in_channels=as_int(in_channels, "in_channels", minimum=1),
        activation=_check_activation(activation),
    )


@register(
    "mobilenet_v1",
    input_size=(3, 224, 224),
    scale="imagenet",
    paper=HOWARD2017,
    aliases=("mobilenet",),
    tags=("mobilenet",),
)
def mobilenet_v1(
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    alpha: float = 1.0,
    dropout: float = 0.0,
    activation: str = "relu",
) -> MobileNetV1:
    """MobileNet v1 (Table 1): 4,231,976 parameters and 569 M multiply-adds at α = 1, 224×224.

    α = 0.75 / 0.5 / 0.25: 2.6 / 1.3 / 0.5 M parameters, 325 / 149 / 41 M multiply-adds.
    ``activation``: ``"relu"`` as in the paper (default) or ``"relu6"`` as in the authors'
    released weights (TensorFlow ``tf.nn.relu6``); same parameters either way. No torchvision
    counterpart (torchvision has MobileNet v2/v3 only).
    """
    return build_mobilenet(
        MOBILENET_V1,
        alpha=alpha,
        dropout=dropout,
        activation=activation,
        num_classes=num_classes,
        in_channels=in_channels,
    )


@register(
    "mobilenet_v1_cifar",
    input_size=(3, 32, 32),
    scale="course",
    paper=HOWARD2017,
    tags=("mobilenet", "cifar"),
)
def mobilenet_v1_cifar(
    *,
    num_classes: int = 10,
    in_channels: int = 3,
    alpha: float = 1.0,
    dropout: float = 0.0,
    activation: str = "relu",
) -> MobileNetV1:
    """MobileNet v1 body with a stride-1 stem for 32×32 inputs (our course configuration);
    ``activation`` ``"relu"`` (default) or ``"relu6"`` as in ``mobilenet_v1``."""
    return build_mobilenet(
        MOBILENET_V1,
        alpha=alpha,
        stem_stride=1,
        dropout=dropout,
        activation=activation,
        num_classes=num_classes,
        in_channels=in_channels,
    )
