"""Starting a real ``python -m cnnlab`` process the way a terminal would, for signal tests."""

from __future__ import annotations

import signal


def sigint_as_in_a_terminal() -> None:
    """``preexec_fn`` for ``subprocess.Popen``: SIGINT with its default disposition.

    A shell job started in the background (``nohup make test &``) ignores SIGINT and every
    process below it inherits that; Python then never turns SIGINT into KeyboardInterrupt
    (shared/TOOLCHAIN.md). A student pressing Ctrl-C in a terminal has the default, so a test
    of Ctrl-C gives its child the default whatever shell started the test run.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
