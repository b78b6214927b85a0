"""Command line: ``python -m cnnlab <command> ...`` (also installed as ``cnnlab``).

Each command is a module ``cnnlab.cli.<command>`` with ``configure(parser)`` and
``run(args) -> int``; it is imported only when its command runs, so ``--help`` stays fast.

Exit codes, the same for every command:

- 0: done; 1: the command ran and found a problem (a failed notebook, stale exercises);
- 2: bad input a user can fix (an unknown name, a wrong size, missing data offline, an
  output that exists): one line on stderr, no traceback (``CNNLAB_DEBUG=1`` shows it);
- 130: interrupted (Ctrl-C), one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# name -> help. The one list of commands; each lives in cnnlab/cli/<name>.py.
COMMANDS: dict[str, str] = {
    "topics": "list the course's topics, their notebooks and quick-profile times",
    "course": "run every notebook with papermill and render handouts",
    "notebooks": "execute notebooks in place (to commit them executed)",
    "exercises": "generate exercises/ from solutions/ (or --check)",
    "experiment": "run, store and show multi-seed experiment bands",
    "train": "train a registered model on a dataset",
    "bench": "benchmark our training loop against a DataLoader loop",
    "models": "list the model zoo or print one model's cost table",
}
USAGE_ERRORS = (ValueError, TypeError, FileNotFoundError, KeyError)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; only ``command``'s module is imported to add its options."""
    parser = argparse.ArgumentParser(prog="python -m cnnlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:  # importing every command's module would make each one slow
            importlib.import_module(f"cnnlab.cli.{name}").configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    prefix = f"{parser.prog} {args.command}"
    try:
        module = importlib.import_module(f"cnnlab.cli.{args.command}")
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        sys.stderr.close()  # and no second complaint when Python flushes at exit
        return 0
    except USAGE_ERRORS as exc:
        # The user's to fix: say what is wrong in one line rather than with a traceback.
        if os.environ.get("CNNLAB_DEBUG"):
            raise
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"{prefix}: error: {' '.join(message.split())}", file=sys.stderr)
        return 2
