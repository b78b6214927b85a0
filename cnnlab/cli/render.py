"""Render one notebook with chosen parameters: an executed copy and its HTML (and PDF) handout.

``python -m cnnlab render NOTEBOOK -p name value [-p ...] [--out DIR] [--no-pdf]`` runs the
notebook with papermill like the course job does (the values are injected after the cell tagged
``parameters`` and parsed like papermill's ``-p``: True/False/None, int, float, else text), then
renders it as the course's handouts are: ``DIR/notebooks/<name>.ipynb`` and
``DIR/handouts/<name>.html`` (``.pdf`` where Chromium is installed), each written whole.
Exit status: 0 rendered, 1 the notebook failed (its executed copy and handout show where),
2 a missing notebook or a parameter it does not have.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``render`` options to ``p``."""
    p.add_argument("notebook", type=Path, help="the notebook to run, e.g. notebooks/01_….ipynb")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a papermill parameter (True/False/None, a number, or text)",
    )
    p.add_argument("--out", type=Path, default=Path("build/render"), help="default: build/render")
    p.add_argument(
        "--pdf",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="print the handout to PDF too (default when Chromium is installed)",
    )


def parse_value(text: str) -> object:
    """A parameter value as papermill's ``-p`` reads it: True/False/None, int, float, else text."""
    constants: dict[str, object] = {"True": True, "False": False, "None": None}
    if text in constants:
        return constants[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def notebook_parameters(path: Path) -> dict[str, object]:
    """The notebook's parameters (name -> default as written) from its ``parameters`` cell."""
    import papermill

    if not path.is_file():
        raise FileNotFoundError(f"no notebook {path}")
    found = papermill.inspect_notebook(str(path))
    return {name: info.get("default") for name, info in found.items()}


def run(args: argparse.Namespace) -> int:
    """Execute the notebook with the parameters and render its handouts; 1 if it failed."""
    from cnnlab.course.run import (
        INTERRUPTED,
        RunResult,
        ensure_assets,
        execute_notebook,
        pdf_wanted,
        write_handouts,
    )

    known = notebook_parameters(args.notebook)
    params = {name: parse_value(value) for name, value in args.parameter}
    unknown = sorted(set(params) - set(known))
    if unknown:
        have = ", ".join(known) or "none (no cell tagged 'parameters')"
        raise ValueError(
            f"{args.notebook.name} has no parameter {', '.join(unknown)}; it has {have}"
        )
    profile = str(params.get("profile", str(known.get("profile", "quick")).strip("\"'")))
    target = args.out / "notebooks" / args.notebook.name
    handout_dir = args.out / "handouts"
    target.parent.mkdir(parents=True, exist_ok=True)
    handout_dir.mkdir(parents=True, exist_ok=True)
    pdf = pdf_wanted(args.pdf)
    urls = ensure_assets(handout_dir / "assets")
    shown = " ".join(f"{k}={v!r}" for k, v in params.items()) or "the notebook's defaults"
    print(f"Running {args.notebook} with {shown}", flush=True)
    result = RunResult(args.notebook.stem, 0.0, target, state=INTERRUPTED)
    execute_notebook(args.notebook, target, params, profile, result)
    if target.exists():
        write_handouts(result, handout_dir, urls, pdf)
    print(f"executed notebook: {target} ({result.seconds:.1f} s)")
    for made in (result.handout, result.pdf):
        if made is not None:
            print(f"handout: {made.resolve()}")
    if result.error:
        print(f"{args.notebook.name} FAILED: {result.error}", file=sys.stderr)
        return 1
    return 0
