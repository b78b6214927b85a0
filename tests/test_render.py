"""``python -m cnnlab render``: one notebook, chosen parameters, an executed copy and a handout."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnnlab.__main__ import main
from cnnlab.cli.render import parse_value
from cnnlab.course import run as course


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small notebook with a ``parameters`` cell; handout assets stubbed (no npm)."""
    params = new_code_cell('profile = "quick"\nseed = 0\nscale = 1.5')
    params.metadata["tags"] = ["parameters"]
    body = new_code_cell("print(f'result {profile} {seed * scale}')")
    nb = new_notebook(cells=[new_markdown_cell("# Demo $x^2$"), params, body])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(course, "ensure_assets", lambda dest: None)
    monkeypatch.chdir(tmp_path)
    return path


def test_parameters_take_effect_in_notebook_and_handout(notebook: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["render", str(notebook), "-p", "seed", "4", "-p", "profile", "full", "--out", str(out)]
    assert main([*argv, "--no-pdf"]) == 0
    executed = nbformat.read(out / "notebooks" / "01_demo.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "result full 6.0\n"
    assert executed.metadata["cnnlab"]["state"] == "ok"
    assert "injected-parameters" in executed.cells[2].metadata["tags"]  # after `parameters`
    assert "result full 6.0" in (out / "handouts" / "01_demo.html").read_text()
    assert not [p for p in out.rglob(".*") if ".tmp" in p.name]  # written whole


def test_unknown_parameter_is_one_line_naming_the_notebooks_parameters(
    notebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", str(notebook), "-p", "epochs", "3", "--no-pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "epochs" in err
    assert "profile, seed, scale" in err
    assert not Path("build").exists()  # rejected before anything ran


def test_missing_notebook_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path / "nope.ipynb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.ipynb" in err


def test_a_failing_notebook_exits_1(notebook: Path, tmp_path: Path) -> None:
    assert main(["render", str(notebook), "-p", "scale", "None", "--no-pdf", "--out", "o"]) == 1
    executed = nbformat.read(Path("o/notebooks/01_demo.ipynb"), as_version=4)
    assert executed.metadata["cnnlab"]["state"] == "failed"


def test_values_are_parsed_like_papermill() -> None:
    assert [parse_value(v) for v in ("3", "0.5", "True", "None", "full")] == [
        3,
        0.5,
        True,
        None,
        "full",
    ]
