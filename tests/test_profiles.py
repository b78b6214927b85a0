"""cnnlab.profiles: the quick/full compute profiles of the notebooks' parameters cells."""

from __future__ import annotations

import pytest

from cnnlab.profiles import PROFILES, check_profile, resolve_profile

SIZES = {
    "quick": {"epochs": 2, "n_train": 2000, "lr": 0.05},
    "full": {"epochs": 30, "n_train": 0, "lr": 0.1},
}


def test_check_profile() -> None:
    assert PROFILES == ("quick", "full")
    assert check_profile("quick") == "quick" and check_profile("full") == "full"
    with pytest.raises(ValueError, match="unknown profile 'fast'; valid profiles: quick, full"):
        check_profile("fast")
    with pytest.raises(TypeError, match="profile must be a string.*got 1 \\(int\\)"):
        check_profile(1)


def test_resolve_profile_picks_a_copy() -> None:
    quick = resolve_profile("quick", SIZES)
    assert quick == {"epochs": 2, "n_train": 2000, "lr": 0.05}
    quick["epochs"] = 99
    assert SIZES["quick"]["epochs"] == 2  # the notebook's table is not modified
    assert resolve_profile("full", SIZES)["epochs"] == 30


def test_resolve_profile_errors() -> None:
    with pytest.raises(ValueError, match="unknown profile 'Quick'"):
        resolve_profile("Quick", SIZES)
    with pytest.raises(TypeError, match="profile must be a string"):
        resolve_profile(None, SIZES)
    with pytest.raises(ValueError, match="sizes has no entry for profile 'full'"):
        resolve_profile("full", {"quick": SIZES["quick"]})
    with pytest.raises(ValueError, match="define different keys"):
        resolve_profile("quick", {"quick": {"epochs": 2}, "full": {"epochs": 3, "lr": 0.1}})
    with pytest.raises(TypeError, match="'epochs' is int in 'quick' but float in 'full'"):
        resolve_profile("quick", {"quick": {"epochs": 2}, "full": {"epochs": 3.0}})
