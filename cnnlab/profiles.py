"""Compute profiles: the sizes a training cell uses on a CPU ("quick") or a GPU ("full").

Notebooks set ``profile`` in their papermill ``parameters`` cell; ``resolve_profile`` checks it
and merges the notebook's own sizes, so a wrong type or unknown name fails with a clear error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PROFILES: tuple[str, ...] = ("quick", "full")


def check_profile(profile: object) -> str:
    """Return ``profile`` if it is "quick" or "full"; raise a clear error otherwise."""
    if not isinstance(profile, str):
        kind = type(profile).__name__
        raise TypeError(f"profile must be a string, one of {PROFILES}, got {profile!r} ({kind})")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    return profile


def resolve_profile(profile: object, sizes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Pick ``sizes[profile]`` after checking the profile and the types of its values.

    ``sizes`` maps each profile to a dict such as ``{"epochs": 3, "n_train": 2000}``. Every
    profile must define the same keys with the same types, so a typo in one shows up at once.
    """
    name = check_profile(profile)
    if name not in sizes:
        raise ValueError(f"sizes has no entry for profile {name!r}; it has {sorted(sizes)}")
    chosen = dict(sizes[name])
    for other, values in sizes.items():
        if set(values) != set(chosen):
            raise ValueError(f"profiles {name!r} and {other!r} define different keys")
        for key, value in values.items():
            if type(value) is not type(chosen[key]):
                raise TypeError(
                    f"{key!r} is {type(chosen[key]).__name__} in {name!r} but "
                    f"{type(value).__name__} in {other!r}"
                )
    return chosen


def require_sizes(sizes: object, keys: Iterable[str], source: str) -> Mapping[str, Any]:
    """Return ``sizes`` if it is a mapping holding every one of ``keys``; ``source`` says where
    such sizes come from (``"get_topic(10).profile_sizes(profile)"``) for the message."""
    if not isinstance(sizes, Mapping):
        raise TypeError(f"sizes must be a dict such as {source}, got {type(sizes).__name__}")
    missing = [k for k in keys if k not in sizes]
    if missing:
        raise ValueError(f"sizes lacks {', '.join(map(repr, missing))}: pass {source}")
    return sizes
