"""Checks of topic 4, filter visualisation: ``capture_activations`` and ``saliency``.

* :func:`capture_activations` checks ``capture(model, x, layer)``: a forward hook that returns
  the output of the submodule named ``layer`` and is removed again, also when the forward fails;
* :func:`saliency` checks ``saliency_map(model, x, target)``: ``|∂ logits[target] / ∂ x|``
  maximised over the colour channels, computed in eval mode, leaving the model as it was.

Both run seeded random small CNNs (float64, flat and nested), handed over in train mode and in
eval mode, against references computed here directly with PyTorch (a forward hook; autograd in
eval mode), not with :mod:`cnnlab.viz`, so a bug there cannot hide one in a student's code.
They print one ``✔ ...`` line on success and raise :class:`cnnlab.checks.CheckFailed` with what
is wrong otherwise. Models are built inside :func:`~cnnlab.checks._core.seeded`, so the
notebook's global random state is not changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnlab.checks._core import (
    STUB_HINT,
    as_tensor,
    call_student,
    fail,
    first_difference,
    matches,
    ok,
    pick,
    require_callable,
    seeded,
)

__all__ = ["capture_activations", "saliency"]

# Autograd and hooks give the reference's numbers up to float64 round-off, relative to the
# largest value of the map.
_RTOL = 1e-7


def _scale(expected: torch.Tensor) -> float:
    return float(expected.abs().max()) if expected.numel() else 1.0


def _difference(got: torch.Tensor, expected: torch.Tensor, what: str) -> str | None:
    """None if ``got`` equals ``expected`` in shape, dtype and value, else a sentence."""
    problem = first_difference(got, expected, scale=_scale(expected), rtol=_RTOL, what=what, at="")
    if problem is None and got.dtype != expected.dtype:
        problem = (
            f"expected {what} of dtype {expected.dtype} (the model's dtype), got {got.dtype}: "
            "return the tensor as the model computed it, without .float() or .to(...)"
        )
    return problem


def _same(got: torch.Tensor, other: torch.Tensor) -> bool:
    """``got`` is ``other`` up to float32 round-off (to recognise a classic mistake)."""
    return matches(got, other, _scale(other))


def _modes(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def _mode_name(training: bool) -> str:
    return "train" if training else "eval"


def _mode_problem(name: str, model: nn.Module, before: list[bool], call: str) -> None:
    """Fail if the train/eval flags of ``model``'s modules differ from ``before``."""
    after = _modes(model)
    if after == before:
        return
    was, now = _mode_name(before[0]), _mode_name(after[0])
    if now != was:
        told = f"left the model in {now} mode, but it was in {was} mode before the call"
    else:
        told = "changed the train/eval mode of some of the model's layers"
    always = (
        f" (model.{'train' if now == 'train' else 'eval'}() at the end always sets {now} mode)"
        if now != was
        else ""
    )
    fail(
        f"{name} {told}, for {call}.\n  Hint: put it back the way you found it{always}: "
        "was_training = model.training before switching, model.train(was_training) at the end "
        "(in a `finally:` block)."
    )


def _hooks_left(model: nn.Module) -> list[str]:
    return [
        name or "(the model itself)"
        for name, m in model.named_modules()
        if m._forward_hooks or m._forward_pre_hooks
    ]


def _describe(model: nn.Module) -> str:
    """A one-line description: ``Sequential(Conv2d, ReLU, ...)`` with nested names kept."""

    def inner(m: nn.Module) -> str:
        children = list(m.named_children())
        if not children:
            return type(m).__name__
        return f"{type(m).__name__}({', '.join(inner(c) for _, c in children)})"

    return inner(model)


def _tensor_result(name: str, value: object, call: str) -> torch.Tensor:
    if isinstance(value, (list, tuple, dict)):
        fail(
            f"{name} returned a {type(value).__name__} for {call}; return the captured tensor "
            "itself (e.g. the value your hook stored), not the container"
        )
    return as_tensor(name, value, call)


# --------------------------------------------------------------------------------------------
# random models: a flat nn.Sequential and a nested module, float64


class _Nested(nn.Module):
    """features (two conv blocks, each a Sequential) -> head (pool, flatten, linear)."""

    def __init__(self, c_in: int, c1: int, c2: int, classes: int, bn: bool, dropout: bool):
        super().__init__()

        def block(a: int, b: int) -> nn.Sequential:
            layers: list[nn.Module] = [nn.Conv2d(a, b, 3, padding=1)]
            if bn:
                layers.append(nn.BatchNorm2d(b))
            layers.append(nn.ReLU())
            return nn.Sequential(*layers)

        self.features = nn.Sequential(block(c_in, c1), nn.MaxPool2d(2), block(c1, c2))
        head: list[nn.Module] = [nn.AdaptiveAvgPool2d(2), nn.Flatten()]
        if dropout:
            head.append(nn.Dropout(0.5))
        head.append(nn.Linear(4 * c2, classes))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _flat(c_in: int, c1: int, c2: int, classes: int, bn: bool, dropout: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c1, 3, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(c1))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU()]
    layers += [nn.AdaptiveAvgPool2d(2), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.Linear(4 * c2, classes))
    return nn.Sequential(*layers)


def _model(g: torch.Generator, case: int, *, bn: bool, dropout: bool) -> tuple[nn.Module, int]:
    """A random float64 CNN and its input channels (1 or 3)."""
    c_in = 3 if case % 2 else 1
    c1, c2, classes = pick(g, 2, 5), pick(g, 3, 6), pick(g, 3, 6)
    build = _Nested if case % 3 == 1 else _flat
    with seeded(int(torch.randint(0, 2**31 - 1, (1,), generator=g))):
        model = build(c_in, c1, c2, classes, bn, dropout).double()
        for m in model.modules():  # non-trivial statistics: eval and train mode differ
            if isinstance(m, nn.BatchNorm2d):
                with torch.no_grad():
                    m.running_mean.uniform_(-0.3, 0.3)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
    return model, c_in


def _image(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=g, dtype=torch.float64)


# --------------------------------------------------------------------------------------------
# capture(model, x, layer)


class _Fails(nn.Module):
    """A model whose forward raises after its first layer: hooks must be removed anyway."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, dtype=torch.float64)
        self.fc = nn.Linear(5, 2, dtype=torch.float64)  # does not fit the conv's output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).flatten(1))


def _reference_activation(model: nn.Module, x: torch.Tensor, layer: str) -> torch.Tensor:
    """The first output of submodule ``layer`` for the batch ``x``: a plain forward hook."""
    seen: list[torch.Tensor] = []
    module = dict(model.named_modules())[layer]
    handle = module.register_forward_hook(lambda _m, _inputs, output: seen.append(output))
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return seen[0].detach()


def capture_activations(fn: Callable[..., Any], cases: int = 12) -> None:
    """Check ``fn(model, x, layer) -> Tensor``: the output of ``dict(model.named_modules())[layer]``
    for the batch ``x`` (N, C, H, W), captured with a forward hook that is removed afterwards;
    the model is handed over in train mode and in eval mode and must keep its mode."""
    name = "capture"
    fn = require_callable("capture_activations", fn)
    g = torch.Generator().manual_seed(404)
    for case in range(cases):
        model, c_in = _model(g, case, bn=False, dropout=False)
        model.train(case % 4 in (0, 3))  # both modes, each with flat and nested models
        modes = _modes(model)
        names = [n for n, _ in model.named_modules() if n]
        layer = names[pick(g, 0, len(names) - 1)]
        if case == 0:
            layer = next(n for n, m in model.named_modules() if isinstance(m, nn.Conv2d))
        x = _image(g, pick(g, 1, 3), c_in, 8, 8)
        call = (
            f"{name}(model, x of shape {tuple(x.shape)}, {layer!r}) with model = {_describe(model)}"
        )
        got = _tensor_result(name, call_student(name, fn, (model, x, layer), call), call)
        left = _hooks_left(model)
        if left:
            fail(
                f"{name} left a hook registered on {', '.join(map(repr, left))} for {call}.\n"
                "  Hint: keep the handle that register_forward_hook returns and call "
                "handle.remove() once the forward pass is done (in a `finally:` block)."
            )
        _mode_problem(name, model, modes, call)
        expected = _reference_activation(model, x, layer)
        problem = _difference(got, expected, f"the output of {layer!r}")
        if problem is None:
            continue
        module = dict(model.named_modules())[layer]
        seen: list[torch.Tensor] = []
        handle = module.register_forward_pre_hook(lambda _m, args, seen=seen: seen.append(args[0]))
        try:
            with torch.no_grad():
                final = model(x)
        finally:
            handle.remove()
        hint = ""
        if _same(got, final):
            hint = (
                "you returned the model's final output; return what the hook captured: the "
                "`output` argument of hook(module, inputs, output)"
            )
        elif seen and _same(got, seen[0]):
            hint = (
                f"that is the *input* of {layer!r}; a forward hook is called as "
                "hook(module, inputs, output): keep its third argument"
            )
        fail(
            f"{name} is wrong for {call}:\n  {problem}."
            + (f"\n  Hint: {hint}" if hint else "")
            + f"\n  (the layer is {type(module).__name__}; look it up with "
            "dict(model.named_modules())[layer])"
        )
    with seeded(0):
        broken = _Fails()
    x = _image(g, 2, 1, 6, 6)
    call = f"{name}(model, x, 'conv') on a model whose forward pass raises after 'conv'"
    try:
        fn(broken, x, "conv")
    except NotImplementedError:
        fail(f"{name} is not implemented yet: {STUB_HINT}.")
    except Exception:  # the model's own error: expected to come through
        pass
    left = _hooks_left(broken)
    if left:
        fail(
            f"{name} left its hook registered on {', '.join(map(repr, left))} for {call}.\n"
            "  Hint: an error in the forward pass skips the lines after it; remove the hook in "
            "a `finally:` block (try: model(x) finally: handle.remove())."
        )
    ok(
        f"capture_activations: {cases} random models and layers match forward hooks, and no "
        "hook is left behind (even when the forward pass fails)"
    )


# --------------------------------------------------------------------------------------------
# saliency_map(model, x, target)


def _gradient(
    model: nn.Module, x: torch.Tensor, score: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """∂ score(model(x)) / ∂ x for one image x (C, H, W), in the model's current mode."""
    inp = x[None].clone().requires_grad_(True)
    with torch.enable_grad(), seeded(0):
        (grad,) = torch.autograd.grad(score(model(inp)), inp)
    return grad[0]


def _reference_saliency(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """``|∂ model(x)[0, target] / ∂ x|`` maximised over channels (H, W), in eval mode; the
    model's train/eval flags are restored afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        grad = _gradient(model, x, lambda out: out[0, target])
    finally:
        for m, flag in flags:
            m.training = flag
    return grad.abs().amax(dim=0).detach()


def saliency(fn: Callable[..., Any], cases: int = 10) -> None:
    """Check ``fn(model, x, target) -> Tensor``: the saliency map (H, W) of one image x (C, H, W),
    ``|∂ model(x)[0, target] / ∂ x|`` maximised over the channels, computed in eval mode, with
    the model's train/eval mode unchanged afterwards (it is handed over in both modes)."""
    name = "saliency_map"
    fn = require_callable("saliency", fn)
    g = torch.Generator().manual_seed(4004)
    for case in range(cases):
        # batch norm everywhere (eval and train mode differ); dropout in half of the models
        model, c_in = _model(g, case, bn=True, dropout=case % 2 == 1)
        training = case % 4 in (0, 3)  # both modes, each with and without dropout
        model.train(training)
        modes = _modes(model)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        x = _image(g, c_in, pick(g, 6, 9), pick(g, 6, 9))
        n_classes = [m for m in model.modules() if isinstance(m, nn.Linear)][-1].out_features
        target = pick(g, 0, n_classes - 1)
        call = (
            f"{name}(model, x of shape {tuple(x.shape)}, target={target}) with model = "
            f"{_describe(model)}"
        )
        expected = _reference_saliency(model, x, target)
        got = _tensor_result(name, call_student(name, fn, (model, x, target), call), call)
        _mode_problem(name, model, modes, call)
        changed = [k for k, v in model.state_dict().items() if not torch.equal(v, state[k])]
        if changed:
            fail(
                f"{name} changed the model's state ({', '.join(changed[:3])}) for {call}.\n  Hint: "
                "in training mode batch norm updates its running statistics on every forward "
                "pass: call model.eval() before the forward pass (and restore the mode after)."
            )
        problem = _difference(got, expected, "a saliency map")
        if problem is None:
            continue
        model.eval()
        try:
            grad = _gradient(model, x, lambda out, t=target: out[0, t])
            hints = [
                (grad.amax(0), "did you forget .abs()? Saliency is the gradient's magnitude"),
                (grad.abs().sum(0), "combine the colour channels with the maximum, not the sum"),
                (grad.abs().mean(0), "combine the colour channels with the maximum, not the mean"),
                (grad.abs()[0], "take the maximum over all colour channels, not channel 0"),
                (
                    _gradient(model, x, lambda out, t=target: out[0].softmax(0)[t]).abs().amax(0),
                    "use the raw class score model(x)[0, target], not the softmax probability",
                ),
                (
                    _gradient(model, x, lambda out: out.sum()).abs().amax(0),
                    "differentiate the target class's score model(x)[0, target], not the sum "
                    "of all scores",
                ),
            ]
            if training and not any(isinstance(m, nn.Dropout) for m in model.modules()):
                model.train()
                train_grad = _gradient(model, x, lambda out, t=target: out[0, t])
                hints.append(
                    (
                        train_grad.abs().amax(0),
                        "did you forget model.eval()? In training mode batch norm uses the "
                        "statistics of this one image",
                    )
                )
        finally:
            model.train(training)
            model.load_state_dict(state)
        c, h, w = grad.shape
        shape_hints = [
            ((c, h, w), "reduce the colour channels: grad.abs().amax(dim=0) gives an H×W map"),
            ((1, c, h, w), "drop the batch dimension (grad[0]) and reduce the colour channels"),
            ((1, h, w), "drop the batch dimension: return an H×W map"),
        ]
        hint = next((h for alt, h in hints if _same(got, alt)), None)
        if hint is None:
            hint = next((h for shape, h in shape_hints if tuple(got.shape) == shape), None)
        if hint is None and training and any(isinstance(m, nn.Dropout) for m in model.modules()):
            hint = (
                "this model has dropout: did you forget model.eval()? In training mode "
                "dropout zeroes random units on every call"
            )
        fail(f"{name} is wrong for {call}:\n  {problem}." + (f"\n  Hint: {hint}" if hint else ""))
    # the same input tensor twice: gradients must not pile up in x.grad
    model, c_in = _model(g, 0, bn=True, dropout=False)
    x = _image(g, c_in, 7, 7)
    call = f"{name}(model, x, 1) called twice with the same tensor x"
    expected = _reference_saliency(model, x, 1)
    for _ in range(2):
        got = _tensor_result(name, call_student(name, fn, (model, x, 1), call), call)
    if _difference(got, expected, "a saliency map") is not None:
        hint = ""
        if _same(got, 2 * expected):
            hint = (
                "\n  Hint: the second map is twice the first: gradients pile up in x.grad. "
                "Work on a fresh copy, x = x.clone().requires_grad_(True), or zero x.grad."
            )
        fail(f"{name} gives a different map on the second call for {call}.{hint}")
    ok(
        f"saliency: {cases} random models (batch norm, dropout) match "
        "|∂ score / ∂ x| from autograd in eval mode, with the model's mode restored"
    )
