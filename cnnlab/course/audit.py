"""What a topic lacks: the pieces every built topic of the manifest must have.

``missing_pieces(topic, root)`` lists, in words a contributor can act on, each piece of
``topic`` absent from the checkout at ``root``: its three notebooks, a ``parameters`` cell and
the setup call in each, a checks module with a check after every exercise, its widgets, models
and stored experiment bands, and its entry in the README. ``tests/test_manifest.py`` fails on
any of them.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import nbformat

from cnnlab.course.colab import has_colab_cell, is_colab_cell
from cnnlab.course.exercises import BEGIN
from cnnlab.course.manifest import Topic

_CHECK_CALL = re.compile(r"\bchecks\.(\w+)\(")


def _setup_call(topic: Topic) -> str:
    return f"setup(topic={topic.number}, profile=profile, seed=seed)"


def _notebook_pieces(topic: Topic, path: Path) -> list[str]:
    """A notebook's own pieces: the Colab cell, the parameters cell, then the setup call."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and not is_colab_cell(c)]
    problems = []
    if not has_colab_cell(nb):
        problems.append(
            f"{path}: its first cell is not the current Colab setup cell "
            "(python -m cnnlab.course.colab notebooks solutions)"
        )
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if not params:
        problems.append(f"{path}: no cell tagged `parameters` (papermill's -p needs one)")
    elif not all(f"{name}:" in params[0].source for name in ("profile", "seed")):
        problems.append(f"{path}: its parameters cell does not define `profile` and `seed`")
    if len(code) < 2 or _setup_call(topic) not in code[1].source:
        problems.append(f"{path}: the cell after the parameters does not call {_setup_call(topic)}")
    return problems


def _check_pieces(topic: Topic, path: Path) -> list[str]:
    """Every exercise cell of the solution notebook is followed by a check of the topic."""
    problems = []
    try:
        provided = set(getattr(importlib.import_module(topic.checks), "__all__", ()))
    except ModuleNotFoundError:
        problems.append(f"no checks module {topic.checks} (cnnlab/checks/{topic.slug}.py)")
        provided = set()
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    exercises = [i for i, c in enumerate(cells) if BEGIN in c.source]
    if not exercises:
        problems.append(f"{path}: has no exercise ({BEGIN} region)")
    for k, i in enumerate(exercises):
        end = exercises[k + 1] if k + 1 < len(exercises) else len(cells)
        called = [m for c in cells[i:end] for m in _CHECK_CALL.findall(c.source)]
        if not called:
            first = cells[i].source.strip().splitlines()[0]
            problems.append(f"{path}: exercise `{first}` is not followed by a checks.<name>() call")
        for name in called:
            if name not in provided:
                problems.append(f"{path}: calls checks.{name}, which {topic.checks} lacks")
    return problems


def _registry_pieces(topic: Topic) -> list[str]:
    """Widgets, models and experiments the row names exist; each experiment has a quick band."""
    from cnnlab import widgets
    from cnnlab.experiments import band_path, get_experiment
    from cnnlab.models import list_models

    problems = [f"no widget cnnlab.widgets.{w}" for w in topic.widgets if not hasattr(widgets, w)]
    zoo = set(list_models())
    problems += [f"no model {m!r} in the registry" for m in topic.models if m not in zoo]
    for name in topic.experiments:
        try:
            experiment = get_experiment(name)
        except (ValueError, ModuleNotFoundError):
            problems.append(f"no experiment module cnnlab/experiments/{name}.py")
            continue
        if experiment.topic != topic.number:
            problems.append(f"experiment {name} says topic {experiment.topic}")
        if not band_path(name, "quick").is_file():
            problems.append(
                f"no stored quick band for experiment {name}: "
                f"python -m cnnlab experiment run {name} --profile quick"
            )
    return problems


def missing_pieces(topic: Topic, root: Path) -> list[str]:
    """Everything ``topic`` lacks in the checkout at ``root`` (empty: the topic is complete)."""
    problems = []
    for path in (topic.notebook, topic.solution, topic.exercise):
        if not (root / path).is_file():
            problems.append(f"{path}: missing")
    for path in (topic.notebook, topic.solution):
        if (root / path).is_file():
            problems += _notebook_pieces(topic, root / path)
    if (root / topic.solution).is_file():
        problems += _check_pieces(topic, root / topic.solution)
    problems += _registry_pieces(topic)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    if str(topic.notebook) not in text or topic.title not in text:
        problems.append(f"README.md: no entry for topic {topic.number} ({topic.title})")
    return problems


def stray_notebooks(root: Path) -> list[str]:
    """Notebooks in notebooks/, solutions/ or exercises/ that no topic of the manifest names."""
    from cnnlab.course.manifest import topics

    known = {p for t in topics(built=True) for p in (t.notebook, t.solution, t.exercise)}
    return [
        f"{path.relative_to(root)}: not a topic of the course manifest"
        for folder in ("notebooks", "solutions", "exercises")
        for path in sorted((root / folder).glob("*.ipynb"))
        if path.relative_to(root) not in known
    ]
