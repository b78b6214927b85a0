"""What an experiment is, and finding one by name (through the course manifest)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Value = float | list[float]  # a final metric, or one value per epoch
RunFn = Callable[[str, int, str], Mapping[str, Value]]


@dataclass(frozen=True)
class Experiment:
    """A named function of (config, seed, profile) returning metrics.

    ``configs``: the configurations compared (e.g. model names); ``metrics``: what ``run``
    returns for each; ``tolerance``: per metric, how far outside the stored [min, max] of the
    seeds a fresh run may land before ``check_band`` fails (other hardware, thread counts and
    library versions move the last digits of training). ``seeds``: the default seed count.
    """

    name: str
    topic: int
    description: str
    configs: tuple[str, ...]
    metrics: tuple[str, ...]
    run: RunFn
    tolerance: Mapping[str, float] = field(default_factory=dict)
    seeds: int = 5

    def check_config(self, config: object) -> str:
        """``config`` if this experiment has it; a clear ``ValueError`` otherwise."""
        if config not in self.configs:
            raise ValueError(
                f"experiment {self.name!r} has no config {config!r}; "
                f"configs: {', '.join(self.configs)}"
            )
        return str(config)


def list_experiments() -> list[str]:
    """Every experiment named in the course manifest, in course order."""
    from cnnlab.course.manifest import topics

    return [name for t in topics() for name in t.experiments]


def get_experiment(name: object) -> Experiment:
    """The experiment ``name`` (its module's ``EXPERIMENT``); a clear error if unknown."""
    names = list_experiments()
    if not isinstance(name, str) or name not in names:
        raise ValueError(f"unknown experiment {name!r}; experiments: {', '.join(names)}")
    module = importlib.import_module(f"cnnlab.experiments.{name}")
    experiment: Experiment = module.EXPERIMENT
    return experiment


def check_metrics(experiment: Experiment, config: str, values: Mapping[str, Value]) -> None:
    """Raise ``TypeError`` unless ``values`` has exactly the experiment's metrics, as numbers."""
    if set(values) != set(experiment.metrics):
        raise TypeError(
            f"{experiment.name}/{config} returned metrics {sorted(values)}, expected "
            f"{sorted(experiment.metrics)}"
        )
    for key, value in values.items():
        items: Sequence[object] = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, (int, float)) for v in items):
            raise TypeError(f"{experiment.name}/{config}: metric {key!r} is not numeric: {value!r}")
