"""Topic 6's additions to the AlexNet family: the course model's options and the tables."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.cost import summary
from cnnlab.experiments.alexnet import steps_to_target, topk_error
from cnnlab.experiments.alexnet_ensemble import ensemble_accuracy
from cnnlab.models import create_model
from cnnlab.models.layers import LRN
from cnnlab.published import get_table


def test_default_course_model_is_unchanged() -> None:
    model = create_model("alexnet_course")
    assert sum(p.numel() for p in model.parameters()) == 1_790_154
    assert isinstance(model.features.relu1, nn.ReLU) and isinstance(model.features.norm1, LRN)


def test_course_model_options() -> None:
    model = create_model(
        "alexnet_course",
        in_channels=1,
        widths=(4, 8, 8, 8, 4),
        hidden=16,
        image_size=16,
        activation="tanh",
        lrn=False,
    )
    assert isinstance(model.features.relu1, nn.Tanh) and isinstance(model.classifier.relu6, nn.Tanh)
    assert not any(isinstance(m, LRN) for m in model.modules())
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
    assert model.classifier.fc6.in_features == 4  # 16 -> 7 -> 3 -> 1: one position of 4 maps


@pytest.mark.parametrize(
    ("options", "message"),
    [({"widths": (1, 2)}, "5 conv widths"), ({"activation": "none"}, "non-linearity")],
)
def test_course_model_rejects_bad_options(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_model("alexnet_course", **options)


def test_alexnet_reproduces_the_notes_table() -> None:
    with torch.device("meta"):
        s = summary(create_model("alexnet"), (3, 227, 227))
    params = {r.name.split(".")[-1]: r.params for r in s.rows}
    for row in get_table("alexnet", "alexnet_layers").records():
        assert params[row["layer"].replace("maxpool", "pool")] == row["params"]
    assert s.totals.params == 62_378_344


def test_topk_error_on_the_abyssinian_cat() -> None:
    table = get_table("alexnet", "topk_example")
    scores = torch.tensor([table.column("score")])
    truth = torch.tensor([3])
    assert [topk_error(scores, truth, k) for k in range(1, 6)] == [1, 1, 1, 0, 0]
    with pytest.raises(ValueError):
        topk_error(scores, truth, 6)


def test_steps_to_target_and_censoring() -> None:
    assert steps_to_target([1, 1, 0.4, 0.4, 0.4], 0.5, 2) == 4
    assert steps_to_target([1, 1, 1], 0.5, 2) == 4  # never reached: one past the end


def test_ensemble_accuracy_averages_logits() -> None:
    labels = torch.tensor([0, 1, 1])
    a = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # 2 of 3 right
    b = torch.tensor([[0.0, 1.0], [0.0, 1.0], [0.0, 3.0]])  # 2 of 3 right
    acc, single = ensemble_accuracy([a, b], labels)
    assert acc == 1.0 and single == pytest.approx(2 / 3)
