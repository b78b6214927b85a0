"""The deep plain probe network: structure, parameter counts, initialisations, norm_layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.cost import summary
from cnnlab.models import create_model
from cnnlab.models.deep_plain import build_deep_plain, init_weights
from cnnlab.ops import BatchNorm2d


def test_registered_models_have_the_documented_counts() -> None:
    assert summary(create_model("deep_plain"), (1, 8, 8)).totals.params == 44_410
    assert summary(create_model("deep_plain_bn"), (1, 8, 8)).totals.params == 44_730


def test_blocks_and_names() -> None:
    net = build_deep_plain(depth=3, width=4, activation="tanh", batch_norm=True)
    assert [n for n, _ in net.named_children()] == [
        "block1", "block2", "block3", "pool", "flatten", "fc",
    ]  # fmt: skip
    assert [type(m).__name__ for m in net.block2] == ["Conv2d", "BatchNorm2d", "Tanh"]
    assert net.block1.conv.bias is None  # BN's β replaces the bias
    plain = build_deep_plain(depth=3, width=4)
    assert plain.block1.conv.bias is not None and len(plain.block1) == 2
    assert net(torch.randn(2, 1, 5, 7)).shape == (2, 10)


@pytest.mark.parametrize(
    ("init", "std"), [("glorot", (2 / (16 * 9 + 16 * 9)) ** 0.5), ("he", (2 / (64 * 9)) ** 0.5)]
)
def test_initialisations_have_the_papers_variance(init: str, std: float) -> None:
    torch.manual_seed(0)
    width = 16 if init == "glorot" else 64
    net = build_deep_plain(depth=3, width=width, init=init)
    w = net.block2.conv.weight
    assert abs(float(w.detach().std()) / std - 1) < 0.05
    assert float(net.block2.conv.bias.detach().abs().max()) == 0.0


def test_default_init_is_pytorchs_own() -> None:
    torch.manual_seed(1)
    a = build_deep_plain(depth=2, width=3, init="default")
    torch.manual_seed(1)
    b = build_deep_plain(depth=2, width=3, init="he")
    assert not torch.equal(a.block2.conv.weight, b.block2.conv.weight)
    m = nn.Linear(3, 3)
    before = m.weight.clone()
    assert torch.equal(init_weights(m, "default").weight, before)


def test_norm_layer_option_uses_ours() -> None:
    net = build_deep_plain(depth=2, width=3, batch_norm=True, norm_layer=BatchNorm2d)
    assert isinstance(net.block1.bn, BatchNorm2d)
    assert isinstance(build_deep_plain(depth=2, batch_norm=True).block1.bn, nn.BatchNorm2d)


def test_bad_options_are_named() -> None:
    with pytest.raises(ValueError, match="activation"):
        build_deep_plain(activation="sigmod")
    with pytest.raises(ValueError, match="init"):
        build_deep_plain(init="xavier")
    with pytest.raises(ValueError, match="depth"):
        build_deep_plain(depth=0)
    with pytest.raises(TypeError, match="batch_norm"):
        build_deep_plain(batch_norm="yes")
