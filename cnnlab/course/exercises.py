"""Student notebooks generated from the solution notebooks (one source for every exercise).

A solution notebook marks the answer inside a code cell with nbgrader-style markers::

    def corr2d(X, K):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

The student version keeps everything else, replaces each region by ``# YOUR CODE HERE`` and
``raise NotImplementedError()`` at the same indentation, and clears every output. Markdown
answers use ``<!-- BEGIN SOLUTION -->`` / ``<!-- END SOLUTION -->`` and become "YOUR ANSWER HERE".

``python -m cnnlab exercises`` writes ``exercises/`` from ``solutions/`` for every built topic of
the manifest; ``python -m cnnlab exercises --check`` fails (exit 1) when ``exercises/`` is stale.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
_CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
_MD_STUB = "YOUR ANSWER HERE"


class SolutionMarkerError(ValueError):
    """A solution region is unbalanced (a BEGIN without END, or nested)."""


def strip_code(source: str, where: str = "cell") -> str:
    """Replace every ``### BEGIN/END SOLUTION`` region of a code cell by a stub."""
    out: list[str] = []
    inside = False
    for lineno, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise SolutionMarkerError(f"{where}, line {lineno}: nested {BEGIN}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in _CODE_STUB)
        elif stripped == END:
            if not inside:
                raise SolutionMarkerError(f"{where}, line {lineno}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise SolutionMarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def strip_markdown(source: str, where: str = "cell") -> str:
    """Replace every ``<!-- BEGIN/END SOLUTION -->`` region of a markdown cell."""
    pattern = re.compile(re.escape(MD_BEGIN) + r".*?" + re.escape(MD_END), re.DOTALL)
    result = pattern.sub(_MD_STUB, source)
    if MD_BEGIN in result or MD_END in result:
        raise SolutionMarkerError(f"{where}: unbalanced {MD_BEGIN} / {MD_END}")
    return result


def has_solution(source: str) -> bool:
    """True if a cell's source holds a solution region."""
    return BEGIN in source or MD_BEGIN in source


def make_student(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the student version of a solution notebook (a new object; ``nb`` is unchanged)."""
    student = nbformat.reads(nbformat.writes(nb), as_version=4)
    student.metadata.pop("widgets", None)
    student.metadata.pop("papermill", None)
    for i, cell in enumerate(student.cells):
        where = f"{name}, cell {i}"
        if cell.cell_type == "code":
            cell.source = strip_code(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown(cell.source, where)
    return student


def render(nb: nbformat.NotebookNode) -> str:
    """Serialise a notebook exactly as it is written to disk (stable, diff-friendly)."""
    return nbformat.writes(nb) + "\n"


def generate(
    solutions: Path,
    exercises: Path,
    *,
    check: bool = False,
    stems: Sequence[str] | None = None,
) -> tuple[list[str], int]:
    """Write (or, with ``check``, only compare) ``exercises/`` from ``solutions/``.

    ``stems``: the notebooks to generate (``NN_slug``); by default every built topic of the
    manifest. Returns ``(problems, count)``: the stale, missing or orphaned files (empty means
    up to date) and the number of student notebooks.
    """
    if solutions.is_file():
        raise NotADirectoryError(f"{solutions} is a file; give the folder of solution notebooks")
    if not solutions.is_dir():
        raise FileNotFoundError(f"solutions folder {solutions} does not exist")
    if stems is None:
        from cnnlab.course.manifest import topics

        stems = [t.stem for t in topics(built=True)]
    problems: list[str] = []
    expected = {f"{stem}.ipynb" for stem in stems}
    for orphan in sorted(solutions.glob("*.ipynb")):
        if orphan.name not in expected:
            problems.append(f"{orphan}: not a topic of the course manifest")
    for stem in stems:
        path = solutions / f"{stem}.ipynb"
        if not path.is_file():
            problems.append(f"{path}: missing (the manifest lists topic {stem})")
            continue
        nb = nbformat.read(path, as_version=4)
        if not any(has_solution(c.source) for c in nb.cells):
            problems.append(f"{path}: has no {BEGIN} region (every solution notebook must)")
            continue
        text = render(make_student(nb, str(path)))
        target = exercises / path.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            if check:
                state = "missing" if current is None else "out of date"
                problems.append(f"{target}: {state}; run `python -m cnnlab exercises`")
            else:
                exercises.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, target)  # never a half-written student notebook
                print(f"wrote {target}")
    if exercises.is_dir():
        for orphan in sorted(exercises.glob("*.ipynb")):
            if orphan.name not in expected:
                problems.append(f"{orphan}: has no solution notebook in {solutions}")
    return problems, len(stems)
