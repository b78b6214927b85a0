"""The student-notebook generator: stripping, errors, and the repository's freshness."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cnnlab.course.exercises import (
    SolutionMarkerError,
    generate,
    make_student,
    strip_code,
    strip_markdown,
)

ROOT = Path(__file__).resolve().parents[1]

SOLVED = """def corr2d(X, K):
    \"\"\"Cross-correlate.\"\"\"
    ### BEGIN SOLUTION
    h, w = K.shape
    return X[:h, :w]
    ### END SOLUTION
"""


def test_strip_code_keeps_signature_and_indents_stub() -> None:
    assert strip_code(SOLVED) == (
        'def corr2d(X, K):\n    """Cross-correlate."""\n'
        "    # YOUR CODE HERE\n    raise NotImplementedError()"
    )


def test_strip_code_leaves_plain_cells_alone() -> None:
    assert strip_code("x = 1\nprint(x)") == "x = 1\nprint(x)"


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
    ],
)
def test_unbalanced_markers_are_reported(source: str, match: str) -> None:
    with pytest.raises(SolutionMarkerError, match=match):
        strip_code(source, "nb.ipynb, cell 3")


def test_strip_markdown() -> None:
    text = "Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->\nNext."
    assert strip_markdown(text) == "Why?\nYOUR ANSWER HERE\nNext."
    with pytest.raises(SolutionMarkerError):
        strip_markdown("<!-- BEGIN SOLUTION --> open")


def _solution_notebook() -> nbformat.NotebookNode:
    cell = new_code_cell(SOLVED, execution_count=3)
    cell.outputs = [new_output("stream", name="stdout", text="ok\n")]
    return new_notebook(cells=[new_markdown_cell("# Ex"), cell, new_code_cell("check(corr2d)")])


def test_make_student_clears_outputs_and_keeps_original() -> None:
    nb = _solution_notebook()
    student = make_student(nb)
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert "NotImplementedError" in student.cells[1].source
    assert "BEGIN SOLUTION" in nb.cells[1].source and nb.cells[1].outputs  # unchanged


def test_generate_and_check_detect_stale_missing_and_orphans(tmp_path: Path) -> None:
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    nbformat.write(_solution_notebook(), sol / "01_x.ipynb")
    stems = ["01_x"]
    assert generate(sol, ex, check=True, stems=stems) == (
        [f"{ex / '01_x.ipynb'}: missing; run `python -m cnnlab exercises`"],
        1,
    )
    assert generate(sol, ex, stems=stems) == ([], 1)
    assert generate(sol, ex, check=True, stems=stems) == ([], 1)
    (ex / "01_x.ipynb").write_text((ex / "01_x.ipynb").read_text().replace("YOUR CODE", "MY CODE"))
    assert "out of date" in generate(sol, ex, check=True, stems=stems)[0][0]
    (ex / "99_orphan.ipynb").write_text("{}")
    assert any("no solution notebook" in p for p in generate(sol, ex, check=True, stems=stems)[0])
    # a solution notebook the manifest does not list, and a listed one that is missing
    nbformat.write(_solution_notebook(), sol / "02_stray.ipynb")
    problems, _ = generate(sol, ex, check=True, stems=["01_x", "03_gone"])
    assert any("02_stray.ipynb: not a topic of the course manifest" in p for p in problems)
    assert any("03_gone.ipynb: missing (the manifest lists topic 03_gone)" in p for p in problems)


def test_solution_notebook_without_region_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), tmp_path / "s" / "a.ipynb")
    problems, _ = generate(tmp_path / "s", tmp_path / "e", stems=["a"])
    assert "has no ### BEGIN SOLUTION" in problems[0]


def test_repository_exercises_are_up_to_date() -> None:
    problems, count = generate(ROOT / "solutions", ROOT / "exercises", check=True)
    assert problems == [] and count >= 4
    assert sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb")), "no solution notebooks"
