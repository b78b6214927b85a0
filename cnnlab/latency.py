"""Inference cost beyond multiply-adds: measured latency, its fit against multiply-adds, and the
Pareto front of a cost/error table.

``measure_latency(model, (C, H, W))`` times one image (batch 1) in eval mode under
``torch.inference_mode``: warm-up calls first (allocators, caches, lazy initialisation), then the
median of ``repeats`` timed calls (the median ignores the odd slow call of a shared machine).
The model's train/eval mode and the thread count are restored afterwards.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Latency:
    """One model's measured latency: ``median_ms`` of ``times_ms`` (each one forward pass)."""

    median_ms: float
    times_ms: tuple[float, ...]
    input_shape: tuple[int, ...]  # (1, C, H, W)
    threads: int
    device: str


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_latency(
    model: nn.Module,
    input_size: Sequence[int],
    *,
    repeats: int = 5,
    warmup: int = 2,
    threads: int = 1,
    device: torch.device | str | None = None,
) -> Latency:
    """Median wall time (ms) of ``model`` on one zero image of ``input_size`` = (C, H, W).

    Runs on ``device`` (default: the model's), ``threads`` CPU threads, batch 1. The model is
    put in eval mode for the measurement (batch norm uses its running statistics and does not
    update them) and handed back in the mode it came in.
    """
    if repeats < 1 or warmup < 0 or threads < 1:
        raise ValueError(
            f"need repeats >= 1, warmup >= 0, threads >= 1; got {repeats}, {warmup}, {threads}"
        )
    if len(input_size) != 3:
        raise ValueError(f"input_size is (C, H, W), got {tuple(input_size)}")
    first = next(iter(model.parameters()), None)
    dev = (
        torch.device(device)
        if device is not None
        else (first.device if first is not None else torch.device("cpu"))
    )
    x = torch.zeros(1, *input_size, device=dev)
    was_training, old_threads = model.training, torch.get_num_threads()
    times = []
    try:
        torch.set_num_threads(threads)
        model.eval()
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            _sync(dev)
            for _ in range(repeats):
                start = time.perf_counter()
                model(x)
                _sync(dev)  # CUDA runs asynchronously: wait for the work, not only its launch
                times.append(1000 * (time.perf_counter() - start))
    finally:
        model.train(was_training)
        torch.set_num_threads(old_threads)
    return Latency(statistics.median(times), tuple(times), tuple(x.shape), threads, str(dev))


@dataclass(frozen=True)
class LatencyFit:
    """``latency ≈ ms_per_gmac · GMAC``: the geometric mean of the models' ms per GMAC.

    ``ratio[name]`` = measured / predicted: above 1 a model runs slower than its multiply-adds
    say, below 1 faster.
    """

    ms_per_gmac: float
    ratio: Mapping[str, float]

    def predict(self, gmac: float) -> float:
        return self.ms_per_gmac * gmac


def fit_latency(gmac: Mapping[str, float], ms: Mapping[str, float]) -> LatencyFit:
    """Fit latency (ms) proportional to multiply-adds (G) over the models of ``gmac``.

    A fit through the origin in log space: every model counts equally whatever its size.
    """
    names = list(gmac)
    if not names or set(names) != set(ms):
        raise ValueError("gmac and ms must name the same, non-empty set of models")
    if any(gmac[n] <= 0 or ms[n] <= 0 for n in names):
        raise ValueError("multiply-adds and latencies must be positive")
    log_rate = statistics.fmean(math.log(ms[n] / gmac[n]) for n in names)
    rate = math.exp(log_rate)
    return LatencyFit(rate, {n: ms[n] / (rate * gmac[n]) for n in names})


def pareto_front(rows: Iterable[tuple[str, float, float]]) -> set[str]:
    """The names of the rows (name, cost, error) that no other row dominates.

    Row b dominates row a when b costs at most as much and errs at most as much, and is
    strictly better in one of the two. Equal rows do not dominate each other.
    """
    items = list(rows)
    return {
        name
        for name, cost, err in items
        if not any(c <= cost and e <= err and (c < cost or e < err) for _, c, e in items)
    }


def course_results(
    metric: str = "val_acc", profile: str = "quick", skip: Sequence[str] = ("latency",)
) -> list[tuple[str, float, float, float]]:
    """``(label, median, min, max)`` of ``metric`` for every config of every stored band of
    ``profile`` that has it, in course order; label ``"NN experiment: config"``."""
    from cnnlab.experiments import load_band
    from cnnlab.experiments.registry import get_experiment, list_experiments

    rows = []
    for name in list_experiments():
        if name in skip:
            continue
        try:
            band = load_band(name, profile)
        except FileNotFoundError:
            continue
        topic = get_experiment(name).topic
        for config, metrics in band["results"].items():
            entry = metrics.get(metric)
            if entry is None or isinstance(entry["median"], list):
                continue
            label = f"{topic:02d} {name}: {config}"
            rows.append((label, float(entry["median"]), float(entry["min"]), float(entry["max"])))
    return rows
