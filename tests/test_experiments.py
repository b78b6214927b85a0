"""Experiment bands: summarising seeds, storing atomically, asserting a fresh run, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnnlab.cli import main
from cnnlab.experiments import (
    BandError,
    BandMissingError,
    Experiment,
    bands,
    check_band,
    get_experiment,
    list_experiments,
    load_band,
    run_experiment,
    runner,
    summarise,
)


def _toy_run(config: str, seed: int, profile: str) -> dict[str, float | list[float]]:
    base = 0.5 if config == "a" else 0.8
    return {"acc": base + 0.01 * seed, "curve": [base / 2 + 0.01 * seed, base + 0.01 * seed]}


TOY = Experiment(
    name="toy",
    topic=4,
    description="a toy",
    configs=("a", "b"),
    metrics=("acc", "curve"),
    run=_toy_run,
    tolerance={"acc": 0.02},
    seeds=3,
)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The toy experiment registered, with bands stored under tmp_path."""
    from cnnlab.experiments import registry

    real = registry.get_experiment
    for module in (registry, runner):
        monkeypatch.setattr(module, "get_experiment", lambda n: TOY if n == "toy" else real(n))
    monkeypatch.setattr(bands, "RESULTS", tmp_path)
    return tmp_path


def test_summarise_scalars_and_curves() -> None:
    s = summarise([0.3, 0.1, 0.2, 0.9])
    assert (s["median"], s["min"], s["max"]) == (0.25, 0.1, 0.9) and len(s["values"]) == 4
    c = summarise([[1, 5], [3, 2], [2, 9]])
    assert c["median"] == [2, 5] and c["min"] == [1, 2] and c["max"] == [3, 9]
    with pytest.raises(ValueError, match="same length"):
        summarise([[1, 2], [1]])
    with pytest.raises(ValueError, match="at least one"):
        summarise([])


def test_run_stores_every_seed_with_provenance(toy: Path) -> None:
    data = run_experiment("toy", seeds=3, log=lambda line: None)
    stored = json.loads((toy / "toy.quick.json").read_text())
    assert stored == data
    acc = data["results"]["a"]["acc"]
    assert acc["values"] == [0.5, 0.51, 0.52] and acc["median"] == 0.51
    assert data["results"]["b"]["curve"]["max"] == pytest.approx([0.42, 0.82])
    assert data["command"] == "python -m cnnlab experiment run toy --profile quick --seeds 3"
    env = data["environment"]
    assert env["threads"] == 1 and env["torch"] and env["device"] in ("cpu", "cuda")
    assert data["seeds"] == [0, 1, 2] and data["profile"] == "quick"
    assert data["tolerance"] == {"acc": 0.02}
    # a partial rerun updates one config and keeps the other's band
    run_experiment("toy", seeds=1, configs=["b"], log=lambda line: None)
    again = json.loads((toy / "toy.quick.json").read_text())
    assert again["results"]["a"] == data["results"]["a"]
    assert again["results"]["b"]["acc"]["values"] == [0.8]
    assert not list(toy.glob(".*tmp"))  # no temporary file left behind


def test_check_band_inside_outside_and_missing(toy: Path, capsys: pytest.CaptureFixture) -> None:
    run_experiment("toy", seeds=3, log=lambda line: None)
    assert check_band("toy", "a", {"acc": 0.535}) is not None  # within the 0.02 tolerance
    assert "acc = 0.535 lies in the stored band [0.5, 0.52] (median 0.51, 3 seeds" in (
        capsys.readouterr().out
    )
    with pytest.raises(BandError) as info:
        check_band("toy", "a", {"acc": 0.45})
    message = str(info.value)
    assert "acc = 0.45 lies outside the stored band [0.5, 0.52]" in message
    assert "tolerance ±0.02" in message and "on the quick profile" in message
    assert "python -m cnnlab experiment run toy --profile quick --seeds 3" in message
    with pytest.raises(BandError):
        check_band("toy", "a", {"acc": float("nan")})
    with pytest.raises(ValueError, match="no config 'c'"):
        check_band("toy", "c", {"acc": 0.5})
    with pytest.raises(ValueError, match="no metric 'loss'"):
        check_band("toy", "a", {"loss": 0.5})
    with pytest.raises(TypeError, match="per-epoch curve"):
        check_band("toy", "a", {"curve": 0.5})
    with pytest.raises(BandMissingError, match="no stored band for experiment 'toy' on the full"):
        check_band("toy", "a", {"acc": 0.5}, profile="full")
    assert check_band("toy", "a", {"acc": 0.5}, profile="full", missing_ok=True) is None
    assert "not checked: no stored band" in capsys.readouterr().out


def test_experiment_must_return_its_metrics(toy: Path) -> None:
    bad = Experiment("toy", 4, "bad", ("a",), ("acc",), lambda c, s, p: {"acc": "high"})
    runner.get_experiment = lambda n: bad  # type: ignore[assignment]  # the fixture restores it
    with pytest.raises(TypeError, match="metric 'acc' is not numeric"):
        run_experiment("toy", seeds=1, log=lambda line: None)
    with pytest.raises(ValueError, match="no config 'z'"):
        run_experiment("toy", seeds=1, configs=["z"], log=lambda line: None)


def test_repository_bands_match_their_experiments() -> None:
    """Every experiment of the manifest has a quick band with its configs and metrics.

    A band may hold some configs only (e.g. depths meant for the full profile) when its
    command names exactly those, so that rerunning it regenerates the file.
    """
    assert list_experiments()
    for name in list_experiments():
        experiment = get_experiment(name)
        data = load_band(name, "quick")
        stored = sorted(data["results"])
        assert set(stored) <= set(experiment.configs)
        expected = bands.run_command(
            name,
            "quick",
            len(data["seeds"]),
            []
            if len(stored) == len(experiment.configs)
            else [c for c in experiment.configs if c in stored],
        )
        assert data["command"] == expected
        for config in stored:
            assert sorted(data["results"][config]) == sorted(experiment.metrics)
        assert len(data["seeds"]) >= 3, "a band needs several seeds"


def test_partial_band_records_its_configs(toy: Path) -> None:
    data = run_experiment("toy", seeds=2, configs=["a"], log=lambda line: None)
    assert data["command"].endswith("--seeds 2 --config a")


def test_cli_show_json_is_the_stored_file(capsys: pytest.CaptureFixture) -> None:
    name = list_experiments()[0]
    assert main(["experiment", "show", name, "--json"]) == 0
    path = bands.band_path(name, "quick")
    assert capsys.readouterr().out == path.read_text(encoding="utf-8")
    assert main(["experiment", "show", name]) == 0
    assert "median" in capsys.readouterr().out
    assert main(["experiment", "list"]) == 0
    assert name in capsys.readouterr().out
    assert main(["experiment", "show", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


def test_check_band_with_no_metric_and_plot_band_with_nothing_are_errors(toy: Path) -> None:
    from cnnlab.plots import plot_band, plot_cost_breakdown

    run_experiment("toy", seeds=2, log=lambda line: None)
    with pytest.raises(ValueError, match="at least one metric"):
        check_band("toy", "a", {})
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_band(None, "curve")
    with pytest.raises(TypeError, match="band must be a band file"):
        plot_band("toy", "curve")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cnnlab.cost.Summary"):
        plot_cost_breakdown("toy")
