"""The README: its first commands, its topics table (generated from the manifest), its links."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from cnnlab.cli import main
from cnnlab.cli.topics import (
    BEGIN,
    END,
    format_time,
    markdown_table,
    readme_table,
    readme_times,
)
from cnnlab.course import colab
from cnnlab.course.manifest import TOPICS, get_topic, topics

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
REGENERATE = "run `python -m cnnlab topics --write-readme`"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readmes_topics_table_is_the_manifests() -> None:
    table = readme_table(README.read_text(encoding="utf-8"))
    expected = markdown_table(readme_times(table))  # times are measured: the README's own
    stale = [
        f"README: {a!r}\nmanifest: {b!r}"
        for a, b in zip(table.splitlines(), expected.splitlines(), strict=False)
        if a != b
    ]
    assert table == expected, f"the README's topics table is stale ({REGENERATE}):\n" + "\n".join(
        stale[:3]
    )


def test_the_first_two_commands_are_make_course_and_make_test() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert block, "the README has no fenced command block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c][:2] == ["make course", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == "make test", "CI must run the README's test command"


def test_every_built_topic_has_its_colab_and_binder_links_and_the_badge() -> None:
    text = README.read_text(encoding="utf-8")
    assert f"[![Binder](https://mybinder.org/badge_logo.svg)]({colab.binder_url()})" in text
    for row in colab.topic_links():
        for key in ("colab", "binder", "colab_exercises", "binder_exercises"):
            assert row[key] in text, f"README lacks topic {row['number']}'s {key} link"


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_lead_to_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"^\[[^]]+\]: (\S+)$", text, re.M)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:|#", t)]
    missing = [t for t in local if not (path.parent / t).exists()]
    assert not missing, f"{path.name} links to missing files: {missing}"
    assert local or path.name != "README.md"  # the README links its notebooks and docs


def test_a_planned_topic_gets_its_row_and_links_once_built() -> None:
    # every topic may be built already: then pretend the last one is still planned
    topic = (topics(built=False) or (dataclasses.replace(TOPICS[-1], built=False),))[0]
    base = tuple(topic if t.number == topic.number else t for t in TOPICS)
    built = tuple(dataclasses.replace(t, built=True) if t is topic else t for t in base)
    before, after = markdown_table({}, base), markdown_table({}, built)
    assert str(topic.notebook) not in before and f"| {topic.number} |" in before  # "planned"
    assert str(topic.notebook) in after and colab.colab_url(topic.exercise) in after
    assert topic.title in after


def test_times_round_trip_through_the_table() -> None:
    assert [format_time(s) for s in (None, 4.4, 89.4, 150.0, 600.0)] == [
        "—",
        "4 s",
        "89 s",
        "2 min",
        "10 min",
    ]
    seconds = {get_topic(1).stem: 42.0, get_topic(2).stem: 180.0}
    table = markdown_table(seconds)
    assert readme_times(table) == seconds
    assert markdown_table(readme_times(table)) == table


def _checkout(tmp_path: Path, readme: str) -> Path:
    (tmp_path / "cnnlab").mkdir()
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    return tmp_path


def test_write_readme_replaces_the_table_and_keeps_the_readmes_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = get_topic(1).stem, get_topic(2).stem
    stale = markdown_table({one: 42.0}).replace("| 3 |", "| 3 | stale |")
    root = _checkout(tmp_path, f"# intro\n\n{BEGIN}\n{stale}\n{END}\n\n## after\n")
    (root / "build").mkdir()
    times = {"profile": "quick", "seconds": {two: 150.0}, "notebooks": {}}
    (root / "build" / "times-quick.json").write_text(json.dumps(times), encoding="utf-8")

    assert main(["topics", "--root", str(root), "--write-readme"]) == 0
    assert "topics table updated" in capsys.readouterr().out
    text = (root / "README.md").read_text(encoding="utf-8")
    assert text.startswith(f"# intro\n\n{BEGIN}\n") and text.endswith(f"\n{END}\n\n## after\n")
    assert readme_table(text) == markdown_table({one: 42.0, two: 150.0})
    assert main(["topics", "--root", str(root), "--write-readme"]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert not list(root.glob(".README*"))  # no temporary file left behind


def test_a_readme_without_the_markers_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _checkout(tmp_path, "# a README without a topics table\n")
    assert main(["topics", "--root", str(root), "--write-readme"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no topics table" in err
    assert (root / "README.md").read_text() == "# a README without a topics table\n"


def test_markdown_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "--root", str(ROOT), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| # | topic |") and all(t.title in out for t in TOPICS)
