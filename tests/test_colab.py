"""The Colab setup cell: what it runs on Colab (simulated), its silence elsewhere, links."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import tomllib
from packaging.requirements import Requirement

from cnnlab.course import colab
from cnnlab.course.manifest import TOPICS

ROOT = Path(__file__).resolve().parents[1]
# What Colab ships today (GPU runtime, Python 3.12): googlecolab/backend-info, pip-freeze.gpu.txt
# at commit 03a89033b7dd106f98e45f7c6090d467134330e8 (read 2026-12-02).
COLAB = {
    "torch": "2.11.0+cu128",
    "numpy": "2.0.2",
    "matplotlib": "3.10.0",
    "ipywidgets": "7.7.1",
    "scikit-learn": "1.6.1",
    "scikit-image": "0.25.2",
    "scipy": "1.16.3",
    "pooch": "1.9.0",
    "platformdirs": "4.10.0",
    "tqdm": "4.67.3",
}


def _run_cell(
    monkeypatch: pytest.MonkeyPatch,
    *,
    on_colab: bool,
    installed: bool = False,
    pip: subprocess.CompletedProcess | None = None,
) -> list[tuple[list[str], str]]:
    """Exec the cell as a kernel would; return each captured command with its constraints."""
    if on_colab:
        google = types.ModuleType("google")
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (
            (real_find_spec(name) if installed else None)
            if name == "cnnlab"
            else real_find_spec(name, *a)
        ),
    )
    real_version = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: COLAB[name] if name in colab.KEPT else real_version(name),
    )
    calls = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        constraints = Path(command[command.index("-c") + 1])
        calls.append((command, constraints.read_text()))
        constraints.unlink()
        return pip or subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    exec(compile(colab.cell_source(), "<colab-setup>", "exec"), {"__name__": "__main__"})
    return calls


def test_on_colab_pip_installs_from_the_repository_keeping_torch_numpy_matplotlib(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    calls = _run_cell(monkeypatch, on_colab=True)
    assert len(calls) == 1
    command, constraints = calls[0]
    url = "cnnlab @ git+https://github.com/cnnlab/cnnlab@main"
    assert command[:6] == [sys.executable, "-m", "pip", "install", "--quiet", "-c"]
    assert command[7:] == [url]
    assert constraints == "torch==2.11.0+cu128\nnumpy==2.0.2\nmatplotlib==3.10.0\n"
    out = capsys.readouterr().out
    assert out == (
        f"installed cnnlab from {url} "
        "(kept torch==2.11.0+cu128, numpy==2.0.2, matplotlib==3.10.0)\n"
    )


def test_elsewhere_the_cell_runs_nothing_and_prints_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert _run_cell(monkeypatch, on_colab=False) == []
    assert capsys.readouterr() == ("", "")


def test_a_failed_install_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    failed = subprocess.CompletedProcess([], 1, "", "  Cloning...\nERROR: could not resolve host\n")
    _run_cell(monkeypatch, on_colab=True, pip=failed)
    assert capsys.readouterr().out == (
        "could not install cnnlab (pip exit 1): ERROR: could not resolve host\n"
    )


def test_already_installed_is_not_installed_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert _run_cell(monkeypatch, on_colab=True, installed=True) == []
    assert capsys.readouterr().out == "cnnlab is already installed\n"


def test_the_cell_is_inserted_once_first_and_leaves_the_rest_byte_identical(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nb.ipynb"
    # in nbformat's own layout, as committed notebooks are (other writers indent differently)
    source = nbformat.read(ROOT / TOPICS[0].notebook, as_version=4)
    source.cells = [c for c in source.cells if not colab.is_colab_cell(c)]  # as before the cell
    path.write_text(nbformat.writes(source) + "\n", encoding="utf-8")
    before = path.read_bytes()
    assert not colab.has_colab_cell(nbformat.reads(before.decode(), as_version=4))
    assert colab.update_notebook(path)
    after = path.read_bytes()
    nb = nbformat.reads(after.decode(), as_version=4)
    assert colab.has_colab_cell(nb)
    first = nb.cells[0]
    assert first.metadata.tags == [colab.TAG] and first.outputs == []
    assert first.execution_count is None  # nbval runs it but has no stored output to compare
    del nb.cells[0]
    assert (nbformat.writes(nb) + "\n").encode() == before
    assert not colab.update_notebook(path)  # idempotent
    assert path.read_bytes() == after
    assert not list(tmp_path.glob(".*tmp"))  # no leftover temporary file


def test_an_outdated_cell_is_replaced_not_duplicated() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")])
    assert colab.ensure_colab_cell(nb)
    nb.cells[0].source = "# an older version"
    nb.cells.insert(0, nb.cells.pop(0))
    assert not colab.has_colab_cell(nb)
    assert colab.ensure_colab_cell(nb)
    assert [c.cell_type for c in nb.cells] == ["code", "markdown"]
    assert colab.has_colab_cell(nb) and not colab.ensure_colab_cell(nb)


def test_the_cell_imports_only_the_standard_library() -> None:
    tree = ast.parse(colab.cell_source())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {name.split(".")[0] for name in names} <= set(sys.stdlib_module_names)


def test_the_repository_is_declared_once_and_links_derive_from_it() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == colab.REPOSITORY
    links = colab.topic_links()
    assert len(links) == sum(t.built for t in TOPICS)
    first = links[0]
    assert first["colab"] == (
        "https://colab.research.google.com/github/cnnlab/cnnlab/blob/main/"
        "notebooks/01_cross_correlation.ipynb"
    )
    assert first["binder"] == (
        "https://mybinder.org/v2/gh/cnnlab/cnnlab/main?labpath=notebooks%2F01_cross_correlation.ipynb"
    )
    assert first["colab_exercises"].endswith("/exercises/01_cross_correlation.ipynb")


def test_pyproject_admits_everything_colab_ships() -> None:
    """pip leaves an installed package alone when it satisfies the range, so on Colab the cell
    changes none of these: torch/numpy/matplotlib are pinned besides (``colab.KEPT``), and
    ipywidgets must stay at Colab's 7, the major its frontend renders (googlecolab/colabtools#3020:
    ipywidgets 8 widgets do not show; tests/test_widgets_ipywidgets7.py runs the widgets on 7).
    """
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    refused = {}
    for text in deps:
        req = Requirement(text)
        if req.name in COLAB and not req.specifier.contains(COLAB[req.name], prereleases=True):
            refused[req.name] = f"{req} refuses Colab's {COLAB[req.name]}"
    assert refused == {}
    assert {Requirement(text).name for text in deps} <= set(COLAB)  # each one checked here


def _dry_run(tmp_path: Path, pins: dict[str, str]) -> subprocess.CompletedProcess:
    """pip's real resolver, offline: install the project (its metadata) under ``pins``."""
    project = tmp_path / "project"
    (project / "cnnlab").mkdir(parents=True)
    (project / "cnnlab" / "__init__.py").write_text("")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    constraints = tmp_path / "pins.txt"
    constraints.write_text("".join(f"{k}=={v}\n" for k, v in pins.items()))
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index"]
    command += ["--no-build-isolation", "--quiet", "--report", str(tmp_path / "report.json")]
    command += ["-c", str(constraints), str(project)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_pips_resolver_installs_nothing_over_the_kept_packages(tmp_path: Path) -> None:
    pins = {name: importlib.metadata.version(name) for name in colab.KEPT}
    done = _dry_run(tmp_path, pins)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert [item["metadata"]["name"] for item in report["install"]] == ["cnnlab"]


def test_pip_refuses_rather_than_replaces_a_kept_package(tmp_path: Path) -> None:
    pins = {name: importlib.metadata.version(name) for name in colab.KEPT}
    pins["torch"] = "2.2.0"  # not what is installed: pip would have to replace it, and must not
    done = _dry_run(tmp_path, pins)
    assert done.returncode != 0
    assert "ResolutionImpossible" in done.stderr
