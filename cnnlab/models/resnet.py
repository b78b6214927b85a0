"""Residual networks: ImageNet ResNet-18…152, CIFAR ResNet-20…110 and their plain twins.

Papers
    He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
    (arXiv:1512.03385) — Table 1 (ImageNet) and Section 4.2 (CIFAR-10, 6n+2 layers).
    He, Zhang, Ren, Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016
    (arXiv:1603.05027) — pre-activation blocks (``preact=True``).

Everything is built by one builder, :func:`build_resnet`, from the tables below (the layer lists
``[2, 2, 2, 2]`` … as in torchvision's ``resnet.py``). The ImageNet models keep torchvision's
module names (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``, ``fc``), so a
torchvision ``state_dict`` loads with ``strict=True`` (see :mod:`cnnlab.models.pretrained`).

Deviations, stated once for the whole family
    * Bottleneck stride: the paper (v1) strides the first 1×1 convolution of a down-sampling
      bottleneck; torchvision (v1.5) strides the 3×3. The default here is ``stride_in="3x3"``
      (v1.5) so that torchvision weights load and behave as trained; ``stride_in="1x1"`` gives
      the paper's network. Parameters are identical; only multiply-adds differ. Counted (conv
      and fc, FlopCounterMode / 2) with "1x1": 1.81 / 3.66 / 3.86 / 7.57 / 11.28 G for
      ResNet-18/34/50/101/152, against Table 1's 1.8 / 3.6 / 3.8 / 7.6 / 11.3 G: two
      significant digits, 34 and 50 printed 0.06 G low (no counting convention — without fc or
      without projections — reproduces all five). With "3x3": 4.09 / 7.80 / 11.51 G for
      50/101/152, the figures torchvision documents. Basic blocks ignore the option.
    * The paper's fixed 7×7 (8×8 on CIFAR) average pool is an adaptive average pool (as
      torchvision), so other input sizes work too.
    * ReLUs are not in-place (torchvision's are), so a forward hook may keep an activation.
      torchvision's ``zero_init_residual``, ``norm_layer`` and dilation options are not offered.
    * Weight initialisation: He normal (fan-out) for convolutions, BN γ=1, β=0, as torchvision;
      the paper uses He initialisation too. PyTorch's default for the final linear layer.
    * ``in_channels`` replaces the 3 input channels of the first convolution (not in either).
    * CIFAR option A ("zero-padding shortcut") appends the new all-zero channels after the
      identity channels; the paper does not say where the zeros go.
    * Pre-activation (``preact=True``) follows the authors' Torch code ``preresnet.lua``: the
      first block of a stage that changes shape applies BN-ReLU once and feeds it to both the
      residual branch and the shortcut; a projection shortcut is then a bare 1×1 convolution
      (no BN); the network ends with BN-ReLU before pooling. ImageNet: the stem keeps
      conv-BN-ReLU-maxpool and the very first block skips its own BN-ReLU. CIFAR: the stem is a
      bare 3×3 convolution. Pre-activation models do not have torchvision's key layout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_int, check_choice, check_tensor
from cnnlab.models.layers import check_dropout, init_weights
from cnnlab.models.registry import register

HE2015 = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv:1512.03385)"
HE2016 = "He et al., Identity Mappings in Deep Residual Networks, ECCV 2016 (arXiv:1603.05027)"

# depth -> (block, blocks per stage): Table 1 of He et al. 2015.
IMAGENET_LAYERS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
IMAGENET_PLANES: tuple[int, ...] = (64, 128, 256, 512)
# CIFAR (Section 4.2): 3 stages of n basic blocks, 16/32/64 filters, depth 6n + 2.
CIFAR_PLANES: tuple[int, ...] = (16, 32, 64)
CIFAR_DEPTHS: tuple[int, ...] = (20, 32, 44, 56, 110)

BLOCKS = ("basic", "bottleneck")
SHORTCUTS = ("A", "B")
STRIDE_IN = ("1x1", "3x3")
STEMS = ("imagenet", "cifar")


def _conv3x3(cin: int, cout: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, groups=groups, bias=False)


def _conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


def _as_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_model_input(model: nn.Module, x: object) -> None:
    """Check that ``x`` is an ``(N, model.in_channels, H, W)`` tensor.

    Skipped when ``create_model`` has installed its per-layer checks
    (:func:`cnnlab.models.layers.install_input_checks`), whose messages name the layer and the
    design input size; a model built directly by a family builder checks here instead.
    """
    if getattr(model, "_cnnlab_input_checks", False):
        return
    check_tensor(x, "x", 4, "N, C, H, W")
    expected = model.in_channels
    if x.shape[1] != expected:  # type: ignore[union-attr]
        raise ValueError(
            f"x must have {expected} channels (the model's in_channels), got shape {tuple(x.shape)}"  # type: ignore[union-attr]
        )


class ShortcutA(nn.Module):
    """Option A shortcut: subsample by ``stride`` and zero-pad channels; no parameters.

    ``(N, C_in, H, W) -> (N, C_out, ceil(H/stride), ceil(W/stride))``; the identity occupies the
    first ``C_in`` channels and the rest are zeros.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError("option A can only add channels")
        self.stride = stride
        self.extra = out_channels - in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))

    def extra_repr(self) -> str:
        return f"stride={self.stride}, zero_channels={self.extra}"


class BasicBlock(nn.Module):
    """Two 3×3 convolutions (He et al. Fig. 2): ``(N, inplanes, H, W) -> (N, planes, H/s, W/s)``.

    ``residual=False`` drops the shortcut (the paper's "plain" networks).
    """

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        residual: bool = True,
        dropout: float = 0.0,
        **_unused: object,
    ) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        if self.dropout is not None:
            out = self.dropout(out)
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (grouped for ResNeXt), 1×1 expand ×4 (He et al. Fig. 5, right).

    ``(N, inplanes, H, W) -> (N, 4·planes, H/s, W/s)``. Inner width
    ``planes · width_per_group / 64 · groups`` as torchvision (ResNeXt, Wide ResNet).
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        residual: bool = True,
        dropout: float = 0.0,
        groups: int = 1,
        width_per_group: int = 64,
        stride_in: str = "3x3",
        **_unused: object,
    ) -> None:
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        s1, s3 = (stride, 1) if stride_in == "1x1" else (1, stride)
        self.conv1 = _conv1x1(inplanes, width, s1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = _conv3x3(width, width, s3, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        if self.dropout is not None:
            out = self.dropout(out)
        out = self.bn3(self.conv3(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class PreActBasicBlock(nn.Module):
    """Pre-activation basic block (He et al. 2016, Fig. 4e); also the Wide ResNet block.

    BN-ReLU-conv3×3-BN-ReLU-(dropout)-conv3×3 plus shortcut, no ReLU after the addition.
    ``preact_input=False`` skips the first BN-ReLU (input already activated by the stem).
    """

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        residual: bool = True,
        dropout: float = 0.0,
        preact_input: bool = True,
        **_unused: object,
    ) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes) if preact_input else None
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.conv2 = _conv3x3(planes, planes)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = x if self.bn1 is None else self.relu(self.bn1(x))
        out = self.relu(self.bn2(self.conv1(pre)))
        if self.dropout is not None:
            out = self.dropout(out)
        out = self.conv2(out)
        if not self.residual:
            return out
        # A shape-changing block feeds the activated input to its shortcut (preresnet.lua).
        return out + (x if self.downsample is None else self.downsample(pre))


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck (He et al. 2016): BN-ReLU before each of 1×1, 3×3, 1×1.

    ``(N, inplanes, H, W) -> (N, 4·planes, H/s, W/s)``.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        residual: bool = True,
        dropout: float = 0.0,
        preact_input: bool = True,
        groups: int = 1,
        width_per_group: int = 64,
        stride_in: str = "3x3",
        **_unused: object,
    ) -> None:
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        s1, s3 = (stride, 1) if stride_in == "1x1" else (1, stride)
        self.bn1 = nn.BatchNorm2d(inplanes) if preact_input else None
        self.conv1 = _conv1x1(inplanes, width, s1)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv2 = _conv3x3(width, width, s3, groups)
        self.bn3 = nn.BatchNorm2d(width)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = x if self.bn1 is None else self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.relu(self.bn3(out))
        if self.dropout is not None:
            out = self.dropout(out)
        out = self.conv3(out)
        if not self.residual:
            return out
        return out + (x if self.downsample is None else self.downsample(pre))


_BLOCK_CLASSES: dict[tuple[str, bool], type[nn.Module]] = {
    ("basic", False): BasicBlock,
    ("bottleneck", False): Bottleneck,
    ("basic", True): PreActBasicBlock,
    ("bottleneck", True): PreActBottleneck,
}


class ResNet(nn.Module):
    """A residual (or plain) network assembled from a stage table.

    ``(N, in_channels, H, W) -> (N, num_classes)`` logits. Stem ``"imagenet"``: 7×7/2 conv,
    BN, ReLU, 3×3/2 max-pool (H/4). Stem ``"cifar"``: 3×3/1 conv, BN, ReLU. Stage ``i`` has
    ``layers[i]`` blocks of width ``planes[i]``; every stage after the first halves H and W.
    Use :func:`build_resnet` (it checks the arguments) rather than this class directly.
    """

    def __init__(
        self,
        block: str,
        layers: tuple[int, ...],
        planes: tuple[int, ...],
        *,
        stem: str = "imagenet",
        stem_width: int = 64,
        num_classes: int = 1000,
        in_channels: int = 3,
        residual: bool = True,
        shortcut: str = "B",
        stride_in: str = "3x3",
        preact: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.preact = preact
        self.shortcut = shortcut
        cls = _BLOCK_CLASSES[(block, preact)]
        self._block_kw = dict(
            residual=residual,
            dropout=dropout,
            groups=groups,
            width_per_group=width_per_group,
            stride_in=stride_in,
        )
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, stem_width, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(stem_width)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            self.conv1 = _conv3x3(in_channels, stem_width)
            # The pre-activation CIFAR net's first block applies BN-ReLU to the stem output.
            self.bn1 = None if preact else nn.BatchNorm2d(stem_width)
            self.relu = nn.ReLU()
            self.maxpool = None
        self.inplanes = stem_width
        for i, (n, width) in enumerate(zip(layers, planes, strict=True)):
            # After an ImageNet stem the input of the first block is already BN-ReLU'd.
            first_preact = not (preact and stem == "imagenet" and i == 0)
            stage = self._make_layer(cls, width, n, 1 if i == 0 else 2, first_preact)
            self.add_module(f"layer{i + 1}", stage)
        self.num_stages = len(layers)
        self.final_bn = nn.BatchNorm2d(self.inplanes) if preact else None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, num_classes)
        self.num_features = self.inplanes
        del self.inplanes, self._block_kw  # construction state only
        init_weights(self)

    def _make_layer(
        self, cls: type[nn.Module], planes: int, blocks: int, stride: int, first_preact: bool
    ) -> nn.Sequential:
        out = planes * cls.expansion  # type: ignore[attr-defined]
        downsample: nn.Module | None = None
        residual = self._block_kw["residual"]
        if residual and (stride != 1 or self.inplanes != out):
            if self.shortcut == "A":
                downsample = ShortcutA(self.inplanes, out, stride)
            elif self.preact:
                downsample = _conv1x1(self.inplanes, out, stride)
            else:
                downsample = nn.Sequential(
                    _conv1x1(self.inplanes, out, stride), nn.BatchNorm2d(out)
                )
        kw = dict(self._block_kw)
        if self.preact:
            kw["preact_input"] = first_preact
        layers = [cls(self.inplanes, planes, stride, downsample, **kw)]
        self.inplanes = out
        if self.preact:
            kw["preact_input"] = True
        layers += [cls(out, planes, 1, None, **kw) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, num_features, H', W')``: everything before pooling."""
        check_model_input(self, x)
        x = self.conv1(x)
        if self.bn1 is not None:
            x = self.relu(self.bn1(x))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        if self.final_bn is not None:
            x = self.relu(self.final_bn(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, num_classes)`` logits."""
        x = self.avgpool(self.forward_features(x))
        return self.fc(torch.flatten(x, 1))


def build_resnet(
    block: str,
    layers: tuple[int, ...] | list[int],
    planes: tuple[int, ...] | list[int] = IMAGENET_PLANES,
    *,
    stem: str = "imagenet",
    stem_width: int = 64,
    num_classes: int = 1000,
    in_channels: int = 3,
    residual: bool = True,
    shortcut: str = "B",
    stride_in: str = "3x3",
    preact: bool = False,
    groups: int = 1,
    width_per_group: int = 64,
    dropout: float = 0.0,
) -> ResNet:
    """The family builder: a ResNet from a block type and a stage table.

    ``build_resnet("basic", [2, 2, 2, 2])`` is ResNet-18; ``build_resnet("basic", [3, 3, 3],
    [16, 32, 64], stem="cifar", stem_width=16, shortcut="A", num_classes=10)`` is ResNet-20.
    ``shortcut``: ``"A"`` zero-padded identity (parameter-free) or ``"B"`` projection (1×1
    convolution, + BN unless ``preact``) wherever the shape changes. ``residual=False`` gives a
    plain network. ``groups`` / ``width_per_group`` make ResNeXt / Wide ResNet bottlenecks.
    """
    block = check_choice(block, "block", BLOCKS)
    stem = check_choice(stem, "stem", STEMS)
    shortcut = check_choice(shortcut, "shortcut", SHORTCUTS)
    stride_in = check_choice(stride_in, "stride_in", STRIDE_IN)
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__"):
        raise TypeError(f"layers must be a list of block counts, got {layers!r}")
    if isinstance(planes, (str, bytes)) or not hasattr(planes, "__len__"):
        raise TypeError(f"planes must be a list of stage widths, got {planes!r}")
    if len(layers) != len(planes) or len(layers) == 0:
        raise ValueError(
            f"layers and planes must be non-empty and of equal length, got {len(layers)} "
            f"and {len(planes)}"
        )
    layers_t = tuple(as_int(v, f"layers[{i}]", minimum=1) for i, v in enumerate(layers))
    planes_t = tuple(as_int(v, f"planes[{i}]", minimum=1) for i, v in enumerate(planes))
    return ResNet(
        block,
        layers_t,
        planes_t,
        stem=stem,
        stem_width=as_int(stem_width, "stem_width", minimum=1),
        num_classes=as_int(num_classes, "num_classes", minimum=1),
        in_channels=as_int(in_channels, "in_channels", minimum=1),
        residual=_as_bool(residual, "residual"),
        shortcut=shortcut,
        stride_in=stride_in,
        preact=_as_bool(preact, "preact"),
        groups=as_int(groups, "groups", minimum=1),
        width_per_group=as_int(width_per_group, "width_per_group", minimum=1),
        dropout=check_dropout(dropout),
    )


def imagenet_resnet(
    depth: int,
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    stride_in: str = "3x3",
    preact: bool = False,
) -> ResNet:
    """ResNet-``depth`` of He et al. Table 1 (depth 18, 34, 50, 101 or 152), 224×224 input."""
    depth = as_int(depth, "depth")
    if depth not in IMAGENET_LAYERS:
        raise ValueError(f"depth must be one of {sorted(IMAGENET_LAYERS)}, got {depth}")
    block, layers = IMAGENET_LAYERS[depth]
    return build_resnet(
        block,
        layers,
        IMAGENET_PLANES,
        num_classes=num_classes,
        in_channels=in_channels,
        stride_in=stride_in,
        preact=preact,
    )


def cifar_resnet(
    depth: int,
    *,
    num_classes: int = 10,
    in_channels: int = 3,
    residual: bool = True,
    shortcut: str = "A",
    preact: bool = False,
) -> ResNet:
    """CIFAR ResNet (He et al. Section 4.2) of any depth ``6n + 2``, 32×32 input.

    ``residual=False`` is the matching plain network (same convolutions, no shortcuts).
    """
    depth = as_int(depth, "depth", minimum=8)
    if (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (8, 14, 20, 32, 44, 56, 110, ...), got {depth}")
    n = (depth - 2) // 6
    return build_resnet(
        "basic",
        (n, n, n),
        CIFAR_PLANES,
        stem="cifar",
        stem_width=16,
        num_classes=num_classes,
        in_channels=in_channels,
        residual=residual,
        shortcut=shortcut,
        preact=preact,
    )


# ---------------------------------------------------------------- registered ImageNet models
_IMAGENET = dict(input_size=(3, 224, 224), scale="imagenet", paper=HE2015)


@register("resnet18", **_IMAGENET, tags=("resnet",))
def resnet18(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3", preact: bool = False
) -> ResNet:
    """ResNet-18: 11,689,512 parameters; 1.81 G multiply-adds at 224×224 (paper 1.8 G)."""
    return imagenet_resnet(
        18, num_classes=num_classes, in_channels=in_channels, stride_in=stride_in, preact=preact
    )


@register("resnet34", **_IMAGENET, tags=("resnet",))
def resnet34(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3", preact: bool = False
) -> ResNet:
    """ResNet-34: 21,797,672 parameters; 3.66 G multiply-adds at 224×224 (paper 3.6 G)."""
    return imagenet_resnet(
        34, num_classes=num_classes, in_channels=in_channels, stride_in=stride_in, preact=preact
    )


@register("resnet50", **_IMAGENET, tags=("resnet",))
def resnet50(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3", preact: bool = False
) -> ResNet:
    """ResNet-50: 25,557,032 parameters; 3.86 G multiply-adds with ``stride_in="1x1"`` (paper
    3.8 G), 4.09 G with the default ``"3x3"``."""
    return imagenet_resnet(
        50, num_classes=num_classes, in_channels=in_channels, stride_in=stride_in, preact=preact
    )


@register("resnet101", **_IMAGENET, tags=("resnet",))
def resnet101(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3", preact: bool = False
) -> ResNet:
    """ResNet-101: 44,549,160 parameters; 7.57 G multiply-adds with ``stride_in="1x1"`` (paper
    7.6 G), 7.80 G with the default ``"3x3"``."""
    return imagenet_resnet(
        101, num_classes=num_classes, in_channels=in_channels, stride_in=stride_in, preact=preact
    )


@register("resnet152", **_IMAGENET, tags=("resnet",))
def resnet152(
    *, num_classes: int = 1000, in_channels: int = 3, stride_in: str = "3x3", preact: bool = False
) -> ResNet:
    """ResNet-152: 60,192,808 parameters; 11.28 G multiply-adds with ``stride_in="1x1"`` (paper
    11.3 G), 11.51 G with the default ``"3x3"``."""
    return imagenet_resnet(
        152, num_classes=num_classes, in_channels=in_channels, stride_in=stride_in, preact=preact
    )


# ------------------------------------------------------------------ registered CIFAR models
_CIFAR = dict(input_size=(3, 32, 32), scale="course", paper=HE2015)


# depth 6n+2 -> (n, our parameter count with shortcut A, the paper's Table 6 figure)
CIFAR_DEPTHS: dict[int, tuple[int, str, str]] = {
    20: (3, "269,722", "0.27 M"),
    32: (5, "464,154", "0.46 M"),
    44: (7, "658,586", "0.66 M"),
    56: (9, "853,018", "0.85 M"),
    110: (18, "1,727,962", "1.7 M"),
}


def _register_cifar(depth: int, n: int, params: str, paper: str) -> None:
    """Register ``resnet{depth}`` and its shortcut-free twin ``plain{depth}``."""

    def resnet(
        *, num_classes: int = 10, in_channels: int = 3, shortcut: str = "A", preact: bool = False
    ) -> ResNet:
        return cifar_resnet(
            depth,
            num_classes=num_classes,
            in_channels=in_channels,
            shortcut=shortcut,
            preact=preact,
        )

    def plain(*, num_classes: int = 10, in_channels: int = 3) -> ResNet:
        return cifar_resnet(depth, num_classes=num_classes, in_channels=in_channels, residual=False)

    resnet.__doc__ = (
        f"CIFAR ResNet-{depth} (n={n}): {params} parameters with shortcut A (paper: {paper})."
    )
    plain.__doc__ = f"CIFAR plain-{depth}: ResNet-{depth} without shortcuts ({params} parameters)."
    for fn, name, tag in ((resnet, f"resnet{depth}", "resnet"), (plain, f"plain{depth}", "plain")):
        fn.__name__ = fn.__qualname__ = name
        register(name, **_CIFAR, tags=(tag, "cifar"))(fn)


for _depth, _spec in CIFAR_DEPTHS.items():
    _register_cifar(_depth, *_spec)
