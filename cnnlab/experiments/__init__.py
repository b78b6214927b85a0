"""Experiments as multi-seed bands: run a named experiment over seeds, store, show, assert.

An experiment is a module ``cnnlab.experiments.<name>`` (named in a topic's row of the course
manifest) holding ``EXPERIMENT``: its configurations, metrics, tolerances and a function
``run(config, seed, profile) -> {metric: value}`` (a value is a number or a per-epoch list).
``python -m cnnlab experiment run NAME --profile quick --seeds 5`` runs every config for every
seed and stores a band file in ``cnnlab/experiments/results/`` (committed); notebooks call
``check_band`` to assert their fresh run lies inside, and ``cnnlab.plots.plot_band`` to draw it.
"""

from __future__ import annotations

from cnnlab.experiments.bands import (
    Band,
    BandError,
    BandMissingError,
    band_path,
    check_band,
    load_band,
    summarise,
)
from cnnlab.experiments.registry import Experiment, get_experiment, list_experiments
from cnnlab.experiments.runner import run_experiment

__all__ = [
    "Band",
    "BandError",
    "BandMissingError",
    "Experiment",
    "band_path",
    "check_band",
    "get_experiment",
    "list_experiments",
    "load_band",
    "run_experiment",
    "summarise",
]
