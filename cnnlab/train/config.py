"""``TrainConfig``: every training option, declared once with its default, type and help text.

``fit``, ``Trainer``, the ``train`` command (its options are generated from these fields) and
the checkpoint card (``card["train"] = config.to_dict()``) all read this one definition.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import torch

from cnnlab._validate import as_float, as_int, check_choice
from cnnlab.train.augment import Augment, check_augment
from cnnlab.train.devices import check_amp, parse_device

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine")
GROUP_KEYS = ("lr", "lr_scale", "weight_decay")

# ``python -m cnnlab train`` defaults that differ from TrainConfig's (made for a short fit in a
# notebook): a full training run from scratch gets weight decay and a cosine schedule.
CLI_DEFAULTS: dict[str, Any] = {"weight_decay": 5e-4, "schedule": "cosine"}
# The ``train`` command's sizes per compute profile: TrainConfig fields, plus ``n_train``, a cap
# on the training split (0: all of it). A command-line option overrides its profile value.
PROFILE_PRESETS: dict[str, dict[str, int]] = {
    "quick": {"epochs": 15, "batch_size": 64, "n_train": 2000},
    "full": {"epochs": 30, "batch_size": 128, "n_train": 0},
}


def _option(default: Any, text: str, **cli: Any) -> Any:
    """A field with its help ``text``; ``cli``: the ``train`` command's argparse settings."""
    meta = {"help": text, "cli": cli}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _group_list(text: str) -> dict[str, float]:
    """ "features=0.1,fc=2" -> {"features": 0.1, "fc": 2.0} (lr multipliers)."""
    out: dict[str, float] = {}
    for item in _comma_list(text):
        pattern, sep, value = item.partition("=")
        try:
            out[pattern.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not pattern.strip():
            raise argparse.ArgumentTypeError(
                f"param group {item!r} must look like PATTERN=LR_SCALE, e.g. fc=10"
            )
    return out


def _amp_word(text: str) -> bool | str | None:
    words: dict[str, bool | str | None] = {"auto": None, "on": True, "off": False}
    return words.get(text, text)


@dataclass(frozen=True)
class TrainConfig:
    """Every option of one training run (immutable: use ``config.replace(epochs=3)``).

    Checked on construction: a wrong type or value raises a clear ``TypeError``/``ValueError``.
    ``to_dict()`` gives a JSON-able dict (for checkpoint cards); ``from_dict`` reads it back.
    """

    epochs: int = _option(1, "passes over the training data")
    batch_size: int = _option(128, "images per optimiser step")
    lr: float = _option(0.05, "base learning rate (the cosine schedule starts there)")
    optimizer: str = _option("sgd", "sgd (with momentum), adam or adamw", choices=OPTIMIZERS)
    weight_decay: float = _option(0.0, "weight decay in [0, 1) (decoupled for adamw)")
    momentum: float = _option(0.9, "SGD momentum in [0, 1) (adam and adamw ignore it)")
    schedule: str = _option(
        "constant", "constant lr, or cosine: per step from lr to 0", choices=SCHEDULES
    )
    label_smoothing: float = _option(0.0, "label smoothing of the cross-entropy, in [0, 1)")
    augment: tuple[str | Augment, ...] = _option(
        (),
        "batch augmentations on the device: 'flip', 'crop' or callables f(x, generator) -> x",
        help="comma-separated batch augmentations: flip, crop",
        type=_comma_list,
        metavar="flip,crop",
    )
    seed: int = _option(
        0,
        "seeds the batch order, augmentation and dropout (not the model's initial weights)",
        help="seed of the data split, the initial weights and training (default: 0)",
    )
    device: str | None = _option(None, "cpu, cuda, cuda:N or mps (None: the best available)")
    amp: bool | str | None = _option(
        None,
        "mixed precision: None (auto: on for CUDA only), True, False, 'bf16' or 'fp16'",
        help="mixed precision (default: auto, on for CUDA only)",
        type=_amp_word,
        metavar="{auto,on,off,bf16,fp16}",
    )
    channels_last: bool | None = _option(
        None,
        "NHWC memory (None: on for CPU and CUDA, NCHW fallback for .view models)",
        action="boolean",
    )
    compile: bool = _option(
        False, "train through torch.compile (CPU: a C++ compiler; compiling takes ~1 min)"
    )
    eval_batch_size: int = _option(512, "images per batch when evaluating")
    progress: bool = _option(
        True,
        "one progress bar for the fit",
        help="no progress bar",
        flag="--quiet",
        action="store_false",
    )
    freeze: tuple[str, ...] = _option(
        (),
        "parameters not to train (name prefixes or fnmatch patterns, e.g. 'features.*'); "
        "a batch norm frozen whole also keeps its running statistics",
        type=_comma_list,
        metavar="PATTERN,...",
    )
    param_groups: dict[str, Any] = _option(
        {},
        "per-pattern lr: {pattern: lr multiplier} or {pattern: {'lr'|'lr_scale'|"
        "'weight_decay': value}}; unmatched parameters use lr",
        help="lr multipliers by parameter-name pattern, e.g. fc=10; the rest use --lr",
        type=_group_list,
        metavar="PATTERN=LR_SCALE,...",
    )

    def __post_init__(self) -> None:
        checked = {
            "epochs": as_int(self.epochs, "epochs", minimum=1),
            "batch_size": as_int(self.batch_size, "batch_size", minimum=1),
            "lr": as_float(self.lr, "lr", minimum=0, exclusive=True),
            "optimizer": check_choice(self.optimizer, "optimizer", OPTIMIZERS),
            "weight_decay": _fraction(self.weight_decay, "weight_decay"),
            "momentum": _fraction(self.momentum, "momentum"),
            "schedule": check_choice(self.schedule, "schedule", SCHEDULES),
            "label_smoothing": _fraction(self.label_smoothing, "label_smoothing"),
            "augment": check_augment(self.augment),
            "seed": as_int(self.seed, "seed", minimum=0),
            "device": None if self.device is None else str(parse_device(self.device)),
            "amp": check_amp(self.amp),
            "channels_last": _flag(self.channels_last, "channels_last", allow_none=True),
            "compile": _flag(self.compile, "compile"),
            "eval_batch_size": as_int(self.eval_batch_size, "eval_batch_size", minimum=1),
            "progress": _flag(self.progress, "progress"),
            "freeze": _patterns(self.freeze, "freeze"),
            "param_groups": _groups(self.param_groups),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in declaration order."""
        return tuple(f.name for f in fields(cls))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (and checked); an unknown name is a ``TypeError``."""
        check_names(changes, "TrainConfig.replace()")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON values (callable augmentations appear as their repr)."""
        out: dict[str, Any] = {}
        for name in self.names():
            value = getattr(self, name)
            if name == "augment":
                value = [a if isinstance(a, str) else repr(a) for a in value]
            elif name == "param_groups":
                value = {k: dict(v) if isinstance(v, Mapping) else v for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """The config ``to_dict`` wrote (e.g. a card's ``"train"``); unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a training config must be a dict, got {type(data).__name__}")
        check_names(data, "the training config", error=ValueError)
        return cls(**data)


def check_names(names: Iterable[str], where: str, error: type[Exception] = TypeError) -> None:
    """Raise ``error`` naming the closest option for a name that is not a TrainConfig field."""
    valid = TrainConfig.names()
    for name in names:
        if name not in valid:
            close = difflib.get_close_matches(str(name), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise error(
                f"{where} got an unknown training option {name!r}.{hint} "
                f"Options: {', '.join(valid)}"
            )


def make_config(
    config: TrainConfig | Mapping[str, Any] | None, overrides: Mapping[str, Any], where: str
) -> TrainConfig:
    """``config`` (a TrainConfig, a dict from ``to_dict`` or None: defaults) with ``overrides``."""
    check_names(overrides, where)
    if config is None:
        return TrainConfig(**overrides)
    if isinstance(config, TrainConfig):
        return dataclasses.replace(config, **overrides) if overrides else config
    if isinstance(config, Mapping):
        return TrainConfig.from_dict({**config, **overrides})
    raise TypeError(f"config must be a TrainConfig or a dict, got {type(config).__name__}")


def _fraction(value: object, name: str) -> float:
    """A number in [0, 1) (momentum, weight decay, label smoothing)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _flag(value: object, name: str, allow_none: bool = False) -> bool | None:
    if isinstance(value, bool) or (allow_none and value is None):
        return value
    allowed = "None, True or False" if allow_none else "True or False"
    raise TypeError(f"{name} must be {allowed}, got {value!r}")


def _patterns(value: object, name: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise TypeError(f"{name} must be a pattern or a list of patterns, got {value!r}")
    items = tuple(items)
    if not all(isinstance(p, str) and p for p in items):
        raise TypeError(f"{name} patterns must be non-empty strings, got {value!r}")
    return items


def _groups(value: object) -> dict[str, Any]:
    """{pattern: lr multiplier or {"lr"|"lr_scale"|"weight_decay": value}}, checked."""
    if not isinstance(value, Mapping):
        raise TypeError(
            f"param_groups must be a dict {{pattern: lr multiplier}}, got {type(value).__name__}"
        )
    out: dict[str, Any] = {}
    for pattern, spec in value.items():
        _patterns(pattern, "param_groups")
        where = f"param_groups[{pattern!r}]"
        if isinstance(spec, Mapping):
            unknown = [k for k in spec if k not in GROUP_KEYS]
            if unknown or ("lr" in spec and "lr_scale" in spec):
                raise ValueError(
                    f"{where} may hold 'lr' (absolute) or 'lr_scale' (multiplier) and "
                    f"'weight_decay', got {dict(spec)!r}"
                )
            out[pattern] = {
                k: _fraction(v, f"{where}['{k}']")
                if k == "weight_decay"
                else as_float(v, f"{where}['{k}']", minimum=0, exclusive=True)
                for k, v in spec.items()
            }
        elif isinstance(spec, (numbers.Real, torch.Tensor)):
            out[pattern] = as_float(spec, f"{where} (an lr multiplier)", minimum=0, exclusive=True)
        else:
            raise TypeError(f"{where} must be an lr multiplier or a dict, got {spec!r}")
    return out
