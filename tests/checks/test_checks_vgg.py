"""Topic 7 checks (vgg_features, linear_to_conv) accept the reference answers and reject
classic mistakes, each with the hint that names it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.checks import CheckFailed
from cnnlab.checks import vgg as checks


# -- reference answers (as in solutions/07_vgg.ipynb) ---------------------------------------
def make_features(cfg: list[int | str], in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, item, kernel_size=3, padding=1), nn.ReLU()]
            channels = item
    return nn.Sequential(*layers)


def linear_to_conv(fc: nn.Linear, in_shape: tuple[int, int, int]) -> nn.Conv2d:
    c, h, w = in_shape
    conv = nn.Conv2d(c, fc.out_features, kernel_size=(h, w), bias=fc.bias is not None)
    conv = conv.to(fc.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(fc.weight.reshape(fc.out_features, c, h, w))
        if fc.bias is not None:
            conv.bias.copy_(fc.bias)
    return conv


def message(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


# -- vgg_features ----------------------------------------------------------------------------
def test_features_reference_passes(capsys: pytest.CaptureFixture) -> None:
    checks.vgg_features(make_features)
    out = capsys.readouterr().out
    assert out.startswith("✔ vgg_features: 4 configurations")
    checks.vgg_features(make_features)
    assert capsys.readouterr().out == out  # deterministic


def test_features_variant_with_ordered_dict_passes() -> None:
    def named(cfg: list[int | str], in_channels: int = 3) -> nn.Sequential:
        seq = nn.Sequential()
        channels = in_channels
        for i, item in enumerate(cfg):
            if item == "M":
                seq.add_module(f"pool{i}", nn.MaxPool2d(2))
            else:
                seq.add_module(f"conv{i}", nn.Conv2d(channels, item, 3, 1, 1))
                seq.add_module(f"relu{i}", nn.ReLU(inplace=True))
                channels = item
        return seq

    checks.vgg_features(named)


def features_variant(kind: str) -> Callable[..., Any]:
    def fn(cfg: list[int | str], in_channels: int = 3) -> Any:
        layers: list[nn.Module] = []
        channels = in_channels
        for item in cfg:
            if item == "M":
                if kind == "pool_first_only" and any(isinstance(m, nn.MaxPool2d) for m in layers):
                    layers.insert(0, nn.MaxPool2d(2, 2))
                else:
                    layers.append(nn.MaxPool2d(3 if kind == "pool3" else 2, 2))
                continue
            conv = nn.Conv2d(
                3 if kind == "fixed_in" else channels,
                item,
                5 if kind == "kernel5" else 3,
                padding=0 if kind == "no_pad" else (2 if kind == "kernel5" else 1),
            )
            layers.append(conv)
            if kind != "no_relu":
                layers.append(nn.ReLU())
            if kind != "no_chain":
                channels = item
        if kind == "list":
            return layers
        return nn.Sequential(*layers)

    return fn


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("no_relu", "every convolution is followed by nn.ReLU()"),
        ("no_pad", "padding 1 keeps H×W"),
        ("no_chain", "keep a variable `channels`"),
        ("fixed_in", "the previous convolution's output channels"),
        ("kernel5", "expected (3, 3)"),
        ("pool3", "2×2 window with stride 2"),
        ("pool_first_only", "a pool exactly where an 'M' stands"),
        ("list", "wrap it as nn.Sequential(*layers)"),
    ],
)
def test_features_mistakes_get_their_hint(kind: str, expected: str) -> None:
    assert expected in message(checks.vgg_features, features_variant(kind))


def test_features_forbids_the_package_builder() -> None:
    def lazy(cfg: list[int | str], in_channels: int = 3) -> nn.Module:
        from cnnlab.models.vgg import make_vgg_features

        return make_vgg_features(cfg, in_channels=in_channels)[0]

    msg = message(checks.vgg_features, lazy)
    assert "make_vgg_features, the library function this exercise replaces" in msg


def test_features_stub_and_wrong_forward() -> None:
    def stub(*_args: object) -> Any:
        raise NotImplementedError()

    assert "not implemented yet" in message(checks.vgg_features, stub)

    class Doubled(nn.Sequential):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * super().forward(x)

    def doubled(cfg: list[int | str], in_channels: int = 3) -> nn.Module:
        return Doubled(*make_features(cfg, in_channels))

    assert "wrong value" in message(checks.vgg_features, doubled)


# -- linear_to_conv ----------------------------------------------------------------------------
def test_linear_reference_passes(capsys: pytest.CaptureFixture) -> None:
    checks.linear_to_conv(linear_to_conv)
    out = capsys.readouterr().out
    assert out.startswith("✔ linear_to_conv: 4 linear layers")


def test_linear_variant_with_view_and_parameter_passes() -> None:
    def shared(fc: nn.Linear, in_shape: tuple[int, int, int]) -> nn.Conv2d:
        conv = nn.Conv2d(in_shape[0], fc.out_features, in_shape[1:], bias=fc.bias is not None)
        conv.weight = nn.Parameter(fc.weight.detach().clone().view(-1, *in_shape))
        if fc.bias is not None:
            conv.bias = nn.Parameter(fc.bias.detach().clone())
        return conv

    checks.linear_to_conv(shared)


def linear_variant(kind: str) -> Callable[..., Any]:
    def fn(fc: nn.Linear, in_shape: tuple[int, int, int]) -> Any:
        c, h, w = in_shape
        if kind == "linear":
            return fc
        kernel = (1, 1) if kind == "kernel1" else (h, w)
        conv = nn.Conv2d(c, fc.out_features, kernel, bias=fc.bias is not None).double()
        if kind == "float32":
            conv = conv.float()
        with torch.no_grad():
            wt = fc.weight
            if kind == "kernel1":
                return conv
            if kind == "transposed":
                weight = wt.t().reshape(fc.out_features, c, h, w)
            elif kind == "hwc":
                weight = wt.reshape(fc.out_features, h, w, c).permute(0, 3, 1, 2)
            else:
                weight = wt.reshape(fc.out_features, c, h, w)
            conv.weight.copy_(weight)
            if fc.bias is not None and kind != "no_bias":
                conv.bias.copy_(fc.bias)
            elif fc.bias is not None:
                conv.bias.zero_()
        if kind == "numpy":
            return conv.weight.detach().numpy()
        return conv

    return fn


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("transposed", "the weight is transposed"),
        ("hwc", "channel first"),
        ("no_bias", "the bias is missing"),
        ("kernel1", "kernel_size=(H, W)"),
        ("linear", "return an nn.Conv2d"),
        ("numpy", "returned a ndarray"),
        ("float32", "expected dtype torch.float64"),
    ],
)
def test_linear_mistakes_get_their_hint(kind: str, expected: str) -> None:
    assert expected in message(checks.linear_to_conv, linear_variant(kind))


def test_linear_missing_bias_layer_and_mutation() -> None:
    def biasless(fc: nn.Linear, in_shape: tuple[int, int, int]) -> nn.Conv2d:
        conv = linear_to_conv(fc, in_shape)
        conv.bias = None
        return conv

    assert "bias=fc.bias is not None" in message(checks.linear_to_conv, biasless)

    def scales(fc: nn.Linear, in_shape: tuple[int, int, int]) -> nn.Conv2d:
        with torch.no_grad():
            fc.weight.mul_(2)
        return linear_to_conv(fc, in_shape)

    assert "changed the linear layer's weights" in message(checks.linear_to_conv, scales)


def test_linear_forbids_the_package_function() -> None:
    def lazy(fc: nn.Linear, in_shape: tuple[int, int, int]) -> nn.Conv2d:
        from cnnlab.models.vgg import linear_as_conv

        return linear_as_conv(fc, in_shape)

    assert "linear_as_conv, the library function" in message(checks.linear_to_conv, lazy)


def test_no_numpy_leak() -> None:
    assert np is not None  # numpy answers are covered above; keep the import honest


def test_extra_train_mode_layers_and_ceil_mode_are_caught() -> None:
    """Answers that match only in eval mode, or only on even map sides, are wrong."""
    from torch import nn

    from cnnlab import checks
    from cnnlab.checks import CheckFailed

    def with_dropout(cfg: list, in_channels: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        c = in_channels
        for item in cfg:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, item, 3, padding=1), nn.ReLU(), nn.Dropout(0.5)]
                c = item
        return nn.Sequential(*layers)

    def ceil_pools(cfg: list, in_channels: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        c = in_channels
        for item in cfg:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            else:
                layers += [nn.Conv2d(c, item, 3, padding=1), nn.ReLU()]
                c = item
        return nn.Sequential(*layers)

    with pytest.raises(CheckFailed, match="train mode"):
        checks.vgg_features(with_dropout)
    with pytest.raises(CheckFailed, match="ceil_mode=True"):
        checks.vgg_features(ceil_pools)
