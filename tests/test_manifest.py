"""The course manifest: one list of topics, and a test that names what a topic lacks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cnnlab.cli import main
from cnnlab.course.audit import missing_pieces, stray_notebooks
from cnnlab.course.manifest import TOPICS, Topic, get_topic, topics
from cnnlab.course.run import course_notebooks
from cnnlab.models import list_models

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("topic", topics(built=True), ids=lambda t: t.stem)
def test_every_built_topic_has_every_piece(topic: Topic) -> None:
    lacks = missing_pieces(topic, ROOT)
    assert not lacks, f"topic {topic.stem} lacks:\n  " + "\n  ".join(lacks)


def test_no_notebook_outside_the_manifest() -> None:
    assert stray_notebooks(ROOT) == []


def test_manifest_is_the_course_sequence() -> None:
    assert [t.number for t in TOPICS] == list(range(1, 16))
    assert len({t.slug for t in TOPICS}) == len(TOPICS)
    assert all(t.part in ("I", "II", "III", "IV") for t in TOPICS)
    # topics may be written out of order (12 and 13 before 10 and 11), but the course starts
    assert TOPICS[0].built
    for t in TOPICS:  # both profiles define the same keys with the same types
        assert set(t.profile_sizes("quick")) == set(t.profile_sizes("full"))
    zoo = set(list_models())  # planned topics name real models too
    assert [m for t in TOPICS for m in t.models if m not in zoo] == []
    assert get_topic(4) is get_topic("04") is get_topic("filter_visualisation")
    assert get_topic("04_filter_visualisation").notebook == Path(
        "notebooks/04_filter_visualisation.ipynb"
    )
    with pytest.raises(ValueError, match="unknown topic 'pool'; topics: 1 cross_correlation"):
        get_topic("pool")


def test_course_order_comes_from_the_manifest() -> None:
    paths = course_notebooks(ROOT / "notebooks")
    assert [p.stem for p in paths] == [t.stem for t in topics(built=True)]
    assert [p.stem for p in course_notebooks(ROOT / "solutions", "pool")] == ["03_pooling"]


def _broken_checkout(root: Path, topic: Topic) -> None:
    """A checkout with topic's lecture notebook (no parameters cell) and an unchecked exercise."""
    for folder in ("notebooks", "solutions"):
        (root / folder).mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), root / topic.notebook)
    params = new_code_cell('profile = "quick"\nseed = 0', metadata={"tags": ["parameters"]})
    solution = new_notebook(
        cells=[
            params,
            new_code_cell(f"setup(topic={topic.number}, profile=profile, seed=seed)"),
            new_code_cell(
                "def corr2d(X, K):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"
            ),
            new_code_cell("def other(X):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"),
            new_code_cell("checks.no_such_check(other)"),
        ]
    )
    nbformat.write(solution, root / topic.solution)
    (root / "README.md").write_text("# a README without the topic\n")
    nbformat.write(new_notebook(), root / "solutions" / "99_stray.ipynb")


def test_missing_pieces_names_each_one(tmp_path: Path) -> None:
    topic = Topic(
        1,
        "cross_correlation",
        "Cross-correlation",
        "I",
        "…",
        widgets=("no_such_widget",),
        models=("no_such_model",),
        experiments=("no_such_experiment",),
    )
    _broken_checkout(tmp_path, topic)
    lacks = "\n".join(missing_pieces(topic, tmp_path))
    for piece in (
        "exercises/01_cross_correlation.ipynb: missing",
        "notebooks/01_cross_correlation.ipynb: no cell tagged `parameters`",
        "notebooks/01_cross_correlation.ipynb: the cell after the parameters does not call "
        "setup(topic=1, profile=profile, seed=seed)",
        "exercise `def corr2d(X, K):` is not followed by a checks.<name>() call",
        "calls checks.no_such_check, which cnnlab.checks.cross_correlation lacks",
        "no widget cnnlab.widgets.no_such_widget",
        "no model 'no_such_model' in the registry",
        "no experiment module cnnlab/experiments/no_such_experiment.py",
        "README.md: no entry for topic 1 (Cross-correlation)",
    ):
        assert piece in lacks
    assert "solutions/01_cross_correlation.ipynb: no cell tagged" not in lacks  # it has one
    assert "solutions/99_stray.ipynb: not a topic of the course manifest" in stray_notebooks(
        tmp_path
    )


def test_topics_command_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "times-quick.json").write_text(
        json.dumps({"profile": "quick", "seconds": {"03_pooling": 12.34}})
    )
    assert main(["topics", "--root", str(ROOT), "--build", str(build)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "Pooling" in line)
    assert "notebooks/03_pooling.ipynb" in row and "12.3 s" in row and row.endswith("yes")
    assert "—" in next(line for line in out.splitlines() if "Cross-correlation" in line)
    transfer = next(line for line in out.splitlines() if "Transfer" in line)
    assert "notebooks/15_transfer.ipynb" in transfer and "(planned)" not in transfer
    assert main(["topics", "--json", "--root", str(ROOT), "--build", str(build)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["number"] for r in rows] == list(range(1, 16))
    assert rows[2]["quick_seconds"] == 12.34 and rows[2]["exercise"] is True
