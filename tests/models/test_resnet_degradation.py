"""Topic 11's models and measurements: plain/residual twins, configs, branch ratios."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.experiments.degradation import CONFIGS, EXPERIMENT, degradation_model, parse_config
from cnnlab.models import create_model
from cnnlab.models.resnet import BasicBlock, ShortcutA, build_resnet
from cnnlab.residuals import branch_ratios, residual_blocks


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("depth", [8, 20, 32])
def test_plain_and_residual_twins_have_the_same_parameters(depth: int) -> None:
    plain = degradation_model(depth, residual=False, width=8, in_channels=1)
    res = degradation_model(depth, residual=True, width=8, in_channels=1)
    assert n_params(plain) == n_params(res)
    assert len(residual_blocks(res)) == 3 * (depth - 2) // 6
    assert res(torch.rand(2, 1, 8, 8)).shape == (2, 10)


def test_full_width_is_the_zoo_model() -> None:
    with torch.device("meta"):
        for d in (20, 56):
            assert n_params(degradation_model(d, residual=False)) == n_params(
                create_model(f"plain{d}")
            )


def test_configs_parse_and_bad_ones_fail() -> None:
    assert parse_config("plain20") == (False, 20) and parse_config("resnet110") == (True, 110)
    assert set(CONFIGS) >= {"plain20", "plain56", "resnet20", "resnet110"}
    assert {"train_error", "test_error", "train_error_curve"} <= set(EXPERIMENT.metrics)
    with pytest.raises(ValueError, match="plain<depth>"):
        parse_config("vgg16")
    with pytest.raises(ValueError, match="6n \\+ 2"):
        degradation_model(10, residual=True)


def test_branch_ratio_is_zero_for_an_identity_block_and_restores_mode() -> None:
    torch.manual_seed(0)
    model = degradation_model(8, residual=True, width=4, in_channels=1)
    with torch.no_grad():
        for block in residual_blocks(model):
            block.bn2.weight.zero_()
    model.train()
    ratios = branch_ratios(model, torch.rand(4, 1, 8, 8))
    assert ratios == [0.0, 0.0, 0.0] and model.training


def test_branch_ratio_by_hand_for_a_downsampling_block() -> None:
    torch.manual_seed(0)
    block = BasicBlock(4, 8, 2, ShortcutA(4, 8, 2))
    model = nn.Sequential(block).eval()
    x = torch.randn(3, 4, 6, 6)
    with torch.no_grad():
        f = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    want = float(f.norm() / x[:, :, ::2, ::2].norm())
    assert branch_ratios(model, x) == [pytest.approx(want)]


def test_branch_ratio_of_plain_and_bottleneck_nets() -> None:
    plain = degradation_model(8, residual=False, width=4, in_channels=1)
    assert len(branch_ratios(plain, torch.rand(2, 1, 8, 8))) == 3
    bott = build_resnet("bottleneck", (1, 1), (4, 8), stem="cifar", stem_width=8, num_classes=3)
    assert all(r > 0 for r in branch_ratios(bott, torch.rand(2, 3, 8, 8)))
    pre = build_resnet("basic", (1, 1), (4, 8), stem="cifar", stem_width=4, preact=True)
    assert len(branch_ratios(pre, torch.rand(2, 3, 8, 8))) == 2
    with pytest.raises(ValueError, match="no residual blocks"):
        branch_ratios(nn.Conv2d(1, 1, 1), torch.rand(1, 1, 2, 2))


def test_the_experiment_returns_its_metrics_and_lies_in_its_band() -> None:
    from cnnlab.experiments import check_band
    from cnnlab.experiments.registry import check_metrics
    from cnnlab.session import seed_everything

    seed_everything(0, 1)
    values = EXPERIMENT.run("plain8", 0, "quick")
    check_metrics(EXPERIMENT, "plain8", values)
    assert len(values["train_error_curve"]) == 8 and len(values["branch_ratio"]) == 3
    check_band("degradation", "plain8", {"train_error": values["train_error"]})


def test_published_tables_have_sources_and_match_the_counter() -> None:
    from cnnlab.cost import summary
    from cnnlab.published import get_table

    table1 = get_table("resnet", "architectures")
    assert "Table 1" in table1.source and table1.column("FLOPs") == [1.8, 3.6, 3.8, 7.6, 11.3]
    for name in ("plain_vs_residual", "shortcuts", "cifar", "preact", "ilsvrc"):
        assert get_table("resnet", name).source
    with torch.device("meta"):
        s = summary(create_model("resnet18"), (3, 224, 224))
    assert abs(s.totals.mult_adds / 1e9 - 1.8) < 0.07
