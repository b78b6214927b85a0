"""cnnlab.gradients: the sigmoid's derivative, the chain product, per-layer gradient norms."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cnnlab.gradients import (
    chain_product,
    grad_norm_profile,
    profile_in_band,
    recorded_profile,
    sigmoid_derivative,
)
from cnnlab.models.deep_plain import build_deep_plain
from cnnlab.train import GradNormRecorder


def test_sigmoid_derivative_matches_autograd_and_peaks_at_a_quarter() -> None:
    x = torch.linspace(-6, 6, 101, dtype=torch.float64, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    torch.testing.assert_close(sigmoid_derivative(x.detach()), x.grad)
    assert float(sigmoid_derivative(torch.zeros(1, dtype=torch.float64))) == 0.25


def test_chain_product() -> None:
    assert chain_product(0.25, 3) == 0.25**3
    assert chain_product([0.5, 0.2, 2.0]) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        chain_product(0.25, -1)


def test_profile_equals_the_gradients_autograd_gives() -> None:
    torch.manual_seed(0)
    net = build_deep_plain(depth=4, width=3, activation="sigmoid")
    x, y = torch.randn(5, 1, 6, 6), torch.tensor([0, 1, 2, 3, 4])
    profile = grad_norm_profile(net, x, y)
    F.cross_entropy(net(x), y).backward()
    want = [float(net[i].conv.weight.grad.norm()) for i in range(4)]
    assert profile == pytest.approx(want, rel=1e-6)
    assert profile[0] < profile[-1]  # the sigmoid's gradients shrink towards the input


def test_recorded_profile_averages_and_skips_nan() -> None:
    rec = GradNormRecorder()
    rec._names, rec._norms = ["a", "b"], {"a": [1.0, 3.0], "b": [2.0, math.nan]}
    assert recorded_profile(rec) == [2.0, 2.0]
    last = recorded_profile(rec, last=1)
    assert last[0] == 3.0 and math.isnan(last[1])
    with pytest.raises(ValueError, match="no steps"):
        recorded_profile(GradNormRecorder())


def test_profile_in_band() -> None:
    band = {
        "results": {"c": {"m": {"min": [1.0, 0.1], "max": [2.0, 0.2], "median": [1.5, 0.15]}}},
        "tolerance": {"m": 0.0},
        "command": "regen",
    }
    assert "all 2 layers" in profile_in_band(band, "c", "m", [1.5, 0.2])
    with pytest.raises(AssertionError, match="layer 2 .* regen"):
        profile_in_band(band, "c", "m", [1.5, 0.5])
