"""Stored bands: the file format, reading it, and asserting a fresh run lies inside.

A band file ``results/<experiment>.<profile>.json`` holds, per config and metric, every seed's
value with their median, min and max (element-wise for per-epoch curves), plus the command
that made it, the versions, device, threads and profile, and the tolerance of each metric.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.profiles import check_profile

RESULTS = Path(__file__).resolve().parent / "results"


class BandError(AssertionError):
    """A fresh result lies outside its stored band; the message says by how much and what to do."""


class BandMissingError(FileNotFoundError):
    """No band has been stored for this experiment and profile yet."""


def band_path(name: str, profile: str, folder: Path | None = None) -> Path:
    """Where the band of experiment ``name`` on ``profile`` is stored."""
    return (folder or RESULTS) / f"{name}.{check_profile(profile)}.json"


def run_command(name: str, profile: str, seeds: int, configs: Sequence[str] = ()) -> str:
    """The command that (re)generates a band file (only ``configs``, when given)."""
    chosen = "".join(f" --config {c}" for c in configs)
    return f"python -m cnnlab experiment run {name} --profile {profile} --seeds {seeds}{chosen}"


def summarise(values: Sequence[float | Sequence[float]]) -> dict[str, Any]:
    """``{"values", "median", "min", "max"}`` of one metric over seeds (curves element-wise)."""
    if not values:
        raise ValueError("a band needs at least one seed's value")
    for v in values:
        items = v if isinstance(v, Sequence) and not isinstance(v, str) else [v]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
            raise TypeError(f"a band's values must be numbers or lists of numbers, got {v!r}")
    if all(isinstance(v, (int, float)) for v in values):
        floats = [float(v) for v in values]  # type: ignore[arg-type]
        return {
            "values": floats,
            "median": statistics.median(floats),
            "min": min(floats),
            "max": max(floats),
        }
    curves = [[float(x) for x in v] for v in values]  # type: ignore[union-attr]
    if len({len(c) for c in curves}) != 1:
        raise ValueError("per-epoch curves of one metric must have the same length on every seed")
    columns = list(zip(*curves, strict=True))
    return {
        "values": curves,
        "median": [statistics.median(c) for c in columns],
        "min": [min(c) for c in columns],
        "max": [max(c) for c in columns],
    }


def load_band(name: str, profile: str = "quick", folder: Path | None = None) -> dict[str, Any]:
    """The stored band file of experiment ``name`` on ``profile`` (a dict, as on disk)."""
    path = band_path(name, profile, folder)
    if not path.is_file():
        from cnnlab.experiments.registry import get_experiment

        seeds = get_experiment(name).seeds
        raise BandMissingError(
            f"no stored band for experiment {name!r} on the {profile} profile ({path.name}); "
            f"make one with: {run_command(name, profile, seeds)}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); regenerate it") from exc
    if not isinstance(data, dict) or "results" not in data:
        raise ValueError(f"{path} is not a band file (no 'results'); regenerate it")
    return data


@dataclass(frozen=True)
class Band:
    """One config's metric over seeds, with the tolerance a fresh run is allowed."""

    experiment: str
    profile: str
    config: str
    metric: str
    values: list[float]
    median: float
    low: float
    high: float
    tolerance: float
    command: str

    @classmethod
    def from_file(
        cls, data: Mapping[str, Any], config: str, metric: str, name: str, profile: str
    ) -> Band:
        """Pick one (config, metric) of a band file; clear errors for names it lacks."""
        results = data.get("results") if isinstance(data, Mapping) else None
        if not isinstance(results, Mapping):
            raise TypeError("data must be a band file (a dict with 'results'), see load_band")
        if config not in results:
            raise ValueError(f"band {name}.{profile} has no config {config!r}: {sorted(results)}")
        if metric not in results[config]:
            raise ValueError(
                f"band {name}.{profile}/{config} has no metric {metric!r}: "
                f"{sorted(results[config])}"
            )
        entry = results[config][metric]
        if isinstance(entry["median"], list):
            raise TypeError(f"{metric!r} is a per-epoch curve; check a final value instead")
        return cls(
            name,
            profile,
            config,
            metric,
            list(entry["values"]),
            float(entry["median"]),
            float(entry["min"]),
            float(entry["max"]),
            float(data.get("tolerance", {}).get(metric, 0.0)),
            str(data.get("command", run_command(name, profile, len(entry["values"])))),
        )

    def contains(self, value: float) -> bool:
        """True if ``value`` lies in [min - tolerance, max + tolerance]."""
        return (
            math.isfinite(value)
            and self.low - self.tolerance <= value <= self.high + self.tolerance
        )

    def describe(self) -> str:
        """``[0.781, 0.842] (median 0.812, 5 seeds, tolerance ±0.03)``."""
        return (
            f"[{self.low:.4g}, {self.high:.4g}] (median {self.median:.4g}, {len(self.values)} "
            f"seeds, tolerance ±{self.tolerance:.3g})"
        )


def check_band(
    name: str,
    config: str,
    values: Mapping[str, float],
    *,
    profile: str = "quick",
    missing_ok: bool = False,
    folder: Path | None = None,
) -> dict[str, Any] | None:
    """Assert that each fresh ``values[metric]`` lies in the stored band; print one line each.

    Returns the band file (for ``cnnlab.plots.plot_band``). Raises ``BandError`` naming the
    value, the band and the command that regenerates it, and ``BandMissingError`` when no band
    is stored for ``profile`` — unless ``missing_ok``: then it prints that and returns None.
    """
    if not isinstance(values, Mapping):
        raise TypeError(
            f"values must be a dict {{metric: value}}, e.g. {{'val_acc': 0.91}}, got "
            f"{type(values).__name__}"
        )
    if not values:
        raise ValueError(f"check_band({name!r}, {config!r}) needs at least one metric to check")
    try:
        data = load_band(name, profile, folder)
    except BandMissingError as exc:
        if not missing_ok:
            raise
        print(f"not checked: {exc}")
        return None
    for metric, value in values.items():
        band = Band.from_file(data, config, metric, name, profile)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{metric} must be a number, got {value!r}")
        if not band.contains(float(value)):
            raise BandError(
                f"{name}/{config}: {metric} = {value:.4g} lies outside the stored band "
                f"{band.describe()} on the {profile} profile. If the change is intended, "
                f"regenerate the band: {band.command}"
            )
        print(f"{metric} = {value:.4g} lies in the stored band {band.describe()}")
    return data
