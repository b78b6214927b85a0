"""Topic 14's measurement as a band: inference latency of ImageNet-scale models on this machine.

Configs are registry names. Each "seed" re-measures every model: ``measure_latency`` at the
model's native input (224×224; 227 for AlexNet, 299 for Inception-v3), batch 1, one CPU thread
on the quick profile (the best device on the full one), median of the profile's repeats after
its warm-up calls. The seed also fixes the random weights (latency does not depend on their
values). Stores ``latency_ms`` (varies by machine and load: the band records this machine, see
its ``environment``) and the exact ``mult_adds`` and ``params`` from the cost table.
"""

from __future__ import annotations

import torch

from cnnlab.experiments.registry import Experiment

TOPIC = 14
CONFIGS = (
    "alexnet",
    "nin",
    "vgg11",
    "vgg16",
    "googlenet",
    "inception_v3",
    "resnet18",
    "resnet50",
    "resnext50_32x4d",
    "densenet121",
    "mobilenet_v1",
)


def _run(config: str, seed: int, profile: str) -> dict[str, float]:
    from cnnlab.cost import summary
    from cnnlab.course.manifest import get_topic
    from cnnlab.latency import measure_latency
    from cnnlab.models import create_model
    from cnnlab.models.registry import model_info
    from cnnlab.train import pick_device

    sizes = get_topic(TOPIC).profile_sizes(profile)
    size = model_info(config).input_size
    torch.manual_seed(seed)
    model = create_model(config)
    cost = summary(model, size).totals
    device = torch.device("cpu") if profile == "quick" else pick_device()
    timed = measure_latency(
        model.to(device),
        size,
        repeats=sizes["latency_repeats"],
        warmup=sizes["latency_warmup"],
        device=device,
    )
    return {
        "latency_ms": timed.median_ms,
        "mult_adds": float(cost.mult_adds),
        "params": float(cost.params),
    }


EXPERIMENT = Experiment(
    name="latency",
    topic=TOPIC,
    description="inference latency (batch 1, one thread) of ImageNet models at their native input",
    configs=CONFIGS,
    metrics=("latency_ms", "mult_adds", "params"),
    run=_run,
    # Latency is not checked absolutely (another machine or load moves it by 2× and more): the
    # notebook checks ratios. Cost-table figures are exact.
    tolerance={"latency_ms": 0.0, "mult_adds": 0.0, "params": 0.0},
    seeds=5,
)
