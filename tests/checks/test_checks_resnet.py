"""Topic 11's checks: correct answers pass, classic mistakes fail with the hint that names them."""

from __future__ import annotations

import functools
import sys
import types

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
            needs = {
                "projection_if_stride": stride != 1,  # forgets a change of channels
                "projection_if_channels": inplanes != planes,  # forgets the stride
                "projection_always": True,
            }.get(mistake, stride != 1 or inplanes != planes)
            if needs:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                )
            elif mistake == "identity_module":  # correct: a shortcut without parameters
                self.downsample = nn.Identity()

        def forward(self, x):
            h = self.bn1(self.conv1(x))
            f = self.bn2(self.conv2(h if mistake == "no_middle_relu" else F.relu(h)))
            identity = x if self.downsample is None else self.downsample(x)
            if mistake == "add_into_input":  # identity is x itself: x changes in place
                identity += f
                return F.relu(identity)
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
        ("projection_if_stride", r"(?s)basic_block\(6, 10, 1\) has no projection.*channels change"),
        ("projection_if_channels", r"(?s)basic_block\(5, 5, 2\) has no projection.*stride is not"),
        ("projection_always", r"(?s)basic_block\(8, 8, 1\) has a projection.*is the identity"),
        ("no_middle_relu", "ReLU between bn1 and conv2 is missing"),
        ("add_into_input", "changed its input tensor"),
    ],
)
def test_basic_block_names_the_mistake(mistake: str, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        checks.basic_block(lambda inplanes, planes, stride=1: make_block(
            inplanes, planes, stride, mistake=mistake))  # fmt: skip


def test_basic_block_accepts_unusual_correct_blocks() -> None:
    # nn.Identity() as the shortcut; torchvision's style (in-place ReLU, out += identity)
    checks.basic_block(lambda inplanes, planes, stride=1: make_block(
        inplanes, planes, stride, mistake="identity_module"))  # fmt: skip
    checks.basic_block(_TorchvisionStyle.build)


class _TorchvisionStyle(nn.Module):
    """torchvision's BasicBlock, written out: a shared in-place ReLU, out += identity."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out += identity
        return self.relu(out)

    @staticmethod
    def build(inplanes, planes, stride=1, block=None):
        downsample = None
        if stride != 1 or inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        return (block or _TorchvisionStyle)(inplanes, planes, stride, downsample)


def test_basic_block_rejects_a_subclass_of_the_library_block() -> None:
    from cnnlab.models.resnet import BasicBlock

    class Mine(BasicBlock):  # defined outside the factory: forbid() cannot rename it
        pass

    with pytest.raises(CheckFailed, match="uses cnnlab.models.resnet.BasicBlock"):
        checks.basic_block(functools.partial(_TorchvisionStyle.build, block=Mine))


def test_basic_block_rejects_torchvisions_block(monkeypatch) -> None:
    # torchvision is not installed here: a stand-in module with its block (same names)
    fake = types.ModuleType("torchvision.models.resnet")
    fake.BasicBlock = type(
        "BasicBlock", (_TorchvisionStyle,), {"forward": _TorchvisionStyle.forward}
    )
    monkeypatch.setitem(sys.modules, "torchvision.models.resnet", fake)
    with pytest.raises(CheckFailed, match="uses torchvision.models.resnet.BasicBlock"):
        checks.basic_block(functools.partial(_TorchvisionStyle.build, block=fake.BasicBlock))


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

    with pytest.raises(CheckFailed, match=r"basic_block\(16, 32, 2\) has no projection"):
        checks.basic_block(no_proj)


# ---------------------------------------------------------------- shortcut_a


def shortcut(x, out_channels, stride):
    x = x[:, :, ::stride, ::stride]
    return F.pad(x, (0, 0, 0, 0, 0, out_channels - x.shape[1]))


def shortcut_cat(x, out_channels, stride):
    x = x[:, :, ::stride, ::stride]
    zeros = x.new_zeros(x.shape[0], out_channels - x.shape[1], *x.shape[2:])
    return torch.cat([x, zeros], dim=1)


def shortcut_loops(x, out_channels, stride):
    n, c, h, w = x.shape
    out = torch.zeros(n, out_channels, -(-h // stride), -(-w // stride), dtype=x.dtype)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :c, i, j] = x[:, :, i * stride, j * stride]
    return out


def shortcut_index_select(x, out_channels, stride):
    rows, cols = torch.arange(0, x.shape[2], stride), torch.arange(0, x.shape[3], stride)
    sub = x.index_select(2, rows).index_select(3, cols)
    zeros = sub.new_zeros(sub.shape[0], out_channels - x.shape[1], *sub.shape[2:])
    return torch.cat([sub, zeros], 1)


def shortcut_numpy(x, out_channels, stride):  # a detour through NumPy, back to a tensor
    sub = x.numpy()[:, :, ::stride, ::stride]
    return torch.from_numpy(np.pad(sub, ((0, 0), (0, out_channels - x.shape[1]), (0, 0), (0, 0))))


def shortcut_identity(x, out_channels, stride):  # x itself where nothing changes
    if stride == 1 and out_channels == x.shape[1]:
        return x
    return shortcut(x, out_channels, stride)


@pytest.mark.parametrize(
    "fn",
    [shortcut, shortcut_cat, shortcut_loops, shortcut_index_select, shortcut_numpy,
     shortcut_identity],
)  # fmt: skip
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
        # torch's other names for the convolution and the pooling
        (lambda x, c, s: torch.conv2d(x, torch.eye(c, x.shape[1], dtype=x.dtype)[:, :, None, None],
                                      stride=s), "torch.conv2d"),
        (lambda x, c, s: F.pad(torch.max_pool2d(x, 1, s), (0, 0, 0, 0, 0, c - x.shape[1])),
         "torch.max_pool2d"),
        (lambda x, c, s: F.pad(F.max_pool2d_with_indices(x, 1, s)[0],
                               (0, 0, 0, 0, 0, c - x.shape[1])), "max_pool2d_with_indices"),
        # the zeros split around the channels, as some CIFAR code (planes // 4 on each side)
        (lambda x, c, s: F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, (c - x.shape[1]) // 2,
                                                   c - x.shape[1] - (c - x.shape[1]) // 2)),
         "not split around them"),
        (lambda x, c, s: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, c // 4, c // 4)),
         "not split around them"),
        (lambda x, c, s: torch.cat([x[:, :, ::s, ::s], torch.zeros_like(x[:, :, ::s, ::s])], 1),
         "as many as x has"),
        (lambda x, c, s: F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, 0, c)),
         "you appended out_channels"),
        (lambda x, c, s: shortcut(x, c, 2), "whatever the stride"),
        (lambda x, c, s: F.pad(x[:, :, ::s], (0, 0, 0, 0, 0, c - x.shape[1])),
         "subsample the width too"),
        (lambda x, c, s: F.pad(x[:, :, :, ::s], (0, 0, 0, 0, 0, c - x.shape[1])),
         "subsample the height too"),
        (lambda x, c, s: shortcut(x[:, :, : x.shape[2] // s * s, : x.shape[3] // s * s], c, s),
         "keeps its last row"),
        (lambda x, c, s: F.pad(F.interpolate(x, scale_factor=1 / s),
                               (0, 0, 0, 0, 0, c - x.shape[1])), "keeps its last row"),
    ],
)  # fmt: skip
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
        (lambda a, m, b, p, bn: params(a, m, b, p, bn) - 6 * m * m, "not 3·mid·mid"),
        (lambda a, m, b, p, bn: params(a, m, b, p, bn) + (2 * b if bn and not p else 0),
         "no BatchNorm2d either"),
        (lambda a, m, b, p, bn: params(a, m, b, p, bn) + (2 * b if p and not bn else 0),
         "not even on the projection"),
    ],
)  # fmt: skip
def test_bottleneck_params_names_the_mistake(fn, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        checks.bottleneck_params(fn)


def test_bottleneck_params_accepts_unusual_correct_answers() -> None:
    checks.bottleneck_params(lambda *args: np.int64(params(*args)))  # NumPy ints are ints
    # the flags used as 0/1 in the arithmetic
    checks.bottleneck_params(lambda a, m, b, p, bn: (
        a * m + 9 * m * m + m * b + bn * 2 * (2 * m + b) + p * (a * b + bn * 2 * b)))  # fmt: skip


def test_bottleneck_params_rejects_the_layers_by_their_module_path() -> None:
    def built(a, m, b, p, bn):  # the whole block, its layers reached by their module paths
        conv, norm = torch.nn.modules.conv.Conv2d, torch.nn.modules.batchnorm.BatchNorm2d
        shapes = [(a, m, 1), (m, m, 3), (m, b, 1)] + ([(a, b, 1)] if p else [])
        layers = [conv(*shape, bias=False) for shape in shapes]
        layers += [norm(c) for _, c, _ in shapes] if bn else []
        return sum(x.numel() for layer in layers for x in layer.parameters())

    with pytest.raises(CheckFailed, match="torch.nn.modules.conv.Conv2d"):
        checks.bottleneck_params(built)


def test_bottleneck_params_rejects_building_the_layers() -> None:
    def built(a, m, b, p, bn):
        return sum(x.numel() for x in nn.Conv2d(a, m, 1).parameters())

    with pytest.raises(CheckFailed, match="Conv2d"):
        checks.bottleneck_params(built)
    assert np.isfinite(params(1, 1, 1, True, True))
