"""The course runner: papermill execution, handouts, parameters and bad input."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnnlab.course import run as course


def _notebook(tmp_path: Path, body: str = "print(profile, seed * 2)") -> Path:
    params = new_code_cell('profile = "quick"\nseed = 0')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# Demo $x^2$"), params, new_code_cell(body)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    (tmp_path / "nbs").mkdir()
    path = tmp_path / "nbs" / "01_demo.ipynb"
    nbformat.write(nb, path)
    return path


def test_discover_sorts_filters_and_rejects_missing(tmp_path: Path) -> None:
    for name in ("02_b.ipynb", "01_a.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in course.discover([tmp_path])] == ["01_a.ipynb", "02_b.ipynb"]
    assert [p.name for p in course.discover([tmp_path], only="02")] == ["02_b.ipynb"]
    with pytest.raises(ValueError, match="no notebook matches"):
        course.discover([tmp_path], only="zz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        course.discover([tmp_path / "nope"])


def test_run_course_executes_with_parameters_and_renders_handout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = _notebook(tmp_path)
    urls = {"mathjax": "assets/m.js", "html-manager": "assets/w.js", "requirejs": "assets/r.js"}
    monkeypatch.setattr(course, "ensure_assets", lambda dest: urls)
    results = course.run_course([nb], tmp_path / "build", profile="full", parameters={"seed": 21})
    assert results[0].error is None
    executed = nbformat.read(tmp_path / "build" / "notebooks" / "01_demo.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "full 42\n"
    html = (tmp_path / "build" / "handouts" / "01_demo.html").read_text()
    assert "full 42" in html and 'src="assets/m.js' in html and "assets/r.js" in html
    assert "01_demo.html" in (tmp_path / "build" / "handouts" / "index.html").read_text()
    assert executed.metadata["cnnlab"]["state"] == "ok"


def test_run_course_reports_a_failing_notebook(tmp_path: Path) -> None:
    nb = _notebook(tmp_path, body="raise ValueError('broken cell')")
    results = course.run_course([nb], tmp_path / "b", handouts=False)
    assert results[0].error is not None and "broken cell" in results[0].error
    assert results[0].state == "failed"
    executed = nbformat.read(tmp_path / "b" / "notebooks" / "01_demo.ipynb", as_version=4)
    assert executed.metadata["cnnlab"]["state"] == "failed"  # never looks complete
    assert sorted(p.name for p in (tmp_path / "b" / "notebooks").iterdir()) == ["01_demo.ipynb"]


def test_unknown_profile_is_rejected_before_running(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        course.run_course([], tmp_path, profile="fast")


def test_assets_fall_back_to_cdn_without_npm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(course.shutil, "which", lambda name: None)
    assert course.ensure_assets(tmp_path / "assets") is None
    assert "CDN" in capsys.readouterr().err


def test_clean_drops_timing_metadata() -> None:
    nb = new_notebook(cells=[new_code_cell("1")])
    nb.metadata["papermill"] = {"duration": 1.0}
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "2026"}
    cleaned = course.clean(nb)
    assert "papermill" not in cleaned.metadata and "execution" not in cleaned.cells[0].metadata


def test_course_cli_parses_json_parameters(tmp_path: Path) -> None:
    from cnnlab.cli import course as course_cli

    p = argparse.ArgumentParser()
    course_cli.configure(p)
    args = p.parse_args(["-p", "epochs", "3", "-p", "name", "abc", "--profile", "full"])
    parsed = {k: course_cli.parse_value(v) for k, v in args.parameter}
    assert parsed == {"epochs": 3, "name": "abc"}


def test_clean_merges_adjacent_streams_of_one_name() -> None:
    from nbformat.v4 import new_output

    cell = new_code_cell("print(1)")
    cell.outputs = [
        new_output("stream", name="stdout", text="a\n"),
        new_output("stream", name="stdout", text="b\n"),
        new_output("stream", name="stderr", text="w\n"),
        new_output("stream", name="stdout", text="c\n"),
    ]
    nb = course.clean(new_notebook(cells=[cell]))
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [
        ("stdout", "a\nb\n"),
        ("stderr", "w\n"),
        ("stdout", "c\n"),
    ]


def _widget_notebook(ids: list[str]) -> nbformat.NotebookNode:
    """A slider (ids[0]) with its layout (ids[1]) and style (ids[2]), shown in one output."""
    from nbformat.v4 import new_output

    slider, layout, style = ids
    cell = new_code_cell("slider", id="slider-cell")
    view = {"version_major": 2, "version_minor": 0, "model_id": slider}
    cell.outputs = [new_output("display_data", data={course._WIDGET_VIEW: view})]
    nb = new_notebook(cells=[cell])
    state = {
        layout: {"model_name": "LayoutModel", "state": {"width": "50%"}},
        style: {"model_name": "SliderStyleModel", "state": {}},
        slider: {
            "model_name": "IntSliderModel",
            "state": {"layout": f"IPY_MODEL_{layout}", "style": f"IPY_MODEL_{style}", "value": 3},
        },
    }
    nb.metadata["widgets"] = {course._WIDGET_STATE: {"state": state, "version_major": 2}}
    return nb


def test_widget_ids_are_stable_across_executions() -> None:
    import uuid

    random_ids = [[uuid.uuid4().hex for _ in range(3)] for _ in range(2)]
    runs = [course.clean(_widget_notebook(ids)) for ids in random_ids]
    assert nbformat.writes(runs[0]) == nbformat.writes(runs[1])  # no git noise
    state = runs[0].metadata["widgets"][course._WIDGET_STATE]["state"]
    view = runs[0].cells[0].outputs[0]["data"][course._WIDGET_VIEW]["model_id"]
    slider = state[view]["state"]  # the output still points at the slider ...
    assert slider["value"] == 3
    for ref in (slider["layout"], slider["style"]):  # ... and its links at its layout and style
        assert ref.startswith("IPY_MODEL_") and ref.removeprefix("IPY_MODEL_") in state
    # renamed: 32 lower-case hex digits (the length and alphabet of uuid4().hex), none random
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in state)
    assert set(state).isdisjoint(random_ids[0] + random_ids[1])
    assert course.clean(new_notebook(cells=[new_code_cell("1")])).metadata.get("widgets") is None
    # cleaning a notebook read back from disk (keys sorted by the writer) changes nothing
    saved = nbformat.writes(runs[0])
    assert nbformat.writes(course.clean(nbformat.reads(saved, as_version=4))) == saved


def test_pdf_is_skipped_with_one_line_without_chromium(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(course.shutil, "which", lambda name: None)
    assert course.pdf_wanted(True) is False
    assert capsys.readouterr().err == course.PDF_SKIPPED + "\n"
    assert course.pdf_wanted(False) is False  # --no-pdf: nothing to say


def test_a_failed_pdf_is_one_line_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(html: Path) -> Path:
        raise RuntimeError(f"chromium wrote no PDF of {html.name}: crashed")

    monkeypatch.setattr(course, "ensure_assets", lambda dest: None)
    monkeypatch.setattr(course, "render_pdf", broken)
    results = course.run_course([_notebook(tmp_path)], tmp_path / "b", pdf=True)
    assert results[0].state == "ok" and results[0].handout is not None and results[0].pdf is None
    assert "PDF of 01_demo.ipynb failed: chromium wrote no PDF" in capsys.readouterr().err
