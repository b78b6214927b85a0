"""Benchmark our training loop against a DataLoader loop.

``python -m cnnlab bench [--models lenet5_modern,resnet20] [--no-compile]`` prints a table
(images/s, per-step ratios, the achieved fraction of a matmul peak measured in the same run)
and then the result as one JSON line; ``--json`` prints only the JSON. See ``cnnlab.bench``.
"""

from __future__ import annotations

import argparse
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``python -m cnnlab bench``."""
    from cnnlab.bench import DEFAULT_MODELS

    p = parser
    p.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated registered models (default: {','.join(DEFAULT_MODELS)})",
    )
    p.add_argument("--steps", type=int, help="timed steps per loop (default: per model)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per loop (default 2)")
    p.add_argument("--batch-size", type=int, help="override the per-model batch size")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    p.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    p.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time our loop under torch.compile (default: on where it can work)",
    )
    p.add_argument(
        "--peak",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure a matmul peak and each step's fraction of it (default: on)",
    )
    p.add_argument("--json", action="store_true", help="print only the JSON result")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table and the JSON result."""
    from cnnlab.bench import format_table, run_bench

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise ValueError("--models names no model")
    result = run_bench(
        models,
        steps=args.steps,
        warmup=args.warmup,
        batch_size=args.batch_size,
        threads=args.threads,
        device=args.device,
        compile=args.compile,
        peak=args.peak,
    )
    if not args.json:
        sys.stdout.write(format_table(result) + "\n")
    sys.stdout.write(json.dumps(result) + "\n")
    return 0
