"""The widgets under ipywidgets 7, the major Colab ships (7.7.1) and the only one it renders.

The course's venv has ipywidgets 8 (constraints.txt); pyproject admits 7.7 so that the Colab
setup cell keeps Colab's. Two checks keep cnnlab/widgets/ working there:

* always: the widgets name no class or trait that ipywidgets 7 lacks (``EIGHT_ONLY``, from
  diffing ``class_trait_names()`` of every widget class of 7.7.1 and 8.1.9), except where the
  same file handles 7's own name for it (``SEVEN_NAMES``);
* when an ipywidgets 7 is importable from the folder ``CNNLAB_IPYWIDGETS7`` names (default
  ``build/ipywidgets7``): the widget tests run again, in a subprocess, with it first on the path.
  Make that folder with ``python -m pip install --no-deps --target build/ipywidgets7
  ipywidgets==7.7.1 ipython_genutils==0.2.0``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDGETS = ROOT / "cnnlab" / "widgets"

#: classes and traits of ipywidgets 8.1 that 7.7.1 does not have
EIGHT_ONLY = frozenset(
    {
        *("ColorsInput", "DatetimePicker", "FloatsInput", "IntsInput", "NaiveDatetimePicker"),
        *("Stack", "TagsInput", "TimePicker", "TypedTuple"),
        *("allow_duplicates", "allowed_tags", "behavior", "description_allow_html", "tabbable"),
        *("border_bottom", "border_left", "border_right", "border_top", "tag_style"),
        *("font_family", "font_size", "font_style", "font_variant", "text_color"),
        *("text_decoration", "playing", "repeat", "titles", "tooltip"),
    }
)
#: 8's name -> 7's name for the same trait: a file using the first must handle the second too
SEVEN_NAMES = {
    "playing": "_playing",
    "repeat": "_repeat",
    "titles": "_titles",
    "tooltip": "description_tooltip",
}


def _names(tree: ast.AST) -> list[tuple[str, int]]:
    """Every identifier, attribute, keyword and whole string constant, with its line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.append((node.id, node.lineno))
        elif isinstance(node, ast.Attribute):
            found.append((node.attr, node.lineno))
        elif isinstance(node, ast.keyword) and node.arg:
            found.append((node.arg, node.value.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.value, node.lineno))
        elif isinstance(node, ast.Call) and _is_button(node.func):
            # Button had `tooltip` in 7 already (the one class that did)
            found.extend(
                ("Button.tooltip", k.value.lineno) for k in node.keywords if k.arg == "tooltip"
            )
    return found


def _is_button(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute | ast.Name)
        and (getattr(func, "attr", None) or getattr(func, "id", None)) == "Button"
    )


def eight_only_uses(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: name`` for each ipywidgets-8-only name the file uses without 7's fallback."""
    names = _names(ast.parse(path.read_text(encoding="utf-8")))
    present = {name for name, _ in names}
    button_lines = {line for name, line in names if name == "Button.tooltip"}
    problems = []
    for name, line in sorted(names, key=lambda item: item[1]):
        if name not in EIGHT_ONLY or (name == "tooltip" and line in button_lines):
            continue
        if SEVEN_NAMES.get(name) in present:
            continue
        fallback = f" (ipywidgets 7 calls it {SEVEN_NAMES[name]!r})" if name in SEVEN_NAMES else ""
        problems.append(f"{path.relative_to(root)}:{line}: {name!r} is ipywidgets 8 only{fallback}")
    return problems


def test_the_widgets_use_nothing_that_ipywidgets_7_lacks() -> None:
    problems = [p for path in sorted(WIDGETS.glob("*.py")) for p in eight_only_uses(path)]
    assert problems == []


def test_the_static_check_finds_8_only_names(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import ipywidgets as widgets\n"
        "a = widgets.Stack([])\n"
        "b = widgets.IntSlider(description_allow_html=True, tooltip='t')\n"
        "c = widgets.Button(tooltip='fine in 7')\n"
        "a.playing = False\n"
    )
    assert eight_only_uses(bad, tmp_path) == [
        f"bad.py:{line}: {text}"
        for line, text in (
            (2, "'Stack' is ipywidgets 8 only"),
            (3, "'description_allow_html' is ipywidgets 8 only"),
            (3, "'tooltip' is ipywidgets 8 only (ipywidgets 7 calls it 'description_tooltip')"),
            (5, "'playing' is ipywidgets 8 only (ipywidgets 7 calls it '_playing')"),
        )
    ]


def _ipywidgets7() -> Path | None:
    """The folder holding an ipywidgets 7 to test with, or None when there is none."""
    named = os.environ.get("CNNLAB_IPYWIDGETS7")
    folder = Path(named) if named else ROOT / "build" / "ipywidgets7"
    if (folder / "ipywidgets").is_dir():
        return folder
    if named:  # asked for explicitly: a wrong path is an error, not a skip
        pytest.fail(f"CNNLAB_IPYWIDGETS7={named}: no ipywidgets package in that folder")
    return None


def test_the_widget_tests_pass_under_ipywidgets_7() -> None:
    folder = _ipywidgets7()
    if folder is None:
        pytest.skip(
            "no ipywidgets 7 to test with: python -m pip install --no-deps --target "
            "build/ipywidgets7 ipywidgets==7.7.1 ipython_genutils==0.2.0"
        )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])),
    )
    version = subprocess.run(
        [sys.executable, "-c", "import ipywidgets; print(ipywidgets.__version__)"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert version.stdout.startswith("7."), version.stdout + version.stderr
    # ipywidgets 7 warns on every widget that ipykernel.comm is deprecated: silence that, but an
    # unknown constructor argument (a trait 7 lacks) becomes an error
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-W", "ignore::DeprecationWarning"]
    command += ["-W", "error:Passing unrecognized arguments:DeprecationWarning"]
    command += ["tests/test_widgets.py", "tests/widgets"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, (
        f"under ipywidgets {version.stdout.strip()}:\n{done.stdout[-4000:]}"
    )
