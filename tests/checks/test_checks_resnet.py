"""Topic 11's checks: correct answers pass, classic mistakes fail with the hint that names them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab import checks
from cnnlab.checks import resnet as rc
from cnnlab.checks._core import CheckFailed


def test_all_lists_exactly_the_checks() -> None:
    assert sorted(rc.__all__) == ["basic_block", "bottleneck_params", "shortcut_a"]


# ---------------------------------------------------------------- basic_block


def make_block(inplanes, planes, stride=1, *, mistake=""):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            s1, s2 = (1, stride) if mistake == "stride2" else (stride, 1)
            self.conv1 = nn.Conv2d(inplanes, planes, 3, s1, 1, bias=mistake == "bias")
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, s2, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                )

        def forward(self, x):
            f = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            identity = x if self.downsample is None else self.downsample(x)
            if mistake == "no_final_relu":
                return f + identity
            if mistake == "relu_first":
                return F.relu(f) + identity
            if mistake == "no_shortcut":
                return F.relu(f)
            return F.relu(f + identity)

    return Block()


def test_basic_block_accepts_the_solution(capsys) -> None:
    checks.basic_block(make_block)
    assert capsys.readouterr().out.startswith("✔ basic_block: 4 random configurations")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ("no_final_relu", "no ReLU after the addition"),
        ("relu_first", "comes after the addition"),
        ("no_shortcut", "shortcut is missing"),
        ("stride2", "first 3×3 convolution"),
        ("bias", "extra: 'conv1.bias'"),
    ],
)
def test_basic_block_names_the_mistake(mistake: str, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        checks.basic_block(lambda inplanes, planes, stride=1: make_block(
            inplanes, planes, stride, mistake=mistake))  # fmt: skip


def test_basic_block_rejects_the_library_block() -> None:
    from cnnlab.models.resnet import BasicBlock

    def lazy(inplanes, planes, stride=1):
        return BasicBlock(inplanes, planes, stride)

    with pytest.raises(CheckFailed, match="BasicBlock"):
        checks.basic_block(lazy)


def test_basic_block_rejects_a_missing_projection() -> None:
    def no_proj(inplanes, planes, stride=1):
        block = make_block(inplanes, planes, stride)
        block.downsample = None
        return block

    with pytest.raises(CheckFailed, match="missing parameter 'downsample.0.weight'"):
        checks.basic_block(no_proj)


# ---------------------------------------------------------------- shortcut_a


def shortcut(x, out_channels, stride):
    x = x[:, :, ::stride, ::stride]
    return F.pad(x, (0, 0, 0, 0, 0, out_channels - x.shape[1]))


def shortcut_cat(x, out_channels, stride):
    x = x[:, :, ::stride, ::stride]
    zeros = x.new_zeros(x.shape[0], out_channels - x.shape[1], *x.shape[2:])
    return torch.cat([x, zeros], dim=1)


@pytest.mark.parametrize("fn", [shortcut, shortcut_cat])
def test_shortcut_a_accepts_correct_variants(fn, capsys) -> None:
    checks.shortcut_a(fn)
    assert capsys.readouterr().out.startswith("✔ shortcut_a: 8 inputs")


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda x, c, s: F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, c - x.shape[1], 0)), "not before"),
        (lambda x, c, s: F.pad(x, (0, 0, 0, 0, 0, c - x.shape[1])), "forgot the subsampling"),
        (lambda x, c, s: F.pad(x[:, :, ::s, ::s], (0, 0, 0, c - x.shape[1])), "along the height"),
        (lambda x, c, s: F.pad(x[:, :, ::s, ::s], (0, c - x.shape[1])), "along the width"),
        (lambda x, c, s: x[:, :, ::s, ::s], "were not padded"),
        (
            lambda x, c, s: F.pad(x[:, :, 1::s, 1::s], (0, 0, 0, 0, 0, c - x.shape[1])),
            "from the first row",
        ),
        (lambda x, c, s: shortcut(x, c, s).float(), "dtype"),
        (lambda x, c, s: shortcut(x, c, s).numpy(), "NumPy"),
        (lambda x, c, s: F.avg_pool2d(x, 1, s), "no weights"),
    ],
)
def test_shortcut_a_names_the_mistake(fn, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        checks.shortcut_a(fn)


def test_shortcut_a_rejects_a_convolution() -> None:
    def conv(x, c, s):
        w = torch.zeros(c, x.shape[1], 1, 1, dtype=x.dtype)
        w[: x.shape[1], :, 0, 0] = torch.eye(x.shape[1], dtype=x.dtype)
        return F.conv2d(x, w, stride=s)

    with pytest.raises(CheckFailed, match="conv2d"):
        checks.shortcut_a(conv)


# ---------------------------------------------------------------- bottleneck_params


def params(c_in, mid, c_out, projection, bn):
    n = c_in * mid + 9 * mid * mid + mid * c_out
    if bn:
        n += 2 * (2 * mid + c_out)
    if projection:
        n += c_in * c_out + (2 * c_out if bn else 0)
    return n


def test_bottleneck_params_accepts_the_solution_and_matches_the_model(capsys) -> None:
    from cnnlab.models.resnet import Bottleneck

    checks.bottleneck_params(params)
    assert "bottleneck_params: 24 blocks" in capsys.readouterr().out
    proj = nn.Sequential(nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256))
    first = Bottleneck(64, 64, downsample=proj)
    assert sum(p.numel() for p in first.parameters()) == params(64, 64, 256, True, True)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda a, m, b, p, bn: params(a, m, b, p, False), "forgot the batch norms"),
        (lambda a, m, b, p, bn: params(a, m, b, False, bn), "add the 1×1 shortcut"),
        (lambda a, m, b, p, bn: params(a, m, b, p, bn) + (2 * m + b + (b if p else 0)),
         "no bias"),
        (lambda a, m, b, p, bn: params(a, m, b, p, bn) - (2 * b if p and bn else 0),
         "its own BatchNorm2d"),
        (lambda a, m, b, p, bn: params(a, m, b, p, bn) - 8 * m * m, "9·mid·mid"),
        (lambda a, m, b, p, bn: float(params(a, m, b, p, bn)) + 0.5, "bottleneck_params"),
    ],
)  # fmt: skip
def test_bottleneck_params_names_the_mistake(fn, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        checks.bottleneck_params(fn)


def test_bottleneck_params_rejects_building_the_layers() -> None:
    def built(a, m, b, p, bn):
        return sum(x.numel() for x in nn.Conv2d(a, m, 1).parameters())

    with pytest.raises(CheckFailed, match="Conv2d"):
        checks.bottleneck_params(built)
    assert np.isfinite(params(1, 1, 1, True, True))
