"""Topic 4 checks (capture_activations, saliency) accept the reference answers and reject
classic mistakes, a model left in the wrong mode among them (both starting modes are tested)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from cnnlab import checks as package
from cnnlab.checks import CheckFailed
from cnnlab.checks import filter_visualisation as checks


# -- reference answers (as in solutions/04_filter_visualisation.ipynb) ----------------------
def capture(model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
    module = dict(model.named_modules())[layer]
    store: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        store["output"] = output

    handle = module.register_forward_hook(hook)
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return store["output"]


def saliency_map(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    was_training = model.training
    model.eval()
    try:
        x = x.clone().requires_grad_(True)
        model(x[None])[0, target].backward()
        return x.grad.abs().amax(dim=0)
    finally:
        model.train(was_training)


def stub(*_args: object) -> Any:
    raise NotImplementedError()


# -- capture ---------------------------------------------------------------------------------
def capture_variant(kind: str) -> Callable[..., Any]:
    def fn(model: nn.Module, x: torch.Tensor, layer: str) -> Any:
        module = dict(model.named_modules())[layer]
        store: dict[str, Any] = {}

        def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...], output: Any) -> None:
            store["output"] = inputs[0] if kind == "input" else output

        handle = module.register_forward_hook(hook)
        if kind == "eval":  # switches to eval mode and leaves it there
            model.eval()
        if kind == "no_finally":
            out = model(x)
            handle.remove()
        elif kind == "never_removed":
            out = model(x)
        else:
            try:
                out = model(x)
            finally:
                handle.remove()
        if kind == "final":
            return out
        if kind == "list":
            return [store["output"]]
        if kind == "none":
            return None
        if kind == "float32":
            return store["output"].float()
        return store["output"]

    return fn


def test_capture_accepts_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    state = torch.random.get_rng_state()
    checks.capture_activations(capture)
    assert torch.equal(torch.random.get_rng_state(), state)  # global random state untouched
    out = capsys.readouterr().out
    assert out == (
        "✔ capture_activations: 12 random models and layers match forward hooks, and no hook "
        "is left behind (even when the forward pass fails)\n"
    )
    checks.capture_activations(capture_variant("try_finally"))  # no torch.no_grad: still fine


@pytest.mark.parametrize(
    "fn, message",
    [
        (stub, "capture is not implemented yet: replace `# YOUR CODE HERE`"),
        (capture_variant("never_removed"), "(?s)left a hook registered on '0'.*handle.remove()"),
        (capture_variant("no_finally"), "(?s)left its hook registered.*`finally:` block"),
        (capture_variant("input"), r"that is the \*input\* of '0'"),
        (capture_variant("final"), "you returned the model's final output"),
        (capture_variant("list"), "returned a list.*return the captured tensor itself"),
        (capture_variant("none"), "returned None.*`return` statement"),
        (
            capture_variant("float32"),
            r"of dtype torch.float64 \(the model's dtype\), got torch.float32",
        ),
        (
            capture_variant("eval"),
            r"(?s)left the model in eval mode, but it was in train mode before the call.*"
            r"model\.train\(was_training\)",
        ),
        ("capture", "expects your function itself"),
    ],
)
def test_capture_rejects_mistakes(fn: Callable[..., Any], message: str) -> None:
    with pytest.raises((CheckFailed, TypeError), match=message):
        checks.capture_activations(fn)


def test_capture_failure_names_the_shapes() -> None:
    with pytest.raises(
        CheckFailed, match=r"expected the output of '0' of shape \(3, 5, 8, 8\), got \(3, 5\)"
    ):
        checks.capture_activations(capture_variant("final"))


# -- saliency --------------------------------------------------------------------------------
def saliency_variant(kind: str) -> Callable[..., Any]:
    def fn(model: nn.Module, x: torch.Tensor, target: int) -> Any:
        was_training = model.training
        if kind != "no_eval":
            model.eval()
        try:
            inp = x if kind == "accumulate" else x.clone()
            inp.requires_grad_(True)
            out = model(inp[None])
            score = out[0].softmax(0)[target] if kind == "softmax" else out[0, target]
            if kind == "sum_scores":
                score = out.sum()
            score.backward()
            grad = inp.grad
            return {
                "no_abs": lambda: grad.amax(0),
                "sum": lambda: grad.abs().sum(0),
                "mean": lambda: grad.abs().mean(0),
                "no_reduce": lambda: grad.abs(),
                "batch": lambda: grad.abs().amax(0, keepdim=True),
            }.get(kind, lambda: grad.abs().amax(0))()
        finally:
            if kind == "always_train":
                model.train()
            elif kind != "no_restore":
                model.train(was_training)

    return fn


def test_saliency_accepts_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    state = torch.random.get_rng_state()
    checks.saliency(saliency_map)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert capsys.readouterr().out == (
        "✔ saliency: 10 random models (batch norm, dropout) match |∂ score / ∂ x| from autograd "
        "in eval mode, with the model's mode restored\n"
    )


@pytest.mark.parametrize(
    "fn, message",
    [
        (stub, "saliency_map is not implemented yet"),
        (saliency_variant("no_eval"), r"(?s)changed the model's state.*call model\.eval\(\)"),
        (
            saliency_variant("no_restore"),
            "(?s)left the model in eval mode, but it was in train mode.*model.train",
        ),
        (
            saliency_variant("always_train"),
            r"(?s)left the model in train mode, but it was in eval mode before the call.*"
            r"model\.train\(\) at the end always sets train mode.*model\.train\(was_training\)",
        ),
        (saliency_variant("no_abs"), r"did you forget \.abs\(\)"),
        (saliency_variant("sum"), "maximum, not the sum"),
        (saliency_variant("mean"), "maximum, not the mean"),
        (saliency_variant("softmax"), "not the softmax probability"),
        (saliency_variant("sum_scores"), "not the sum of all scores"),
        (saliency_variant("no_reduce"), r"(?s)shape \(9, 9\), got \(1, 9, 9\).*reduce the colour"),
        (saliency_variant("accumulate"), "twice the first: gradients pile up in x.grad"),
        (lambda model, x, target: torch.zeros(3), r"expected a saliency map of shape \(9, 9\)"),
    ],
)
def test_saliency_rejects_mistakes(fn: Callable[..., Any], message: str) -> None:
    with pytest.raises(CheckFailed, match=message):
        checks.saliency(fn)


def test_saliency_batch_dimension_hint() -> None:
    # the first case has one colour channel, so (1, H, W) reads as "reduce the channels" there;
    # the hint for a kept batch dimension shows on a 3-channel case
    def three_channel_batch(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
        result = saliency_map(model, x, target)
        return result[None] if x.shape[0] == 3 else result

    with pytest.raises(CheckFailed, match="drop the batch dimension: return an H×W map"):
        checks.saliency(three_channel_batch)


def test_both_starting_modes_are_tested() -> None:
    capture_modes: list[bool] = []
    saliency_modes: list[bool] = []

    def spy_capture(model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        capture_modes.append(model.training)
        return capture(model, x, layer)

    def spy_saliency(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
        saliency_modes.append(model.training)
        return saliency_map(model, x, target)

    checks.capture_activations(spy_capture)
    checks.saliency(spy_saliency)
    assert capture_modes[:4] == [True, False, False, True]
    assert saliency_modes[:4] == [True, False, False, True]


def test_a_layer_left_in_another_mode_is_reported() -> None:
    def one_layer(model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
        result = capture(model, x, layer)
        list(model.modules())[-1].train(not model.training)
        return result

    with pytest.raises(CheckFailed, match="changed the train/eval mode of some of the model's"):
        checks.capture_activations(one_layer)


def test_the_package_exports_the_checks() -> None:
    assert package.capture_activations is checks.capture_activations
    assert package.saliency is checks.saliency
    assert checks.__all__ == ["capture_activations", "saliency"]


def test_references_are_independent_of_viz_and_agree_with_it() -> None:
    import inspect

    from cnnlab import viz

    assert "viz." not in inspect.getsource(checks).split('"""', 2)[2]  # code, not the docstring
    g = torch.Generator().manual_seed(7)
    for case in range(4):
        model, c_in = checks._model(g, case, bn=True, dropout=case % 2 == 1)
        model.train()
        x = checks._image(g, 2, c_in, 8, 8)
        for layer in [n for n, _ in model.named_modules() if n]:
            got = checks._reference_activation(model.eval(), x, layer)
            expected = viz.activations(model, x, layer)[layer]
            torch.testing.assert_close(got, expected)
        model.train()
        state = {k: v.clone() for k, v in model.state_dict().items()}
        ref = checks._reference_saliency(model, x[0], 1)
        assert all(m.training for m in model.modules())
        assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
        torch.testing.assert_close(ref, viz.saliency(model, x[0], 1))
        # and against a hand-written autograd computation in eval mode
        model.eval()
        inp = x[:1].clone().requires_grad_(True)
        model(inp)[0, 1].backward()
        torch.testing.assert_close(ref, inp.grad[0].abs().amax(0))
