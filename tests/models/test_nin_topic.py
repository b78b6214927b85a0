"""Topic 8's model pieces: mlpconv, its per-pixel MLP reading, the small NIN's two heads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.cost import summary
from cnnlab.models import create_model
from cnnlab.models.nin import mlpconv, per_pixel_mlp, pooled_size


def test_mlpconv_layers_and_shapes() -> None:
    block = mlpconv(3, [192, 160, 96], 5, padding=2)
    kinds = [type(m).__name__ for m in block]
    assert kinds == ["Conv2d", "ReLU"] * 3
    assert [m.kernel_size for m in block if isinstance(m, nn.Conv2d)] == [(5, 5), (1, 1), (1, 1)]
    assert sum(p.numel() for p in block.parameters()) == 60_928
    assert block(torch.randn(1, 3, 32, 32)).shape == (1, 96, 32, 32)
    bn = mlpconv(3, [4, 5], 3, padding=1, batch_norm=True)
    assert [type(m).__name__ for m in bn] == ["Conv2d", "BatchNorm2d", "ReLU"] * 2
    with pytest.raises(ValueError, match="at least one layer"):
        mlpconv(3, [], 3)


@pytest.mark.parametrize(("k", "s", "p"), [(5, 1, 2), (3, 2, 0), (1, 1, 0)])
def test_mlpconv_equals_an_mlp_on_every_patch(k: int, s: int, p: int) -> None:
    torch.manual_seed(0)
    block = mlpconv(3, [6, 5, 4], k, stride=s, padding=p).double()
    x = torch.randn(2, 3, 9, 7, dtype=torch.float64)
    y = block(x)
    assert torch.allclose(per_pixel_mlp(block, x), y, rtol=0, atol=1e-12)


def test_nin_small_heads_differ_only_in_the_head() -> None:
    gap = create_model("nin_small")
    fc = create_model("nin_small", head="fc", image_size=16)
    n_gap = sum(p.numel() for p in gap.parameters())
    n_fc = sum(p.numel() for p in fc.parameters())
    assert n_gap == 9_130 and n_fc == 9_130 - (32 * 10 + 10) + (32 * 4 * 4 * 10 + 10)
    assert gap(torch.randn(2, 3, 16, 16)).shape == fc(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    assert pooled_size(32) == 16 and pooled_size(16) == 8 and pooled_size(8) == 4
    with pytest.raises(ValueError, match="unknown head"):
        create_model("nin_small", head="avg")


def test_nin_against_alexnet_cost() -> None:
    with torch.device("meta"):
        nin, alex = create_model("nin"), create_model("alexnet")
    s_nin, s_alex = summary(nin, (3, 224, 224)), summary(alex, (3, 227, 227))
    assert s_nin.totals.params == 7_595_176 and s_alex.totals.params == 62_378_344
    assert not s_nin.select(["Linear"])
    fc = sum(r.params for r in s_alex.select(["Linear"]))
    assert fc / s_alex.totals.params > 0.93  # 94 %
