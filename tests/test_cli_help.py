"""Every ``--help`` reads as plain text: no reStructuredText markup from the docstrings."""

from __future__ import annotations

import re

import pytest

from cnnlab import cli
from cnnlab.cli import COMMANDS, main, plain

MARKUP = re.compile(r"``|:[a-z]+:`")


def _help(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [[], *([name] for name in COMMANDS), *(["experiment", a] for a in ("list", "run", "show"))],
    ids=lambda argv: " ".join(argv) or "(top)",
)
def test_help_is_plain_text(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    text = _help(argv, capsys)
    assert text.startswith("usage: python -m cnnlab")
    assert not MARKUP.search(text), f"markup in `{' '.join(argv)} --help`:\n{text}"


def test_the_top_level_description_comes_from_a_docstring_with_markup(
    capsys: pytest.CaptureFixture,
) -> None:
    """So the test above can fail: its source has ``…`` that the help must not show."""
    assert "``python -m cnnlab <command> ...``" in cli.__doc__
    assert "Command line: python -m cnnlab <command> ..." in _help([], capsys)


def test_plain_strips_literals_and_roles() -> None:
    assert plain("run ``python -m cnnlab doctor``") == "run python -m cnnlab doctor"
    assert plain(":func:`cnnlab.ops.corr2d` and :class:`~cnnlab.train.TrainConfig`") == (
        "cnnlab.ops.corr2d and TrainConfig"
    )
    assert plain("see `experiment list`") == "see `experiment list`"  # a quoted command stays
