"""The course's own small CNNs (cnnlab.models.simple): counts, names, and the hand-built net."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn

from cnnlab import viz
from cnnlab.models import create_model, list_models, model_info
from cnnlab.models.simple import build_simple_cnn


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def notebook_cnn(channels: tuple[int, int, int], num_classes: int = 10) -> nn.Sequential:
    """The network notebook 4 used to define by hand: the builder must reproduce it."""
    c1, c2, c3 = channels
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, c1, 5, padding=2)), ("bn1", nn.BatchNorm2d(c1)),
        ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(c1, c2, 3, padding=1)), ("bn2", nn.BatchNorm2d(c2)),
        ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(c2, c3, 3, padding=1)), ("bn3", nn.BatchNorm2d(c3)),
        ("relu3", nn.ReLU()),
        ("gap", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
        ("fc", nn.Linear(c3, num_classes)),
    ]))  # fmt: skip


def digits_cnn() -> nn.Sequential:
    """The exercises' digits network as it was written in the notebook."""
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 8, 3, padding=1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(8, 16, 3, padding=1)), ("bn2", nn.BatchNorm2d(16)),
        ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(16 * 4 * 4, 10)),
    ]))  # fmt: skip


def test_registered_as_course_models_without_a_paper() -> None:
    assert {"simple_cnn", "simple_cnn_digits"} <= set(list_models(scale="course", tag="simple"))
    assert model_info("simple_cnn").input_size == (3, 32, 32)
    assert model_info("simple_cnn_digits").input_size == (1, 16, 16)
    assert "own" in model_info("simple_cnn").paper


@pytest.mark.parametrize(("channels", "expected"), [((16, 16, 32), 8_634), ((32, 64, 128), 96_522)])
def test_simple_cnn_parameter_count(channels: tuple[int, int, int], expected: int) -> None:
    assert n_params(create_model("simple_cnn", channels=channels)) == expected
    assert n_params(notebook_cnn(channels)) == expected


def test_digits_cnn_parameter_count() -> None:
    assert n_params(create_model("simple_cnn_digits")) == 3_866 == n_params(digits_cnn())
    # 8×8 inputs: the flattened map is 16×2×2
    assert n_params(create_model("simple_cnn_digits", image_size=8)) == 3_866 - 192 * 10


@pytest.mark.parametrize(
    ("name", "reference", "shape"),
    [
        ("simple_cnn", lambda: notebook_cnn((16, 16, 32)), (2, 3, 32, 32)),
        ("simple_cnn_digits", digits_cnn, (2, 1, 16, 16)),
    ],
)
def test_same_modules_and_outputs_as_the_hand_built_net(
    name: str, reference: object, shape: tuple[int, ...]
) -> None:
    torch.manual_seed(0)
    ref = reference()
    torch.manual_seed(0)
    model = create_model(name)
    assert [n for n, _ in model.named_children()] == [n for n, _ in ref.named_children()]
    assert [type(m) for m in model] == [type(m) for m in ref]
    ref_state, state = ref.state_dict(), model.state_dict()
    assert list(state) == list(ref_state)
    for key in state:  # same creation order, so the same seeded initial weights
        torch.testing.assert_close(state[key], ref_state[key])
    x = torch.randn(*shape)
    torch.testing.assert_close(model(x), ref(x))
    assert viz.conv_layers(model)[0] == "conv1"
    acts = viz.activations(model, x, ["relu1", "fc"])
    assert acts["fc"].shape == (2, 10)


def test_options_and_errors() -> None:
    model = create_model("simple_cnn", channels=(4, 6, 8), num_classes=3, in_channels=1)
    assert model.conv1.weight.shape == (4, 1, 5, 5) and model.conv3.out_channels == 8
    assert model(torch.randn(1, 1, 20, 20)).shape == (1, 3)  # global pooling: any size >= 4
    with pytest.raises(ValueError, match="channels must hold 3 values"):
        create_model("simple_cnn", channels=(16, 32))
    with pytest.raises(ValueError, match=r"channels\[1\] must be an integer >= 1"):
        create_model("simple_cnn", channels=(16, 0, 32))
    with pytest.raises(TypeError, match="channels must be a sequence"):
        create_model("simple_cnn", channels=16)
    with pytest.raises(ValueError, match="image_size must be an integer >= 4"):
        create_model("simple_cnn_digits", image_size=2)
    with pytest.raises(ValueError, match="head must be one of"):
        build_simple_cnn(((3, False),), (4,), head="mlp")
    with pytest.raises(ValueError, match="needs image_size"):
        build_simple_cnn(((3, False),), (4,), head="flatten")
    # the input checks name the layer where a wrong input breaks
    with pytest.raises(ValueError, match=r"layer 'conv1' .* expects 3 input channels, got 1"):
        create_model("simple_cnn")(torch.randn(1, 1, 32, 32))
