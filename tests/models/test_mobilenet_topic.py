"""Topic 13's additions to cnnlab.models.mobilenet: the flat separable layer (the exercise's
reference), the multiply-add formulas and the course-scale body."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.cost import summary
from cnnlab.models.mobilenet import (
    MOBILENET_COURSE,
    DepthwiseSeparableConv,
    build_mobilenet,
    separable_conv,
    separable_cost_ratio,
    separable_mult_adds,
    standard_mult_adds,
)


@pytest.mark.parametrize(("cin", "cout", "k", "stride"), [(4, 6, 3, 1), (5, 3, 5, 2)])
def test_separable_conv_equals_the_model_layer(cin: int, cout: int, k: int, stride: int) -> None:
    flat = separable_conv(cin, cout, k, stride).double()
    block = DepthwiseSeparableConv(cin, cout, stride, k).double()
    names = {"0": "depthwise.conv", "1": "depthwise.bn", "3": "pointwise.conv", "4": "pointwise.bn"}
    state = {
        f"{names[key.split('.')[0]]}.{key.split('.', 1)[1]}": v
        for key, v in flat.state_dict().items()
    }
    block.load_state_dict(state)
    x = torch.randn(2, cin, 9, 9, dtype=torch.float64)
    flat.eval()
    block.eval()
    assert torch.allclose(flat(x), block(x), rtol=0, atol=1e-12)
    assert [type(m).__name__ for m in flat] == [
        "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"
    ]  # fmt: skip
    assert flat[0].groups == cin and flat[0].bias is None and flat[3].kernel_size == (1, 1)


@pytest.mark.parametrize(("k", "m", "n", "f"), [(3, 32, 64, 112), (5, 7, 11, 9), (3, 512, 1024, 7)])
def test_formulas_match_the_cost_table(k: int, m: int, n: int, f: int) -> None:
    with torch.device("meta"):
        std = nn.Conv2d(m, n, k, padding=k // 2, bias=False)
        sep = nn.Sequential(nn.Conv2d(m, m, k, padding=k // 2, groups=m, bias=False),
                            nn.Conv2d(m, n, 1, bias=False))  # fmt: skip
    assert standard_mult_adds(k, m, n, f) == summary(std, (m, f, f)).totals.mult_adds
    assert separable_mult_adds(k, m, n, f) == summary(sep, (m, f, f)).totals.mult_adds
    ratio = separable_mult_adds(k, m, n, f) / standard_mult_adds(k, m, n, f)
    assert ratio == pytest.approx(separable_cost_ratio(n, k), rel=1e-15)


def test_course_body_runs_on_16_pixels() -> None:
    assert MOBILENET_COURSE == ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1))
    model = build_mobilenet(MOBILENET_COURSE, alpha=0.5, stem_stride=1, num_classes=10)
    assert sum(p.numel() for p in model.parameters()) == 37_162
    assert model(torch.zeros(2, 3, 16, 16)).shape == (2, 10)


def test_separable_conv_validates() -> None:
    with pytest.raises(ValueError, match="in_ch"):
        separable_conv(0, 4)
