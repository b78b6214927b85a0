"""Topic 8 checks (mlpconv, head_params) accept the reference answers and reject classic
mistakes with a hint that names the mistake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from cnnlab.checks import CheckFailed
from cnnlab.checks import nin as checks


# -- reference answers (as in solutions/08_nin.ipynb) ------------------------------------------
def mlpconv(in_channels, channels, kernel_size, padding=0):
    layers = [nn.Conv2d(in_channels, channels[0], kernel_size, padding=padding), nn.ReLU()]
    for c_in, c_out in zip(channels, channels[1:], strict=False):
        layers += [nn.Conv2d(c_in, c_out, 1), nn.ReLU()]
    return nn.Sequential(*layers)


def head_params(channels, height, width, num_classes, head):
    inputs = channels if head == "gap" else channels * height * width
    return inputs * num_classes + num_classes


def failure(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


# -- mlpconv -----------------------------------------------------------------------------------
def test_mlpconv_accepts_the_solution_and_a_variant(capsys: pytest.CaptureFixture) -> None:
    checks.mlpconv(mlpconv)

    def inplace(in_channels, channels, kernel_size, padding=0):
        widths = [in_channels, *channels]
        layers: list[nn.Module] = []
        for i in range(len(channels)):
            k = kernel_size if i == 0 else 1
            p = padding if i == 0 else 0
            layers += [nn.Conv2d(widths[i], widths[i + 1], k, 1, p), nn.ReLU(inplace=True)]
        return nn.Sequential(*layers)

    checks.mlpconv(inplace)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0].startswith("✔ mlpconv: NIN's first CIFAR-10 block") and "60,928" in lines[0]


def _variant(kind: str) -> Callable[..., Any]:
    def fn(in_channels, channels, kernel_size, padding=0):
        first_pad = 0 if kind == "no padding" else padding
        k1 = 3 if kind == "3x3 hidden" else 1
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, channels[0], kernel_size, padding=first_pad)
        ]
        if kind != "no relu":
            layers.append(nn.ReLU())
        c_prev = channels[0]
        for i, c in enumerate(channels[1:]):
            c_in = channels[0] if kind == "wrong in" else c_prev
            layers.append(nn.Conv2d(c_in, c, k1, padding=k1 // 2, bias=kind != "no bias"))
            last = i == len(channels) - 2
            if kind not in ("no relu",) and not (kind == "no last relu" and last):
                layers.append(nn.ReLU())
            c_prev = c
        if kind == "only first":
            layers = layers[:2]
        if kind == "list":
            return layers
        if kind == "relu first":
            layers = [layers[1], layers[0], *layers[2:]]
        return nn.Sequential(*layers)

    return fn


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("no relu", "collapse into one linear map"),
        ("no last relu", "the last one included, is followed by nn.ReLU()"),
        ("no padding", "pass padding=padding to the k×k convolution"),
        ("3x3 hidden", "the layers after the first are 1×1 convolutions"),
        ("wrong in", "reads the previous layer's"),
        ("no bias", "keep nn.Conv2d's default bias=True"),
        ("only first", "then one 1×1 convolution for each further entry of channels"),
        ("list", "returned a list"),
        ("relu first", "each convolution followed by its ReLU"),
    ],
)
def test_mlpconv_names_the_mistake(kind: str, hint: str) -> None:
    assert hint in failure(checks.mlpconv, _variant(kind))


def test_mlpconv_rejects_the_library_and_the_stub() -> None:
    from cnnlab.models import nin

    def uses_library(in_channels, channels, kernel_size, padding=0):
        return nin.mlpconv(in_channels, channels, kernel_size, padding=padding)

    message = failure(checks.mlpconv, uses_library)
    assert "cnnlab.models.nin.mlpconv" in message and "nn.Conv2d and nn.ReLU" in message

    def stub(*_args: object, **_kwargs: object) -> None:
        raise NotImplementedError()

    assert "is not implemented yet" in failure(checks.mlpconv, stub)


def test_mlpconv_catches_a_wrong_forward() -> None:
    class Doubled(nn.Sequential):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * super().forward(x)

    def doubled(in_channels, channels, kernel_size, padding=0):
        return Doubled(*mlpconv(in_channels, channels, kernel_size, padding))

    assert "differs" in failure(checks.mlpconv, doubled)


# -- head_params --------------------------------------------------------------------------------
def test_head_params_accepts_the_solution(capsys: pytest.CaptureFixture) -> None:
    checks.head_params(head_params)
    out = capsys.readouterr().out
    assert out == (
        "✔ head_params: 30 heads match the PyTorch layers (on AlexNet's 256×6×6 pool5 map with "
        "1000 classes: FC 9,217,000, GAP 257,000 parameters)\n"
    )


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda c, h, w, k, head: (c if head == "gap" else c * h * w) * k, "forgot the biases"),
        (lambda c, h, w, k, head: c * k + k, "multiply by the spatial size H·W"),
        (lambda c, h, w, k, head: c * h * w * k + k, "the spatial size does not enter"),
        (lambda c, h, w, k, head: 0 if head == "gap" else c * h * w * k + k, "1×1 convolution"),
        (
            lambda c, h, w, k, head: c * k + k if head == "gap" else c * h * h * k + k,
            "not square: multiply by H·W",
        ),
        (
            lambda c, h, w, k, head: c * k + k if head == "gap" else c * h * k + k,
            "multiply by both H and W",
        ),
        (
            lambda c, h, w, k, head: (c if head == "gap" else c * h * w) * (k + 1),
            "one bias per output",
        ),
    ],
)
def test_head_params_names_the_mistake(wrong: Callable[..., Any], hint: str) -> None:
    assert hint in failure(checks.head_params, wrong)


def test_head_params_rejects_layers_tensors_and_floats() -> None:
    def builds(c, h, w, k, head):
        layer = nn.Conv2d(c, k, 1) if head == "gap" else nn.Linear(c * h * w, k)
        return sum(p.numel() for p in layer.parameters())

    assert "do not build the layer" in failure(checks.head_params, builds)

    def tensor(c, h, w, k, head):
        return torch.tensor(head_params(c, h, w, k, head))

    assert "return a Python int" in failure(checks.head_params, tensor)

    def floating(c, h, w, k, head):
        return float(head_params(c, h, w, k, head))

    assert "return an int" in failure(checks.head_params, floating)
