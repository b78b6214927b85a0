"""Colab and Binder: the setup cell that installs cnnlab on Colab, and each topic's links.

Every notebook starts with one code cell tagged ``colab-setup`` (``cell_source()``). On Colab it
pip-installs cnnlab from ``REPOSITORY`` with a constraints file pinning the torch, numpy and
matplotlib that Colab already has, so pip can never replace them; anywhere else it does nothing
and prints nothing (nbval then compares an empty output). The cell runs before cnnlab exists on
the machine, so its source imports only the standard library.

``ensure_colab_cell`` inserts or updates that cell, ``has_colab_cell`` says whether a notebook
has the current one (for the audit), ``is_colab_cell`` recognises it (any version), and
``topic_links`` gives each topic's Colab and Binder URLs.
``python -m cnnlab.course.colab [FOLDER ...]`` updates every notebook in the folders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

import nbformat

from cnnlab.course.manifest import TOPICS, Topic

# The one place the repository is named (pyproject's [project.urls] must agree: a test checks).
REPOSITORY = "https://github.com/cnnlab/cnnlab"
BRANCH = "main"
TAG = "colab-setup"
# Colab's own builds of these (CUDA torch, its numpy ABI, its matplotlib backend) must stay.
# Colab's ipywidgets (7.7.1, the only major its frontend renders) stays too, without a pin: pip
# leaves an installed package alone when it satisfies the range, and pyproject admits 7.7
# (tests/test_colab.py checks pyproject admits everything Colab ships).
KEPT = ("torch", "numpy", "matplotlib")

_CELL = """\
# Colab only: install cnnlab, keeping Colab's own torch, numpy and matplotlib (elsewhere: nothing).
import sys

if "google.colab" in sys.modules:
    import contextlib
    import importlib.metadata
    import importlib.util
    import subprocess
    import tempfile

    def _install_cnnlab() -> None:
        if importlib.util.find_spec("cnnlab") is not None:
            print("cnnlab is already installed")
            return
        pins = []
        for name in {kept}:
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                pins.append(f"{{name}}=={{importlib.metadata.version(name)}}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
            constraints.write("\\n".join(pins) + "\\n")
        url = "{requirement}"
        command = [sys.executable, "-m", "pip", "install", "--quiet", "-c", constraints.name, url]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode == 0:
            importlib.invalidate_caches()  # so that `import cnnlab` finds the new package
            print(f"installed cnnlab from {{url}} (kept {{', '.join(pins)}})")
        else:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no message"]
            print(f"could not install cnnlab (pip exit {{done.returncode}}): {{lines[-1]}}")

    _install_cnnlab()
"""


def requirement() -> str:
    """What pip installs on Colab: the package from the repository's main branch."""
    return f"cnnlab @ git+{REPOSITORY}@{BRANCH}"


def cell_source() -> str:
    """The source of the Colab setup cell (standard library only: cnnlab is not there yet)."""
    kept = "(" + ", ".join(f'"{name}"' for name in KEPT) + ")"
    return _CELL.format(kept=kept, requirement=requirement()).rstrip("\n")


def _new_cell() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(cell_source(), metadata={"tags": [TAG]})
    cell.id = TAG
    return cell


def is_colab_cell(cell: nbformat.NotebookNode) -> bool:
    """True for the setup cell, current or outdated (checks that count code cells skip it)."""
    return cell.get("cell_type") == "code" and TAG in cell.get("metadata", {}).get("tags", [])


def has_colab_cell(nb: nbformat.NotebookNode) -> bool:
    """True if the notebook's first cell is the current Colab setup cell."""
    return bool(nb.cells) and is_colab_cell(nb.cells[0]) and nb.cells[0].source == cell_source()


def ensure_colab_cell(nb: nbformat.NotebookNode) -> bool:
    """Make the current setup cell the notebook's first cell (in place); True if it changed."""
    if has_colab_cell(nb):
        return False
    old = [i for i, c in enumerate(nb.cells) if is_colab_cell(c)]
    for i in reversed(old):  # an outdated copy, wherever it is, is replaced by the new one
        del nb.cells[i]
    nb.cells.insert(0, _new_cell())
    return True


def update_notebook(path: Path) -> bool:
    """``ensure_colab_cell`` on a file, written atomically; the other cells stay byte-identical."""
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    if not ensure_colab_cell(nb):
        return False
    out = nbformat.writes(nb) + ("\n" if text.endswith("\n") else "")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(out, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def colab_url(notebook: Path | str) -> str:
    """Open a notebook of the repository (a path from its root) in Colab."""
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/{notebook}"


def binder_url(notebook: Path | str | None = None) -> str:
    """Open the repository on mybinder.org in JupyterLab, at ``notebook`` if given."""
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    base = f"https://mybinder.org/v2/gh/{owner_repo}/{BRANCH}"
    return f"{base}?labpath={quote(str(notebook), safe='')}" if notebook else f"{base}?urlpath=lab"


def topic_links(topics: tuple[Topic, ...] = TOPICS) -> list[dict[str, str]]:
    """Per built topic: number, title, and Colab/Binder URLs of its lecture and exercises."""
    return [
        {
            "number": str(t.number),
            "title": t.title,
            "colab": colab_url(t.notebook),
            "binder": binder_url(t.notebook),
            "colab_exercises": colab_url(t.exercise),
            "binder_exercises": binder_url(t.exercise),
        }
        for t in topics
        if t.built
    ]


def main(argv: list[str]) -> int:
    """Update every notebook in the folders given (default notebooks/, solutions/)."""
    folders = [Path(a) for a in argv] or [Path("notebooks"), Path("solutions")]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        print(f"error: not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    for path in sorted(p for f in folders for p in f.glob("*.ipynb")):
        if update_notebook(path):
            print(f"  {path}: Colab setup cell updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
