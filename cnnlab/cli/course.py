"""Run every built topic's lecture notebook with papermill and render the handouts.

What ``make course`` runs: the notebooks in course order (from the manifest) on a profile into
``build/notebooks/``, offline HTML handouts into ``build/handouts/`` (and PDF handouts where
Chromium is installed; ``--no-pdf`` skips them), wall times printed and
recorded in ``build/times-<profile>.json`` (``python -m cnnlab topics`` shows them). Each
executed notebook appears whole or not at all; the index lists every topic with its state.
Exit status: 0 all ran, 1 a notebook failed, 130/143 interrupted (the state of what ran is
recorded and the index written first).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from cnnlab.profiles import PROFILES


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``course`` options to ``p``."""
    p.add_argument(
        "--profile", default="quick", choices=PROFILES, help="quick (CPU, minutes) or full (GPU)"
    )
    p.add_argument("--notebooks", type=Path, default=Path("notebooks"))
    p.add_argument("--out", type=Path, default=Path("build"))
    p.add_argument("--only", help="run only notebooks whose file name contains this")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="extra papermill parameter (JSON value)",
    )
    p.add_argument("--no-handouts", action="store_true")
    p.add_argument(
        "--pdf",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="print handouts to PDF too (default when Chromium is installed)",
    )


def parse_value(text: str) -> object:
    """A papermill parameter from the command line: JSON if it parses, else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run(args: argparse.Namespace) -> int:
    """Run the course with papermill, render handouts, print wall times; 1 if one failed."""
    from cnnlab.course.run import course_notebooks, pdf_wanted, run_course

    paths = course_notebooks(args.notebooks, args.only)
    params = {name: parse_value(value) for name, value in args.parameter}
    print(
        f"Running {len(paths)} notebooks on the {args.profile} profile (cpus: {os.cpu_count()})",
        flush=True,
    )
    pdf = not args.no_handouts and pdf_wanted(args.pdf)
    start = time.perf_counter()
    results = run_course(
        paths,
        args.out,
        profile=args.profile,
        parameters=params,
        handouts=not args.no_handouts,
        pdf=pdf,
    )
    total = time.perf_counter() - start
    print(f"\n{'notebook':<40} {'seconds':>8}" + (f" {'PDF s':>6}" if pdf else ""))
    for r in results:
        pdf_time = f" {r.pdf_seconds:6.1f}" if pdf else ""
        print(f"{r.name:<40} {r.seconds:8.1f}{pdf_time}{'  FAILED' if r.error else ''}")
    print(f"{'total (with rendering)':<40} {total:8.1f}")
    print(f"executed notebooks: {args.out / 'notebooks'}")
    if not args.no_handouts:
        print(f"handouts: {(args.out / 'handouts' / 'index.html').resolve()}")
    failed = [r for r in results if r.error]
    if failed:  # one line on stderr, however many failed (the table above lists them)
        names = "; ".join(f"{r.name} ({r.error})" for r in failed)
        print(f"{len(failed)} of {len(results)} notebooks FAILED: {names}", file=sys.stderr)
    return 1 if failed else 0
