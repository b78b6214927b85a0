"""Helpers shared by the checks' tests: run a check expecting failure, read its hints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cnnlab import checks
from cnnlab.checks import CheckFailed


def failure(name: str, fn: Callable[..., Any]) -> str:
    """The message of ``checks.<name>(fn)``, which must fail."""
    with pytest.raises(CheckFailed) as info:
        getattr(checks, name)(fn)
    return str(info.value)


def hints(message: str) -> list[str]:
    """The ``Hint:`` lines of a failure message."""
    return [line for line in message.splitlines() if line.strip().startswith("Hint:")]


def stub(*args: object) -> None:
    """What a student's function is before it is written (the generated exercise's stub)."""
    # YOUR CODE HERE
    raise NotImplementedError()
