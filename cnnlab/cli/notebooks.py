"""Execute notebooks in place (to commit them executed, as nbval checks them).

``python -m cnnlab notebooks`` re-executes every built topic's lecture and solution notebook
in course order; ``python -m cnnlab notebooks FOLDER ...`` executes every notebook in FOLDER.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``notebooks`` options to ``p``."""
    p.add_argument(
        "folders",
        nargs="*",
        type=Path,
        help="folders of notebooks (default: the manifest's notebooks/ and solutions/)",
    )
    p.add_argument("--only", help="run only notebooks whose file name contains this")
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell")


def run(args: argparse.Namespace) -> int:
    """Execute the notebooks in place, printing each one's wall time."""
    from cnnlab.course.run import course_notebooks, discover, execute_in_place

    if args.folders:
        paths = discover(args.folders, args.only)
    else:
        paths = [
            p
            for folder in (Path("notebooks"), Path("solutions"))
            for p in course_notebooks(folder)
            if not args.only or args.only in p.name
        ]
        if not paths:
            raise ValueError(f"no notebook matches {args.only!r}")
    total = 0.0
    for path in paths:
        seconds = execute_in_place(path, args.timeout)
        total += seconds
        print(f"  {path}: {seconds:.1f} s", flush=True)
    print(f"executed in place, {total:.1f} s in all")
    return 0
