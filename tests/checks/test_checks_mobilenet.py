"""Topic 13 checks (separable_conv, separable_mult_adds) accept the reference answers and
reject classic mistakes with a hint that names the mistake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.checks import CheckFailed
from cnnlab.checks import mobilenet as checks
from cnnlab.models import mobilenet as library


# -- reference answers (as in solutions/13_mobilenet.ipynb) ------------------------------------
def separable_conv(in_ch, out_ch, k, stride):
    return nn.Sequential(
        nn.Conv2d(in_ch, in_ch, k, stride, padding=k // 2, groups=in_ch, bias=False),
        nn.BatchNorm2d(in_ch),
        nn.ReLU(),
        nn.Conv2d(in_ch, out_ch, 1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(),
    )


def separable_mult_adds(d_k, m, n, d_f):
    return d_k * d_k * m * d_f * d_f + m * n * d_f * d_f


def failure(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


def test_all_lists_the_checks() -> None:
    assert checks.__all__ == ["separable_conv", "separable_mult_adds"]


# -- separable_conv ----------------------------------------------------------------------------
def test_separable_conv_accepts_the_solution_and_variants(capsys: pytest.CaptureFixture) -> None:
    checks.separable_conv(separable_conv)

    def inplace_and_positional(in_ch, out_ch, k, stride):
        layers = [nn.Conv2d(in_ch, in_ch, (k, k), (stride, stride), (k // 2, k // 2),
                            1, in_ch, False)]  # fmt: skip
        layers += [nn.BatchNorm2d(in_ch), nn.ReLU(inplace=True)]
        layers += [nn.Conv2d(in_ch, out_ch, kernel_size=1, bias=False), nn.BatchNorm2d(out_ch)]
        return nn.Sequential(*layers, nn.ReLU(inplace=True))

    checks.separable_conv(inplace_and_positional)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert (
        lines[0].startswith("✔ separable_conv: MobileNet's 512 -> 512 layer")
        and "268,800" in lines[0]
    )


def _variant(kind: str) -> Callable[..., Any]:
    def fn(in_ch, out_ch, k, stride):
        groups = 1 if kind == "groups 1" else in_ch
        pad = 0 if kind == "no padding" else k // 2
        dw_stride, pw_stride = (1, stride) if kind == "stride on pointwise" else (stride, 1)
        bias = kind == "bias"
        dw = nn.Conv2d(in_ch, in_ch, k, dw_stride, padding=pad, groups=groups, bias=bias)
        pw = nn.Conv2d(in_ch, out_ch, 1, pw_stride, bias=bias)
        if kind == "no pointwise":
            return nn.Sequential(dw, nn.BatchNorm2d(in_ch), nn.ReLU())
        if kind == "depthwise to out":
            dw = nn.Conv2d(in_ch, out_ch, k, stride, padding=pad, groups=in_ch, bias=False)
        if kind == "relu before bn":
            return nn.Sequential(dw, nn.ReLU(), nn.BatchNorm2d(in_ch), pw, nn.ReLU(),
                                 nn.BatchNorm2d(out_ch))  # fmt: skip
        if kind == "no bn":
            return nn.Sequential(dw, nn.ReLU(), pw, nn.ReLU())
        act = nn.ReLU6 if kind == "relu6" else nn.ReLU
        return nn.Sequential(dw, nn.BatchNorm2d(in_ch), act(), pw, nn.BatchNorm2d(out_ch), act())

    return fn


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("groups 1", "it needs groups=in_ch (512)"),
        ("no padding", "use padding=k // 2 = 1"),
        ("no pointwise", "add the pointwise 1×1 convolution"),
        ("stride on pointwise", "the stride belongs to the depthwise (k×k) layer"),
        ("bias", "has a bias: pass bias=False"),
        ("relu before bn", "expected nn.Sequential(Conv2d, BatchNorm2d, ReLU"),
        ("no bn", "found 0 BatchNorm2d and 2 ReLU"),
        ("relu6", "ReLU6 is what the released models use"),
    ],
)
def test_separable_conv_names_the_mistake(kind: str, hint: str) -> None:
    assert hint in failure(checks.separable_conv, _variant(kind))


def test_separable_conv_depthwise_changing_channels_is_named() -> None:
    def fn(in_ch, out_ch, k, stride):  # groups=in_ch but in_ch -> out_ch: only valid if divisible
        return nn.Sequential(
            nn.Conv2d(in_ch, 2 * in_ch, k, stride, padding=k // 2, groups=in_ch, bias=False),
            nn.BatchNorm2d(2 * in_ch), nn.ReLU(),
            nn.Conv2d(2 * in_ch, out_ch, 1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU(),
        )  # fmt: skip

    assert "it keeps the channels (in_ch -> in_ch = 512)" in failure(checks.separable_conv, fn)


def test_separable_conv_rejects_the_library_and_wrong_types() -> None:
    message = failure(
        checks.separable_conv,
        lambda in_ch, out_ch, k, stride: library.separable_conv(in_ch, out_ch, k, stride),
    )
    assert "the library function this exercise replaces" in message
    assert "returned a NoneType" in failure(
        checks.separable_conv, lambda in_ch, out_ch, k, stride: None
    )
    assert "a single convolution" in failure(
        checks.separable_conv,
        lambda in_ch, out_ch, k, stride: nn.Conv2d(in_ch, out_ch, k, stride, k // 2),
    )

    def stub(in_ch, out_ch, k, stride):
        raise NotImplementedError

    assert "not implemented yet" in failure(checks.separable_conv, stub)


# -- separable_mult_adds -----------------------------------------------------------------------
def test_mult_adds_accepts_the_solution_and_numpy_ints(capsys: pytest.CaptureFixture) -> None:
    checks.separable_mult_adds(separable_mult_adds)
    checks.separable_mult_adds(lambda d_k, m, n, d_f: np.int64(m * d_f**2 * (d_k**2 + n)))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert "52,283,392 multiply-adds against 462,422,016" in lines[0] and "8.84× fewer" in lines[0]


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda k, m, n, f: k * k * m + m * n, "multiply by D_F²"),
        (lambda k, m, n, f: (k * k * m + m * n) * f, "multiply by D_F², not by D_F"),
        (lambda k, m, n, f: k * k * n * f * f + m * n * f * f, "you swapped M and N"),
        (lambda k, m, n, f: k * k * m * f * f, "add the pointwise 1×1 convolution"),
        (lambda k, m, n, f: m * n * f * f, "add the depthwise convolution"),
        (lambda k, m, n, f: k * k * m * n * f * f, "that is a standard convolution"),
        (lambda k, m, n, f: k * m * f * f + m * n * f * f, "use D_K², not D_K"),
        (lambda k, m, n, f: 1 / n + 1 / k**2, "no ratio, no division"),
    ],
)
def test_mult_adds_names_the_mistake(fn: Callable[..., Any], hint: str) -> None:
    assert hint in failure(checks.separable_mult_adds, fn)


def test_mult_adds_rejects_wrong_types_and_the_library() -> None:
    assert "return a Python int" in failure(
        checks.separable_mult_adds, lambda *a: torch.tensor(separable_mult_adds(*a))
    )
    assert "returned the float" in failure(
        checks.separable_mult_adds, lambda *a: float(separable_mult_adds(*a))
    )
    assert "the library function" in failure(
        checks.separable_mult_adds, lambda *a: library.separable_mult_adds(*a)
    )
    assert "forget the `return`" in failure(checks.separable_mult_adds, lambda *a: None)
