"""List the course's topics in order: title, notebook, quick-profile time, exercise notebook.

Times are those of the last ``python -m cnnlab course`` on the quick profile in this checkout
(``build/times-quick.json``); "—" until the course has run here. Topics announced in the
sequence but not written yet are listed as "planned".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``topics`` options to ``p``."""
    p.add_argument("--root", type=Path, default=Path("."), help="the course checkout (default .)")
    p.add_argument("--build", type=Path, help="where the course ran (default ROOT/build)")
    p.add_argument("--json", action="store_true", help="print the table as JSON")


def topic_rows(root: Path, build: Path) -> list[dict[str, object]]:
    """One dict per topic: number, part, title, notebook, quick_seconds, exercise, built."""
    from cnnlab.course.manifest import topics
    from cnnlab.course.run import last_times

    seconds = last_times(build, "quick")
    return [
        {
            "number": t.number,
            "part": t.part,
            "title": t.title,
            "notebook": str(t.notebook),
            "quick_seconds": seconds.get(t.stem),
            "exercise": (root / t.exercise).is_file(),
            "built": t.built,
        }
        for t in topics()
    ]


def run(args: argparse.Namespace) -> int:
    """Print the topics table (or JSON)."""
    if not (args.root / "cnnlab").is_dir():
        raise FileNotFoundError(f"{args.root} is not a cnnlab checkout (no cnnlab/ folder in it)")
    rows = topic_rows(args.root, args.build or args.root / "build")
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    header = f"{'#':>2}  {'part':<4} {'title':<44} {'notebook':<40} {'quick':>7}  exercise"
    print(header)
    print("-" * len(header))
    for r in rows:
        secs = r["quick_seconds"]
        time_text = f"{secs:5.1f} s" if isinstance(secs, float) else "—"
        if not r["built"]:
            notebook, exercise = "(planned)", ""
        else:
            notebook, exercise = str(r["notebook"]), "yes" if r["exercise"] else "MISSING"
        print(
            f"{r['number']:>2}  {r['part']:<4} {r['title']:<44} {notebook:<40} "
            f"{time_text:>7}  {exercise}"
        )
    return 0
