"""The course build under faults: failing cells, Ctrl-C, SIGTERM, partial reruns (``--only``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from cnnlab.__main__ import main
from cnnlab.cli import Terminated
from cnnlab.course import run as course
from cnnlab.course.manifest import topics

STEMS = [t.stem for t in topics(built=True)]


def _nb(text: str) -> nbformat.NotebookNode:
    cell = new_code_cell("print(1)")
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    return new_notebook(cells=[cell])


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fake papermill: each source's fate is ``fates[stem]`` (ok, fail, interrupt, term).

    Like papermill, it writes the output notebook as it goes: a partial one before failing or
    being interrupted. Handouts are stubbed (the index is what these tests read).
    """
    fates: dict[str, str] = {}

    def execute_notebook(source: str, output: str, **kwargs: object) -> None:
        stem, fate = Path(source).stem, fates.get(Path(source).stem, "ok")
        nbformat.write(_nb(f"{stem} {'partial' if fate != 'ok' else 'complete'}\n"), output)
        if fate == "fail":
            raise RuntimeError("Exception encountered at cell 1:\nValueError: broken cell")
        if fate == "interrupt":
            raise KeyboardInterrupt
        if fate == "term":
            raise Terminated

    def render(notebook: Path, out_dir: Path, urls: object) -> Path:
        target = out_dir / f"{notebook.stem}.html"
        target.write_text(nbformat.read(notebook, as_version=4).cells[0].outputs[0]["text"])
        return target

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    monkeypatch.setattr(course, "render_handout", render)
    monkeypatch.setattr(course, "ensure_assets", lambda dest: None)
    monkeypatch.setattr(course, "render_pdf", lambda html: None)  # no Chromium for stubs
    (tmp_path / "notebooks").mkdir()
    for stem in STEMS:
        nbformat.write(_nb("source"), tmp_path / "notebooks" / f"{stem}.ipynb")
    monkeypatch.chdir(tmp_path)
    return fates


def _index() -> dict[str, tuple[str, str]]:
    """stem -> (css class, text) from build/handouts/index.html."""
    html = Path("build/handouts/index.html").read_text()
    rows = re.findall(
        r'<li class="(\w+)">(?:<a href="[^"]+">)?([\w]+)(?:</a>)?: ([^<]*)</li>', html
    )
    return {stem: (css, text) for css, stem, text in rows}


def _executed(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(Path("build/notebooks") / f"{stem}.ipynb", as_version=4)


def _no_temporaries() -> None:
    leftovers = [p.name for p in Path("build").rglob(".*") if ".tmp" in p.name]
    assert not leftovers, leftovers


def test_failing_notebook_is_written_marked_failed_and_listed(
    build: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = STEMS[0], STEMS[1]
    build[b] = "fail"
    assert main(["course", "--only", STEMS[0]]) == 0  # a first run: a ok
    assert main(["course", "--only", b]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"1 of 1 notebooks FAILED: {b}" in err
    assert "broken cell" in err
    assert _executed(b).metadata["cnnlab"]["state"] == "failed"
    assert "broken cell" in _executed(b).metadata["cnnlab"]["error"]
    assert _executed(a).metadata["cnnlab"]["state"] == "ok"
    index = _index()
    assert list(index) == STEMS  # every topic, in course order
    assert index[b][0] == "failed" and "broken cell" in index[b][1]
    assert index[a][0] == "earlier" and index[a][1].startswith("ok, ")
    assert all(index[s] == ("none", "not run yet") for s in STEMS[2:])
    state = course.build_state(Path("build"), "quick")
    assert state[b]["state"] == "failed" and state[a]["state"] == "ok"
    assert set(course.last_times(Path("build"), "quick")) == {a}  # topics reads this: ok only
    _no_temporaries()


@pytest.mark.parametrize(("fate", "code"), [("interrupt", 130), ("term", 143)])
def test_interrupted_build_records_state_writes_index_and_exits(
    build: dict[str, str], capsys: pytest.CaptureFixture[str], fate: str, code: int
) -> None:
    a, b = STEMS[0], STEMS[1]
    assert main(["course", "--only", b]) == 0  # an earlier complete run of b
    before = Path(f"build/notebooks/{b}.ipynb").read_bytes()
    build[b] = fate
    capsys.readouterr()
    # Runs a (ok), then b is interrupted; c and later never start.
    assert main(["course"]) == code
    err = capsys.readouterr().err.strip()
    assert err.endswith("interrupted" if code == 130 else "terminated")
    assert len(err.splitlines()) == 1
    # b's partial output never replaced the complete one of the earlier run.
    assert Path(f"build/notebooks/{b}.ipynb").read_bytes() == before
    assert "complete" in _executed(b).cells[0].outputs[0]["text"]
    assert _executed(a).metadata["cnnlab"]["state"] == "ok"
    index = _index()
    assert list(index) == STEMS
    assert index[a][0] == "ok" and index[b][0] == "interrupted"
    assert all(index[s] == ("none", "not run yet") for s in STEMS[2:])
    state = json.loads(Path("build/times-quick.json").read_text())
    assert state["notebooks"][b]["state"] == "interrupted" and b in state["seconds"]
    _no_temporaries()


def test_interrupted_first_run_leaves_no_notebook(build: dict[str, str]) -> None:
    build[STEMS[0]] = "interrupt"
    with pytest.raises(KeyboardInterrupt):
        course.run_course([Path("notebooks") / f"{STEMS[0]}.ipynb"], Path("build"), handouts=True)
    assert not Path(f"build/notebooks/{STEMS[0]}.ipynb").exists()  # no partial one
    assert _index()[STEMS[0]][0] == "interrupted"
    _no_temporaries()


def test_only_reruns_keep_every_notebook_in_the_index(build: dict[str, str]) -> None:
    for stem in STEMS[:3]:
        assert main(["course", "--only", stem]) == 0
    index = _index()
    assert list(index) == STEMS
    assert index[STEMS[2]][0] == "ok"  # this run
    assert index[STEMS[0]][0] == index[STEMS[1]][0] == "earlier"
    assert all(f'href="{s}.html"' in Path("build/handouts/index.html").read_text()
               for s in STEMS[:3])  # fmt: skip
    # A source edited after its run shows as stale.
    import os

    os.utime(Path("notebooks") / f"{STEMS[0]}.ipynb", (4e9, 4e9))
    assert main(["course", "--only", STEMS[1]]) == 0
    assert _index()[STEMS[0]][0] == "stale" and "changed since" in _index()[STEMS[0]][1]


def test_a_damaged_state_file_is_rebuilt(build: dict[str, str]) -> None:
    Path("build").mkdir()
    Path("build/times-quick.json").write_text("{not json")
    assert course.last_times(Path("build")) == {} and course.build_state(Path("build")) == {}
    assert main(["course", "--only", STEMS[0]]) == 0
    assert set(course.build_state(Path("build"))) == {STEMS[0]}


# ----------------------------------------------------------------------------- in place


class _FakeClient:
    """nbclient's NotebookClient, executing by ``fate``: appends an output, or fails."""

    fate = "ok"

    def __init__(self, nb: nbformat.NotebookNode, **kwargs: object) -> None:
        self.nb = nb

    def execute(self) -> None:
        from nbclient.exceptions import CellExecutionError

        self.nb.cells[0].outputs = [new_output("stream", name="stdout", text="partial\n")]
        if self.fate == "fail":
            raise CellExecutionError("trace", "ValueError", "broken cell")
        if self.fate == "interrupt":
            raise KeyboardInterrupt
        self.nb.cells[0].outputs[0]["text"] = "done\n"


@pytest.fixture
def in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import nbclient

    monkeypatch.setattr(nbclient, "NotebookClient", _FakeClient)
    monkeypatch.setattr(_FakeClient, "fate", "ok")
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name in ("01_a", "02_b"):
        nbformat.write(_nb("committed\n"), folder / f"{name}.ipynb")
    return folder


def test_notebooks_in_place_are_replaced_whole(in_place: Path) -> None:
    path = in_place / "01_a.ipynb"
    path.chmod(0o640)
    course.execute_in_place(path)
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "done\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in in_place.iterdir()) == ["01_a.ipynb", "02_b.ipynb"]


def test_notebooks_interrupted_or_failing_leave_the_committed_file(
    in_place: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p.name: p.read_bytes() for p in in_place.iterdir()}
    monkeypatch.setattr(_FakeClient, "fate", "interrupt")
    assert main(["notebooks", str(in_place)]) == 130
    monkeypatch.setattr(_FakeClient, "fate", "fail")
    capsys.readouterr()
    assert main(["notebooks", str(in_place)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("2 notebooks FAILED: 01_a.ipynb")
    monkeypatch.setattr(_FakeClient, "fate", "ok")

    def half_then_interrupt(nb: object, path: object, **kwargs: object) -> None:
        Path(str(path)).write_text('{"cells": [')
        raise KeyboardInterrupt

    monkeypatch.setattr(course.nbformat, "write", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        course.execute_in_place(in_place / "01_a.ipynb")
    assert {p.name: p.read_bytes() for p in in_place.iterdir()} == before
