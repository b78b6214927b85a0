"""Running an experiment over seeds and storing its band file (atomically)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab._validate import as_int, as_threads
from cnnlab.experiments.bands import band_path, run_command, summarise
from cnnlab.experiments.registry import check_metrics, get_experiment
from cnnlab.profiles import check_profile
from cnnlab.session import seed_everything

MAX_SEEDS = 1000  # a band of more seeds than this is a typo, not a plan (each seed trains)


def environment(threads: int) -> dict[str, Any]:
    """Versions, device and threads: what a band was measured with."""
    from cnnlab import __version__

    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name() if device == "cuda" else cpu_name()
    return {
        "cnnlab": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "device": device,
        "device_name": name,
        "threads": threads,
    }


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def run_experiment(
    name: str,
    *,
    profile: str = "quick",
    seeds: int | None = None,
    configs: Sequence[str] | None = None,
    threads: int = 1,
    store: bool = True,
    folder: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every config of ``name`` for seeds 0..seeds-1; return (and store) the band file.

    Each run starts from ``seed_everything(seed, threads)``. With ``configs`` (a list of config
    names, or one name) only those run;
    a stored file is then updated for them and keeps the others. The file is replaced
    atomically, so an interrupted run leaves the previous band intact.
    """
    experiment = get_experiment(name)
    profile = check_profile(profile)
    count = experiment.seeds if seeds is None else as_int(seeds, "seeds")
    if not 1 <= count <= MAX_SEEDS:
        raise ValueError(f"seeds must be between 1 and {MAX_SEEDS}, got {count}")
    threads = as_threads(threads)
    if isinstance(configs, str):
        configs = [configs]  # one config, not its letters
    if configs is not None and not configs:
        raise ValueError(
            f"configs is empty: name some of {', '.join(experiment.configs)}, or None for all"
        )
    chosen = [experiment.check_config(c) for c in (configs or experiment.configs)]
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    start = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    for config in chosen:
        per_seed: dict[str, list[Any]] = {m: [] for m in experiment.metrics}
        for seed in range(count):
            seed_everything(seed, threads)
            t0 = time.perf_counter()
            values = dict(experiment.run(config, seed, profile))
            check_metrics(experiment, config, values)
            for metric, value in values.items():
                per_seed[metric].append(value)
            shown = ", ".join(
                f"{k}={v:.4g}" for k, v in values.items() if isinstance(v, (int, float))
            )
            log(f"  {name}/{config} seed {seed}: {shown} ({time.perf_counter() - t0:.1f} s)")
        results[config] = {m: summarise(v) for m, v in per_seed.items()}
    path = band_path(name, profile, folder)
    if configs and path.is_file():  # a partial rerun keeps the other configs' bands
        old = json.loads(path.read_text(encoding="utf-8")).get("results", {})
        results = {**{k: v for k, v in old.items() if k in experiment.configs}, **results}
    data = {
        "experiment": name,
        "topic": experiment.topic,
        "description": experiment.description,
        "profile": profile,
        # the configs stored, named when they are not all of them (a partial band file)
        "command": run_command(
            name, profile, count, () if set(results) >= set(experiment.configs) else list(results)
        ),
        "seeds": list(range(count)),
        "tolerance": dict(experiment.tolerance),
        "environment": environment(threads),
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(time.perf_counter() - start, 1),
        "results": results,
    }
    if store:
        write_json(path, data)
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
