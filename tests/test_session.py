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
        ({"topic": 99}, ValueError, "unknown topic 99; topics: 1 cross_correlation"),
    ],
)
def test_setup_rejects_bad_parameters(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        setup(**kwargs)


def test_setup_returns_the_topics_sizes_for_the_profile() -> None:
    quick = setup(topic=4, profile="quick", seed=0)
    full = setup(topic="filter_visualisation", profile="full", seed=0)
    assert quick["epochs"] < full["epochs"] and set(quick) == set(full)
    assert setup(topic=1) == {} and setup() == {}
    quick["epochs"] = 0  # a copy: the manifest is not changed through it
    assert setup(topic=4)["epochs"] > 0


def test_seed_everything_is_the_one_seeding_function() -> None:
    import random

    import numpy as np

    from cnnlab.session import seed_everything

    draws = []
    for _ in range(2):
        assert seed_everything(2**33 + 5, threads=None) == 2**33 + 5  # over NumPy's 32 bits
        draws.append((random.random(), float(np.random.rand()), float(torch.rand(()))))
    assert draws[0] == draws[1]


def test_import_has_no_side_effects() -> None:
    import subprocess
    import sys

    code = (
        "import matplotlib, torch; before = dict(matplotlib.rcParams); s = torch.initial_seed();"
        "import cnnlab, cnnlab.session, cnnlab.profiles, cnnlab.course.manifest, cnnlab.cli;"
        "assert dict(matplotlib.rcParams) == before; assert torch.initial_seed() == s;"
        "import sys; assert 'cnnlab.models.vgg' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
