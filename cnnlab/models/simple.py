"""The course's own small CNNs, built to be looked inside (notebook 4). No paper: our design.

Each network is a stack of stages ``conv -> batch norm -> ReLU [-> 2×2 max-pool]`` read from a
table, then a head. The modules are named ``conv1, bn1, relu1, pool1, conv2, ...`` and ``fc``,
so :mod:`cnnlab.viz` and the notebooks can refer to layers by short, stable names.

==================  =========  ====================================  ==============  ======
name                input      stages (kernel, pooled)               head            params
==================  =========  ====================================  ==============  ======
simple_cnn          3×32×32    5×5 pool, 3×3 pool, 3×3               global avg, fc   8,634
simple_cnn_digits   1×16×16    3×3 pool, 3×3 pool                    flatten, fc      3,866
==================  =========  ====================================  ==============  ======

(parameters with the default ``channels`` and 10 classes.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from cnnlab._validate import as_int
from cnnlab.models.registry import register

NO_PAPER = "none: the course's own small network (cnnlab, notebook 4)"

# One row per stage: (kernel size, 2×2 max-pool after the ReLU). "Same" padding (k // 2).
SIMPLE_CNN_TABLE: tuple[tuple[int, bool], ...] = ((5, True), (3, True), (3, False))
DIGITS_CNN_TABLE: tuple[tuple[int, bool], ...] = ((3, True), (3, True))


def _channels(channels: object, n_stages: int) -> tuple[int, ...]:
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence):
        raise TypeError(
            f"channels must be a sequence of {n_stages} positive ints, "
            f"got {type(channels).__name__}"
        )
    if len(channels) != n_stages:
        raise ValueError(
            f"channels must hold {n_stages} values (one per conv stage), got {len(channels)}"
        )
    return tuple(as_int(c, f"channels[{i}]", minimum=1) for i, c in enumerate(channels))


def build_simple_cnn(
    table: Sequence[tuple[int, bool]],
    channels: Sequence[int],
    *,
    num_classes: int = 10,
    in_channels: int = 3,
    head: str = "gap",
    image_size: int | None = None,
) -> nn.Sequential:
    """Stages from ``table`` ((kernel, pool) rows), widths ``channels``, then a head.

    ``head="gap"``: global average pooling -> ``fc`` (any input size); ``head="flatten"``:
    flatten -> ``fc`` on the last C×h×w map, which needs the square ``image_size``.
    (N, in_channels, H, W) -> (N, num_classes).
    """
    widths = _channels(channels, len(table))
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    c_in = as_int(in_channels, "in_channels", minimum=1)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    n_pools = 0
    for i, ((kernel, pool), c_out) in enumerate(zip(table, widths, strict=True), start=1):
        layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)
        layers[f"bn{i}"] = nn.BatchNorm2d(c_out)
        layers[f"relu{i}"] = nn.ReLU()
        if pool:
            layers[f"pool{i}"] = nn.MaxPool2d(2)
            n_pools += 1
        c_in = c_out
    if head == "gap":
        layers["gap"] = nn.AdaptiveAvgPool2d(1)
        features = c_in
    elif head == "flatten":
        if image_size is None:
            raise ValueError("head='flatten' needs image_size (the side of the square input)")
        side = as_int(image_size, "image_size", minimum=2**n_pools) // 2**n_pools
        features = c_in * side * side
    else:
        raise ValueError(f"head must be one of 'gap', 'flatten', got {head!r}")
    layers["flatten"] = nn.Flatten(1)
    layers["fc"] = nn.Linear(features, num_classes)
    return nn.Sequential(layers)


@register("simple_cnn", input_size=(3, 32, 32), scale="course", paper=NO_PAPER, tags=("simple",))
def simple_cnn(
    *, num_classes: int = 10, in_channels: int = 3, channels: Sequence[int] = (16, 16, 32)
) -> nn.Module:
    """Notebook 4's shapes CNN: (N, 3, 32, 32) -> (N, num_classes). The course's own, no paper.

    conv1 5×5 -> bn1 -> relu1 -> pool1 (32 -> 16), conv2 3×3 -> bn2 -> relu2 -> pool2 (16 -> 8),
    conv3 3×3 -> bn3 -> relu3, gap (global average pool) -> flatten -> fc; ``SIMPLE_CNN_TABLE``.
    8,634 parameters with the default ``channels=(16, 16, 32)`` and 10 classes (96,522 with the
    ``full`` profile's (32, 64, 128)). Global pooling makes it work on any input of 4×4 or more.
    """
    return build_simple_cnn(
        SIMPLE_CNN_TABLE, channels, num_classes=num_classes, in_channels=in_channels
    )


@register(
    "simple_cnn_digits",
    input_size=(1, 16, 16),
    scale="course",
    paper=NO_PAPER,
    tags=("simple",),
)
def simple_cnn_digits(
    *,
    num_classes: int = 10,
    in_channels: int = 1,
    channels: Sequence[int] = (8, 16),
    image_size: int = 16,
) -> nn.Module:
    """The exercises' digits CNN: (N, 1, 16, 16) -> (N, num_classes). Our own, no paper.

    conv1 3×3 -> bn1 -> relu1 -> pool1, conv2 3×3 -> bn2 -> relu2 -> pool2, flatten -> fc on
    the 16×4×4 map; ``DIGITS_CNN_TABLE``. 3,866 parameters with the defaults. ``image_size`` is
    the side of the square input (the flattened size depends on it).
    """
    return build_simple_cnn(
        DIGITS_CNN_TABLE,
        channels,
        num_classes=num_classes,
        in_channels=in_channels,
        head="flatten",
        image_size=image_size,
    )


__all__ = [
    "DIGITS_CNN_TABLE",
    "SIMPLE_CNN_TABLE",
    "build_simple_cnn",
    "simple_cnn",
    "simple_cnn_digits",
]
