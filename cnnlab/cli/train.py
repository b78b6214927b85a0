"""Train a registered model on a dataset.

``python -m cnnlab train --model lenet5_modern --data digits --out runs/lenet`` prints a
progress bar (stderr), then the final metrics as one JSON object on stdout, and writes the
checkpoint (``card.json`` and the weights it names) into ``--out``. ``--out`` is checked
before any data is loaded (a folder, writable, no checkpoint there unless ``--overwrite``);
if writing fails after training anyway, the model is saved to a fallback folder, named in the
error, rather than lost. The training options are generated from
``cnnlab.train.TrainConfig`` (one definition of each); the profile's presets and the command's
own defaults (weight decay, cosine schedule) live beside it in ``cnnlab.train.config``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from cnnlab.profiles import PROFILES, resolve_profile

# Datasets that cannot be trained on and tested, and why (left out of --data's choices).
NOT_TRAINABLE = {"photos": "one image per class and only a train split"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``python -m cnnlab train``."""
    from cnnlab.data import DATASETS

    p = parser
    p.add_argument("--model", required=True, help="registered model name, e.g. lenet5_modern")
    trainable = sorted(set(DATASETS) - set(NOT_TRAINABLE))
    p.add_argument(
        "--data",
        default="digits",
        choices=trainable,
        help="dataset (photos: one image per class, no test split, so not trainable)",
    )
    p.add_argument("--profile", default="quick", choices=PROFILES, help="compute profile")
    p.add_argument("--n-train", type=int, help="use only this many training images (0: all)")
    p.add_argument("--size", type=int, help="image side (default: the model's design size)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: reproducible)")
    p.add_argument("--data-dir", help="cache folder for downloaded data (default $CNNLAB_DATA)")
    p.add_argument("--out", required=True, help="folder for the checkpoint (card.json, weights)")
    p.add_argument("--overwrite", action="store_true", help="replace a checkpoint already in --out")
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
    from cnnlab.models import model_info

    config, n_train = config_from_args(args)  # bad options fail before any data is loaded
    info = model_info(args.model)
    created = check_out(Path(args.out), overwrite=args.overwrite)
    try:
        return _train(args, config, n_train, info)
    except BaseException:
        _remove_empty(Path(args.out), created)  # a failed run leaves no empty folder behind
        raise


def _train(args: argparse.Namespace, config: Any, n_train: int, info: Any) -> int:
    """The body of ``run`` once ``--out`` is known to be usable."""
    from cnnlab.data import DATASETS, load_dataset
    from cnnlab.models import create_model
    from cnnlab.session import seed_everything
    from cnnlab.train import evaluate, fit, pick_device

    device = pick_device(config.device)
    config = config.replace(device=str(device))  # the card records where it trained
    channels, _, remote = DATASETS[args.data]
    size = args.size
    if size is None and info.scale == "course":
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
    out = save_or_rescue(Path(args.out), model, card)
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


def check_out(out: Path, *, overwrite: bool = False) -> Path | None:
    """Fail now, not after training, if ``out`` cannot take the checkpoint.

    ``out`` must be (or become) a folder we can write in, without a checkpoint unless
    ``overwrite``. Returns the topmost folder this created (removed again if the run fails),
    or None if ``out`` existed.
    """
    from cnnlab.train import CARD_FILE, CHECKPOINT_FILE

    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder")
    created = None
    if not out.exists():
        created = out
        while not created.parent.exists():
            created = created.parent
        try:
            out.mkdir(parents=True)
        except (FileExistsError, NotADirectoryError):
            raise NotADirectoryError(f"cannot create --out {out}: a part of it is a file") from None
        except PermissionError:
            raise PermissionError(f"cannot create --out {out}: permission denied") from None
    elif not overwrite and any((out / name).exists() for name in (CARD_FILE, CHECKPOINT_FILE)):
        raise FileExistsError(f"--out {out} holds a checkpoint already; --overwrite replaces it")
    probe = out / f".cnnlab-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"probe")  # a byte, so a full disk shows now
        probe.unlink()
    except PermissionError:
        _remove_empty(out, created)
        raise PermissionError(f"--out {out} is not writable (permission denied)") from None
    except OSError as exc:
        _remove_empty(out, created)
        with contextlib.suppress(OSError):
            probe.unlink()
        if exc.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f"no space left on device for --out {out}") from None
        raise
    return created


def _remove_empty(out: Path, created: Path | None) -> None:
    """Remove the empty folders ``check_out`` made, from ``out`` up to ``created``."""
    if created is None:
        return
    folder = out
    while True:
        try:
            folder.rmdir()  # only if empty: never anything a user or a run put there
        except OSError:
            return
        if folder == created:
            return
        folder = folder.parent


def unsaved_folder(model_name: str) -> Path:
    """Where a model goes when ``--out`` fails after training: ``~/.cache/cnnlab/unsaved/``."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return cache / "cnnlab" / "unsaved" / f"{stamp}-{model_name}-{os.getpid()}"


def save_or_rescue(out: Path, model: Any, card: Mapping[str, Any]) -> Path:
    """Save the checkpoint into ``out``; if that fails, into a fallback folder, then raise.

    Training may have taken hours: a folder removed or made read-only meanwhile, or a full
    disk, must not cost the model. The error (an ``OSError`` of the same errno, so the same
    exit code) names the cause and where the model went.
    """
    from cnnlab.train import save_checkpoint

    try:
        return save_checkpoint(out, model, card)
    except OSError as exc:
        failure = exc
    reason = "no space left on device" if failure.errno == errno.ENOSPC else None
    reason = reason or failure.strerror or str(failure)
    tried = []
    name = str(card.get("model", "model"))
    fallbacks = [unsaved_folder(name), Path(tempfile.gettempdir()) / unsaved_folder(name).name]
    for folder in fallbacks:
        try:
            save_checkpoint(folder, model, card)
        except OSError as exc:
            tried.append(f"{folder}: {exc.strerror or exc}")
            with contextlib.suppress(OSError):
                folder.rmdir()  # empty: nothing was saved there
            continue
        raise OSError(
            failure.errno or errno.EIO,
            f"could not write the checkpoint to {out} ({reason}); "
            f"the trained model was saved to {folder} instead",
        ) from failure
    raise OSError(
        failure.errno or errno.EIO,
        f"could not write the checkpoint to {out} ({reason}), nor to {'; '.join(tried)}",
    ) from failure
