"""Command line: ``python -m cnnlab <command> ...`` (also installed as ``cnnlab``).

Each command lives in its own module, which defines ``configure_parser(parser)`` and
``main(args) -> int``; the module is imported only when its command runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "exercises": ("cnnlab.exercises", "generate exercises/ from solutions/ (or --check)"),
    "notebooks": ("cnnlab.course", "execute notebooks in place (to commit them executed)"),
    "course": ("cnnlab.course", "run every notebook with papermill and render handouts"),
    "train": ("cnnlab.train_cli", "train a registered model on a dataset"),
    "bench": ("cnnlab.bench", "benchmark our training loop against a DataLoader loop"),
    "models": ("cnnlab.cost", "list the model zoo or print one model's cost table"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; only ``command``'s module is imported to add its options."""
    parser = argparse.ArgumentParser(prog="python -m cnnlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if name == command:  # importing every command's module would make each one slow
            mod = importlib.import_module(module)
            configure = getattr(mod, f"configure_{name}_parser", None) or mod.configure_parser
            configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (2 for bad input, with a one-line message)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    mod = importlib.import_module(args._module)
    run = getattr(mod, f"main_{args.command}", None) or mod.main
    try:
        return int(run(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        # Bad input (an unknown name, a wrong size, missing data offline) is the user's to fix:
        # say what is wrong in one line rather than with a traceback. Set CNNLAB_DEBUG=1 for it.
        if os.environ.get("CNNLAB_DEBUG"):
            raise
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
