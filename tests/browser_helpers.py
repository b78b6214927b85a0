"""Helpers of the JupyterLab browser tests: the widget cases, their notebooks, the page's controls.

Each widget of the course (``Topic.widgets`` of every built topic in the manifest) is tested from
a notebook cell that builds it the way its lecture notebook does: the factory call found in
the lecture notebook, keeping its literal arguments (a call that needs the notebook's trained
model or data falls back to the factory's defaults, or to ``SETUP`` below). So a new topic's
widget is picked up without editing the tests, and no training runs in the browser.

The same code builds a twin of the widget in the test process: moving a control in the page is
mirrored by setting the twin's control, and the twin's own ``compute`` (through the widget's
machinery) gives the text the page must then show.
"""

from __future__ import annotations

import ast
import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Widgets that cannot be built from literals: their setup, ending with the widget in ``w``.
# (The feature explorer needs a model and images: an untrained, seeded simple_cnn on noise is
# enough to show every control answering; one thread so kernel and twin compute the same bits.)
SETUP: dict[str, str] = {
    "feature_explorer": (
        "import torch\n"
        "from cnnlab import widgets\n"
        "from cnnlab.models import create_model\n"
        "torch.set_num_threads(1)\n"
        "torch.manual_seed(0)\n"
        'model = create_model("simple_cnn").eval()\n'
        "images = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))\n"
        'w = widgets.feature_explorer(model, images, layer="conv2")\n'
    ),
}

# Numbers that are measured, not computed (the MobileNet explorer times the model here): masked
# before the page's text is compared with the twin's.
MEASURED = re.compile(r"\d+(?:\.\d+)?\s*ms\b")


@dataclass(frozen=True)
class WidgetCase:
    """One widget of the course: its factory name, its topic's notebook stem, its setup code."""

    name: str
    stem: str
    code: str  # defines ``w``, the widget

    def build(self) -> Any:
        """The widget built in this process (the twin of the page's)."""
        namespace: dict[str, Any] = {}
        exec(compile(self.code, f"<{self.name} setup>", "exec"), namespace)  # noqa: S102
        return namespace["w"]


def widgets_notebook(cases: list[WidgetCase]) -> dict[str, Any]:
    """A notebook (nbformat 4 JSON) with one cell per widget, in order, each ending with it."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": case.name,
            "metadata": {},
            "outputs": [],
            "source": case.code + "w",
        }
        for case in cases
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _literal_call(notebook: Path, factory: str) -> str | None:
    """``factory(...)`` as called in ``notebook``, keeping only its literal keyword arguments.

    Positional arguments are kept when all of them are literals (else none is: they depend on
    the notebook's earlier cells). None when the notebook never calls the factory (or is not
    written yet: a topic's widget can land before its notebook).
    """
    if not notebook.is_file():
        return None
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError):  # a notebook being written: the factory's defaults
        return None
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:  # IPython magics
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called != factory:
                continue
            args = [ast.unparse(a) for a in node.args if _is_literal(a)]
            if len(args) != len(node.args):
                args = []
            args += [
                f"{k.arg}={ast.unparse(k.value)}"
                for k in node.keywords
                if k.arg is not None and _is_literal(k.value)
            ]
            return f"{factory}({', '.join(args)})"
    return None


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def widget_cases() -> list[WidgetCase]:
    """Every widget of every built topic, in course order, with the code that builds it."""
    from cnnlab.course.manifest import topics

    cases = []
    for topic in topics(built=True):
        for name in topic.widgets:
            code = SETUP.get(name)
            if code is None:
                call = _literal_call(ROOT / topic.notebook, name) or f"{name}()"
                code = f"from cnnlab import widgets\nw = widgets.{call}\n"
            cases.append(WidgetCase(name, topic.stem, code))
    return cases


class MissingWidgetError(LookupError):
    """The manifest names a widget factory that ``cnnlab.widgets`` does not have (yet)."""


def resolve(case: WidgetCase) -> tuple[WidgetCase, Any]:
    """The case and its widget built here (the twin of the page's); the factory's defaults
    replace the notebook's call when that call cannot be built alone."""
    import cnnlab.widgets

    if not hasattr(cnnlab.widgets, case.name):
        raise MissingWidgetError(
            f"topic {case.stem} names widget {case.name!r}, not in cnnlab.widgets yet "
            "(the course audit, tests/test_manifest.py, reports it)"
        )
    try:
        return case, case.build()
    except Exception as err:  # noqa: BLE001 - any failure: say which widget and why
        fallback = WidgetCase(
            case.name, case.stem, f"from cnnlab import widgets\nw = widgets.{case.name}()\n"
        )
        try:
            return fallback, fallback.build()
        except Exception:  # noqa: BLE001
            raise AssertionError(
                f"{case.name} cannot be built from literals ({err}); add its setup code to "
                "SETUP in tests/browser_helpers.py"
            ) from None


def plain_text(markup: str) -> str:
    """The visible text of an HTML fragment, whitespace removed and measured numbers masked.

    Whitespace goes entirely: the page's ``textContent`` and this parse differ only in it.
    """
    text = html.unescape(re.sub(r"<[^>]*>", "", markup))
    return re.sub(r"\s+", "", MEASURED.sub("#ms", text))


def next_value(control: Any) -> Any:
    """The value one move of a student gives ``control``: a step, the next option, a toggle.

    Raises TypeError for a control the tests do not move (text, ranges, buttons).
    """
    kind = type(control).__name__
    if isinstance(control.value, tuple) and hasattr(control, "options"):  # SelectMultiple
        values = list(control._options_values)
        chosen = set(control.value)
        if len(chosen) > 1:  # deselect the first chosen option
            chosen.discard(next(v for v in values if v in chosen))
        else:  # or choose the first option not chosen yet
            chosen.add(next(v for v in values if v not in chosen))
        return tuple(v for v in values if v in chosen)  # the page sends them in option order
    if hasattr(control, "options") and hasattr(control, "index"):  # choices, SelectionSlider
        values = list(control._options_values)
        i = values.index(control.value)
        if "Slider" in kind:  # one arrow press: the next option, or the previous at the end
            return values[i + 1] if i + 1 < len(values) else values[i - 1]
        return values[(i + 1) % len(values)]
    if isinstance(control.value, bool):
        return not control.value
    if ("Slider" in kind or kind.endswith(("IntText", "FloatText"))) and isinstance(
        control.value, int | float
    ):
        step = getattr(control, "step", None) or 1
        up = control.value + step
        return up if up <= getattr(control, "max", float("inf")) else control.value - step
    raise TypeError(f"no move for {kind}")


def movable(control: Any) -> bool:
    """Whether the test moves ``control`` (sliders, choices, checkboxes, number fields)."""
    if getattr(control, "disabled", False):
        return False
    if "Slider" in type(control).__name__ and len({*getattr(control, "options", (1, 2))}) < 2:
        return False
    if getattr(control, "min", 0) == getattr(control, "max", 1):
        return False
    try:
        next_value(control)
    except TypeError:
        return False
    return True


def wait_until(
    probe: Callable[[], Any], done: Callable[[Any], bool], seconds: float, what: str
) -> Any:
    """Poll ``probe`` until ``done(result)``; fail naming ``what`` and the last result."""
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {seconds:.0f} s waiting for {what}; got {result!r}"
            )
        time.sleep(0.25)
