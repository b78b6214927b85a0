"""Topic 15's band: the Yosinski et al. treatments on two class splits, and the seed's
similar/different × little/lots table.

Configs (metric ``test_accuracy``, on the test images of half B; of A for baseA):

* ``baseA``, ``baseB``, ``BnB<n>``, ``AnB<n>``, ``BnB+<n>``, ``AnB+<n>`` (n = 1..4): the random
  ("similar") split of the ``shapes`` classes;
* the same names prefixed ``dissimilar/``: the split by kind (closed figures vs strokes);
* ``regime/<similar|different>-<little|lots>-<frozen|finetune|scratch>``: the seed's table.

One ``TransferLab`` per seed trains baseA and baseB once and reuses them for every treatment,
as the notebook does, so the notebook's fresh run with seed s is this experiment's seed s.
"""

from __future__ import annotations

from cnnlab.experiments.registry import Experiment

TOPIC = 15
_LABS: dict[tuple[int, str], object] = {}


def configs() -> tuple[str, ...]:
    from cnnlab.transfer import regime_configs, treatment_configs

    names = treatment_configs()
    return (
        names
        + tuple(f"dissimilar/{c}" for c in names)
        + tuple(f"regime/{c}" for c in regime_configs())
    )


def _run(config: str, seed: int, profile: str) -> dict[str, float]:
    from cnnlab.course.manifest import get_topic
    from cnnlab.transfer import TransferLab

    key = (seed, profile)
    if key not in _LABS:
        # the runner loops configs outside seeds: keep every seed's base nets (a few kB each)
        _LABS[key] = TransferLab(get_topic(TOPIC).profile_sizes(profile), seed=seed)
    lab = _LABS[key]
    group, _, name = config.rpartition("/")
    value = lab.regime(name) if group == "regime" else lab.treatment(group or "similar", name)
    return {"test_accuracy": value}


EXPERIMENT = Experiment(
    name="transfer",
    topic=TOPIC,
    description="test accuracy on half B of the Yosinski treatments (two splits) and regimes",
    configs=configs(),
    metrics=("test_accuracy",),
    run=_run,
    # one seed's run on other hardware acts like another seed: a few test images' worth
    tolerance={"test_accuracy": 0.03},
    seeds=5,
)
