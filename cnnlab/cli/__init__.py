"""Command line: ``python -m cnnlab <command> ...`` (also installed as ``cnnlab``).

Each command is a module ``cnnlab.cli.<command>`` with ``configure(parser)`` and
``run(args) -> int``; it is imported only when its command runs, so ``--help`` stays fast.

Exit codes, the same for every command; every failure is one line on stderr, no traceback
(``CNNLAB_DEBUG=1`` shows it):

- 0: done;
- 1: the command ran and found a problem (a failed notebook, stale exercises);
- 2: bad input a user can fix: an unknown name, a wrong value, a path that is missing, exists
  already, is a file where a folder is needed, or is not writable;
- 3: the machine failed us: disk full, data not downloadable (offline), another I/O error;
- 4: training diverged (the loss became NaN or infinite);
- 130: interrupted (Ctrl-C); 143: terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import re
import signal
import subprocess
import sys
import threading
import typing
from collections.abc import Iterator

# name -> help. The one list of commands; each lives in cnnlab/cli/<name>.py.
COMMANDS: dict[str, str] = {
    "topics": "list the course's topics, their notebooks and quick-profile times",
    "course": "run every notebook with papermill and render handouts",
    "render": "run one notebook with chosen parameters (-p NAME VALUE) into a handout",
    "notebooks": "execute notebooks in place (to commit them executed)",
    "exercises": "generate exercises/ from solutions/ (or --check)",
    "experiment": "run, store and show multi-seed experiment bands",
    "train": "train a registered model on a dataset",
    "bench": "benchmark our training loop against a DataLoader loop",
    "models": "list the model zoo or print one model's cost table",
    "doctor": "check this machine for the course and say what to do about what is missing",
}
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_DIVERGED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
# OSErrors that name a path the user gave (fixable by them), as opposed to the machine failing.
_USER_PATH_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


class Terminated(BaseException):  # noqa: N818 (like KeyboardInterrupt: not an error)
    """SIGTERM arrived: unwind like Ctrl-C, so ``finally`` blocks and atomic writes finish."""


def exit_code(exc: BaseException) -> int | None:
    """The documented exit code of an exception, or None for a bug (shown as a traceback)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED
    if isinstance(exc, FloatingPointError):
        return EXIT_DIVERGED
    if isinstance(exc, _USER_PATH_ERRORS):
        return EXIT_USAGE
    if isinstance(exc, (OSError, subprocess.SubprocessError)):  # an external tool failed too
        return EXIT_ENVIRONMENT
    if isinstance(exc, (ValueError, TypeError, LookupError)):
        return EXIT_USAGE
    return None


def one_line(exc: BaseException) -> str:
    """The exception as one line; names the cause when it is a full disk."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, Terminated):
        return "terminated"
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.strerror:  # "[Errno 28] ..." reads as noise
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC and "space" not in text.lower():
        text = f"no space left on device: {text}"
    return "error: " + " ".join(text.split())


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into ``Terminated`` while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def plain(text: str) -> str:
    """reStructuredText markup as plain text: ``x`` and :func:`x` read x, :mod:`~a.b` reads b."""
    text = re.sub(r":[a-z]+:`~[\w.]*?(\w+)`", r"\1", text)  # a ~ shows the last name only
    text = re.sub(r":[a-z]+:`([^`]+)`", r"\1", text)
    return re.sub(r"``([^`]+)``", r"\1", text)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``--help`` still shows the usage).

    Help is shown as plain text: descriptions come from docstrings, written in reStructuredText.
    """

    def format_help(self) -> str:
        return plain(super().format_help())

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; only ``command``'s module is imported to add its options."""
    parser = OneLineParser(prog="python -m cnnlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_parser=p)  # so that leftover arguments are reported by their command
        if name == command:  # importing every command's module would make each one slow
            importlib.import_module(f"cnnlab.cli.{name}").configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args, extra = parser.parse_known_args(argv)
    if extra:
        args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    prefix = f"{parser.prog} {args.command}"
    try:
        with _sigterm_unwinds():
            module = importlib.import_module(f"cnnlab.cli.{args.command}")
            return int(module.run(args) or 0)
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        sys.stderr.close()  # and no second complaint when Python flushes at exit
        return EXIT_OK
    except (Exception, KeyboardInterrupt, Terminated) as exc:
        code = exit_code(exc)
        if code is None or (os.environ.get("CNNLAB_DEBUG") and code != EXIT_INTERRUPTED):
            raise
        print(f"{prefix}: {one_line(exc)}", file=sys.stderr)
        return code
