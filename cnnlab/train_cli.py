"""``python -m cnnlab train``: train a registered model on a dataset from the command line.

Prints a progress bar (stderr), then the final metrics as one JSON object on stdout, and writes
``model.pt`` and ``card.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from cnnlab.profiles import PROFILES, resolve_profile

# Sizes per compute profile; n_train caps the training split (0: all of it).
SIZES: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 15, "n_train": 2000, "batch_size": 64},
    "full": {"epochs": 30, "n_train": 0, "batch_size": 128},
}


def configure_parser(p: argparse.ArgumentParser) -> None:
    """Add the ``train`` options to ``p``."""
    from cnnlab.data import DATASETS
    from cnnlab.train import OPTIMIZERS

    p.add_argument("--model", required=True, help="registered model name, e.g. lenet5_modern")
    p.add_argument("--data", default="digits", choices=sorted(DATASETS), help="dataset")
    p.add_argument("--profile", default="quick", choices=PROFILES, help="compute profile")
    p.add_argument("--epochs", type=int, help="override the profile's epochs")
    p.add_argument("--batch-size", type=int, help="override the profile's batch size")
    p.add_argument("--n-train", type=int, help="use only this many training images (0: all)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--schedule", default="cosine", choices=("constant", "cosine"))
    p.add_argument("--augment", default="", help="comma-separated: flip,crop")
    p.add_argument("--size", type=int, help="image side (default: the model's design size)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: reproducible)")
    p.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    p.add_argument("--data-dir", help="cache folder for downloaded data (default $CNNLAB_DATA)")
    p.add_argument("--out", required=True, help="folder for model.pt and card.json")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--compile",
        action="store_true",
        help="train through torch.compile (CPU: needs a C++ compiler; compiling takes ~1 min)",
    )


def main(args: argparse.Namespace) -> int:
    """Train, evaluate on the test split, save the checkpoint; print metrics as JSON."""
    from cnnlab.data import DATASETS, load_dataset
    from cnnlab.models import create_model, model_info
    from cnnlab.train import evaluate, fit, pick_device, save_checkpoint, seed_everything

    sizes = resolve_profile(args.profile, SIZES)
    epochs = sizes["epochs"] if args.epochs is None else args.epochs
    batch_size = sizes["batch_size"] if args.batch_size is None else args.batch_size
    n_train = sizes["n_train"] if args.n_train is None else args.n_train
    info = model_info(args.model)
    channels, native, _ = DATASETS[args.data]
    size = args.size
    if size is None and info.scale == "course" and args.data != "photos":
        size = info.input_size[1]  # course models are sized for small images: fit them
    common = {"size": size, "seed": args.seed, "val_fraction": args.val_fraction}
    remote = {"data_dir": args.data_dir, "progress": not args.quiet}
    if DATASETS[args.data][2]:
        common.update(remote)
    if args.n_train is None:
        # The profile's n_train is a cap: small datasets (digits has 1,294 train images) use all.
        train = load_dataset(args.data, "train", **common)
        if n_train and len(train) > n_train:
            train = train.subset(slice(0, n_train))
    else:  # asked for explicitly: more than the split holds is an error (load_dataset says so)
        train = load_dataset(args.data, "train", n=n_train or None, **common)
    val = load_dataset(args.data, "val", **common) if args.val_fraction > 0 else None
    test = load_dataset(args.data, "test", **common)

    seed_everything(args.seed, threads=args.threads)
    options = {"num_classes": train.num_classes, "in_channels": channels}
    model = create_model(info.name, **options)
    augment = tuple(a for a in args.augment.split(",") if a)
    device = pick_device(args.device)
    history = fit(
        model,
        train,
        val,
        epochs=epochs,
        batch_size=batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        augment=augment,
        seed=args.seed,
        device=device,
        compile=args.compile,
        progress=not args.quiet,
        model_name=info.name,
    )
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
        "data": {
            "name": args.data,
            "image_shape": list(train.image_shape),
            "n_train": len(train),
            "n_val": 0 if val is None else len(val),
            "n_test": len(test),
            "val_fraction": args.val_fraction,
            "classes": list(train.classes),
        },
        "profile": args.profile,
        "seed": args.seed,
        "threads": args.threads,
        "device": device.type,
        "train": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": args.lr,
            "optimizer": args.optimizer,
            "weight_decay": args.weight_decay,
            "schedule": args.schedule,
            "augment": list(augment),
            "compile": args.compile,
        },
        "metrics": metrics,
        "history": {k: [x for x in v if not math.isnan(x)] for k, v in history.as_dict().items()},
    }
    out = save_checkpoint(args.out, model, card)
    report = {"model": info.name, "data": args.data, "profile": args.profile, "epochs": epochs}
    report.update(metrics)
    report["out"] = str(out)
    sys.stdout.write(json.dumps(report) + "\n")
    return 0
