"""Checks of topic 7, VGG: ``vgg_features`` and ``linear_to_conv``.

* :func:`vgg_features` checks ``make_features(cfg, in_channels)``: the convolutional part of a
  VGG from a configuration list such as ``[64, "M", 128, "M"]`` (an int: a 3×3 convolution with
  padding 1 and that many maps, then a ReLU; ``"M"``: a 2×2 max pool with stride 2);
* :func:`linear_to_conv` checks ``linear_to_conv(fc, in_shape)``: the ``nn.Conv2d`` that
  computes what ``fc`` computes on a flattened (C, H, W) map.

Both build the expected answer here with plain PyTorch (not with :mod:`cnnlab.models.vgg`,
whose functions they forbid), compare structure first, then outputs in float64 with the
reference's weights copied in, print one ``✔ ...`` line on success and raise
:class:`cnnlab.checks.CheckFailed` naming the mistake otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from cnnlab.checks._core import (
    call_student,
    compare,
    fail,
    generator,
    ok,
    pick,
    randreal,
    require_callable,
    seeded,
)

__all__ = ["linear_to_conv", "vgg_features"]

_FORBIDDEN_FEATURES = ("cnnlab.models.vgg.make_vgg_features", "cnnlab.models.vgg.build_vgg")
_FORBIDDEN_CONV = ("cnnlab.models.vgg.linear_as_conv", "cnnlab.models.vgg.to_fully_convolutional")


# --------------------------------------------------------------------------------------------
# make_features(cfg, in_channels)


def _reference_features(cfg: Sequence[int | str], in_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU()]
            channels = int(item)
    return nn.Sequential(*layers)


def _kinds(model: nn.Module) -> list[str]:
    """The leaf layers in order, as "conv", "relu", "pool" or their class name."""
    names = {nn.Conv2d: "conv", nn.ReLU: "relu", nn.MaxPool2d: "pool"}
    leaves = [m for m in model.modules() if not list(m.children())]
    return [names.get(type(m), type(m).__name__) for m in leaves]


def _pair(v: object) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)  # type: ignore[return-value]


def _structure_problem(got: nn.Module, cfg: Sequence[int | str], in_channels: int) -> str | None:
    """A sentence and hint for the first structural mistake, or None."""
    kinds = _kinds(got)
    convs = [m for m in got.modules() if isinstance(m, nn.Conv2d)]
    pools = [m for m in got.modules() if isinstance(m, nn.MaxPool2d)]
    want_convs = [c for c in cfg if c != "M"]
    if len(convs) != len(want_convs):
        return (
            f"expected {len(want_convs)} convolutions (one per number in cfg), found "
            f"{len(convs)}.\n  Hint: loop over cfg and add one nn.Conv2d for every number"
        )
    if kinds.count("relu") < len(convs):
        return (
            f"found {kinds.count('relu')} ReLU layers for {len(convs)} convolutions.\n  Hint: "
            "every convolution is followed by nn.ReLU() — without it a stack of convolutions "
            "is one linear map, whatever its depth"
        )
    if len(pools) != cfg.count("M"):
        return f"expected {cfg.count('M')} max-pooling layers (one per 'M'), found {len(pools)}"
    expected_in = in_channels
    for i, (conv, maps) in enumerate(zip(convs, want_convs, strict=True)):
        if conv.in_channels != expected_in:
            hint = (
                f"the first convolution takes the image's {in_channels} channels"
                if i == 0
                else "each convolution takes the previous convolution's output channels: keep "
                "a variable `channels`, start it at in_channels and set it to the number after "
                "each convolution (pooling does not change it)"
            )
            return (
                f"convolution {i + 1} has in_channels={conv.in_channels}, expected {expected_in}."
                f"\n  Hint: {hint}"
            )
        if conv.out_channels != int(maps):
            return (
                f"convolution {i + 1} has out_channels={conv.out_channels}, expected {maps} "
                "(the number in cfg)"
            )
        if _pair(conv.kernel_size) != (3, 3):
            return (
                f"convolution {i + 1} has kernel_size={conv.kernel_size}, expected (3, 3): VGG "
                "uses 3×3 filters throughout"
            )
        if _pair(conv.padding) != (1, 1):
            return (
                f"convolution {i + 1} has padding={conv.padding}, expected (1, 1).\n  Hint: "
                "padding 1 keeps H×W for a 3×3 filter, so only the pools shrink the map "
                "((N − 3 + 2·1)/1 + 1 = N)"
            )
        if _pair(conv.stride) != (1, 1) or _pair(conv.dilation) != (1, 1):
            return f"convolution {i + 1} must have stride 1 and no dilation"
        if conv.bias is None:
            return f"convolution {i + 1} has no bias; VGG's convolutions have one (bias=True)"
        expected_in = int(maps)
    for i, pool in enumerate(pools):
        if pool.ceil_mode or _pair(pool.padding) != (0, 0):
            return (
                f"max pool {i + 1} has ceil_mode={pool.ceil_mode}, padding={pool.padding}; "
                "expected nn.MaxPool2d(2, 2): on an odd side it must round down (7 -> 3)"
            )
        if _pair(pool.kernel_size) != (2, 2) or _pair(pool.stride) != (2, 2):
            return (
                f"max pool {i + 1} has kernel_size={pool.kernel_size}, stride={pool.stride}; "
                "expected a 2×2 window with stride 2 (nn.MaxPool2d(2, 2)) that halves H and W"
            )
    order = [k for k in kinds if k in ("conv", "pool")]
    want = ["pool" if c == "M" else "conv" for c in cfg]
    if order != want:
        return (
            f"the layers come in the order {' '.join(order)}, expected {' '.join(want)}.\n  "
            "Hint: add the layers in the order of cfg: a pool exactly where an 'M' stands"
        )
    relu_after = all(kinds[i + 1] == "relu" for i, k in enumerate(kinds) if k == "conv")
    if not relu_after:
        return "each convolution must be followed directly by its ReLU"
    return None


def _feature_cases(g: torch.Generator) -> list[tuple[list[int | str], int, int]]:
    """(cfg, in_channels, image side): the worked example, then random small configurations."""
    cases: list[tuple[list[int | str], int, int]] = [([8, "M", 16, 16, "M"], 3, 8)]
    for in_channels in (1, 3, 2):
        cfg: list[int | str] = []
        for _block in range(pick(g, 1, 3)):
            cfg += [pick(g, 2, 7) for _ in range(pick(g, 1, 3))] + ["M"]
        if pick(g, 0, 1):
            cfg.append(pick(g, 2, 6))  # a configuration need not end with a pool
        side = 2 ** cfg.count("M") * pick(g, 1, 3)
        cases.append((cfg, in_channels, side))
    return cases


def vgg_features(fn: Callable[..., Any]) -> None:
    """Check ``fn(cfg, in_channels) -> nn.Module``: the VGG feature extractor of ``cfg``."""
    name = "make_features"
    fn = require_callable("vgg_features", fn)
    g = generator("vgg_features")
    cases = _feature_cases(g)
    for cfg, in_channels, side in cases:
        call = f"{name}({cfg}, in_channels={in_channels})"
        seed = pick(g, 0, 2**31 - 2)
        with seeded(seed):
            got = call_student(
                name,
                fn,
                (list(cfg), in_channels),
                call,
                forbidden=_FORBIDDEN_FEATURES,
                instead="build the layers yourself from nn.Conv2d, nn.ReLU and nn.MaxPool2d",
            )
        if got is None:
            fail(f"{name} returned None for {call}: did you forget the `return` statement?")
        if not isinstance(got, nn.Module):
            kind = type(got).__name__
            hint = (
                " (a list of layers: wrap it as nn.Sequential(*layers))"
                if isinstance(got, (list, tuple))
                else ""
            )
            fail(f"{name} returned a {kind} for {call}; return an nn.Sequential{hint}")
        problem = _structure_problem(got, cfg, in_channels)
        if problem is not None:
            fail(f"{name} is wrong for {call}: {problem}.")
        ref = _reference_features(cfg, in_channels).double()
        model = got.double()
        with torch.no_grad():  # copy the reference's weights, layer by layer
            mine = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
            theirs = [m for m in ref.modules() if isinstance(m, nn.Conv2d)]
            for a, b in zip(mine, theirs, strict=True):
                b.weight.copy_(randreal(g, *b.weight.shape))
                b.bias.copy_(randreal(g, *b.bias.shape))
                a.weight.copy_(b.weight)
                a.bias.copy_(b.bias)
        x = randreal(g, 2, in_channels, side, side)
        # VGG's features behave the same in both modes: an extra dropout or batch norm does not
        for mode in ("train", "eval"):
            model.train(mode == "train")
            with torch.no_grad():
                out = call_student(name, model, (x,), f"the module from {call}, run on x")
                expected = ref(x)
            if not isinstance(out, torch.Tensor):
                fail(f"the module from {call} returned a {type(out).__name__}, not a tensor")
            compare(
                name,
                out,
                expected,
                f"the module from {call} in {mode} mode with the reference's weights, on x of "
                f"shape {tuple(x.shape)} (only Conv2d, ReLU and MaxPool2d belong in it)",
                scale=expected.abs().max(),
            )
    ok(
        f"vgg_features: {len(cases)} configurations (the worked example first) have the right "
        "layers, shapes and outputs"
    )


# --------------------------------------------------------------------------------------------
# linear_to_conv(fc, in_shape)


def _conv_like(weight: torch.Tensor, bias: torch.Tensor | None) -> Callable[..., torch.Tensor]:
    def run(x: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv2d(x, weight, bias)

    return run


def _linear_cases(g: torch.Generator) -> list[tuple[int, int, int, int, bool]]:
    """(C, H, W, out, bias): the worked example, then non-square random maps."""
    cases = [(2, 3, 3, 4, True)]
    for bias in (True, True, False):
        cases.append((pick(g, 2, 4), pick(g, 2, 4), pick(g, 3, 5), pick(g, 3, 6), bias))
    return cases


def linear_to_conv(fn: Callable[..., Any]) -> None:
    """Check ``fn(fc, in_shape) -> nn.Conv2d``: for ``fc = nn.Linear(C·H·W, out)`` and
    ``in_shape = (C, H, W)``, a convolution with ``conv(x).flatten(1) == fc(x.flatten(1))``."""
    name = "linear_to_conv"
    fn = require_callable("linear_to_conv", fn)
    g = generator("linear_to_conv")
    cases = _linear_cases(g)
    for c, h, w, out, bias in cases:
        with seeded(pick(g, 0, 2**31 - 2)):
            fc = nn.Linear(c * h * w, out, bias=bias).double()
        with torch.no_grad():
            fc.weight.copy_(randreal(g, out, c * h * w))
            if fc.bias is not None:
                fc.bias.copy_(randreal(g, out))
        before = {k: v.clone() for k, v in fc.state_dict().items()}
        call = f"{name}(nn.Linear({c * h * w}, {out}, bias={bias}), in_shape={(c, h, w)})"
        conv = call_student(
            name,
            fn,
            (fc, (c, h, w)),
            call,
            forbidden=_FORBIDDEN_CONV,
            instead="create the nn.Conv2d yourself and copy the weights into it",
        )
        if any(not torch.equal(v, before[k]) for k, v in fc.state_dict().items()):
            fail(f"{name} changed the linear layer's weights for {call}; copy them, do not edit")
        if conv is None:
            fail(f"{name} returned None for {call}: did you forget the `return` statement?")
        if not isinstance(conv, nn.Conv2d):
            fail(
                f"{name} returned a {type(conv).__name__} for {call}; return an nn.Conv2d "
                f"(here nn.Conv2d({c}, {out}, kernel_size={(h, w)}))"
            )
        if (conv.in_channels, conv.out_channels) != (c, out):
            fail(
                f"{name} gave Conv2d({conv.in_channels}, {conv.out_channels}, ...) for {call}; "
                f"expected {c} input channels (the map's C) and {out} outputs (fc.out_features)"
            )
        if _pair(conv.kernel_size) != (h, w):
            fail(
                f"{name} gave kernel_size={conv.kernel_size} for {call}, expected {(h, w)}.\n  "
                "Hint: fc sees the whole C×H×W map at once, so the filter must cover all of it: "
                "kernel_size=(H, W)"
            )
        if _pair(conv.stride) != (1, 1) or _pair(conv.padding) != (0, 0):
            fail(
                f"{name} gave stride={conv.stride}, padding={conv.padding} for {call}; use "
                "stride 1 and no padding (the map exactly fills the filter; on a larger map the "
                "filter then slides one position at a time)"
            )
        if (conv.bias is None) != (fc.bias is None):
            fail(
                f"{name}: the linear layer {'has' if fc.bias is not None else 'has no'} bias but "
                f"your convolution {'has none' if conv.bias is None else 'has one'} for {call}.\n"
                "  Hint: pass bias=fc.bias is not None and copy fc.bias into conv.bias"
            )
        if conv.weight.dtype != fc.weight.dtype:
            fail(
                f"{name}: your convolution's weights have dtype {conv.weight.dtype}, expected "
                f"dtype {fc.weight.dtype} (the linear layer's) for {call}.\n  Hint: nn.Conv2d(...) "
                "creates float32 weights; convert it with .to(fc.weight.dtype) before copying"
            )
        x = randreal(g, 2, c, h, w)
        with torch.no_grad():
            got = call_student(name, conv, (x,), f"the convolution from {call}, run on x")
            expected = fc(x.flatten(1))
        got = got.flatten(1) if isinstance(got, torch.Tensor) else got
        wt, b = fc.weight.detach(), None if fc.bias is None else fc.bias.detach()
        wrong = [
            (
                _conv_like(wt.t().reshape(out, c, h, w), b)(x).flatten(1),
                "the weight is transposed: fc.weight already has shape (out, C·H·W); reshape "
                "it to (out, C, H, W) without .t()",
            ),
            (
                _conv_like(wt.reshape(out, h, w, c).permute(0, 3, 1, 2), b)(x).flatten(1),
                "the weight is read in (H, W, C) order, but flatten() orders a (C, H, W) map "
                "channel first: reshape fc.weight to (out, C, H, W) directly",
            ),
        ]
        if b is not None:
            wrong.append(
                (
                    _conv_like(wt.reshape(out, c, h, w), None)(x).flatten(1),
                    "the bias is missing: copy fc.bias into conv.bias",
                )
            )
        compare(
            name,
            got,
            expected.detach(),
            f"conv(x).flatten(1) against fc(x.flatten(1)) for {call}, x of shape {tuple(x.shape)}",
            scale=expected.abs().max(),
            wrong_answers=wrong,
        )
        bigger = randreal(g, 1, c, h + 2, w + 1)
        with torch.no_grad():
            shape = tuple(conv(bigger).shape)
        if shape != (1, out, 3, 2):
            fail(
                f"{name}: on a larger map {tuple(bigger.shape)} your convolution gives {shape}, "
                f"expected (1, {out}, 3, 2) — one score vector per position of the filter"
            )
    ok(
        f"linear_to_conv: {len(cases)} linear layers (the worked example first) become "
        "convolutions with equal outputs, and slide over larger maps"
    )
