"""Topic 5's additions to LeNet-5: the RBF output layer, the paper's connection counts, the
parameter count of a partial table, and the published tables they reproduce."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.experiments.lenet import padded_digits
from cnnlab.models import create_model
from cnnlab.models.lenet import (
    C3_TABLE,
    EuclideanRBF,
    PartialConv2d,
    layer_counts,
    partial_conv_params,
    rbf_codes,
)
from cnnlab.published import get_table


def test_rbf_output_gives_the_papers_60000_parameters_and_340908_connections() -> None:
    m = create_model("lenet5", output="rbf")
    assert sum(p.numel() for p in m.parameters()) == 60_000
    rows = layer_counts(m)
    paper = get_table("lenet", "layers")
    assert [(r.name, r.params, r.connections) for r in rows] == [
        (p["layer"], p["params"], p["connections"]) for p in paper.records()
    ]
    assert (
        sum(r.connections for r in rows) == dict(get_table("lenet", "totals").rows)["connections"]
    )
    assert m(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_default_lenet5_is_unchanged() -> None:
    m = create_model("lenet5")
    assert isinstance(m.output, nn.Linear)
    assert sum(r.params for r in layer_counts(m)) == 60_850
    with pytest.raises(ValueError, match="output"):
        create_model("lenet5", output="softmax")


def test_rbf_scores_are_minus_squared_distances() -> None:
    codes = rbf_codes(4, 5)
    assert torch.equal(codes, rbf_codes(4, 5)) and set(codes.unique().tolist()) == {-1.0, 1.0}
    layer = EuclideanRBF(codes)
    x = torch.randn(3, 5, dtype=torch.float64)
    expected = -(torch.cdist(x, codes.double()) ** 2)
    assert torch.allclose(layer(x), expected)
    assert not list(layer.parameters()) and layer.codes.shape == (4, 5)
    with pytest.raises(ValueError, match="2-D"):
        EuclideanRBF(torch.ones(3))


@pytest.mark.parametrize("k", [1, 3, 5])
def test_partial_conv_params_equals_the_layer(k: int) -> None:
    table = ((0,), (1, 2), (0, 1, 2, 3))
    layer = PartialConv2d(4, table, k)
    assert partial_conv_params(table, k) == sum(p.numel() for p in layer.parameters())
    assert partial_conv_params(C3_TABLE, 5) == 1516


def test_padded_digits_are_32x32_with_a_blank_border() -> None:
    d = padded_digits("val", seed=0)
    assert d.images.shape[1:] == (1, 32, 32)
    border = torch.cat([d.images[..., :2, :].flatten(), d.images[..., :, :2].flatten()])
    assert bool((border == 0).all()) and float(d.images.max()) > 0.5
