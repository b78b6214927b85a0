"""Execute notebooks in place (to commit them executed, as nbval checks them).

``python -m cnnlab notebooks`` re-executes every built topic's lecture and solution notebook
in course order; ``python -m cnnlab notebooks FOLDER ...`` executes every notebook in FOLDER.
A notebook is replaced in one step once all its cells ran: a failing cell or an interrupt
leaves the committed file as it was. Exit status 1 if a notebook failed (the others still run).
"""

from __future__ import annotations

import argparse
import sys
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
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    total, failed = 0.0, []
    for path in paths:
        try:
            seconds = execute_in_place(path, args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            # The notebook's problem, not the command's: note it, keep the file, go on.
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            failed.append(f"{path.name} ({type(exc).__name__}: {lines[-1][:200]})")
            print(f"  {path}: FAILED, left unchanged", flush=True)
            continue
        total += seconds
        print(f"  {path}: {seconds:.1f} s", flush=True)
    print(f"executed in place, {total:.1f} s in all")
    if failed:
        print(f"{len(failed)} notebooks FAILED: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0
