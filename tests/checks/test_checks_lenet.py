"""Topic 5 checks (c3_params, lenet_subsampling) accept the solutions and correct variants and
reject classic mistakes with the hint that names them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.checks import CheckFailed
from cnnlab.checks import lenet as checks
from cnnlab.models.lenet import PartialConv2d
from cnnlab.models.lenet import partial_conv_params as package_count


# -- c3_params -------------------------------------------------------------------------------
def partial_conv_params(table: Any, kernel_size: int) -> int:  # the solution notebook's
    connections = sum(len(inputs) for inputs in table)
    return connections * kernel_size * kernel_size + len(table)


def params_by_loop(table: Any, kernel_size: int) -> int:
    total = 0
    for inputs in table:
        total += len(inputs) * kernel_size**2 + 1
    return total


def c3_failure(fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        checks.c3_params(fn)
    return str(info.value)


@pytest.mark.parametrize("fn", [partial_conv_params, params_by_loop, np.int64])
def test_c3_params_accepts_correct_answers(fn: Any, capsys: pytest.CaptureFixture) -> None:
    if fn is np.int64:  # a NumPy integer counts as an int

        def fn(table: Any, k: int) -> Any:
            return np.int64(partial_conv_params(table, k))

    checks.c3_params(fn)
    assert capsys.readouterr().out.startswith("✔ c3_params: LeNet-5's C3 (1,516)")


def _max_input(table: Any) -> int:
    return max(max(row) for row in table) + 1


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda t, k: sum(map(len, t)) * k * k, "you forgot the biases"),
        (lambda t, k: sum(map(len, t)) * (k * k + 1), "you gave every connection a bias"),
        (lambda t, k: sum(map(len, t)) * k * k + _max_input(t), "one bias per input map"),
        (lambda t, k: sum(map(len, t)) * k * k + 1, "one bias for the whole layer"),
        (lambda t, k: len(t) * (_max_input(t) * k * k + 1), "count of a full convolution"),
        (lambda t, k: sum(map(len, t)) * k + len(t), "k × k weights, not k"),
    ],
    ids=["no_bias", "bias_per_connection", "bias_per_input", "one_bias", "full", "k_not_k2"],
)
def test_c3_params_names_the_mistake(fn: Any, hint: str) -> None:
    message = c3_failure(fn)
    assert "the paper's C3: 1,516 parameters" in message
    assert any(hint in line for line in message.splitlines() if "Hint:" in line)


def test_c3_params_mistakes_that_pass_the_paper_case_fail_later() -> None:
    def only_c3(table: Any, k: int) -> int:
        return 1516  # hard-coded

    message = c3_failure(only_c3)
    assert "expected" in message and "got 1,516" in message


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        (None, "forget the `return`"),
        (1516.0, "return an int"),
        (torch.tensor(1516), "return a Python int"),
    ],
)
def test_c3_params_wrong_types(value: Any, phrase: str) -> None:
    assert phrase in c3_failure(lambda t, k: value)


def by_package(table: Any, k: int) -> int:
    return package_count(table, k)  # imported at the top, as a notebook would


def test_c3_params_forbids_the_package() -> None:
    def by_layer(table: Any, k: int) -> int:
        layer = PartialConv2d(_max_input(table), table, k)
        return sum(p.numel() for p in layer.parameters())

    assert "PartialConv2d.__init__" in c3_failure(by_layer)
    assert "cnnlab.models.lenet.partial_conv_params" in c3_failure(by_package)


def test_c3_params_stub_and_not_callable() -> None:
    def stub(table: Any, k: int) -> int:
        raise NotImplementedError()

    assert "not implemented yet" in c3_failure(stub)
    with pytest.raises(TypeError, match=r"checks.c3_params\(c3_params\)"):
        checks.c3_params(1516)  # type: ignore[arg-type]


# -- lenet_subsampling ------------------------------------------------------------------------
class Subsampling(nn.Module):  # the solution notebook's
    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        k = self.kernel_size
        sums = x.reshape(n, c, h // k, k, w // k, k).sum(dim=(3, 5))
        return sums * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class ByUnfold(Subsampling):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        sums = x.unfold(2, k, k).unfold(3, k, k).sum(dim=(-1, -2))
        return sums * self.weight[:, None, None] + self.bias[:, None, None]


def variant(kind: str) -> type:
    class Wrong(Subsampling):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            k = self.kernel_size
            n, c, h, w = x.shape
            blocks = x.reshape(n, c, h // k, k, w // k, k)
            total = blocks.sum(dim=(3, 5))
            wt, b = self.weight.view(1, -1, 1, 1), self.bias.view(1, -1, 1, 1)
            if kind == "mean":
                return blocks.mean(dim=(3, 5)) * wt + b
            if kind == "no_bias":
                return total * wt
            if kind == "bias_inside":
                return (total + b) * wt
            if kind == "max":
                return blocks.amax(dim=(3, 5)) * wt + b
            if kind == "squashed":
                return 1.7159 * torch.tanh(2 / 3 * (total * wt + b))
            if kind == "avg_pool":
                return F.avg_pool2d(x, k) * k * k * wt + b
            if kind == "numpy":
                return (total * wt + b).detach().numpy()
            if kind == "detached":
                return (total * wt + b).detach()
            raise AssertionError(kind)

    return Wrong


class Swapped(Subsampling):  # height and width blocks mixed up
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        k = self.kernel_size
        sums = x.reshape(n, c, w // k, k, h // k, k).sum(dim=(3, 5))
        return sums * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class ScalarWeight(nn.Module):
    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        return x.unfold(2, k, k).unfold(3, k, k).sum(dim=(-1, -2)) * self.weight + self.bias


class PlainTensors(nn.Module):
    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.weight = torch.ones(channels)
        self.bias = torch.zeros(channels)


def sub_failure(cls: Any) -> str:
    with pytest.raises(CheckFailed) as info:
        checks.lenet_subsampling(cls)
    return str(info.value)


@pytest.mark.parametrize("cls", [Subsampling, ByUnfold])
def test_lenet_subsampling_accepts_correct_modules(
    cls: type, capsys: pytest.CaptureFixture
) -> None:
    checks.lenet_subsampling(cls)
    out = capsys.readouterr().out
    assert out.startswith("✔ lenet_subsampling: 4 random configurations match")
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("mean", "you averaged each block"),
        ("no_bias", "you forgot the trainable bias"),
        ("bias_inside", "the bias is added after multiplying"),
        ("max", "you took the maximum of each block"),
        ("squashed", "the squashing function is a separate layer"),
    ],
)
def test_lenet_subsampling_names_the_mistake(kind: str, hint: str) -> None:
    message = sub_failure(variant(kind))
    assert any(hint in line for line in message.splitlines() if "Hint:" in line)


def test_lenet_subsampling_forbids_average_pooling() -> None:
    message = sub_failure(variant("avg_pool"))
    assert "torch.nn.functional.avg_pool2d" in message and "reshape" in message


def test_lenet_subsampling_wrong_types_and_shapes() -> None:
    assert "NumPy array" in sub_failure(variant("numpy"))
    assert "not connected to the autograd graph" in sub_failure(variant("detached"))
    assert "expected output of shape" in sub_failure(Swapped)
    scalar = sub_failure(ScalarWeight)
    assert "parameter 'weight' has shape (1,), expected" in scalar
    plain = sub_failure(PlainTensors)
    assert "missing parameter 'weight'" in plain and "nn.Parameter" in plain


def test_adaptive_average_pooling_is_the_forbidden_call_too() -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    from cnnlab import checks
    from cnnlab.checks import CheckFailed

    class Sub(nn.Module):
        def __init__(self, channels: int, kernel_size: int = 2) -> None:
            super().__init__()
            self.k = kernel_size
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            k = self.k
            pooled = F.adaptive_avg_pool2d(x, (x.shape[2] // k, x.shape[3] // k)) * k * k
            return pooled * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    with pytest.raises(CheckFailed, match="adaptive_avg_pool2d"):
        checks.lenet_subsampling(Sub)
