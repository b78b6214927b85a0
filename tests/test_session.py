"""The notebook setup cell: seeding, threads, and clear errors for bad papermill parameters."""

from __future__ import annotations

import pytest
import torch

from cnnlab.session import setup


def test_setup_seeds_and_sets_threads() -> None:
    setup(profile="quick", seed=3, threads=1)
    a = torch.rand(3)
    setup(profile="full", seed=3, threads=1)
    assert torch.equal(a, torch.rand(3))
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"profile": 1}, TypeError, "profile must be a string"),
        ({"profile": "fast"}, ValueError, "unknown profile 'fast'; valid profiles: quick, full"),
        ({"seed": "abc"}, TypeError, "seed must be an integer"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
        ({"threads": 0}, ValueError, "threads must be an integer >= 1"),
    ],
)
def test_setup_rejects_bad_parameters(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        setup(**kwargs)


def test_import_has_no_side_effects() -> None:
    import subprocess
    import sys

    code = (
        "import matplotlib, torch; before = dict(matplotlib.rcParams); s = torch.initial_seed();"
        "import cnnlab, cnnlab.session, cnnlab.profiles;"
        "assert dict(matplotlib.rcParams) == before; assert torch.initial_seed() == s;"
        "import sys; assert 'cnnlab.models.vgg' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
