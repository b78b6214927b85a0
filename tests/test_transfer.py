"""cnnlab.transfer: class splits, config names, layer copying and the lab's treatments."""

from __future__ import annotations

import pytest
import torch

from cnnlab.data import load_dataset
from cnnlab.data.synthetic import CLASSES
from cnnlab.transfer import (
    DEPTH,
    SPLITS,
    TransferLab,
    class_split,
    copy_layers,
    finetune_options,
    layer_names,
    parse_treatment,
    regime_configs,
    trainable_counts,
    treatment_configs,
    yosinski_net,
)

TINY = {
    "image_size": 16,
    "n_train": 60,
    "epochs": 1,
    "batch_size": 32,
    "lr": 0.01,
    "little_per_class": 4,
    "finetune_lr_scale": 0.1,
}


def test_splits_are_halves_of_the_ten_classes() -> None:
    for a, b in SPLITS.values():
        assert len(a) == len(b) == 5 and set(a) | set(b) == set(CLASSES)
    # the dissimilar split puts the closed figures in A, the stroke patterns in B
    assert "h-stripes" in SPLITS["dissimilar"][1] and "disk" in SPLITS["dissimilar"][0]


def test_config_names_parse_and_count() -> None:
    names = treatment_configs()
    assert names[:2] == ("baseA", "baseB") and len(names) == 2 + 4 * DEPTH
    t = parse_treatment("AnB+3")
    assert (t.source, t.n, t.fine_tune, t.name) == ("A", 3, True, "AnB+3")
    assert all(parse_treatment(n).name == n for n in names[2:])
    for bad in ("AnB0", f"BnB{DEPTH + 1}", "CnB1", "AnB"):
        with pytest.raises(ValueError, match="not a treatment"):
            parse_treatment(bad)
    assert len(regime_configs()) == 12 and "different-little-frozen" in regime_configs()


def test_class_split_relabels_and_limits() -> None:
    data = load_dataset("shapes", "test", size=8)
    half = class_split(data, ("ring", "disk"), per_class=3)
    assert half.classes == ("ring", "disk") and half.labels.tolist().count(0) == 3
    ring = data.images[data.labels == CLASSES.index("ring")][:3]
    assert torch.equal(half.images[half.labels == 0], ring)


def test_copy_layers_copies_values_and_statistics_without_sharing() -> None:
    torch.manual_seed(0)
    a, b = yosinski_net(), yosinski_net()
    a.bn2.running_mean.fill_(3.0)
    fc_before, conv3_before = b.fc.weight.clone(), b.conv3.weight.clone()
    out = copy_layers(a, b, 2)
    assert out is b
    assert torch.equal(b.conv2.weight, a.conv2.weight) and torch.equal(
        b.bn2.running_mean, a.bn2.running_mean
    )
    assert b.conv2.weight.data_ptr() != a.conv2.weight.data_ptr()
    assert torch.equal(b.conv3.weight, conv3_before) and torch.equal(b.fc.weight, fc_before)
    with pytest.raises(ValueError, match="n must be in"):
        layer_names(DEPTH + 1)


def test_counts_and_finetune_recipe() -> None:
    net = yosinski_net()
    total = sum(p.numel() for p in net.parameters())
    assert trainable_counts(net, ()) == {"trainable": total, "frozen": 0}
    assert trainable_counts(net, layer_names(1))["frozen"] == 3 * 16 * 9 + 16 + 32
    opts = finetune_options(0.1)
    assert opts["freeze"] == ("conv1", "bn1") and "conv1" not in opts["param_groups"]


def test_fit_freeze_keeps_copied_layers_and_bn_statistics() -> None:
    lab = TransferLab(TINY, seed=0, device="cpu")
    model = copy_layers(lab.base("similar", "A"), lab.fresh(5), 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lab.train(model, "similar", freeze=layer_names(2))
    after = model.state_dict()
    for key in before:
        same = torch.equal(before[key], after[key])
        assert same == (key.split(".")[0] in layer_names(2)), key


def test_lab_is_deterministic_and_caches_bases() -> None:
    lab = TransferLab(TINY, seed=1, device="cpu")
    assert lab.base("similar", "A") is lab.base("similar", "A")
    first = lab.treatment("similar", "AnB+1")
    assert first == lab.treatment("similar", "AnB+1")
    assert 0.0 <= lab.regime("different-little-scratch") <= 1.0
    assert 0.0 <= lab.treatment("dissimilar", "baseA") <= 1.0
