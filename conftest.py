"""Repository-wide pytest hooks: report the execution time of each notebook nbval runs."""

from __future__ import annotations

from collections import defaultdict

_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report) -> None:  # type: ignore[no-untyped-def]
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook execution time (nbval)")
    for path, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{path:<50} {seconds:7.1f} s")
    terminalreporter.write_line(f"{'total':<50} {sum(_notebook_seconds.values()):7.1f} s")
