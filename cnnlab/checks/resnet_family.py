"""Checks of topic 12, the ResNet family: ``dense_block_params`` and ``aggregated_paths``.

* :func:`dense_block_params` checks ``dense_block_params(in_channels, num_layers, growth_rate,
  bottleneck)``: the parameters of one DenseNet dense block (every layer BN-ReLU-conv, the
  input of layer i the concatenation of the block input and the i earlier layers' outputs),
  against the parameters of :class:`cnnlab.models.densenet.DenseBlock` itself.
* :func:`aggregated_paths` checks ``aggregated_paths(x, w1, w2, w3, cardinality)``: the ResNeXt
  block in its split-transform-merge form (G paths, summed), against the grouped-convolution
  form :func:`cnnlab.models.wide.resnext_grouped` on the same weights, in float64.

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.checks._core import (
    CheckFailed,
    as_int,
    as_tensor,
    call_student,
    compare,
    generator,
    num,
    ok,
    pick,
    randreal,
    require_callable,
)

__all__ = ["aggregated_paths", "dense_block_params"]

# --------------------------------------------------------------------------------------------
# dense_block_params(in_channels, num_layers, growth_rate, bottleneck)

_DENSE_FORBIDDEN = (
    "cnnlab.models.densenet.DenseBlock",
    "cnnlab.models.densenet.DenseLayer",
    "cnnlab.models.densenet.build_densenet",
    "torch.nn.Conv2d",
    "torch.nn.BatchNorm2d",
    "cnnlab.cost.summary",
)
BN_SIZE = 4  # DenseNet-B: the 1×1 bottleneck has 4k channels


def _layer(c: int, k: int, bottleneck: bool, *, bn: int = 2, width: int = BN_SIZE) -> int:
    """Parameters of one dense layer on ``c`` input channels (``bn`` per BN channel)."""
    if not bottleneck:
        return bn * c + 9 * c * k
    w = width * k
    return bn * c + c * w + bn * w + 9 * w * k


def _true_block(c0: int, n: int, k: int, bottleneck: bool) -> int:
    """The parameters of the real ``DenseBlock`` (built on the meta device: no memory)."""
    from cnnlab.models.densenet import DenseBlock

    with torch.device("meta"):
        block = DenseBlock(n, c0, k, BN_SIZE if bottleneck else None, 0.0)
    return sum(p.numel() for p in block.parameters())


def _block_hint(answer: float, c0: int, n: int, k: int, bottleneck: bool) -> str:
    def total(**kw: Any) -> int:
        start = kw.pop("start", 0)
        return sum(_layer(c0 + i * k, k, bottleneck, **kw) for i in range(start, n + start))

    inputs = " + ".join(f"{c0 + i * k}" for i in range(min(n, 3))) + (" + …" if n > 3 else "")
    if answer == total(bn=0):
        return (
            "you forgot the batch norms: each BatchNorm2d before a convolution has 2 parameters "
            "per channel it normalises (γ and β)"
        )
    if answer == total(bn=1):
        return "a BatchNorm2d has two parameters per channel, γ (scale) and β (shift), not one"
    if answer == n * _layer(c0, k, bottleneck):
        return (
            "every layer reads the concatenation of the block input and all earlier outputs: "
            f"layer i has {c0} + i·{k} input channels ({inputs}), not {c0} each"
        )
    if answer == total(start=1):
        return (
            f"off by one layer: the first layer reads only the block input ({c0} channels), "
            f"the i-th (from 0) reads {c0} + i·{k}"
        )
    if bottleneck and answer == total(width=1):
        return f"the 1×1 bottleneck has bn_size·k = {BN_SIZE}·{k} = {BN_SIZE * k} channels, not k"
    if bottleneck and answer == sum(_layer(c0 + i * k, k, False) for i in range(n)):
        return (
            "with bottleneck=True each layer is BN-ReLU-1×1 conv (to 4k channels), then "
            "BN-ReLU-3×3 conv (to k): count both convolutions and both batch norms"
        )
    if not bottleneck and answer == sum(_layer(c0 + i * k, k, True) for i in range(n)):
        return "with bottleneck=False a layer is only BN-ReLU-3×3 conv: no 1×1 convolution"
    biases = n * (k + (BN_SIZE * k if bottleneck else 0))  # one per output channel of each conv
    if answer == _true_block(c0, n, k, bottleneck) + biases:
        return "DenseNet's convolutions have no bias (bias=False): batch norm's β replaces it"
    return (
        "layer i has C_i = in_channels + i·growth_rate inputs; count BN (2·C_i), the 3×3 "
        "convolution (9·C_in·k, no bias) and, with the bottleneck, the 1×1 (C_i·4k) and its BN"
    )


def dense_block_params(fn: Callable[..., Any], cases: int = 24) -> None:
    """Check ``fn(in_channels, num_layers, growth_rate, bottleneck) -> int`` against the
    parameters of :class:`cnnlab.models.densenet.DenseBlock` (BN-ReLU-conv layers, no bias;
    with ``bottleneck`` a 1×1 to 4k channels first)."""
    name = "dense_block_params"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: DenseNet-121's first block (64 channels in, 6 layers, k = 32)
    blocks = [(64, 6, 32, True), (64, 6, 32, False)]
    while len(blocks) < cases:
        blocks.append((pick(g, 1, 200), pick(g, 1, 16), pick(g, 1, 48), len(blocks) % 2 == 0))
    for c0, n, k, bottleneck in blocks:
        call = f"{name}({c0}, {n}, {k}, {bottleneck})"
        value = call_student(
            name, fn, (c0, n, k, bottleneck), call, forbidden=_DENSE_FORBIDDEN,
            instead="count the weights with the formula, do not build the block",
        )  # fmt: skip
        answer = as_int(name, value, call, "a parameter count")
        expected = _true_block(c0, n, k, bottleneck)
        if answer != expected:
            raise CheckFailed(
                f"{name} is wrong for {call}:\n  expected {expected:,} (the parameters of "
                f"DenseBlock({n}, {c0}, {k}, bn_size={BN_SIZE if bottleneck else None})), got "
                f"{num(answer)}.\n  Hint: {_block_hint(answer, c0, n, k, bottleneck)}"
            )
    first = _true_block(64, 6, 32, True)
    ok(
        f"dense_block_params: {cases} dense blocks match DenseBlock (DenseNet-121's first block: "
        f"{first:,} parameters, 64 + 6·32 = 256 channels out)"
    )


# --------------------------------------------------------------------------------------------
# aggregated_paths(x, w1, w2, w3, cardinality)


def _reference(
    x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor, groups: int
) -> torch.Tensor:
    from cnnlab.models.wide import resnext_grouped

    return resnext_grouped(x, w1, w2, w3, groups)


_PATHS_FORBIDDEN = (
    "torch.nn.Conv2d",
    "cnnlab.models.wide.resnext_aggregated",
    "cnnlab.models.wide.resnext_concatenated",
    "cnnlab.models.wide.resnext_grouped",
)


@contextmanager
def _no_grouped_conv(student: object, used: list[int]) -> Iterator[None]:
    """Record every ``groups`` > 1 passed to conv2d (the grouped form the exercise replaces)."""
    original = F.conv2d

    def watched(*args: Any, **kwargs: Any) -> torch.Tensor:
        groups = kwargs.get("groups", args[6] if len(args) > 6 else 1)
        if groups != 1:
            used.append(int(groups))
        return original(*args, **kwargs)

    namespace = getattr(student, "__globals__", None)
    renamed = []
    if isinstance(namespace, dict):
        renamed = [k for k, v in namespace.items() if v is original]
    targets = [(F, "conv2d"), (torch, "conv2d")]
    saved = [getattr(t, a) for t, a in targets]
    try:
        for t, a in targets:
            setattr(t, a, watched)
        for key in renamed:
            namespace[key] = watched  # type: ignore[index]
        yield
    finally:
        for (t, a), s in zip(targets, saved, strict=True):
            setattr(t, a, s)
        for key in renamed:
            namespace[key] = original  # type: ignore[index]


def _weights(
    g: torch.Generator, c_in: int, groups: int, d: int, c_out: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    w1 = randreal(g, groups * d, c_in, 1, 1) / c_in**0.5
    w2 = randreal(g, groups * d, d, 3, 3) / (9 * d) ** 0.5
    w3 = randreal(g, c_out, groups * d, 1, 1) / (groups * d) ** 0.5
    return w1, w2, w3


def _path_hints(
    x: torch.Tensor, w: tuple[torch.Tensor, torch.Tensor, torch.Tensor], groups: int
) -> list[tuple[torch.Tensor, str]]:
    w1, w2, w3 = w
    d = w1.shape[0] // groups

    def paths(relu: bool = True, pad: int = 1, mean: bool = False) -> torch.Tensor:
        act = torch.relu if relu else (lambda t: t)
        outs = []
        for g in range(groups):
            r = slice(g * d, (g + 1) * d)
            h = act(F.conv2d(x, w1[r]))
            h = act(F.conv2d(h, w2[r], padding=pad))
            if pad == 0:
                h = F.pad(h, (1, 1, 1, 1))
            outs.append(F.conv2d(h, w3[:, r]))
        total = torch.stack(outs).sum(0)
        return total / groups if mean else total

    first = F.conv2d(torch.relu(F.conv2d(torch.relu(F.conv2d(x, w1[:d])), w2[:d], padding=1)),
                     w3[:, :d])  # fmt: skip
    return [
        (paths(mean=True), "you averaged the paths; ResNeXt *sums* them (aggregation is a sum)"),
        (paths(relu=False), "each path has a ReLU after its 1×1 and after its 3×3 convolution"),
        (first, "only the first path is in your answer: sum over all `cardinality` paths"),
        (
            torch.relu(paths()),
            "no ReLU after the sum: in the block the sum goes through BN and the shortcut "
            "first, so this function ends with the aggregated 1×1 outputs",
        ),
    ]


def aggregated_paths(fn: Callable[..., Any], cases: int = 5) -> None:
    """Check ``fn(x, w1, w2, w3, cardinality) -> Tensor``: the sum over G paths of
    1×1 (rows of ``w1``), ReLU, 3×3 padding 1 (rows of ``w2``), ReLU, 1×1 (columns of ``w3``),
    equal to the grouped convolution form on the same weights (float64)."""
    name = "aggregated_paths"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: ResNeXt's 32×4d block (256 in, 32 paths of width 4, 256 out)
    configs = [(256, 32, 4, 256, 5)]
    while len(configs) < cases + 1:
        configs.append(
            (pick(g, 2, 12), pick(g, 2, 6), pick(g, 1, 4), pick(g, 2, 10), pick(g, 4, 7))
        )
    for c_in, groups, d, c_out, side in configs:
        x = randreal(g, 2, c_in, side, side + 1)
        w = _weights(g, c_in, groups, d, c_out)
        call = (
            f"{name}(x {tuple(x.shape)}, w1 {tuple(w[0].shape)}, w2 {tuple(w[1].shape)}, "
            f"w3 {tuple(w[2].shape)}, cardinality={groups})"
        )
        used: list[int] = []
        with _no_grouped_conv(fn, used):
            value = call_student(
                name, fn, (x, *w, groups), call, forbidden=_PATHS_FORBIDDEN,
                instead="use torch.nn.functional.conv2d on slices of the weights",
            )  # fmt: skip
        if used:
            raise CheckFailed(
                f"{name} calls conv2d with groups={used[0]} for {call}: that is the grouped "
                "form (c) the exercise compares against.\n  Hint: write the paths out — for "
                "each path g, slice its d rows of w1 and w2 and its d columns of w3, run "
                "conv2d with groups=1, and add the path outputs."
            )
        got = as_tensor(name, value, call)
        expected = _reference(x, *w, groups)
        compare(
            name, got, expected, call, wrong_answers=_path_hints(x, w, groups),
            wrong_shapes=[
                ((2, groups * d, side, side + 1),
                 "your output has G·d channels: finish each path with its 1×1 (w3[:, rows])"),
                ((2, c_out, side - 2, side - 1),
                 "the 3×3 convolutions need padding=1 to keep the map size"),
            ],
        )  # fmt: skip
    ok(
        f"aggregated_paths: ResNeXt's 32-path block and {cases} random blocks equal the grouped "
        "convolution on the same weights (float64)"
    )
