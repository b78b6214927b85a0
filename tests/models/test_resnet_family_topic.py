"""Topic 12's model pieces: the three ResNeXt forms agree, the course family models have the
pinned sizes, and the published tables are reproduced (counts on the meta device)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.cost import summary
from cnnlab.experiments.resnet_family import FAMILIES, family_model
from cnnlab.models import create_model
from cnnlab.models.wide import resnext_aggregated, resnext_concatenated, resnext_grouped
from cnnlab.published import get_table


def _weights(c_in: int, groups: int, d: int, c_out: int):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, c_in, 5, 6, generator=g, dtype=torch.float64)
    w1 = torch.randn(groups * d, c_in, 1, 1, generator=g, dtype=torch.float64)
    w2 = torch.randn(groups * d, d, 3, 3, generator=g, dtype=torch.float64)
    w3 = torch.randn(c_out, groups * d, 1, 1, generator=g, dtype=torch.float64)
    return x, w1, w2, w3


@pytest.mark.parametrize(
    ("c_in", "groups", "d", "c_out"), [(8, 4, 2, 6), (5, 1, 3, 5), (16, 8, 1, 4)]
)
def test_three_resnext_forms_are_equal(c_in: int, groups: int, d: int, c_out: int) -> None:
    x, w1, w2, w3 = _weights(c_in, groups, d, c_out)
    c = resnext_grouped(x, w1, w2, w3, groups)
    assert c.shape == (2, c_out, 5, 6) and c.dtype == torch.float64
    for form in (resnext_aggregated, resnext_concatenated):
        torch.testing.assert_close(form(x, w1, w2, w3, groups), c, rtol=1e-12, atol=1e-12)


def test_resnext_grouped_is_the_bottleneck_without_bn() -> None:
    block = create_model("resnext50_32x4d").layer1[1].double()
    x = torch.randn(1, 256, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        want = block.conv3(torch.relu(block.conv2(torch.relu(block.conv1(x)))))
        got = resnext_grouped(x, block.conv1.weight, block.conv2.weight, block.conv3.weight, 32)
    torch.testing.assert_close(got, want)


def test_resnext_forms_reject_mismatched_weights() -> None:
    x, w1, w2, w3 = _weights(8, 4, 2, 6)
    with pytest.raises(ValueError, match="do not form a ResNeXt block with 3 groups"):
        resnext_grouped(x, w1, w2, w3, 3)
    with pytest.raises(ValueError, match="x must be"):
        resnext_aggregated(x[:, :4], w1, w2, w3, 4)


def test_family_models_sizes_and_shapes() -> None:
    sizes = {
        f: sum(p.numel() for p in family_model(f, in_channels=1).parameters()) for f in FAMILIES
    }
    assert sizes == {"resnet": 44_226, "wrn": 43_490, "resnext": 22_914, "densenet": 32_318,
                     "dpn": 38_138}  # fmt: skip
    for f in FAMILIES:
        assert family_model(f)(torch.zeros(2, 3, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="unknown family"):
        family_model("vgg")


def test_dpn_table_is_reproduced_with_bn_statistics() -> None:
    names = {"DenseNet-161 (k=48)": "densenet161", "ResNeXt-101 (32×4d)": "resnext101_32x4d",
             "ResNeXt-101 (64×4d)": "resnext101_64x4d", "DPN-92 (32×3d)": "dpn92",
             "DPN-98 (40×4d)": "dpn98"}  # fmt: skip
    for r in get_table("resnet_family", "dpn_architectures").records():
        with torch.device("meta"):
            model = create_model(names[r["model"]])
        s = summary(model, (3, 224, 224))
        stats = sum(2 * m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
        assert round((s.totals.params + stats) / 1e6, 1) == r["parameters"]
        assert round(s.totals.mult_adds / 1e9, 1) == r["FLOPs"]


def test_densenet_table_matches_the_builders() -> None:
    from cnnlab.models.densenet import IMAGENET_DENSENETS

    for r in get_table("resnet_family", "densenet_imagenet").records():
        depth = int(r["model"].split("-")[1])
        k, blocks, _ = IMAGENET_DENSENETS[depth]
        assert (k, blocks) == (r["growth rate"], tuple(r[f"block {i}"] for i in range(1, 5)))
        assert 1 + 2 * sum(blocks) + len(blocks) - 1 + 1 == depth
