"""Topic 15 checks (transfer_layers, layer_lr_groups) accept the reference answers and reject
classic mistakes with a hint that names the mistake."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from cnnlab.checks import CheckFailed
from cnnlab.checks import transfer as checks
from cnnlab.train.params import param_groups
from cnnlab.transfer import copy_layers, layer_names


# -- reference answers (as in solutions/15_transfer.ipynb) -------------------------------------
def transfer_layers(net_a, fresh, n, fine_tune):
    for k in range(1, n + 1):
        for kind in ("conv", "bn"):
            target = fresh.get_submodule(f"{kind}{k}")
            target.load_state_dict(net_a.get_submodule(f"{kind}{k}").state_dict())
            target.requires_grad_(fine_tune)
    return fresh


def layer_lr_groups(model, lrs):
    groups = {prefix: [] for prefix in lrs}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        for prefix in lrs:
            if name == prefix or name.startswith(prefix + "."):
                groups[prefix].append(p)
                break
    return [{"params": ps, "lr": lrs[prefix]} for prefix, ps in groups.items() if ps]


def failure(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


# -- transfer_layers ---------------------------------------------------------------------------
def test_transfer_layers_accepts_correct_variants(capsys: pytest.CaptureFixture[str]) -> None:
    checks.transfer_layers(transfer_layers)
    out = capsys.readouterr().out
    assert out.startswith("✔ transfer_layers:") and out.count("\n") == 1

    def deepcopy_modules(net_a, fresh, n, fine_tune):
        for k in range(1, n + 1):
            for kind in ("conv", "bn"):
                layer = copy.deepcopy(net_a.get_submodule(f"{kind}{k}"))
                layer.requires_grad_(fine_tune)
                setattr(fresh, f"{kind}{k}", layer)
        return fresh

    def by_state_dict(net_a, fresh, n, fine_tune):
        names = layer_names(n)
        state = fresh.state_dict()
        for key, value in net_a.state_dict().items():
            if key.split(".")[0] in names:
                state[key] = value.clone()
        fresh.load_state_dict(state)
        for name, p in fresh.named_parameters():
            if name.split(".")[0] in names:
                p.requires_grad = fine_tune
        return fresh

    checks.transfer_layers(deepcopy_modules)
    checks.transfer_layers(by_state_dict)


def _copy(net_a, fresh, n, fine_tune, *, layers=None, buffers=True, clone=True, freeze=None):
    """A configurable AnB builder for the wrong answers."""
    layers = range(1, n + 1) if layers is None else layers
    for k in layers:
        for kind in ("conv", "bn"):
            src, dst = net_a.get_submodule(f"{kind}{k}"), fresh.get_submodule(f"{kind}{k}")
            for name, p in src.named_parameters():
                getattr(dst, name).data = p.data.clone() if clone else p.data
            if kind == "bn" and buffers:
                dst.running_mean.copy_(src.running_mean)
                dst.running_var.copy_(src.running_var)
    for k in range(1, n + 1) if freeze is None else freeze:
        for kind in ("conv", "bn"):
            fresh.get_submodule(f"{kind}{k}").requires_grad_(fine_tune)
    return fresh


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda a, f, n, t: _copy(a, f, n, t, layers=range(1, n)), "range(1, n + 1)"),
        (lambda a, f, n, t: _copy(a, f, n, t, layers=range(1, n + 2)), "n + 1"),
        (lambda a, f, n, t: _copy(a, f, n, t, buffers=False), "running statistics"),
        (lambda a, f, n, t: _copy(a, f, n, t, clone=False), "aliasing"),
        (lambda a, f, n, t: _copy(a, f, n, False), "fine_tune=True"),
        (lambda a, f, n, t: _copy(a, f, n, True), "still trainable with fine_tune=False"),
        (lambda a, f, n, t: _copy(a, f, n, t, freeze=range(n + 1, 5)), "wrong part"),
        (lambda a, f, n, t: copy_layers(a, f, n), "the library function"),
        (lambda a, f, n, t: copy.deepcopy(a), "copied the head"),
        (lambda a, f, n, t: a, "net A itself"),
        (lambda a, f, n, t: None, "returned None"),
    ],
)
def test_transfer_layers_names_the_mistake(wrong: Callable[..., Any], hint: str) -> None:
    assert hint in failure(checks.transfer_layers, wrong)


def test_transfer_layers_catches_freezing_net_a_and_half_a_layer() -> None:
    def freeze_a(net_a, fresh, n, fine_tune):
        out = transfer_layers(net_a, fresh, n, fine_tune)
        for name in layer_names(n):
            net_a.get_submodule(name).requires_grad_(False)
        return out

    def conv_only(net_a, fresh, n, fine_tune):
        _copy(net_a, fresh, n, fine_tune, freeze=())
        for k in range(1, n + 1):
            fresh.get_submodule(f"conv{k}").requires_grad_(fine_tune)
        return fresh

    def head_copied(net_a, fresh, n, fine_tune):
        out = transfer_layers(net_a, fresh, n, fine_tune)
        out.fc.load_state_dict(net_a.fc.state_dict())
        return out

    assert "froze parameters of net A" in failure(checks.transfer_layers, freeze_a)
    assert "bn1 is still trainable" in failure(checks.transfer_layers, conv_only)
    assert "copied the head" in failure(checks.transfer_layers, head_copied)


# -- layer_lr_groups ---------------------------------------------------------------------------
def test_layer_lr_groups_accepts_correct_variants(capsys: pytest.CaptureFixture[str]) -> None:
    checks.layer_lr_groups(layer_lr_groups)
    out = capsys.readouterr().out
    assert out.startswith("✔ layer_lr_groups:") and out.count("\n") == 1

    def per_parameter(model, lrs):  # one group per parameter is fine for an optimizer too
        out = []
        for name, p in model.named_parameters():
            prefix = next((q for q in lrs if name == q or name.startswith(q + ".")), None)
            if p.requires_grad and prefix is not None:
                out.append({"params": [p], "lr": lrs[prefix], "weight_decay": 0.0})
        return out

    checks.layer_lr_groups(per_parameter)


def _substring(model, lrs):
    return [
        {"params": [p for n, p in model.named_parameters() if q in n and p.requires_grad], "lr": lr}
        for q, lr in lrs.items()
    ]


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_substring, "two groups"),
        (
            lambda m, lrs: [
                {"params": [p for n, p in m.named_parameters() if n.startswith(q + ".")], "lr": lr}
                for q, lr in lrs.items()
            ],
            "frozen",
        ),
        (lambda m, lrs: layer_lr_groups(m, lrs)[1:], "in no group"),
        (
            lambda m, lrs: [{**g, "lr": 0.01} for g in layer_lr_groups(m, lrs)],
            "its prefix's lr",
        ),
        (lambda m, lrs: (g for g in layer_lr_groups(m, lrs)), "generator"),
        (
            lambda m, lrs: [
                {"params": [n for n, p in m.named_parameters() if n.startswith(q + ".")], "lr": lr}
                for q, lr in lrs.items()
            ],
            "parameter names",
        ),
        (lambda m, lrs: param_groups(m, 0.01, lrs), "the library function"),
        (lambda m, lrs: [list(m.parameters())], "each group is a dict"),
        (lambda m, lrs: None, "return"),
    ],
)
def test_layer_lr_groups_names_the_mistake(wrong: Callable[..., Any], hint: str) -> None:
    assert hint in failure(checks.layer_lr_groups, wrong)


# -- new attacks: transfer_layers --------------------------------------------------------------
def test_transfer_layers_accepts_unusual_correct_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import torch
    from torch import nn

    def new_parameters(net_a, fresh, n, fine_tune):  # fresh Parameters, buffers copied in place
        for name in layer_names(n):
            src, dst = net_a.get_submodule(name), fresh.get_submodule(name)
            for pname, p in src.named_parameters():
                setattr(dst, pname, nn.Parameter(p.detach().clone(), requires_grad=fine_tune))
            for bname, b in src.named_buffers():
                getattr(dst, bname).copy_(b)
        return fresh

    def copy_under_no_grad(net_a, fresh, n, fine_tune):  # tensor by tensor, into fresh's own
        a, f = net_a.state_dict(), fresh.state_dict(keep_vars=True)
        with torch.no_grad():
            for key, value in a.items():
                if key.split(".")[0] in layer_names(n):
                    f[key].copy_(value)
        for key, p in fresh.named_parameters():
            if key.split(".")[0] in layer_names(n):
                p.requires_grad = bool(fine_tune)
        return fresh

    checks.transfer_layers(new_parameters)
    checks.transfer_layers(copy_under_no_grad)
    assert capsys.readouterr().out.count("✔ transfer_layers") == 2


def _shared_modules(net_a, fresh, n, fine_tune):
    """Puts net A's own modules into the fresh net: nothing is copied."""
    for name in layer_names(n):
        layer = net_a.get_submodule(name)
        layer.requires_grad_(fine_tune)
        setattr(fresh, name, layer)
    return fresh


def _then(extra: Callable[..., Any]) -> Callable[..., Any]:
    """The reference answer followed by ``extra(net_a, out, n)``."""

    def wrong(net_a, fresh, n, fine_tune):
        out = transfer_layers(net_a, fresh, n, fine_tune)
        extra(net_a, out, n)
        return out

    return wrong


def _reset_stats(net_a, out, n):  # "a copied layer starts with fresh statistics"
    for k in range(1, n + 1):
        out.get_submodule(f"bn{k}").reset_running_stats()


def _eval_copies(net_a, out, n):  # "frozen means eval mode"
    for name in layer_names(n):
        out.get_submodule(name).eval()


def _eval_instead_of_freezing(net_a, fresh, n, fine_tune):
    """Copies, then 'freezes' the copies with .eval() instead of requires_grad_(False)."""
    out = transfer_layers(net_a, fresh, n, True)
    if not fine_tune:
        _eval_copies(net_a, out, n)
    return out


def test_transfer_layers_accepts_a_harmless_change_of_the_fresh_nets_modes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The trainer sets the modes every epoch, so .eval() on the fresh net changes nothing."""
    checks.transfer_layers(_then(_eval_copies))
    checks.transfer_layers(_then(lambda a, out, n: out.eval()))
    assert capsys.readouterr().out.count("✔ transfer_layers") == 2


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_shared_modules, "aliasing"),
        (_then(lambda a, out, n: a.eval()), "net A's train/eval mode"),
        (_eval_instead_of_freezing, ".eval() freezes no weight"),
        (_then(lambda a, out, n: out.fc.reset_parameters()), "fc.weight changed"),
        (_then(_reset_stats), "running_mean differs from net A's"),
        (_then(lambda a, out, n: out.get_submodule("conv1").double()), "dtype"),
    ],
)
def test_transfer_layers_rejects_new_wrong_answers(wrong: Callable[..., Any], hint: str) -> None:
    assert hint in failure(checks.transfer_layers, wrong)


# -- new attacks: layer_lr_groups --------------------------------------------------------------
def test_layer_lr_groups_accepts_unusual_correct_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import re

    def by_regex(model, lrs):  # a prefix as a regular expression: the name, then "." or the end
        out = []
        taken = set()
        for prefix, lr in lrs.items():
            pattern = re.compile(re.escape(prefix) + r"(\.|$)")
            ps = [
                p
                for n, p in model.named_parameters()
                if p.requires_grad and n not in taken and pattern.match(n)
            ]
            taken |= {n for n, p in model.named_parameters() if any(p is q for q in ps)}
            if ps:
                out.append({"params": ps, "lr": lr})
        return out

    def lone_tensors(model, lrs):  # torch.optim takes a single tensor as a group's params
        return [
            {"params": g["params"][i], "lr": g["lr"]}
            for g in layer_lr_groups(model, lrs)
            for i in range(len(g["params"]))
        ]

    checks.layer_lr_groups(by_regex)
    checks.layer_lr_groups(lone_tensors)
    assert capsys.readouterr().out.count("✔ layer_lr_groups") == 2


def _groups_by(match: Callable[[str, str], bool], first_only: bool = True):
    """layer_lr_groups with another prefix rule ``match(name, prefix)``."""

    def fn(model, lrs):
        groups = {prefix: [] for prefix in lrs}
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            for prefix in lrs:
                if match(name, prefix):
                    groups[prefix].append(p)
                    if first_only:
                        break
        return [{"params": ps, "lr": lrs[prefix]} for prefix, ps in groups.items() if ps]

    return fn


def _popping(model, lrs):
    out = []
    taken = set()
    for prefix in list(lrs):
        lr = lrs.pop(prefix)  # empties the caller's dict
        ps = [p for n, p in model.named_parameters() if p.requires_grad and id(p) not in taken
              and (n == prefix or n.startswith(prefix + "."))]  # fmt: skip
        taken |= {id(p) for p in ps}
        if ps:
            out.append({"params": ps, "lr": lr})
    return out


def _twice_in_a_group(model, lrs):
    """Tests "equal" and "starts with" one after the other: an exact name is added twice."""
    groups = {q: [] for q in lrs}
    for n, p in model.named_parameters():
        q = next((q for q in lrs if n == q or n.startswith(q + ".")), None)
        if p.requires_grad and q is not None:
            if n == q:
                groups[q].append(p)
            groups[q].append(p)
    return [{"params": ps, "lr": lrs[q]} for q, ps in groups.items() if ps]


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_groups_by(lambda n, q: n.startswith(q)), "but not with 'fc.'"),
        (_groups_by(lambda n, q: n.startswith(q + ".")), "is itself a prefix"),
        (_groups_by(lambda n, q: n == q or n.startswith(q + "."), False), "two groups"),
        (
            lambda m, lrs: [
                {"params": set(g["params"]), "lr": g["lr"]} for g in layer_lr_groups(m, lrs)
            ],  # fmt: skip
            "a set",
        ),
        (
            lambda m, lrs: [
                {
                    "params": [
                        (n, p) for n, p in m.named_parameters() if any(p is q for q in g["params"])
                    ],
                    "lr": g["lr"],
                }
                for g in layer_lr_groups(m, lrs)
            ],  # fmt: skip
            "(name, parameter) pairs",
        ),
        (
            lambda m, lrs: [
                {"params": [p.data for p in g["params"]], "lr": g["lr"]}
                for g in layer_lr_groups(m, lrs)
            ],  # fmt: skip
            "put the parameter itself",
        ),
        (lambda m, lrs: [{**g, "lr": lrs} for g in layer_lr_groups(m, lrs)], "'lr' is a dict"),
        (_popping, "changed the dict lrs"),
        (
            lambda m, lrs: m.requires_grad_(True) and layer_lr_groups(m, lrs),
            "changed requires_grad",
        ),
        (
            lambda m, lrs: {q: g for q, g in zip(lrs, layer_lr_groups(m, lrs), strict=False)},
            "returned a dict: return a list",
        ),
        (_twice_in_a_group, "twice in group"),
    ],
)
def test_layer_lr_groups_rejects_new_wrong_answers(wrong: Callable[..., Any], hint: str) -> None:
    assert hint in failure(checks.layer_lr_groups, wrong)
