"""Network in Network: mlpconv layers (a convolution followed by 1×1 convolutions) and global
average pooling in place of fully connected layers.

Paper
    M. Lin, Q. Chen, S. Yan, "Network In Network", ICLR 2014 (arXiv:1312.4400) — Section 3
    (mlpconv, global average pooling) and Section 4 (CIFAR-10: three mlpconv layers).

The layouts are those the authors released, since the paper gives no layer table:
``NIN_CFGS["imagenet"]`` is the Caffe Model Zoo "NIN ImageNet" model (the seed's 7.5 M
parameters, 29 MB), ``NIN_CFGS["cifar"]`` the cuda-convnet/Caffe CIFAR-10 model (192-160-96
maps). Each row is an mlpconv (``MlpRow``) or a pool/dropout; ``build_nin`` builds either.
Layers are named as in the released models (``conv1``, ``cccp1``, ``cccp2``, ``pool1`` ...).

Deviations, for both models
    * PyTorch's default initialisation (the releases used Gaussians of fixed small std).
    * The last 1×1 convolution has ``num_classes`` maps and is followed by a ReLU before the
      global average pool, as in both releases (so the logits are non-negative).
    * ``in_channels`` replaces the 3 input channels. No torchvision counterpart.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_int
from cnnlab.models.registry import register

LIN2014 = "Lin, Chen, Yan, Network In Network, ICLR 2014 (arXiv:1312.4400)"

NUM_CLASSES = 0  # placeholder in the tables: the last 1×1 convolution has num_classes maps


@dataclass(frozen=True)
class MlpRow:
    """One mlpconv: a k×k convolution then 1×1 convolutions, each followed by a ReLU."""

    maps: tuple[int, ...]  # first the k×k conv, then the 1×1 convs (0 = num_classes)
    kernel: int
    stride: int = 1
    padding: int = 0


NinItem = MlpRow | tuple[str, int, int] | tuple[str, float]

NIN_CFGS: dict[str, tuple[NinItem, ...]] = {
    # Caffe Model Zoo nin_imagenet: 224 -> 54 -> 27 -> 13 -> 6, global 6×6 average pool.
    "imagenet": (
        MlpRow((96, 96, 96), 11, 4, 0),
        ("max", 3, 2),
        MlpRow((256, 256, 256), 5, 1, 2),
        ("max", 3, 2),
        MlpRow((384, 384, 384), 3, 1, 1),
        ("max", 3, 2),
        ("dropout", 0.5),
        MlpRow((1024, 1024, NUM_CLASSES), 3, 1, 1),
    ),
    # CIFAR-10 model: 32 -> 16 (max) -> 8 (average), global 8×8 average pool.
    "cifar": (
        MlpRow((192, 160, 96), 5, 1, 2),
        ("max", 3, 2),
        ("dropout", 0.5),
        MlpRow((192, 192, 192), 5, 1, 2),
        ("avg", 3, 2),
        ("dropout", 0.5),
        MlpRow((192, 192, NUM_CLASSES), 3, 1, 1),
    ),
}


def build_nin(cfg: str, *, num_classes: int, in_channels: int = 3) -> nn.Sequential:
    """Build ``NIN_CFGS[cfg]``: (N, C, H, W) -> (N, num_classes); pools round up (Caffe)."""
    if cfg not in NIN_CFGS:
        raise ValueError(f"unknown NIN layout {cfg!r}; valid: {', '.join(NIN_CFGS)}")
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    channels = as_int(in_channels, "in_channels", minimum=1)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    n_conv = n_cccp = n_pool = n_drop = 0
    for item in NIN_CFGS[cfg]:
        if isinstance(item, MlpRow):
            for j, maps in enumerate(item.maps):
                maps = maps or num_classes
                if j == 0:
                    n_conv += 1
                    name = f"conv{n_conv}"
                    conv = nn.Conv2d(channels, maps, item.kernel, item.stride, item.padding)
                else:
                    n_cccp += 1
                    name = f"cccp{n_cccp}"
                    conv = nn.Conv2d(channels, maps, 1)
                layers[name] = conv
                layers[f"relu_{name}"] = nn.ReLU()
                channels = maps
        elif item[0] == "dropout":
            n_drop += 1
            layers[f"drop{n_drop}"] = nn.Dropout(float(item[1]))
        else:
            kind, k, s = item
            n_pool += 1
            layers[f"pool{n_pool}"] = (
                nn.MaxPool2d(k, s, ceil_mode=True)
                if kind == "max"
                else nn.AvgPool2d(k, s, ceil_mode=True, count_include_pad=False)
            )
    layers["global_pool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten(1)
    return nn.Sequential(layers)


@register("nin", input_size=(3, 224, 224), scale="imagenet", paper=LIN2014, tags=("nin",))
def nin(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """NIN for ImageNet (Caffe Model Zoo release): (N, 3, 224, 224) -> (N, num_classes).

    Four mlpconv layers, each a k×k convolution and two 1×1 convolutions ("cccp"), with ReLU:
    96 (11×11/4), 256 (5×5 pad 2), 384 (3×3 pad 1), then dropout and 1024-1024-classes (3×3
    pad 1), with 3×3/2 max pools between and a global average pool at the end. 7,595,176
    parameters (the seed: 7.5 M, 29 MB) against AlexNet's 62 M: no FC layers.

    Deviations: the module's family deviations; the global pool is adaptive (the release uses
    a fixed 6×6 average pool, the same at 224×224).
    """
    return build_nin("imagenet", num_classes=num_classes, in_channels=in_channels)


@register("nin_cifar", input_size=(3, 32, 32), scale="course", paper=LIN2014, tags=("nin",))
def nin_cifar(*, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """NIN for CIFAR-10 (Lin et al., Section 4.2; the authors' release): (N, 3, 32, 32) -> (N, 10).

    mlpconv 192-160-96 (5×5 pad 2) -> max 3×3/2 -> dropout -> mlpconv 192-192-192 (5×5 pad 2)
    -> average 3×3/2 -> dropout -> mlpconv 192-192-classes (3×3 pad 1) -> global average pool.
    966,986 parameters. This is the paper's own CIFAR model, not a scaled-down ImageNet one.

    Deviations: the module's family deviations; the global pool is adaptive (the release uses a
    fixed 8×8 average pool, the same at 32×32); pools round up as in Caffe (32 -> 16 -> 8).
    """
    return build_nin("cifar", num_classes=num_classes, in_channels=in_channels)


# ---------------------------------------------------------------------------------------------
# The pieces of topic 8: one mlpconv block, the same block as a per-pixel MLP, a small NIN.


def mlpconv(
    in_channels: int,
    channels: tuple[int, ...] | list[int],
    kernel_size: int,
    *,
    stride: int = 1,
    padding: int = 0,
    batch_norm: bool = False,
) -> nn.Sequential:
    """One mlpconv: a ``kernel_size``×``kernel_size`` convolution to ``channels[0]`` maps, then
    one 1×1 convolution per further entry of ``channels``, each followed by a ReLU (and, with
    ``batch_norm``, a batch norm between convolution and ReLU).

    (N, in_channels, H, W) -> (N, channels[-1], H', W') with H' = (H + 2·padding − k)/stride + 1
    (the 1×1 convolutions keep the size). Layers are numbered 0, 1, 2, … (conv, ReLU, conv, …).
    """
    c_in = as_int(in_channels, "in_channels", minimum=1)
    maps = [as_int(c, "channels", minimum=1) for c in channels]
    if not maps:
        raise ValueError("channels must name at least one layer (the k×k convolution)")
    k = as_int(kernel_size, "kernel_size", minimum=1)
    s = as_int(stride, "stride", minimum=1)
    p = as_int(padding, "padding", minimum=0)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip([c_in, *maps], maps, strict=False)):
        layers.append(nn.Conv2d(a, b, k, s, p) if i == 0 else nn.Conv2d(a, b, 1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(b))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def per_pixel_mlp(block: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """``block`` (an :func:`mlpconv`) computed the long way: unfold every k×k patch of ``x``
    (N, C, H, W) into a vector of C·k·k numbers and run an ordinary MLP of ``nn.Linear`` layers
    (the convolutions' weights, reshaped) on each patch. Returns (N, C', H', W').

    It shows what an mlpconv is: the same small fully connected network applied at every
    position; the 1×1 convolutions are its hidden layers.
    """
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    first = convs[0]
    n, _, h, w = x.shape
    k, s, p = first.kernel_size[0], first.stride[0], first.padding[0]
    h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    patches = F.unfold(x, k, padding=p, stride=s).transpose(1, 2)  # (N, H'·W', C·k·k)
    mlp = []
    for conv in convs:
        weight = conv.weight.detach().flatten(1)  # (C_out, C·k·k): one row per output map
        linear = nn.Linear(weight.shape[1], weight.shape[0], dtype=weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(conv.bias)
        mlp += [linear, nn.ReLU()]
    y = nn.Sequential(*mlp)(patches)  # (N, H'·W', C') — one MLP call per position
    return y.transpose(1, 2).reshape(n, -1, h_out, w_out)


HEADS = ("gap", "fc")


@register("nin_small", input_size=(3, 32, 32), scale="course", paper=LIN2014, tags=("nin",))
def nin_small(
    *,
    channels: tuple[int, int] = (16, 32),
    head: str = "gap",
    num_classes: int = 10,
    in_channels: int = 3,
    image_size: int = 32,
) -> nn.Module:
    """A small NIN for the course's 32×32 data, with a global-average-pooling or an FC head.

    mlpconv c1-c1-c1 (5×5 pad 2) -> max 3×3/2 -> mlpconv c2-c2-c2 (3×3 pad 1) -> max 3×3/2,
    then ``head="gap"``: a 1×1 convolution to ``num_classes`` maps and a global average pool
    (NIN's head: c2·K + K parameters), or ``head="fc"``: flatten and one linear layer
    (c2·8·8·K + K parameters at 32×32). 9,130 parameters with the defaults.

    Deviations: a scaled-down NIN (the paper's CIFAR model is ``nin_cifar``): two narrow
    mlpconv layers, no dropout, batch norm after every convolution (Ioffe and Szegedy, 2015,
    after NIN: it lets a short CPU run train), and no ReLU after the head's 1×1 convolution.
    """
    c1, c2 = (as_int(c, "channels", minimum=1) for c in channels)
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; valid: {', '.join(HEADS)}")
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    size = as_int(image_size, "image_size", minimum=8)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    layers["mlpconv1"] = mlpconv(in_channels, (c1, c1, c1), 5, padding=2, batch_norm=True)
    layers["pool1"] = nn.MaxPool2d(3, 2, ceil_mode=True)
    layers["mlpconv2"] = mlpconv(c1, (c2, c2, c2), 3, padding=1, batch_norm=True)
    layers["pool2"] = nn.MaxPool2d(3, 2, ceil_mode=True)
    if head == "gap":
        layers["cccp"] = nn.Conv2d(c2, num_classes, 1)
        layers["gap"] = nn.AdaptiveAvgPool2d(1)
        layers["flatten"] = nn.Flatten(1)
    else:
        side = pooled_size(pooled_size(size))
        layers["flatten"] = nn.Flatten(1)
        layers["fc"] = nn.Linear(c2 * side * side, num_classes)
    return nn.Sequential(layers)


def pooled_size(n: int) -> int:
    """The output size of a 3×3/2 max pool that rounds up (Caffe), as ``nin_small`` uses."""
    return -(-(n - 3) // 2) + 1
