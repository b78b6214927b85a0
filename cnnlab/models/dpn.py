"""Dual Path Networks: a residual path and a densely connected path in every block.

Paper
    Chen, Li, Xiao, Jin, Yan, Feng, "Dual Path Networks", NeurIPS 2017 (arXiv:1707.01629),
    Table 1 (DPN-92 32×3d, DPN-98 40×4d); the authors' MXNet code (github.com/cypw/DPNs).

A dual path block is a pre-activation ResNeXt bottleneck (BN-ReLU-1×1, BN-ReLU-3×3 grouped,
BN-ReLU-1×1) whose output is split in two: the first ``res_channels`` are *added* to the
residual path and the last ``inc`` are *concatenated* to the dense path, which thus grows by
``inc`` channels per block (like a DenseNet with growth rate ``inc``). The block input is the
concatenation of both paths. The first block of every stage projects its input with a
BN-ReLU-1×1 convolution (stride 2 after the first stage) into a new residual path and a dense
path of ``2·inc`` channels. One builder, :func:`build_dpn`, makes every configuration.

Parameter counts (ours, pinned by tests): DPN-92 37,668,392 and DPN-98 61,570,728 trainable
parameters; the paper's Table 1 says 37.8 M and 61.7 M. Our topology is the one of the authors'
released code (timm's port of it, which loads the authors' weights, has the same 37.67 M /
61.57 M). The paper's table counts the BN moving mean and variance too (MXNet "aux" states, two
numbers per BN channel): with them our networks have 37,793,608 and 61,735,624 values, exactly
the published 37.8 M / 61.7 M. The same rule reproduces the other columns of that table
(DenseNet-161 28.9 M, ResNeXt-101 32×4d 44.3 M, 64×4d 83.7 M) from our counts. Multiply-adds at
224×224: DPN-92 6.50 G and DPN-98 11.67 G (paper 6.5 G / 11.7 G).

Deviations
    * Classifier: a linear layer after global average pooling (the authors' code uses an
      equivalent 1×1 convolution); no test-time "avg+max" pooling. Same parameters.
    * BN epsilon is PyTorch's 1e-5 (the MXNet code uses 1e-3 — only matters for its weights).
    * Initialisation: He normal (fan-out) for convolutions, BN γ=1, β=0.
    * ``in_channels`` replaces the 3 input channels of the first convolution.
    * ``dpn_cifar`` is our own small course configuration (not in the paper): a 3×3 stride-1
      stem without max-pool and three stages, for 32×32 inputs.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab._validate import as_int, check_choice
from cnnlab.models.layers import BNActConv, init_weights
from cnnlab.models.registry import register
from cnnlab.models.resnet import check_model_input

CHEN2017 = "Chen et al., Dual Path Networks, NeurIPS 2017 (arXiv:1707.01629)"

# name -> stem channels, bottleneck widths, residual-path widths, groups, blocks, dense increments
DPN_CONFIGS: dict[str, dict[str, tuple[int, ...] | int]] = {
    "dpn92": dict(
        num_init_features=64,
        widths=(96, 192, 384, 768),
        res_channels=(256, 512, 1024, 2048),
        groups=32,
        blocks=(3, 4, 20, 3),
        increments=(16, 32, 24, 128),
    ),
    "dpn98": dict(
        num_init_features=96,
        widths=(160, 320, 640, 1280),
        res_channels=(256, 512, 1024, 2048),
        groups=40,
        blocks=(3, 6, 20, 3),
        increments=(16, 32, 32, 128),
    ),
    "dpn_cifar": dict(
        num_init_features=32,
        widths=(32, 64, 128),
        res_channels=(64, 128, 256),
        groups=8,
        blocks=(2, 2, 2),
        increments=(8, 16, 32),
    ),
}


class DualPathBlock(nn.Module):
    """One DPN block: ``(res, dense)`` or a tensor in, ``(res, dense + inc channels)`` out.

    ``res`` has ``res_channels`` channels; with ``project`` the input (any width) is mapped by
    a 1×1 convolution of stride ``stride`` to a fresh ``res`` and a ``2·inc`` dense path.
    """

    def __init__(
        self,
        in_channels: int,
        width: int,
        res_channels: int,
        inc: int,
        groups: int,
        *,
        stride: int = 1,
        project: bool = False,
    ) -> None:
        super().__init__()
        self.res_channels = res_channels
        self.proj = BNActConv(in_channels, res_channels + 2 * inc, 1, stride) if project else None
        self.reduce = BNActConv(in_channels, width, 1)
        self.grouped = BNActConv(width, width, 3, stride, groups=groups)
        self.expand = BNActConv(width, res_channels + inc, 1)

    def forward(
        self, x: torch.Tensor | tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x_in = torch.cat(x, dim=1) if isinstance(x, tuple) else x
        if self.proj is not None:
            s = self.proj(x_in)
            res, dense = s[:, : self.res_channels], s[:, self.res_channels :]
        else:
            if not isinstance(x, tuple):
                raise TypeError("a non-projecting dual path block needs a (res, dense) pair")
            res, dense = x
        out = self.expand(self.grouped(self.reduce(x_in)))
        res = res + out[:, : self.res_channels]
        dense = torch.cat([dense, out[:, self.res_channels :]], dim=1)
        return res, dense


class DPN(nn.Module):
    """``(N, in_channels, H, W) -> (N, num_classes)``: ``features`` (stem, stages) then
    BN-ReLU on the concatenated paths, global average pooling and ``classifier``."""

    def __init__(
        self,
        *,
        num_init_features: int,
        widths: tuple[int, ...],
        res_channels: tuple[int, ...],
        groups: int,
        blocks: tuple[int, ...],
        increments: tuple[int, ...],
        stem: str,
        num_classes: int,
        in_channels: int,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        if stem == "imagenet":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, num_init_features, 7, 2, 3, bias=False),
                nn.BatchNorm2d(num_init_features),
                nn.ReLU(),
                nn.MaxPool2d(3, stride=2, padding=1),
            )
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, num_init_features, 3, 1, 1, bias=False),
                nn.BatchNorm2d(num_init_features),
                nn.ReLU(),
            )
        cin = num_init_features
        stages = []
        for i, (w, rc, n, inc) in enumerate(
            zip(widths, res_channels, blocks, increments, strict=True)
        ):
            stage = [
                DualPathBlock(cin, w, rc, inc, groups, stride=1 if i == 0 else 2, project=True)
            ]
            cin = rc + 3 * inc
            for _ in range(1, n):
                stage.append(DualPathBlock(cin, w, rc, inc, groups))
                cin += inc
            stages.append(nn.Sequential(*stage))
        self.stages = nn.Sequential(*stages)
        self.final_bn = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cin, num_classes)
        self.num_features = cin
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, num_classes)`` logits."""
        check_model_input(self, x)
        res, dense = self.stages(self.stem(x))
        out = self.relu(self.final_bn(torch.cat([res, dense], dim=1)))
        return self.classifier(torch.flatten(self.avgpool(out), 1))


def _int_tuple(values: object, name: str, length: int | None = None) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a list of integers, got {values!r}")
    out = tuple(as_int(v, f"{name}[{i}]", minimum=1) for i, v in enumerate(values))  # type: ignore[arg-type]
    if not out or (length is not None and len(out) != length):
        raise ValueError(f"{name} must have {length or 'at least 1'} entries, got {len(out)}")
    return out


def build_dpn(
    *,
    num_init_features: int,
    widths: tuple[int, ...] | list[int],
    res_channels: tuple[int, ...] | list[int],
    groups: int,
    blocks: tuple[int, ...] | list[int],
    increments: tuple[int, ...] | list[int],
    stem: str = "imagenet",
    num_classes: int = 1000,
    in_channels: int = 3,
) -> DPN:
    """The family builder. Per stage: bottleneck ``widths`` (grouped in ``groups``), residual
    path ``res_channels``, number of ``blocks`` and dense ``increments``. ``stem``:
    ``"imagenet"`` (7×7/2 conv, BN, ReLU, 3×3/2 max-pool) or ``"cifar"`` (3×3/1 conv, BN, ReLU).
    """
    widths_t = _int_tuple(widths, "widths")
    n = len(widths_t)
    groups = as_int(groups, "groups", minimum=1)
    for i, w in enumerate(widths_t):
        if w % groups:
            raise ValueError(f"widths[{i}] = {w} must be divisible by groups = {groups}")
    return DPN(
        num_init_features=as_int(num_init_features, "num_init_features", minimum=1),
        widths=widths_t,
        res_channels=_int_tuple(res_channels, "res_channels", n),
        groups=groups,
        blocks=_int_tuple(blocks, "blocks", n),
        increments=_int_tuple(increments, "increments", n),
        stem=check_choice(stem, "stem", ("imagenet", "cifar")),
        num_classes=as_int(num_classes, "num_classes", minimum=1),
        in_channels=as_int(in_channels, "in_channels", minimum=1),
    )


@register("dpn92", input_size=(3, 224, 224), scale="imagenet", paper=CHEN2017, tags=("dpn",))
def dpn92(*, num_classes: int = 1000, in_channels: int = 3) -> DPN:
    """DPN-92 (32×3d): 37,668,392 parameters (paper 37.8 M), 6.5 G multiply-adds."""
    cfg = DPN_CONFIGS["dpn92"]
    return build_dpn(**cfg, num_classes=num_classes, in_channels=in_channels)  # type: ignore[arg-type]


@register("dpn98", input_size=(3, 224, 224), scale="imagenet", paper=CHEN2017, tags=("dpn",))
def dpn98(*, num_classes: int = 1000, in_channels: int = 3) -> DPN:
    """DPN-98 (40×4d): 61,570,728 parameters (paper 61.7 M), 11.7 G multiply-adds."""
    cfg = DPN_CONFIGS["dpn98"]
    return build_dpn(**cfg, num_classes=num_classes, in_channels=in_channels)  # type: ignore[arg-type]


@register(
    "dpn_cifar", input_size=(3, 32, 32), scale="course", paper=CHEN2017, tags=("dpn", "cifar")
)
def dpn_cifar(*, num_classes: int = 10, in_channels: int = 3) -> DPN:
    """Our small course DPN for 32×32 inputs (not in the paper; count pinned by tests)."""
    cfg = DPN_CONFIGS["dpn_cifar"]
    return build_dpn(
        **cfg,  # type: ignore[arg-type]
        stem="cifar",
        num_classes=num_classes,
        in_channels=in_channels,
    )
