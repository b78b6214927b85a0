"""The solution notebooks' answers pass their checks with the stored success lines, and the
exercise notebooks' stubs are reported as not implemented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab import checks
from cnnlab.checks import CheckFailed
from cnnlab.course.manifest import topics

ROOT = Path(__file__).resolve().parents[2]
BUILT = [t for t in topics(built=True) if (ROOT / t.solution).exists()]


def code_cells(path: Path) -> list[tuple[str, str]]:
    """(source, stored stdout) of every code cell."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        text = "".join(
            "".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("name") == "stdout"
        )
        out.append(("".join(cell["source"]), text))
    return out


def namespace() -> dict[str, Any]:
    return {"torch": torch, "nn": nn, "F": F, "checks": checks}


@pytest.mark.parametrize("topic", BUILT, ids=lambda t: t.slug)
def test_solutions_pass_with_the_stored_success_lines(topic: Any, capsys) -> None:
    ns = namespace()
    ran = 0
    for source, stored in code_cells(ROOT / topic.solution):
        if "### BEGIN SOLUTION" in source:
            exec(source, ns)
        elif source.startswith("checks."):
            exec(source, ns)
            assert capsys.readouterr().out == stored
            ran += 1
    assert ran >= 2


@pytest.mark.parametrize("topic", BUILT, ids=lambda t: t.slug)
def test_exercise_stubs_are_reported_as_not_implemented(topic: Any) -> None:
    path = ROOT / topic.exercise
    if not path.exists():
        pytest.skip(f"{path} not generated")
    ns = namespace()
    ran = 0
    for source, _ in code_cells(path):
        if source.startswith("def "):
            exec(source, ns)
        elif source.startswith("checks."):
            with pytest.raises(CheckFailed, match="is not implemented yet: replace `# YOUR CODE"):
                exec(source, ns)
            ran += 1
    assert ran >= 2


@pytest.mark.parametrize("topic", BUILT, ids=lambda t: t.slug)
def test_every_check_a_notebook_calls_is_in_the_topic_module(topic: Any) -> None:
    import importlib

    module = importlib.import_module(topic.checks)
    called = {
        source.split("(")[0].removeprefix("checks.")
        for source, _ in code_cells(ROOT / topic.solution)
        if source.startswith("checks.")
    }
    assert called == set(module.__all__)
