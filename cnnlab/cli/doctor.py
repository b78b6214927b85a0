"""Check this machine for the course: versions, device, data cache, tools for handouts.

Prints one line per check and what to do about anything missing; exits 1 when something the
course needs is missing (torch, numpy, matplotlib, ipywidgets, a writable data cache).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``doctor`` options to ``p``."""
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the findings; 1 if a needed piece is missing."""
    from cnnlab.course.doctor import diagnose, format_report

    findings = diagnose()
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=1))
    else:
        print(format_report(findings))
    return 0 if all(f.ok for f in findings) else 1
