"""torchvision-layout weights: our models against torchvision's, key by key and output by output.

The layouts (key -> shape) were recorded once from torchvision 0.28's classes by
``tools/record_torchvision_layouts.py`` into tests/data/torchvision_layouts/; those tests always
run. The output comparisons need torchvision's model classes (tests/torchvision_reference.py:
never a download at test time) and skip with the reason where they are not importable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnlab.models import create_model, load_pretrained
from cnnlab.models.inception import TransformInput
from cnnlab.models.pretrained import AUX_PREFIXES, TORCHVISION_MODELS

LAYOUTS = Path(__file__).parent / "data" / "torchvision_layouts"
AUX_MODELS = ("googlenet", "inception_v3")  # torchvision's defaults hold the auxiliary heads
# Input side per model for the output comparison: small enough for a CPU, large enough for
# every pool (inception_v3 needs 75, torchvision's minimum).
SIDE = {"inception_v3": 96}
SIDE_DEFAULT = 64


def _recorded(name: str) -> dict[str, list[int]]:
    return json.loads((LAYOUTS / f"{name}.json").read_text(encoding="utf-8"))["state_dict"]


def _ours(name: str, **extra: object) -> nn.Module:
    with torch.device("meta"):  # shapes only
        return create_model(name, **TORCHVISION_MODELS[name], **extra)


def _layout(model: nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def test_a_layout_file_for_every_counterpart() -> None:
    files = {p.stem for p in LAYOUTS.glob("*.json")}
    assert files == set(TORCHVISION_MODELS)
    assert len(TORCHVISION_MODELS) == 24


@pytest.mark.parametrize("name", sorted(TORCHVISION_MODELS))
def test_keys_and_shapes_are_torchvisions(name: str) -> None:
    want = _recorded(name)
    extra = {"aux_logits": True} if name in AUX_MODELS else {}
    got = _layout(_ours(name, **extra))
    assert sorted(got.keys() - want.keys()) == [], "keys torchvision does not have"
    assert sorted(want.keys() - got.keys()) == [], "torchvision keys we do not have"
    wrong = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert wrong == {}
    if name in AUX_MODELS:  # our default has no aux head: exactly torchvision's other keys
        plain = _layout(_ours(name))
        assert plain == {k: v for k, v in want.items() if not k.startswith(AUX_PREFIXES)}


def test_the_paper_googlenet_is_not_torchvisions() -> None:
    want = _recorded("googlenet")
    with torch.device("meta"):
        paper = _layout(create_model("googlenet", aux_logits=True))
    assert paper.keys() != want.keys()  # biases, LRN-free BN, 5×5: another network
    tv = create_model("googlenet", variant="torchvision", aux_logits=True)
    assert tv.maxpool4.kernel_size == 2 and tv.maxpool4.ceil_mode
    assert isinstance(tv.aux1[0], nn.AdaptiveAvgPool2d) and tv.aux1[0].output_size == 4
    assert sum(p.numel() for p in tv.parameters()) == 13_004_888
    with torch.device("meta"):
        plain = create_model("googlenet", variant="torchvision")
    assert sum(p.numel() for p in plain.parameters()) == 6_624_904
    assert plain.dropout.p == 0.2 and plain.lrn1 is None and plain.transform_input is None
    with pytest.raises(ValueError, match="variant='torchvision' has batch_norm=True"):
        create_model("googlenet", variant="torchvision", batch_norm=False)
    with pytest.raises(ValueError, match="unknown variant"):
        create_model("googlenet", variant="keras")


def test_drop_aux_and_its_message(tmp_path: Path) -> None:
    small = {"width_mult": 0.125, "num_classes": 5}
    with_aux = create_model("googlenet_course", aux_logits=True, **small)
    path = tmp_path / "aux.pt"
    torch.save(with_aux.state_dict(), path)
    plain = load_pretrained(create_model("googlenet_course", **small), path)
    assert torch.equal(plain.fc.weight, with_aux.fc.weight)
    with pytest.raises(ValueError, match=r"drop_aux=True to skip them, or build the model with"):
        load_pretrained(create_model("googlenet_course", **small), path, drop_aux=False)
    with pytest.raises(TypeError, match="drop_aux must be True or False"):
        load_pretrained(plain, path, drop_aux="yes")


def test_transform_input_is_torchvisions_formula() -> None:
    x = torch.randn(2, 3, 5, 5)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    # ImageNet-normalised input back to [0, 1] pixels, then to [-1, 1]
    assert torch.allclose(TransformInput()(x), ((x * std + mean) - 0.5) / 0.5, atol=1e-6)
    with torch.device("meta"):
        model = create_model("inception_v3", transform_input=True)
    assert isinstance(model.transform_input, TransformInput)
    with pytest.raises(ValueError, match="transform_input needs in_channels=3"):
        create_model("googlenet", in_channels=1, transform_input=True)


def test_mobilenet_relu6_option() -> None:
    relu = create_model("mobilenet_v1_cifar", alpha=0.25)
    relu6 = create_model("mobilenet_v1_cifar", alpha=0.25, activation="relu6")
    kinds = {type(m) for m in relu6.modules()}
    assert nn.ReLU6 in kinds and nn.ReLU not in kinds
    assert nn.ReLU6 not in {type(m) for m in relu.modules()}
    assert _layout(relu) == _layout(relu6)  # the same parameters: weights load either way
    relu6.load_state_dict(relu.state_dict())
    x = 50 * torch.randn(2, 3, 32, 32)  # large inputs: stem activations exceed 6
    with torch.no_grad():
        assert relu.eval().features[0](x).max() > 6
        assert relu6.eval().features[0](x).max() == 6
    with pytest.raises(ValueError, match="unknown activation"):
        create_model("mobilenet_v1", activation="gelu")


# ----------------------------------------------------------------------------------------------
# Against torchvision's classes (where importable)


def _torchvision():  # torchvision_model(), or a skip with the reason
    from torchvision_reference import UnavailableError, torchvision_model

    try:
        torchvision_model("resnet18")
    except UnavailableError as exc:
        pytest.skip(str(exc))
    return torchvision_model


def _randomise(model: nn.Module) -> None:
    # BN statistics and affine terms away from 0/1, so a mis-wired BN could not hide
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0, 0.1, generator=gen)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TORCHVISION_MODELS))
def test_torchvision_weights_give_torchvisions_outputs(name: str, tmp_path: Path) -> None:
    reference = _torchvision()(name).eval()
    _randomise(reference)
    path = tmp_path / f"{name}.pth"
    torch.save(reference.state_dict(), path)
    ours = load_pretrained(create_model(name, **TORCHVISION_MODELS[name]), path).eval()
    side = SIDE.get(name, SIDE_DEFAULT)
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want, got = reference(x), ours(x)
    assert torch.equal(got, want), f"max abs diff {(got - want).abs().max().item():.3g}"


@pytest.mark.slow
@pytest.mark.parametrize("name", AUX_MODELS)
def test_aux_heads_and_transform_input_match_torchvision(name: str, tmp_path: Path) -> None:
    # training mode with the auxiliary heads, and the Google-weights input transform
    make = _torchvision()
    reference = make(name)
    _randomise(reference)
    reference.transform_input = True
    path = tmp_path / f"{name}.pth"
    torch.save(reference.state_dict(), path)
    options = {**TORCHVISION_MODELS[name], "aux_logits": True, "transform_input": True}
    ours = load_pretrained(create_model(name, **options), path, drop_aux=False)
    side = 299 if name == "inception_v3" else 96  # v3's aux head needs 17×17 maps
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(3)  # the same dropout masks: both draw them in the same order
    want = reference.train()(x)
    torch.manual_seed(3)
    got = ours.train()(x)
    assert type(got).__name__ == type(want).__name__
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g, w), f"max abs diff {(g - w).abs().max().item():.3g}"
