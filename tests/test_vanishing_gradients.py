"""cnnlab.experiments.vanishing_gradients: config names, the sweep's shallower net, and the
definition of ``diverged`` (non-finite loss, or a final loss above the untrained one)."""

from __future__ import annotations

import math

import pytest
import torch

from cnnlab.experiments import vanishing_gradients as vg

TINY = {
    "dataset": "digits",
    "image_size": 8,
    "n_train": 128,
    "depth": 3,
    "width": 4,
    "probe_batch": 16,
    "epochs": 1,
    "batch_size": 32,
    "lr": 0.02,
    "sweep_depth": 2,
    "sweep_epochs": 2,
}


def test_config_names_say_what_they_build() -> None:
    assert vg.spec_of("relu_he") == vg.Spec("relu", "he", False, None)
    assert vg.spec_of("relu_he_bn") == vg.Spec("relu", "he", True, None)
    bn = vg.spec_of("bn_lr0.3")
    assert (bn.batch_norm, bn.lr, bn.sweep) == (True, 0.3, True)
    assert (bn.depth(TINY), bn.epochs(TINY)) == (2, 2)
    plain = vg.spec_of("plain_lr0.03")
    assert (plain.batch_norm, plain.lr, plain.depth(TINY)) == (False, 0.03, 2)
    assert vg.spec_of("relu_he").depth(TINY) == 3
    assert set(vg.CONFIGS) == {*vg.ACTIVATION_CONFIGS, vg.BN_CONFIG, *vg.SWEEP_CONFIGS}
    assert len(vg.SWEEP_CONFIGS) == 2 * len(vg.LRS) and min(vg.LRS) < 0.1 < max(vg.LRS)
    with pytest.raises(ValueError, match="unknown config"):
        vg.spec_of("bn_lr0.5")


def test_start_loss_leaves_the_running_statistics_alone() -> None:
    data = vg.load_data(TINY, 0)
    model, _ = vg.probe_config("relu_he_bn", 0, TINY, data[0])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = vg.start_loss(model, data[0], 32)
    assert math.isfinite(loss) and loss > 0
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_a_run_records_its_start_and_diverged_follows_the_definition() -> None:
    data = vg.load_data(TINY, 0)
    run = vg.run_config("plain_lr0.03", 0, TINY, data=data)
    assert len(run.loss_curve) == len(run.val_acc_curve) == TINY["sweep_epochs"]
    final = run.loss_curve[-1]
    assert run.diverged == (not math.isfinite(final) or final > run.start_loss)
    assert run.metrics()["diverged"] == float(run.diverged)
