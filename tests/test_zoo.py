"""Every registered model: output shape, gradients, option overrides, cost count, bad input.

Parametrised over ``list_models()``, so families registered later are covered automatically.
Course-scale models run for real on the CPU (batch 2 at their design input, forward and
backward, finite gradients). ImageNet-scale models, and course models above
``HEAVY_MULT_ADDS``, are checked on the "meta" device: shapes and gradient flow without memory
or compute; the heavy course models also get their real CPU run, marked ``slow``.
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlab.cost import Summary, summary
from cnnlab.models import create_model, list_models, model_info

# Course models cheaper than this (multiply-adds per image) run forward + backward on the CPU in
# the default test run; heavier ones (wide/ResNeXt CIFAR nets) only in the ``slow`` run.
HEAVY_MULT_ADDS = 2e9
ALL = list_models()


@functools.cache
def meta_model(name: str) -> nn.Module:
    """The model with default options, built on the meta device (cached: read-only use)."""
    with torch.device("meta"):
        return create_model(name)


@functools.cache
def meta_cost(name: str) -> tuple[Summary, int]:
    """The model's cost table at its design input and FlopCounterMode's count of the same pass
    (one meta forward pass for both: meta tensors run slow Python shape functions)."""
    with FlopCounterMode(display=False) as counter:
        s = summary(meta_model(name), model_info(name).input_size)
    return s, counter.get_total_flops()


def is_heavy(name: str) -> bool:
    try:
        return meta_cost(name)[0].totals.mult_adds > HEAVY_MULT_ADDS
    except Exception:  # a broken model fails in the tests, not at collection
        return False


COURSE_CPU = [
    pytest.param(n, marks=[pytest.mark.slow] if is_heavy(n) else [], id=n)
    for n in list_models(scale="course")
]
# Models checked on the meta device: ImageNet scale and course models too heavy for the CPU.
META = [n for n in ALL if model_info(n).scale == "imagenet" or is_heavy(n)]


@pytest.mark.parametrize("name", COURSE_CPU)
def test_course_model_trains_on_cpu(name: str) -> None:
    info = model_info(name)
    model = create_model(name).train()
    x = torch.randn(2, *info.input_size)
    out = model(x)
    assert isinstance(out, torch.Tensor), "training-mode output must be the logits by default"
    classes = meta_cost(name)[0].rows[-1].output_shape[-1]
    assert out.shape == (2, classes)
    assert torch.isfinite(out).all()
    out.logsumexp(1).mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"
    # num_classes and in_channels overrides.
    other = create_model(name, num_classes=7, in_channels=2).eval()
    with torch.no_grad():
        assert other(torch.randn(2, 2, *info.input_size[1:])).shape == (2, 7)


def params_reaching(output: torch.Tensor) -> set[int]:
    """ids of the leaf tensors the autograd graph of ``output`` leads back to.

    Walking the graph checks gradient flow without running the backward pass, which on the
    meta device costs as much as the forward pass (Python shape functions for every op).
    """
    found: set[int] = set()
    seen: set[object] = set()
    stack = [output.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        variable = getattr(fn, "variable", None)
        if variable is not None:
            found.add(id(variable))
        stack.extend(f for f, _ in fn.next_functions)
    return found


@pytest.mark.parametrize("name", META)
def test_meta_forward_with_overrides_reaches_every_parameter(name: str) -> None:
    """Shapes and gradient flow without memory or compute, with num_classes/in_channels set."""
    info = model_info(name)
    with torch.device("meta"):
        model = create_model(name, num_classes=7, in_channels=2).train()
    out = model(torch.empty(2, 2, *info.input_size[1:], device="meta"))
    assert isinstance(out, torch.Tensor), "training-mode output must be the logits by default"
    assert out.shape == (2, 7)
    reached = params_reaching(out)
    missing = [n for n, p in model.named_parameters() if id(p) not in reached]
    assert not missing, f"parameters the output does not depend on: {missing[:5]}"


def test_graph_walk_finds_unused_parameters() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    unused = nn.Linear(2, 2)
    out = model(torch.randn(1, 3))
    reached = params_reaching(out)
    assert all(id(p) in reached for p in model.parameters())
    assert not any(id(p) in reached for p in unused.parameters())
    assert id(model[0].weight) not in params_reaching(model[1](torch.randn(1, 4)))


@pytest.mark.parametrize("name", ALL)
def test_mult_adds_equal_half_the_flop_counter(name: str) -> None:
    s, flops = meta_cost(name)
    assert s.totals.mult_adds == flops // 2 and flops % 2 == 0
    assert s.totals.params == sum(p.numel() for p in meta_model(name).parameters())
    expected = 1000 if model_info(name).scale == "imagenet" else s.rows[-1].output_shape[-1]
    assert s.rows[-1].output_shape == (1, expected)
    with pytest.raises(TypeError, match=name):
        create_model(name, no_such_option=1)


@pytest.mark.parametrize("name", ALL)
def test_bad_input_names_the_layer(name: str) -> None:
    info = model_info(name)
    model = meta_model(name).eval()
    c, h, w = info.input_size
    with pytest.raises(
        ValueError, match=rf"layer '[^']+' .* expects {c} input channels, got {c + 1}"
    ):
        model(torch.empty(1, c + 1, h, w, device="meta"))
    # A 1×1 image either works (global pooling all the way) or fails naming the layer.
    try:
        with torch.no_grad():
            out = model(torch.empty(1, c, 1, 1, device="meta"))
    except ValueError as exc:
        assert str(exc).startswith("layer '"), str(exc)
        assert "too small" in str(exc) or "input features" in str(exc)
    else:
        assert out.shape[0] == 1


def test_non_batched_input_is_rejected_clearly() -> None:
    model = create_model("lenet5_modern")
    with pytest.raises(ValueError, match=r"layer 'conv1' .* 4-D \(N, C, H, W\)"):
        model(torch.randn(1, 32, 32))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[0.0]])


def test_registry_lists_every_family_of_part_one() -> None:
    expected = {
        "lenet5", "lenet5_modern", "alexnet", "alexnet_2gpu", "zfnet", "overfeat_fast",
        "overfeat_accurate", "cnn_f", "cnn_m", "cnn_s", "alexnet_course", "vgg11", "vgg11_lrn",
        "vgg13", "vgg16_1x1", "vgg16", "vgg19", "vgg11_bn", "vgg11_lrn_bn", "vgg13_bn",
        "vgg16_1x1_bn", "vgg16_bn", "vgg19_bn", "vgg16_course", "nin", "nin_cifar", "googlenet",
        "googlenet_course", "bn_inception", "inception_v3", "inception_v4",
        "inception_resnet_v2",
    }  # fmt: skip
    assert expected <= set(ALL)
    assert {model_info(n).scale for n in expected} == {"imagenet", "course"}
    assert all(model_info(n).paper for n in ALL)
