"""List the model zoo or print one model's cost table.

``python -m cnnlab models`` lists every registered model (scale, input, parameters,
multiply-adds); ``python -m cnnlab models NAME [--input C H W]`` prints its layer table.
Models are built on the meta device: nothing is allocated, so even VGG-19 lists instantly.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``python -m cnnlab models``."""
    parser.add_argument("name", nargs="?", help="a registered model; omit to list the zoo")
    parser.add_argument(
        "--input",
        nargs=3,
        type=int,
        metavar=("C", "H", "W"),
        help="input size (default: the size the model was designed for)",
    )
    parser.add_argument("--batch-size", type=int, default=1, help="images per batch (default 1)")
    parser.add_argument(
        "--scale", choices=("imagenet", "course"), help="list only one scale of models"
    )
    parser.add_argument(
        "--num-classes", type=int, default=None, help="override the model's number of classes"
    )


def _build_meta(name: str, **options: object) -> nn.Module:
    from cnnlab.models import create_model

    with torch.device("meta"):
        return create_model(name, **options)


def run(args: argparse.Namespace) -> int:
    """List the zoo (name, scale, input, parameters, multiply-adds) or print one model's table."""
    from cnnlab.cost import format_shape, summary
    from cnnlab.models import list_models, model_info

    options = {} if args.num_classes is None else {"num_classes": args.num_classes}
    if args.name is None:
        header = f"{'model':<24} {'scale':<8} {'input':<12} {'params':>14} {'mult-adds':>16}"
        print(header)
        print("-" * len(header), flush=True)
        for n in list_models(scale=args.scale):
            info = model_info(n)
            s = summary(_build_meta(n, **options), info.input_size)
            print(
                f"{n:<24} {info.scale:<8} {format_shape(info.input_size):<12} "
                f"{s.totals.params:>14,} {s.totals.mult_adds:>16,}",
                flush=True,  # a row as soon as it is computed, even into a pipe
            )
        return 0
    info = model_info(args.name)
    size = tuple(args.input) if args.input else info.input_size
    s = summary(_build_meta(info.name, **options), size, batch_size=args.batch_size, name=info.name)
    print(s)
    if info.paper:
        print(f"Paper: {info.paper}")
    return 0
