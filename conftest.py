"""Repository-wide pytest hooks: report the execution time of each notebook nbval runs, and
show what a failing notebook cell wrote to stderr (nbval names only the field)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pytest

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call) -> Iterator[None]:  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    outputs = getattr(item, "test_outputs", None)  # nbval's cell item: what the cell produced
    if report.when != "call" or not report.failed or not outputs:
        return
    text = "".join(
        "".join(o.get("text", "")) for o in outputs if o.get("name") == "stderr"
    )  # a list or a string, as nbformat stores it
    if text:
        report.sections.append(("stderr written by this cell", text[-4000:]))
