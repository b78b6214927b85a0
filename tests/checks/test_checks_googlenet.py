"""Topic 9 checks (inception_branches, conv_mult_adds) accept the reference answers and reject
classic mistakes with a hint that names the mistake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from cnnlab.checks import CheckFailed
from cnnlab.checks import googlenet as checks


# -- reference answers (as in solutions/09_googlenet.ipynb) ------------------------------------
def inception_branches(in_channels, c1, c3r, c3, c5r, c5, proj):
    return [
        nn.Sequential(nn.Conv2d(in_channels, c1, 1), nn.ReLU()),
        nn.Sequential(
            nn.Conv2d(in_channels, c3r, 1), nn.ReLU(), nn.Conv2d(c3r, c3, 3, padding=1), nn.ReLU()
        ),
        nn.Sequential(
            nn.Conv2d(in_channels, c5r, 1), nn.ReLU(), nn.Conv2d(c5r, c5, 5, padding=2), nn.ReLU()
        ),
        nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(in_channels, proj, 1), nn.ReLU()
        ),
    ]


def conv_mult_adds(size, in_channels, out_channels, kernel, reduce=None):
    area = size * size
    if reduce is None:
        return area * out_channels * kernel * kernel * in_channels
    return area * reduce * in_channels + area * out_channels * kernel * kernel * reduce


def failure(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


# -- inception_branches --------------------------------------------------------------------------
def test_inception_branches_accepts_the_solution(capsys: pytest.CaptureFixture) -> None:
    checks.inception_branches(inception_branches)
    checks.inception_branches(inception_branches)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0].startswith("✔ inception_branches: inception 3a gives 192 -> 256 maps")


def _variant(kind: str) -> Callable[..., Any]:
    def fn(in_channels, c1, c3r, c3, c5r, c5, proj):
        b = inception_branches(in_channels, c1, c3r, c3, c5r, c5, proj)
        if kind == "no padding":
            b[2] = nn.Sequential(
                nn.Conv2d(in_channels, c5r, 1), nn.ReLU(), nn.Conv2d(c5r, c5, 5), nn.ReLU()
            )
        elif kind == "no reduction":
            b[1] = nn.Sequential(nn.Conv2d(in_channels, c3, 3, padding=1), nn.ReLU())
        elif kind == "5x5 reads input":
            b[2] = nn.Sequential(
                nn.Conv2d(in_channels, c5r, 1), nn.ReLU(),
                nn.Conv2d(in_channels, c5, 5, padding=2), nn.ReLU(),
            )  # fmt: skip
        elif kind == "no pool":
            b[3] = nn.Sequential(nn.Conv2d(in_channels, proj, 1), nn.ReLU())
        elif kind == "pool stride 2":
            b[3] = nn.Sequential(nn.MaxPool2d(3, 2, 1), nn.Conv2d(in_channels, proj, 1), nn.ReLU())
        elif kind == "no relu":
            b[1] = nn.Sequential(
                nn.Conv2d(in_channels, c3r, 1), nn.Conv2d(c3r, c3, 3, padding=1), nn.ReLU()
            )
        elif kind == "no bias":
            b[0] = nn.Sequential(nn.Conv2d(in_channels, c1, 1, bias=False), nn.ReLU())
        elif kind == "three":
            return b[:3]
        elif kind == "concat":
            return nn.ModuleList(b)[0]
        return b

    return fn


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("no padding", "needs padding 2 to keep H×W"),
        ("no reduction", "branch 2 (1×1 -> 3×3) has 1 convolution(s), expected 2"),
        ("5x5 reads input", "a convolution reads 192 maps, expected 16"),
        ("no pool", "needs one nn.MaxPool2d(3, stride=1, padding=1)"),
        ("pool stride 2", "use 3×3, stride 1, padding 1"),
        ("no relu", "has 1 ReLU(s), expected 2"),
        ("no bias", "has no bias"),
        ("three", "return a list of the four branches"),
        ("concat", "return a list of the four branches"),
    ],
)
def test_inception_branches_names_the_mistake(kind: str, hint: str) -> None:
    assert hint in failure(checks.inception_branches, _variant(kind))


def test_inception_branches_forbids_the_library_module() -> None:
    from cnnlab.models import inception as zoo
    from cnnlab.models.inception import Inception

    def imported(in_channels, c1, c3r, c3, c5r, c5, proj):
        m = Inception(in_channels, c1, c3r, c3, c5r, c5, proj)
        return [m.branch1, m.branch2, m.branch3, m.branch4]

    def called(in_channels, c1, c3r, c3, c5r, c5, proj):
        m = zoo.Inception(in_channels, c1, c3r, c3, c5r, c5, proj)
        return [m.branch1, m.branch2, m.branch3, m.branch4]

    assert "layers of cnnlab.models" in failure(checks.inception_branches, imported)
    assert "Inception" in failure(checks.inception_branches, called)


# -- conv_mult_adds --------------------------------------------------------------------------------
def test_conv_mult_adds_accepts_the_solution(capsys: pytest.CaptureFixture) -> None:
    checks.conv_mult_adds(conv_mult_adds)
    line = capsys.readouterr().out.strip()
    assert line == (
        "✔ conv_mult_adds: 24 layers right; 28×28×192 -> 5×5×32 costs 120.4 M directly and "
        "12.4 M through 16 maps (9.7× fewer)"
    )


def _ma(kind: str) -> Callable[..., Any]:
    def fn(size, in_channels, out_channels, kernel, reduce=None):
        a, k = size * size, kernel
        if kind == "params":
            return out_channels * k * k * in_channels
        if kind == "k not k2":
            return a * out_channels * k * in_channels
        if kind == "bias" and reduce is None:
            return a * out_channels * k * k * in_channels + a * out_channels
        if reduce is None:
            return a * out_channels * k * k * in_channels
        if kind == "no 1x1 cost":
            return a * out_channels * k * k * reduce
        if kind == "reads input":
            return a * reduce * in_channels + a * out_channels * k * k * in_channels
        if kind == "1x1 with k2":
            return a * reduce * in_channels * k * k + a * out_channels * k * k * reduce
        if kind == "float":
            return float(conv_mult_adds(size, in_channels, out_channels, kernel, reduce)) + 0.5
        return conv_mult_adds(size, in_channels, out_channels, kernel, reduce)

    return fn


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("params", "that is the weight count"),
        ("k not k2", "multiply by k², not k"),
        ("bias", "the bias additions are not multiply-adds"),
        ("no 1x1 cost", "you left out the 1×1 reduction itself"),
        ("reads input", "reads the reduce maps"),
        ("1x1 with k2", "one tap per input map, no k²"),
    ],
)
def test_conv_mult_adds_names_the_mistake(kind: str, hint: str) -> None:
    assert hint in failure(checks.conv_mult_adds, _ma(kind))


def test_conv_mult_adds_rejects_a_non_integer_and_the_library() -> None:
    assert "conv_mult_adds" in failure(checks.conv_mult_adds, _ma("float"))

    def as_float(*args, **kwargs):
        return float(conv_mult_adds(*args, **kwargs))

    def as_tensor(*args, **kwargs):
        return torch.tensor(conv_mult_adds(*args, **kwargs))

    def in_millions(*args, **kwargs):
        return conv_mult_adds(*args, **kwargs) / 1e6

    assert "return an int" in failure(checks.conv_mult_adds, as_float)
    assert "return a Python int" in failure(checks.conv_mult_adds, as_tensor)
    assert "not millions" in failure(checks.conv_mult_adds, in_millions)

    def by_layer(size, in_channels, out_channels, kernel, reduce=None):
        nn.Conv2d(in_channels, out_channels, kernel)
        return conv_mult_adds(size, in_channels, out_channels, kernel, reduce)

    assert "Conv2d" in failure(checks.conv_mult_adds, by_layer)


def test_pool_written_with_mixed_int_and_tuple_arguments_passes(capsys) -> None:  # noqa: ANN001
    from torch import nn

    from cnnlab import checks

    def branches(in_channels, c1, c3r, c3, c5r, c5, proj):  # noqa: ANN001, ANN202
        def cv(a: int, b: int, k: int) -> list[nn.Module]:
            return [nn.Conv2d(a, b, k, padding=k // 2), nn.ReLU()]

        return [
            nn.Sequential(*cv(in_channels, c1, 1)),
            nn.Sequential(*cv(in_channels, c3r, 1), *cv(c3r, c3, 3)),
            nn.Sequential(*cv(in_channels, c5r, 1), *cv(c5r, c5, 5)),
            nn.Sequential(nn.MaxPool2d(3, (1, 1), 1), *cv(in_channels, proj, 1)),
        ]

    checks.inception_branches(branches)
    assert capsys.readouterr().out.startswith("✔")
