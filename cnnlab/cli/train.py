"""Train a registered model on a dataset.

``python -m cnnlab train --model lenet5_modern --data digits --out runs/lenet`` prints a
progress bar (stderr), then the final metrics as one JSON object on stdout, and writes
``model.pt`` and ``card.json`` into ``--out``. The training options are generated from
``cnnlab.train.TrainConfig`` (one definition of each); the profile's presets and the command's
own defaults (weight decay, cosine schedule) live beside it in ``cnnlab.train.config``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

from cnnlab.profiles import PROFILES, resolve_profile


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``python -m cnnlab train``."""
    from cnnlab.data import DATASETS

    p = parser
    p.add_argument("--model", required=True, help="registered model name, e.g. lenet5_modern")
    p.add_argument("--data", default="digits", choices=sorted(DATASETS), help="dataset")
    p.add_argument("--profile", default="quick", choices=PROFILES, help="compute profile")
    p.add_argument("--n-train", type=int, help="use only this many training images (0: all)")
    p.add_argument("--size", type=int, help="image side (default: the model's design size)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: reproducible)")
    p.add_argument("--data-dir", help="cache folder for downloaded data (default $CNNLAB_DATA)")
    p.add_argument("--out", required=True, help="folder for model.pt and card.json")
    add_config_options(p.add_argument_group("training options (cnnlab.train.TrainConfig)"))


def add_config_options(group: Any) -> None:
    """One option per ``TrainConfig`` field, its help and type taken from the field.

    An option not given is absent from the parsed namespace (``argparse.SUPPRESS``), so
    ``config_from_args`` can tell "not given" from any value.
    """
    from cnnlab.train.config import CLI_DEFAULTS, PROFILE_PRESETS, TrainConfig

    for f in fields(TrainConfig):
        cli = dict(f.metadata["cli"])
        default = f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]
        flag = cli.pop("flag", "--" + f.name.replace("_", "-"))
        action = cli.pop("action", "boolean" if isinstance(default, bool) else None)
        if f.name in PROFILE_PRESETS["quick"]:
            shown = ", ".join(f"{k} {v[f.name]}" for k, v in PROFILE_PRESETS.items())
            shown = f" (default: the profile's: {shown})"
        else:
            value = CLI_DEFAULTS.get(f.name, default)
            shown = "" if value in (None, (), {}) else f" (default: {value})"
        if "help" in cli:  # the command's wording (its syntax, its defaults)
            shown = ""
        text = cli.pop("help", f.metadata["help"])
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS}
        kwargs["help"] = text.replace("%", "%%") + shown
        if action == "boolean":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif action is not None:
            kwargs["action"] = action
        else:
            kwargs["type"] = cli.pop("type", type(default) if default is not None else str)
            kwargs.update(cli)
        group.add_argument(flag, **kwargs)


def config_from_args(args: argparse.Namespace) -> tuple[Any, int]:
    """The run's ``TrainConfig`` (command defaults < profile < options given) and n_train."""
    from cnnlab.train.config import CLI_DEFAULTS, PROFILE_PRESETS, TrainConfig

    sizes = resolve_profile(args.profile, PROFILE_PRESETS)
    cap = sizes.pop("n_train")
    n_train = cap if args.n_train is None else args.n_train
    given = {name: getattr(args, name) for name in TrainConfig.names() if hasattr(args, name)}
    return TrainConfig(**{**CLI_DEFAULTS, **sizes, **given}), n_train


def run(args: argparse.Namespace) -> int:
    """Train, evaluate on the test split, save the checkpoint; print metrics as JSON."""
    from cnnlab.data import DATASETS, load_dataset
    from cnnlab.models import create_model, model_info
    from cnnlab.session import seed_everything
    from cnnlab.train import evaluate, fit, pick_device, save_checkpoint

    config, n_train = config_from_args(args)  # bad options fail before any data is loaded
    info = model_info(args.model)
    device = pick_device(config.device)
    config = config.replace(device=str(device))  # the card records where it trained
    channels, _, remote = DATASETS[args.data]
    size = args.size
    if size is None and info.scale == "course" and args.data != "photos":
        size = info.input_size[1]  # course models are sized for small images: fit them
    common: dict[str, Any] = {"size": size, "seed": config.seed, "val_fraction": args.val_fraction}
    if remote:
        common.update(data_dir=args.data_dir, progress=config.progress)
    if args.n_train is None:
        # The profile's n_train is a cap: small datasets (digits has 1,294 train images) use all.
        train = load_dataset(args.data, "train", **common)
        if n_train and len(train) > n_train:
            train = train.subset(slice(0, n_train))
    else:  # asked for explicitly: more than the split holds is an error (load_dataset says so)
        train = load_dataset(args.data, "train", n=n_train or None, **common)
    val = load_dataset(args.data, "val", **common) if args.val_fraction > 0 else None
    test = load_dataset(args.data, "test", **common)

    seed_everything(config.seed, threads=args.threads)
    options = {"num_classes": train.num_classes, "in_channels": channels}
    model = create_model(info.name, **options)
    history = fit(model, train, val, config, model_name=info.name)
    scores = evaluate(model, test, topk=(1, 5))
    final = history.final
    metrics = {
        "train_loss": final["train_loss"],
        "train_acc": final["train_acc"],
        "val_loss": final["val_loss"],
        "val_acc": final["val_acc"],
        "test_loss": scores["loss"],
        "test_top1": scores["top1"],
        "test_top5": scores["top5"],
    }
    metrics = {k: round(v, 5) for k, v in metrics.items() if not math.isnan(v)}
    card = {
        "model": info.name,
        "options": options,
        "data": _data_card(args, train, val, test),
        "profile": args.profile,
        "seed": config.seed,
        "threads": args.threads,
        "device": device.type,
        "train": config.to_dict(),
        "metrics": metrics,
        "history": {k: [x for x in v if not math.isnan(x)] for k, v in history.as_dict().items()},
    }
    out = save_checkpoint(args.out, model, card)
    report = {"model": info.name, "data": args.data, "profile": args.profile}
    report.update(epochs=config.epochs, **metrics, out=str(out))
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


def _data_card(args: argparse.Namespace, train: Any, val: Any, test: Any) -> Mapping[str, Any]:
    return {
        "name": args.data,
        "image_shape": list(train.image_shape),
        "n_train": len(train),
        "n_val": 0 if val is None else len(val),
        "n_test": len(test),
        "val_fraction": args.val_fraction,
        "classes": list(train.classes),
    }
