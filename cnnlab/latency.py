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

from cnnlab._limits import check_memory
from cnnlab._validate import as_float, as_int, as_threads, check_choice


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
    from cnnlab.train import pick_device
    from cnnlab.train.inputs import describe_forward_failure

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    repeats = as_int(repeats, "repeats", minimum=1)
    warmup = as_int(warmup, "warmup", minimum=0)
    threads = as_threads(threads)
    shape = _input_shape(input_size)
    first = next((p for p in model.parameters() if p.is_floating_point()), None)
    if device is not None:
        dev = pick_device(device)
    else:
        dev = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None else torch.get_default_dtype()
    check_memory(math.prod(shape) * dtype.itemsize, f"an input of size {shape}")
    x = torch.zeros(1, *shape, device=dev, dtype=dtype)
    was_training, old_threads = model.training, torch.get_num_threads()
    times = []
    try:
        torch.set_num_threads(threads)
        model.eval()
        with torch.inference_mode():
            for i in range(warmup + repeats):
                start = time.perf_counter()
                if i == 0:  # the first call: a shape or device error names the failing layer
                    try:
                        model(x)
                    except (RuntimeError, IndexError) as exc:
                        raise describe_forward_failure(model, x, exc, type(model).__name__) from exc
                else:
                    model(x)
                _sync(dev)  # CUDA runs asynchronously: wait for the work, not only its launch
                if i >= warmup:
                    times.append(1000 * (time.perf_counter() - start))
    finally:
        model.train(was_training)
        torch.set_num_threads(old_threads)
    return Latency(statistics.median(times), tuple(times), tuple(x.shape), threads, str(dev))


def _input_shape(input_size: object) -> tuple[int, int, int]:
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Iterable):
        raise TypeError(f"input_size must be (C, H, W), got {input_size!r}")
    shape = tuple(input_size)
    if len(shape) != 3:
        raise ValueError(f"input_size is (C, H, W), got {shape}")
    c, h, w = (as_int(v, f"input_size[{i}]", minimum=1) for i, v in enumerate(shape))
    return c, h, w


@dataclass(frozen=True)
class LatencyFit:
    """``latency ≈ ms_per_gmac · GMAC``: the geometric mean of the models' ms per GMAC.

    ``ratio[name]`` = measured / predicted: above 1 a model runs slower than its multiply-adds
    say, below 1 faster.
    """

    ms_per_gmac: float
    ratio: Mapping[str, float]

    def predict(self, gmac: float) -> float:
        return self.ms_per_gmac * as_float(gmac, "gmac", minimum=0)


def _positive(values: object, name: str) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{name} must be a dict {{model: value}}, got {type(values).__name__}")
    return {n: as_float(v, f"{name}[{n!r}]", minimum=0, exclusive=True) for n, v in values.items()}


def fit_latency(gmac: Mapping[str, float], ms: Mapping[str, float]) -> LatencyFit:
    """Fit latency (ms) proportional to multiply-adds (G) over the models of ``gmac``.

    A fit through the origin in log space: every model counts equally whatever its size.
    """
    gmac, ms = _positive(gmac, "gmac"), _positive(ms, "ms")
    names = list(gmac)
    if not names or set(names) != set(ms):
        raise ValueError("gmac and ms must name the same, non-empty set of models")
    log_rate = statistics.fmean(math.log(ms[n] / gmac[n]) for n in names)
    rate = math.exp(log_rate)
    return LatencyFit(rate, {n: ms[n] / (rate * gmac[n]) for n in names})


def pareto_front(rows: Iterable[tuple[str, float, float]]) -> set[str]:
    """The names of the rows (name, cost, error) that no other row dominates.

    Row b dominates row a when b costs at most as much and errs at most as much, and is
    strictly better in one of the two. Equal rows do not dominate each other.
    """
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be a list of (name, cost, error), got {type(rows).__name__}")
    items = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or len(row) != 3:
            raise ValueError(f"rows[{i}] must be (name, cost, error), got {row!r}")
        cost, err = as_float(row[1], f"rows[{i}] cost"), as_float(row[2], f"rows[{i}] error")
        items.append((row[0], cost, err))
    names = [name for name, _, _ in items]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"rows name {twice!r} twice: the front is a set of names")
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

    if not isinstance(metric, str):
        raise TypeError(f"metric must be a metric name such as 'val_acc', got {metric!r}")
    names = list_experiments()
    skip = () if skip is None else (skip,) if isinstance(skip, str) else tuple(skip)
    skip = {check_choice(s, "experiment", names) for s in skip}
    rows, found = [], set()
    for name in names:
        if name in skip:
            continue
        try:
            band = load_band(name, profile)
        except FileNotFoundError:
            continue
        topic = get_experiment(name).topic
        for config, metrics in band["results"].items():
            found.update(m for m, e in metrics.items() if not isinstance(e["median"], list))
            entry = metrics.get(metric)
            if entry is None or isinstance(entry["median"], list):
                continue
            label = f"{topic:02d} {name}: {config}"
            rows.append((label, float(entry["median"]), float(entry["min"]), float(entry["max"])))
    if not rows:  # a typo, or a per-epoch curve: never an empty table
        raise ValueError(
            f"no stored {profile} band has a single-number metric {metric!r}; metrics: "
            f"{', '.join(sorted(found))}"
        )
    return rows
