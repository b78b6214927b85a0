"""Generate the student notebooks in exercises/ from solutions/ (or check they are current).

One per built topic of the manifest; ``--check`` exits 1 listing stale, missing or orphaned
files (CI runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``exercises`` options to ``p``."""
    p.add_argument("--solutions", type=Path, default=Path("solutions"))
    p.add_argument("--exercises", type=Path, default=Path("exercises"))
    p.add_argument("--check", action="store_true", help="fail if exercises/ is stale")


def run(args: argparse.Namespace) -> int:
    """Generate or check ``exercises/``; exit 1 listing stale files."""
    from cnnlab.course.exercises import generate

    problems, count = generate(args.solutions, args.exercises, check=args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"exercises: {count} student notebooks {'up to date' if args.check else 'generated'}")
    return 0
