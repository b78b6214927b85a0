"""Notebook style: nbval markers are cell tags (students never see them), and never hide a cell.

nbval reads ``# NBVAL_IGNORE_OUTPUT`` comments too, but a comment is visible in the student's
notebook; the cell tag ``nbval-ignore-output`` (``metadata.tags``) does the same invisibly. A cell
whose output is not compared must still check what must hold, so each tagged cell asserts
something (``assert``, ``check_band(`` or a ``checks.`` call).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from cnnlab.course.manifest import topics

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "solutions", "exercises")
# The built topics of the manifest: a notebook still being written is checked once it is built.
BUILT = {t.stem for t in topics(built=True)}
NOTEBOOKS = sorted(
    p for folder in FOLDERS for p in (ROOT / folder).glob("*.ipynb") if p.stem in BUILT
)
_MARKER = re.compile(r"#\s*NBVAL_[A-Z_]+")
_ASSERTS = re.compile(r"\bassert\b|\bcheck_band\(|\bchecks\.\w+\(")


def marker_comments(nb: nbformat.NotebookNode) -> list[str]:
    """``cell N: line`` for every ``# NBVAL_…`` comment in a code cell."""
    return [
        f"cell {i}: {line.strip()}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if _MARKER.search(line)
    ]


def hidden_cells(nb: nbformat.NotebookNode) -> list[str]:
    """Cells tagged ``nbval-…`` (output not compared, or skipped) that assert nothing."""
    return [
        f"cell {i} ({', '.join(t for t in cell.metadata.get('tags', []) if t.startswith('nbval'))})"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and any(t.startswith("nbval-") for t in cell.metadata.get("tags", []))
        and not _ASSERTS.search(cell.source)
    ]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_there_are_notebooks_to_check() -> None:
    assert {p.parent.name for p in NOTEBOOKS} == set(FOLDERS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_no_nbval_comment_is_visible(path: Path) -> None:
    found = marker_comments(nbformat.read(path, as_version=4))
    assert not found, (
        f"{_id(path)}: nbval markers as comments ({'; '.join(found)}): use the cell tag instead, "
        "e.g. nbval-ignore-output in the cell's metadata.tags"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_every_nbval_tagged_cell_still_asserts(path: Path) -> None:
    found = hidden_cells(nbformat.read(path, as_version=4))
    assert not found, (
        f"{_id(path)}: {'; '.join(found)} not compared by nbval and asserting nothing: "
        "assert what must hold (or check_band for a training result)"
    )


def test_the_style_checks_can_fail() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)"),
        nbformat.v4.new_code_cell("print(2)", metadata={"tags": ["nbval-ignore-output"]}),
        nbformat.v4.new_code_cell("x = 3\nassert x", metadata={"tags": ["nbval-ignore-output"]}),
        nbformat.v4.new_code_cell("checks.corr2d(f)", metadata={"tags": ["nbval-skip"]}),
    ]
    assert marker_comments(nb) == ["cell 0: # NBVAL_IGNORE_OUTPUT"]
    assert hidden_cells(nb) == ["cell 1 (nbval-ignore-output)"]
