"""TrainConfig (one definition of every option), fit's seeding, freezing and parameter groups."""

from __future__ import annotations

import argparse
import json
import math
import random

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.session import seed_everything
from cnnlab.train import Callback, TrainConfig, Trainer, fit


def tiny_cnn(dropout: float = 0.0) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(8 * 4 * 4, 10),
    )


def data(n: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


# ----------------------------------------------------------------------------- the config


def test_config_defaults_roundtrip_and_json() -> None:
    groups = {"6": 10, "1": {"lr": 0.001, "weight_decay": 0.0}}
    config = TrainConfig(
        epochs=3,
        augment=["flip", "crop"],
        freeze="0",
        device=torch.device("cpu"),
        param_groups=groups,
    )
    assert config.augment == ("flip", "crop") and config.freeze == ("0",)
    assert config.device == "cpu" and config.param_groups["6"] == 10.0
    as_dict = config.to_dict()
    assert list(as_dict) == list(TrainConfig.names()) and len(as_dict) == 18
    assert TrainConfig.from_dict(json.loads(json.dumps(as_dict))) == config
    assert TrainConfig().to_dict()["lr"] == 0.05 and TrainConfig().epochs == 1
    assert config.replace(lr=0.1).lr == 0.1 and config.lr == 0.05  # immutable: copies
    with pytest.raises(AttributeError):
        config.lr = 1.0  # type: ignore[misc]
    # a callable augmentation is kept, and written to the card as its repr
    flip = TrainConfig(augment=[lambda x, g: x]).to_dict()["augment"]
    assert flip[0].startswith("<function")


def test_unknown_options_name_the_closest() -> None:
    x, y = data()
    with pytest.raises(TypeError, match="fit\\(\\) got an unknown training option 'epoch'.*"
                       "Did you mean 'epochs'"):  # fmt: skip
        fit(tiny_cnn(), (x, y), epoch=2, progress=False)
    with pytest.raises(TypeError, match="Trainer\\(\\) .* 'learning_rate'"):
        Trainer(tiny_cnn(), learning_rate=0.1)
    with pytest.raises(TypeError, match="'weight_decy'.*Did you mean 'weight_decay'"):
        TrainConfig().replace(weight_decy=0.1)
    with pytest.raises(ValueError, match="the training config got an unknown .* 'lrr'.*'lr'"):
        TrainConfig.from_dict({"lrr": 0.1})
    with pytest.raises(TypeError, match="must be a dict"):
        TrainConfig.from_dict([("lr", 0.1)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
        ({"optimizer": "adan"}, ValueError, "unknown optimizer 'adan'.*Did you mean 'adam'"),
        ({"schedule": "cos"}, ValueError, "unknown schedule 'cos'"),
        ({"amp": "fp8"}, ValueError, "unknown amp 'fp8'"),
        ({"amp": 1}, TypeError, "amp must be None, True, False"),
        ({"device": "gpu0"}, ValueError, "device must be 'cpu', 'cuda'"),
        ({"progress": "no"}, TypeError, "progress must be True or False"),
        ({"freeze": 3}, TypeError, "freeze must be a pattern or a list of patterns"),
        ({"freeze": ["fc", ""]}, TypeError, "freeze patterns must be non-empty strings"),
        ({"param_groups": [("fc", 2)]}, TypeError, "param_groups must be a dict"),
        ({"param_groups": {"fc": 0}}, ValueError, r"param_groups\['fc'\] .* positive"),
        ({"param_groups": {"fc": {"lr": 1, "lr_scale": 2}}}, ValueError, "may hold 'lr'"),
        ({"param_groups": {"fc": "x"}}, TypeError, "an lr multiplier or a dict"),
        ({"augment": [3]}, TypeError, "augment items"),
        ({"label_smoothing": 1.0}, ValueError, r"label_smoothing must be a number in \[0, 1\)"),
    ],
)
def test_config_is_checked_in_one_place(options: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        TrainConfig(**options)


def test_fit_takes_a_config_a_card_dict_and_overrides() -> None:
    x, y = data()
    config = TrainConfig(epochs=2, batch_size=32, lr=0.02, progress=False, seed=4)
    seed_everything(0)
    model = tiny_cnn()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    a = fit(model, (x, y), config=config)
    runs = []
    for cfg, extra in ((config.to_dict(), {}), (None, config.to_dict())):
        model = tiny_cnn()
        model.load_state_dict(state)
        runs.append(fit(model, (x, y), None, cfg, **extra))
    assert runs[0].as_dict() == runs[1].as_dict() == a.as_dict()
    assert len(fit(tiny_cnn(), (x, y), config=config, epochs=1)) == 1  # keyword wins
    trainer = Trainer(tiny_cnn(), config, lr=0.5, device="cpu")
    assert trainer.config.lr == 0.5 and trainer.config.batch_size == 32


# ----------------------------------------------------------------------------- seeding


def _rng_states() -> tuple:
    return torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()


def test_fit_leaves_the_global_random_state_alone_and_is_reproducible() -> None:
    x, y = data()
    seed_everything(11)
    model = tiny_cnn(dropout=0.5)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    before = _rng_states()
    runs = []
    for noise in (0, 1):
        torch.manual_seed(100 + noise)  # the caller's state differs; the run must not
        before = _rng_states()
        model.load_state_dict(state)
        h = fit(model, (x, y), epochs=2, batch_size=16, seed=3, augment="flip", progress=False)
        after = _rng_states()
        assert torch.equal(before[0], after[0])
        assert np.array_equal(before[1], after[1]) and before[2] == after[2]
        runs.append((h.as_dict(), [v.clone() for v in model.state_dict().values()]))
    assert runs[0][0] == runs[1][0]  # bit-identical histories ...
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))  # weights
    model.load_state_dict(state)
    other = fit(model, (x, y), epochs=2, batch_size=16, seed=4, augment="flip", progress=False)
    assert other.as_dict() != runs[0][0]


class ViewDropout(nn.Module):
    """Dropout draws random numbers before .view fails on channels_last memory."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(torch.relu(self.conv(x)))
        return self.fc(x.view(x.size(0), -1))


def test_nchw_fallback_replays_the_run_asked_for_with_dropout() -> None:
    x, y = data(64)
    torch.manual_seed(0)
    model = ViewDropout()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.warns(UserWarning, match="Training in NCHW"):
        h = fit(model, (x, y), epochs=2, batch_size=16, progress=False)
    model.load_state_dict(state)
    plain = fit(model, (x, y), epochs=2, batch_size=16, channels_last=False, progress=False)
    assert h.as_dict() == plain.as_dict()


# ----------------------------------------------------------------------------- freezing, groups


def test_frozen_parameters_and_their_batch_norm_stay_bit_identical() -> None:
    x, y = data()
    torch.manual_seed(0)
    model = tiny_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seen = []

    class Spy(Callback):
        def on_fit_start(self, trainer) -> None:
            seen.extend(p for g in trainer.optimizer.param_groups for p in g["params"])

    fit(model, (x, y), epochs=2, batch_size=16, freeze=("0", "1.*"), weight_decay=0.01,
        callbacks=[Spy()], progress=False)  # fmt: skip
    after = model.state_dict()
    frozen = ("0.", "1.")  # conv, and batch norm with its running statistics
    for name, value in before.items():
        assert torch.equal(value, after[name]) == name.startswith(frozen), name
    assert not model[0].weight.requires_grad and model[6].weight.requires_grad
    assert {id(p) for p in seen} == {id(model[6].weight), id(model[6].bias)}
    assert model.training and model[1].training  # modes restored as train() leaves them


def test_freeze_patterns_that_match_nothing_are_an_error() -> None:
    with pytest.raises(ValueError, match="freeze pattern 'features.*' matches no parameter.*"
                       "top-level modules: 0, 1, 2"):  # fmt: skip
        Trainer(tiny_cnn(), freeze="features.*")
    with pytest.raises(ValueError, match="no trainable parameters"):
        Trainer(tiny_cnn(), freeze="*")
    with pytest.raises(ValueError, match="param_groups pattern '0' matches no trainable"):
        Trainer(tiny_cnn(), freeze="0", param_groups={"0": 2.0})
    with pytest.raises(ValueError, match="param_groups pattern 'head' matches no parameter"):
        Trainer(tiny_cnn(), param_groups={"head": 2.0})


def test_param_groups_and_the_cosine_schedule_keep_their_ratios() -> None:
    x, y = data(64)
    lrs: list[list[float]] = []

    class Record(Callback):
        def on_batch_end(self, trainer, info) -> None:
            lrs.append([g["lr"] for g in trainer.optimizer.param_groups])

    model = tiny_cnn()
    h = fit(model, (x, y), epochs=2, batch_size=16, lr=0.1, schedule="cosine", optimizer="adamw",
            param_groups={"6.*": 10, "0": {"lr": 0.003, "weight_decay": 0.0}},
            callbacks=[Record()], progress=False)  # fmt: skip
    groups = Trainer(tiny_cnn(), lr=0.1, param_groups={"6.*": 10, "0": {"lr": 0.003}}).optimizer
    assert [len(g["params"]) for g in groups.param_groups] == [2, 2, 2]  # BN; linear; conv
    assert [g["lr"] for g in groups.param_groups] == pytest.approx([0.1, 1.0, 0.003])
    assert len(lrs) == 8 and lrs[0] == pytest.approx([0.1, 1.0, 0.003])
    for step, row in enumerate(lrs):
        scale = 0.5 * (1 + math.cos(math.pi * step / 8))
        assert row == pytest.approx([0.1 * scale, 1.0 * scale, 0.003 * scale])
    assert h.lr == pytest.approx([lrs[3][0], lrs[7][0]])  # History: the base group's lr


# ----------------------------------------------------------------------------- the train command


def _parse(argv: list[str]) -> tuple[TrainConfig, int]:
    from cnnlab.cli import train as command

    parser = argparse.ArgumentParser()
    command.configure(parser)
    return command.config_from_args(parser.parse_args(["--model", "m", "--out", "o", *argv]))


def test_train_command_options_come_from_the_config() -> None:
    from cnnlab.train.config import CLI_DEFAULTS, PROFILE_PRESETS

    config, n_train = _parse([])
    assert config == TrainConfig(**CLI_DEFAULTS, epochs=15, batch_size=64)
    assert n_train == PROFILE_PRESETS["quick"]["n_train"] == 2000
    config, n_train = _parse(["--profile", "full", "--n-train", "10", "--epochs", "2"])
    assert (config.epochs, config.batch_size, n_train) == (2, 128, 10)
    config, _ = _parse([
        "--lr", "0.1", "--optimizer", "adam", "--schedule", "constant", "--augment", "flip,crop",
        "--seed", "3", "--quiet", "--amp", "off", "--no-channels-last", "--compile",
        "--momentum", "0.8", "--label-smoothing", "0.1", "--eval-batch-size", "64",
        "--freeze", "features,layer1.*", "--param-groups", "fc=10,layer2=0.5",
        "--weight-decay", "0", "--device", "cpu", "--batch-size", "8",
    ])  # fmt: skip
    assert config == TrainConfig(
        epochs=15, batch_size=8, lr=0.1, optimizer="adam", weight_decay=0.0, momentum=0.8,
        schedule="constant", label_smoothing=0.1, augment=("flip", "crop"), seed=3,
        device="cpu", amp=False, channels_last=False, compile=True, eval_batch_size=64,
        progress=False, freeze=("features", "layer1.*"), param_groups={"fc": 10, "layer2": 0.5},
    )  # fmt: skip
    assert _parse(["--amp", "bf16"])[0].amp == "bf16" and _parse(["--amp", "auto"])[0].amp is None
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        _parse(["--epochs", "0"])
    with pytest.raises(SystemExit):
        _parse(["--param-groups", "fc"])  # not PATTERN=SCALE: argparse's usage error
