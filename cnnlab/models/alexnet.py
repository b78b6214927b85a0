"""AlexNet and its 2013-2014 successors, all built by one builder from one table per model.

Papers
    Krizhevsky, Sutskever, Hinton, "ImageNet Classification with Deep Convolutional Neural
    Networks", NIPS 2012 (AlexNet, Section 3 and Figure 2).
    Zeiler, Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014
    (arXiv:1311.2901, Figure 3: ZFNet, the basis of the Clarifai ILSVRC-2013 entry).
    Sermanet et al., "OverFeat: Integrated Recognition, Localization and Detection using
    Convolutional Networks", ICLR 2014 (arXiv:1312.6229, Tables 1 and 3).
    Chatfield, Simonyan, Vedaldi, Zisserman, "Return of the Devil in the Details: Delving Deep
    into Convolutional Nets", BMVC 2014 (arXiv:1405.3531, Table 1: CNN-F, CNN-M, CNN-S).

Every network is five (OverFeat-accurate: six) convolutions then three fully connected layers;
``ALEXNET_FAMILY`` holds one row per convolution (``ConvRow``) and the FC widths, and
``build_alexnet`` turns a row list into ``nn.Sequential(features, flatten, classifier)`` with
named layers (``features.conv1``, ``features.norm1``, ``features.pool1``, ...,
``classifier.fc6``, ...). The flattened size is computed from the design input, so a wrong input
size fails at ``classifier.fc6`` with a message quoting the design input.

Deviations shared by the family (each builder lists its own)
    * PyTorch's default initialisation. (AlexNet: weights N(0, 0.01), biases 1 in conv2, conv4,
      conv5 and the hidden FC layers; the others similar.)
    * ``dropout`` (default 0.5) sits after the ReLU of each hidden FC layer as in the papers;
      torchvision's AlexNet puts it before each hidden Linear.
    * ``in_channels`` replaces the 3 input channels; ``num_classes`` the 1000 outputs.
    * No torchvision counterpart: torchvision's ``alexnet`` is the 64-192-384-256-256 variant of
      Krizhevsky's "One weird trick" (2014) with 61,100,840 parameters, not this network.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from torch import nn

from cnnlab._validate import as_int
from cnnlab.models.layers import LRN, check_dropout, make_activation
from cnnlab.models.registry import register

KRIZHEVSKY2012 = (
    "Krizhevsky, Sutskever, Hinton, ImageNet Classification with Deep Convolutional Neural "
    "Networks, NIPS 2012"
)
ZEILER2014 = "Zeiler, Fergus, Visualizing and Understanding Convolutional Networks, ECCV 2014"
SERMANET2014 = "Sermanet et al., OverFeat, ICLR 2014 (arXiv:1312.6229)"
CHATFIELD2014 = (
    "Chatfield, Simonyan, Vedaldi, Zisserman, Return of the Devil in the Details: Delving Deep "
    "into Convolutional Nets, BMVC 2014"
)


@dataclass(frozen=True)
class ConvRow:
    """One convolution of the table and what follows it.

    ``pool`` is (kernel, stride) of a max pool after the ReLU (and LRN); ``lrn`` adds local
    response normalisation; ``lrn_after_pool`` puts it after the pool (ZFNet) instead of before
    (AlexNet, CNN-F/M/S).
    """

    out: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1
    lrn: bool = False
    pool: tuple[int, int] | None = None
    lrn_after_pool: bool = False


@dataclass(frozen=True)
class AlexNetSpec:
    """A whole network: its conv rows, hidden FC widths, design input and pooling rounding."""

    convs: tuple[ConvRow, ...]
    hidden: tuple[int, ...]
    input_size: tuple[int, int, int]
    ceil_mode: bool = False  # Caffe/MatConvNet round pooling output sizes up
    lrn_groups: int = 1  # the two-GPU AlexNet normalises each GPU's half on its own


ALEXNET_FAMILY: dict[str, AlexNetSpec] = {
    # Krizhevsky et al. 2012 as one tower (the seed's table). 227×227 makes the arithmetic work
    # (the paper says 224).
    "alexnet": AlexNetSpec(
        convs=(
            ConvRow(96, 11, 4, 0, lrn=True, pool=(3, 2)),
            ConvRow(256, 5, 1, 2, lrn=True, pool=(3, 2)),
            ConvRow(384, 3, 1, 1),
            ConvRow(384, 3, 1, 1),
            ConvRow(256, 3, 1, 1, pool=(3, 2)),
        ),
        hidden=(4096, 4096),
        input_size=(3, 227, 227),
    ),
    # The paper's two-GPU net: conv2, conv4, conv5 see only their own GPU's half of the maps.
    "alexnet_2gpu": AlexNetSpec(
        convs=(
            ConvRow(96, 11, 4, 0, lrn=True, pool=(3, 2)),
            ConvRow(256, 5, 1, 2, groups=2, lrn=True, pool=(3, 2)),
            ConvRow(384, 3, 1, 1),
            ConvRow(384, 3, 1, 1, groups=2),
            ConvRow(256, 3, 1, 1, groups=2, pool=(3, 2)),
        ),
        hidden=(4096, 4096),
        input_size=(3, 227, 227),
        lrn_groups=2,
    ),
    # Zeiler & Fergus Figure 3: 7×7/2 first layer, 5×5/2 second, dense connections, pooling then
    # contrast normalisation; sizes 110-55-26-13-13-13-6 need padding 1 and rounded-up pooling.
    "zfnet": AlexNetSpec(
        convs=(
            ConvRow(96, 7, 2, 1, lrn=True, pool=(3, 2), lrn_after_pool=True),
            ConvRow(256, 5, 2, 0, lrn=True, pool=(3, 2), lrn_after_pool=True),
            ConvRow(384, 3, 1, 1),
            ConvRow(384, 3, 1, 1),
            ConvRow(256, 3, 1, 1, pool=(3, 2)),
        ),
        hidden=(4096, 4096),
        input_size=(3, 224, 224),
        ceil_mode=True,
    ),
    # OverFeat Table 1 (fast): 231×231, no normalisation, non-overlapping pooling.
    "overfeat_fast": AlexNetSpec(
        convs=(
            ConvRow(96, 11, 4, 0, pool=(2, 2)),
            ConvRow(256, 5, 1, 0, pool=(2, 2)),
            ConvRow(512, 3, 1, 1),
            ConvRow(1024, 3, 1, 1),
            ConvRow(1024, 3, 1, 1, pool=(2, 2)),
        ),
        hidden=(3072, 4096),
        input_size=(3, 231, 231),
    ),
    # OverFeat Table 3 (accurate): 221×221, six convolutions.
    "overfeat_accurate": AlexNetSpec(
        convs=(
            ConvRow(96, 7, 2, 0, pool=(3, 3)),
            ConvRow(256, 7, 1, 0, pool=(2, 2)),
            ConvRow(512, 3, 1, 1),
            ConvRow(512, 3, 1, 1),
            ConvRow(1024, 3, 1, 1),
            ConvRow(1024, 3, 1, 1, pool=(3, 3)),
        ),
        hidden=(4096, 4096),
        input_size=(3, 221, 221),
    ),
    # Chatfield et al. Table 1. "×2 pool" is a 3×3/2 max pool, "×3 pool" 3×3/3, and CNN-S's
    # second "×2 pool" 2×2/2, all rounded up as in the authors' MatConvNet models (6×6 at fc6).
    "cnn_f": AlexNetSpec(
        convs=(
            ConvRow(64, 11, 4, 0, lrn=True, pool=(3, 2)),
            ConvRow(256, 5, 1, 2, lrn=True, pool=(3, 2)),
            ConvRow(256, 3, 1, 1),
            ConvRow(256, 3, 1, 1),
            ConvRow(256, 3, 1, 1, pool=(3, 2)),
        ),
        hidden=(4096, 4096),
        input_size=(3, 224, 224),
        ceil_mode=True,
    ),
    "cnn_m": AlexNetSpec(
        convs=(
            ConvRow(96, 7, 2, 0, lrn=True, pool=(3, 2)),
            ConvRow(256, 5, 2, 1, lrn=True, pool=(3, 2)),
            ConvRow(512, 3, 1, 1),
            ConvRow(512, 3, 1, 1),
            ConvRow(512, 3, 1, 1, pool=(3, 2)),
        ),
        hidden=(4096, 4096),
        input_size=(3, 224, 224),
        ceil_mode=True,
    ),
    "cnn_s": AlexNetSpec(
        convs=(
            ConvRow(96, 7, 2, 0, lrn=True, pool=(3, 3)),
            ConvRow(256, 5, 1, 1, pool=(2, 2)),
            ConvRow(512, 3, 1, 1),
            ConvRow(512, 3, 1, 1),
            ConvRow(512, 3, 1, 1, pool=(3, 3)),
        ),
        hidden=(4096, 4096),
        input_size=(3, 224, 224),
        ceil_mode=True,
    ),
    # Course scale: one GPU tower of AlexNet (48-128-192-192-128 maps) on 32×32 images with a
    # 5×5/1 first layer; 32 -> 15 -> 7 -> 3 through the three overlapping 3×3/2 pools.
    "alexnet_course": AlexNetSpec(
        convs=(
            ConvRow(48, 5, 1, 2, lrn=True, pool=(3, 2)),
            ConvRow(128, 5, 1, 2, lrn=True, pool=(3, 2)),
            ConvRow(192, 3, 1, 1),
            ConvRow(192, 3, 1, 1),
            ConvRow(128, 3, 1, 1, pool=(3, 2)),
        ),
        hidden=(512, 512),
        input_size=(3, 32, 32),
    ),
}


def _out_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"a {kernel}×{kernel} window does not fit a {size}×{size} map")
    steps = math.ceil(span / stride) if ceil_mode else span // stride
    # PyTorch drops a last window that would start in the padding (rounding up only).
    if ceil_mode and steps * stride >= size + padding:
        steps -= 1
    return steps + 1


def build_alexnet(
    spec: AlexNetSpec,
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    dropout: float = 0.5,
    activation: str = "relu",
) -> nn.Sequential:
    """Build ``spec``: (N, in_channels, H, W) at the design H×W -> (N, num_classes).

    ``activation`` names the non-linearity after every convolution and hidden FC layer
    ("relu" as in the papers; "tanh" for the saturating units AlexNet replaced). The modules
    keep the names ``relu1``, ``relu6``, ... whatever the activation, so layer names stay fixed.
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    dropout = check_dropout(dropout)
    if make_activation(activation) is None:
        raise ValueError("activation must name a non-linearity such as 'relu' or 'tanh'")
    features: OrderedDict[str, nn.Module] = OrderedDict()
    channels, size = in_channels, spec.input_size[1]
    for i, row in enumerate(spec.convs, start=1):
        features[f"conv{i}"] = nn.Conv2d(
            channels, row.out, row.kernel, row.stride, row.padding, groups=row.groups
        )
        features[f"relu{i}"] = make_activation(activation)
        size = _out_size(size, row.kernel, row.stride, row.padding, False)
        norm = LRN(5, alpha=1e-4, beta=0.75, k=2.0, groups=spec.lrn_groups) if row.lrn else None
        if norm is not None and not row.lrn_after_pool:
            features[f"norm{i}"] = norm
        if row.pool is not None:
            k, s = row.pool
            features[f"pool{i}"] = nn.MaxPool2d(k, s, ceil_mode=spec.ceil_mode)
            size = _out_size(size, k, s, 0, spec.ceil_mode)
        if norm is not None and row.lrn_after_pool:
            features[f"norm{i}"] = norm
        channels = row.out
    classifier: OrderedDict[str, nn.Module] = OrderedDict()
    width = channels * size * size
    first_fc = len(spec.convs) + 1
    for j, hidden in enumerate(spec.hidden):
        n = first_fc + j
        classifier[f"fc{n}"] = nn.Linear(width, hidden)
        classifier[f"relu{n}"] = make_activation(activation)
        classifier[f"drop{n}"] = nn.Dropout(dropout)
        width = hidden
    classifier[f"fc{first_fc + len(spec.hidden)}"] = nn.Linear(width, num_classes)
    return nn.Sequential(
        OrderedDict(
            [
                ("features", nn.Sequential(features)),
                ("flatten", nn.Flatten(1)),
                ("classifier", nn.Sequential(classifier)),
            ]
        )
    )


@register(
    "alexnet", input_size=(3, 227, 227), scale="imagenet", paper=KRIZHEVSKY2012, tags=("alexnet",)
)
def alexnet(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> nn.Module:
    """AlexNet (Krizhevsky et al. 2012) as one tower: (N, 3, 227, 227) -> (N, num_classes).

    conv1 96×11×11/4 -> ReLU -> LRN -> max 3×3/2; conv2 256×5×5 pad 2 -> ReLU -> LRN -> max;
    conv3 384, conv4 384, conv5 256 (3×3 pad 1) -> max; fc6 4096, fc7 4096 (ReLU, dropout),
    fc8. LRN with the paper's k=2, n=5, α=1e-4, β=0.75; overlapping pooling. 62,378,344
    parameters, as in the seed's table (conv1 34,944 ... fc8 4,097,000).

    Deviations from the paper
        * One tower: conv2, conv4, conv5 see all maps of the layer below (see ``alexnet_2gpu``
          for the paper's split), so 1,413,120 more weights than the two-GPU net.
        * Input 227×227 rather than the paper's 224×224, which does not give 55×55 after conv1.
        * The family deviations in the module docstring (init, dropout place, no torchvision
          equivalent).
    """
    return build_alexnet(
        ALEXNET_FAMILY["alexnet"],
        num_classes=num_classes,
        in_channels=in_channels,
        dropout=dropout,
    )


@register(
    "alexnet_2gpu",
    input_size=(3, 227, 227),
    scale="imagenet",
    paper=KRIZHEVSKY2012,
    tags=("alexnet",),
)
def alexnet_2gpu(
    *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5
) -> nn.Module:
    """AlexNet as trained on two GPUs (Figure 2 of the paper): (N, 3, 227, 227) -> (N, classes).

    conv2, conv4 and conv5 are grouped convolutions (``groups=2``): each GPU's kernels see only
    the maps on the same GPU; conv3 and the FC layers connect across GPUs. The LRN also works
    on each GPU's 48 (conv1) or 128 (conv2) maps separately. 60,965,224 parameters.

    Deviations from the paper: input 227×227 (the paper says 224); the family deviations.
    """
    return build_alexnet(
        ALEXNET_FAMILY["alexnet_2gpu"],
        num_classes=num_classes,
        in_channels=in_channels,
        dropout=dropout,
    )


@register(
    "zfnet",
    input_size=(3, 224, 224),
    scale="imagenet",
    paper=ZEILER2014,
    aliases=("clarifai", "zf_net"),
    tags=("alexnet",),
)
def zfnet(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> nn.Module:
    """ZFNet (Zeiler & Fergus 2014, Figure 3): (N, 3, 224, 224) -> (N, num_classes).

    AlexNet with a 7×7 stride-2 first layer (instead of 11×11 stride 4) and a stride-2 second
    layer, giving the feature maps 110×110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6 of the figure,
    and dense (single-GPU) connections in every layer. 62,357,608 parameters. The ILSVRC-2013
    winner Clarifai is a variant of it (alias ``clarifai``).

    Deviations from the paper
        * The figure's sizes fix the padding (1 on conv1, 0 on conv2) and require max pools
          that round up (``ceil_mode=True``, Caffe's rule); the paper states neither.
        * "Contrast normalisation across feature maps" is taken to be AlexNet's LRN with
          AlexNet's constants, after each of the first two pools as in the figure.
        * Not modelled: the renormalisation of conv filters whose RMS exceeds 0.1 (a training
          rule). The seed's "Clarifai" row (conv2 pad 1, no conv5) is a looser summary of the
          same net. Plus the family deviations.
    """
    return build_alexnet(
        ALEXNET_FAMILY["zfnet"], num_classes=num_classes, in_channels=in_channels, dropout=dropout
    )


@register(
    "overfeat_fast",
    input_size=(3, 231, 231),
    scale="imagenet",
    paper=SERMANET2014,
    tags=("alexnet",),
)
def overfeat_fast(
    *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5
) -> nn.Module:
    """OverFeat "fast" model (Sermanet et al. 2014, Table 1): (N, 3, 231, 231) -> (N, classes).

    conv 96×11×11/4 -> max 2×2/2; conv 256×5×5 -> max 2×2/2; conv 512, 1024, 1024 (3×3 pad 1)
    -> max 2×2/2; fc 3072, 4096, classes. No normalisation, non-overlapping pooling, ReLU,
    dropout on the two hidden FC layers. 145,920,872 parameters (the paper: "about 145 M").

    Deviations from the paper: the paper's "spatial input size" row lists 24×24 for layer 2,
    which is the conv output; the sizes here follow the layer arithmetic (56 -> 28 -> 24 -> 12
    -> 6). Plus the family deviations.
    """
    return build_alexnet(
        ALEXNET_FAMILY["overfeat_fast"],
        num_classes=num_classes,
        in_channels=in_channels,
        dropout=dropout,
    )


@register(
    "overfeat_accurate",
    input_size=(3, 221, 221),
    scale="imagenet",
    paper=SERMANET2014,
    tags=("alexnet",),
)
def overfeat_accurate(
    *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5
) -> nn.Module:
    """OverFeat "accurate" model (Table 3): (N, 3, 221, 221) -> (N, num_classes).

    conv 96×7×7/2 -> max 3×3/3; conv 256×7×7 -> max 2×2/2; conv 512, 512, 1024, 1024 (3×3
    pad 1) -> max 3×3/3; fc 4096, 4096, classes. 144,656,488 parameters (the paper: 144 M).

    Deviations from the paper: the family deviations only.
    """
    return build_alexnet(
        ALEXNET_FAMILY["overfeat_accurate"],
        num_classes=num_classes,
        in_channels=in_channels,
        dropout=dropout,
    )


_CHATFIELD_NOTES = """
    Deviations from the paper
        * Table 1 gives the downsampling factor of each pool ("×2", "×3"), not its window: the
          windows (3×3/2, 3×3/3, and 2×2/2 for CNN-S's second pool) and the rounding up of
          output sizes (``ceil_mode=True``) follow the authors' MatConvNet models, which give
          the 6×6 maps at fc6.
        * LRN uses AlexNet's constants (k=2, n=5, α=1e-4, β=0.75); the MatConvNet models use
          k=1 with the same α and β.
        * Plus the family deviations (init, dropout place, ``in_channels``/``num_classes``).
"""


@register(
    "cnn_f", input_size=(3, 224, 224), scale="imagenet", paper=CHATFIELD2014, tags=("alexnet",)
)
def cnn_f(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> nn.Module:
    """CNN-F "fast" (Chatfield et al. 2014, Table 1): (N, 3, 224, 224) -> (N, num_classes).

    conv1 64×11×11/4, LRN, pool; conv2 256×5×5 pad 2, LRN, pool; conv3-5 256×3×3 pad 1, pool;
    fc 4096, 4096 (dropout), classes. 60,834,536 parameters.
    """
    return build_alexnet(
        ALEXNET_FAMILY["cnn_f"], num_classes=num_classes, in_channels=in_channels, dropout=dropout
    )


@register(
    "cnn_m", input_size=(3, 224, 224), scale="imagenet", paper=CHATFIELD2014, tags=("alexnet",)
)
def cnn_m(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> nn.Module:
    """CNN-M "medium" (Chatfield et al. 2014, Table 1): (N, 3, 224, 224) -> (N, num_classes).

    conv1 96×7×7/2, LRN, pool; conv2 256×5×5/2 pad 1, LRN, pool; conv3-5 512×3×3 pad 1, pool;
    fc 4096, 4096 (dropout), classes. 102,908,520 parameters.
    """
    return build_alexnet(
        ALEXNET_FAMILY["cnn_m"], num_classes=num_classes, in_channels=in_channels, dropout=dropout
    )


@register(
    "cnn_s", input_size=(3, 224, 224), scale="imagenet", paper=CHATFIELD2014, tags=("alexnet",)
)
def cnn_s(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> nn.Module:
    """CNN-S "slow" (Chatfield et al. 2014, Table 1): (N, 3, 224, 224) -> (N, num_classes).

    conv1 96×7×7/2, LRN, pool ×3; conv2 256×5×5 pad 1, pool ×2; conv3-5 512×3×3 pad 1,
    pool ×3; fc 4096, 4096 (dropout), classes. 102,908,520 parameters (the layer shapes of
    CNN-M with smaller strides: more computation, the same weights).
    """
    return build_alexnet(
        ALEXNET_FAMILY["cnn_s"], num_classes=num_classes, in_channels=in_channels, dropout=dropout
    )


for _builder in (cnn_f, cnn_m, cnn_s):
    _builder.__doc__ = (_builder.__doc__ or "") + _CHATFIELD_NOTES


@register(
    "alexnet_course",
    input_size=(3, 32, 32),
    scale="course",
    paper=KRIZHEVSKY2012,
    tags=("alexnet",),
)
def alexnet_course(
    *,
    num_classes: int = 10,
    in_channels: int = 3,
    dropout: float = 0.5,
    widths: Sequence[int] = (48, 128, 192, 192, 128),
    hidden: int = 512,
    image_size: int = 32,
    activation: str = "relu",
    lrn: bool = True,
) -> nn.Module:
    """AlexNet scaled to 32×32 images: (N, 3, 32, 32) -> (N, num_classes); 1,790,154 params.

    The same layer pattern (5 convolutions with ReLU, LRN after the first two, three
    overlapping 3×3/2 max pools, two hidden FC layers with dropout) at course scale.
    ``widths`` (five conv widths), ``hidden`` (the two FC widths), ``image_size`` (square input,
    at least 15: 16 gives maps 16 -> 7 -> 3 -> 1), ``activation`` ("relu" or "tanh", for the
    ReLU-vs-tanh experiment of notebook 6) and ``lrn=False`` (no LRN layers: on a CPU they
    cost a third of a training step) scale it down further.

    What was scaled (deviations from the paper)
        * Widths 48-128-192-192-128: the maps of one of the paper's two GPUs.
        * conv1 is 5×5 stride 1 pad 2 (not 11×11 stride 4), since the image is 32×32; the
          maps go 32 -> 15 -> 7 -> 7 -> 7 -> 3.
        * FC layers 1152 -> 512 -> 512 -> num_classes (not 9216 -> 4096 -> 4096 -> 1000).
        * Plus the family deviations.
    """
    base = ALEXNET_FAMILY["alexnet_course"]
    widths = tuple(as_int(w, "widths", minimum=1) for w in widths)
    if len(widths) != len(base.convs):
        raise ValueError(f"widths must give {len(base.convs)} conv widths, got {widths}")
    hidden = as_int(hidden, "hidden", minimum=1)
    image_size = as_int(image_size, "image_size", minimum=15)
    spec = replace(
        base,
        convs=tuple(
            replace(row, out=w, lrn=row.lrn and bool(lrn))
            for row, w in zip(base.convs, widths, strict=True)
        ),
        hidden=(hidden,) * len(base.hidden),
        input_size=(in_channels, image_size, image_size),
    )
    return build_alexnet(
        spec,
        num_classes=num_classes,
        in_channels=in_channels,
        dropout=dropout,
        activation=activation,
    )
