"""Checks of topic 15, transfer learning: ``transfer_layers`` and ``layer_lr_groups``.

* :func:`transfer_layers` checks ``transfer_layers(net_a, fresh, n, fine_tune) -> nn.Module``:
  the AnB construction of Yosinski et al. — the first ``n`` layers (conv k and bn k, weights and
  running statistics) of ``net_a`` copied into ``fresh`` (new tensors, not shared ones), frozen
  unless ``fine_tune`` (AnB+), every other layer of ``fresh`` left as it was.
* :func:`layer_lr_groups` checks ``layer_lr_groups(model, lrs) -> list[dict]``: optimizer
  parameter groups ``{"params": [...], "lr": lr}``, one per name prefix of ``lrs``, holding
  exactly the trainable parameters under that prefix (discriminative learning rates).

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

import numbers
import types
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from cnnlab.checks._core import call_student, fail, generator, ok, pick, require_callable, seeded

__all__ = ["layer_lr_groups", "transfer_layers"]

_KINDS = ("conv", "bn")


# --------------------------------------------------------------------------------------------
# transfer_layers(net_a, fresh, n, fine_tune)


def _net(channels: tuple[int, ...], seed: int) -> nn.Module:
    """A yosinski_net with random weights and random BN statistics (so a forgotten buffer or
    an uncopied layer shows)."""
    from cnnlab.transfer import yosinski_net

    with seeded(seed):
        net = yosinski_net(channels=channels)
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.normal_()
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
    return net


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    # dtype too: torch.equal calls a float64 copy of a float32 weight equal
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a.detach(), b.detach())


def _modes(net: nn.Module) -> dict[str, bool]:
    """Each module's train (True) or eval (False) mode, by name."""
    return {name: m.training for name, m in net.named_modules()}


def _layer_problem(
    k: int, n: int, got: nn.Module, a: Mapping[str, torch.Tensor], fresh: Mapping[str, torch.Tensor]
) -> str | None:
    """What is wrong with the values of layer ``k`` (conv k, bn k) of the student's net."""
    state = got.state_dict()
    params = [f"{kind}{k}.{p}" for kind in _KINDS for p in ("weight", "bias")]
    buffers = [f"bn{k}.running_mean", f"bn{k}.running_var"]
    if k <= n:
        if all(_same(state[key], fresh[key]) for key in params):
            if k == n:
                return (
                    f"layer {k} (conv{k}, bn{k}) was not copied: the first n = {n} layers are "
                    f"1..{n}; range(1, n) stops at {n - 1}, use range(1, n + 1)"
                )
            return f"layer {k} (conv{k}, bn{k}) was not copied from net A: copy layers 1..{n}"
        bad = [key for key in (*params, *buffers) if not _same(state[key], a[key])]
        if bad and state[bad[0]].dtype != a[bad[0]].dtype:
            return (
                f"{bad[0]} has dtype {state[bad[0]].dtype}, net A's {a[bad[0]].dtype}: copy the "
                "values unchanged (no .double(), .half() or .float())"
            )
        if bad and bad[0] in params:
            return f"{bad[0]} differs from net A's: copy the values unchanged"
        if bad and all(_same(state[key], fresh[key]) for key in buffers):
            return (
                f"bn{k}'s running statistics (running_mean, running_var) are still the fresh "
                "net's: they are buffers, not parameters, so copying parameters() misses them — "
                "copy the layer's state_dict()"
            )
        if bad:  # e.g. reset_running_stats() after the copy
            return (
                f"{bad[0]} differs from net A's: the running statistics are part of what net A "
                "learnt; copy them unchanged"
            )
        return None
    if all(_same(state[key], a[key]) for key in params) and not all(
        _same(state[key], fresh[key]) for key in params
    ):
        if k == n + 1:
            return f"layer {k} was copied too: that is n + 1 = {k} layers; copy only conv1..conv{n}"
        return f"layer {k} was copied from net A: only the first n = {n} layers transfer"
    changed = [key for key in (*params, *buffers) if not _same(state[key], fresh[key])]
    if changed:
        return (
            f"{changed[0]} (above n = {n}) changed: leave the fresh net's other layers as they are"
        )
    return None


def _trainable_problem(k: int, n: int, got: nn.Module, fine_tune: bool) -> str | None:
    flags = {f"{kind}{k}": [p.requires_grad for p in got.get_submodule(f"{kind}{k}").parameters()]
             for kind in _KINDS}  # fmt: skip
    if k > n:
        if not all(all(f) for f in flags.values()):
            return (
                f"layer {k} is frozen, but it lies above n = {n}: only the copied layers 1..{n} "
                "freeze; the layers above must learn B"
            )
        return None
    want = not fine_tune
    frozen = {m: not any(f) for m, f in flags.items()}
    if fine_tune and any(frozen.values()):
        return (
            f"layer {k} is frozen with fine_tune=True: AnB+ fine-tunes the copied layers too "
            "(requires_grad stays True)"
        )
    if want and not any(frozen.values()):
        return (
            f"the copied layer {k} is still trainable with fine_tune=False: AnB freezes the "
            "copied layers — p.requires_grad_(False) for each of their parameters"
        )
    if want and not all(frozen.values()):
        which = [m for m, f in frozen.items() if not f][0]
        return (
            f"{which} is still trainable: layer {k} is conv{k} and bn{k}; freeze both "
            "(batch norm's weight and bias are parameters too)"
        )
    return None


def _shared(got: nn.Module, net_a: nn.Module) -> str | None:
    mine = {t.data_ptr(): name for name, t in net_a.state_dict().items() if t.numel()}
    for name, t in got.state_dict().items():
        if t.numel() and t.data_ptr() in mine:
            return name
    return None


def transfer_layers(fn: Callable[..., Any], cases: int = 4) -> None:
    """Check ``fn(net_a, fresh, n, fine_tune) -> nn.Module``: ``fresh`` with the first ``n``
    layers of ``net_a`` copied (weights and BN statistics, new tensors), frozen unless
    ``fine_tune``; compared with :func:`cnnlab.transfer.copy_layers` and the freezing rule."""
    from cnnlab.transfer import CHANNELS, DEPTH

    name = "transfer_layers"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: AnB2 on the lecture's net; then every depth, with and without "+"
    runs = [(CHANNELS, 2, False)]
    for i in range(cases):
        channels = tuple(pick(g, 3, 9) for _ in range(DEPTH))
        runs.append((channels, 1 + i % DEPTH, i % 2 == 1))
    for i, (channels, n, fine_tune) in enumerate(runs):
        net_a, fresh = _net(channels, 100 + i), _net(channels, 200 + i)
        a_state = {k: v.clone() for k, v in net_a.state_dict().items()}
        f_state = {k: v.clone() for k, v in fresh.state_dict().items()}
        a_modes, f_modes = _modes(net_a), _modes(fresh)
        call = f"{name}(net_a, fresh, n={n}, fine_tune={fine_tune}) (channels {channels})"
        got = call_student(
            name,
            fn,
            (net_a, fresh, n, fine_tune),
            call,
            forbidden=("cnnlab.transfer.copy_layers",),
            instead="copy each layer's state_dict (or its tensors, cloned) yourself",
        )
        if got is None:
            fail(f"{name} returned None for {call}: return the fresh net with the layers copied")
        if got is net_a:
            fail(f"{name} returned net A itself for {call}: return the fresh net, changed")
        if not isinstance(got, nn.Module):
            fail(f"{name} returned a {type(got).__name__} for {call}: return the fresh net")
        if set(got.state_dict()) != set(f_state):
            missing = sorted(set(f_state) - set(got.state_dict()))
            what = f"no {missing[0]}" if missing else "entries the fresh net does not have"
            fail(
                f"{name} returned a {type(got).__name__} with {what} for {call}: return the "
                "whole fresh net, with the layers copied into it"
            )
        # before the freezing of net A: freezing a module shared with net A freezes A's too
        shared = _shared(got, net_a)
        if shared:
            fail(
                f"{name} makes the new net share {shared} with net A for {call} (aliasing): "
                "training on B would change A too. Copy the values: .clone(), copy.deepcopy or "
                "load_state_dict"
            )
        if any(not _same(v, a_state[k]) for k, v in net_a.state_dict().items()):
            fail(f"{name} changed net A for {call}: read from net A, write into the fresh net")
        if not all(p.requires_grad for p in net_a.parameters()):
            fail(
                f"{name} froze parameters of net A for {call}: freeze the copies in the fresh "
                "net, whose parameters are the ones that will train"
            )
        if _modes(net_a) != a_modes:
            fail(
                f"{name} changed net A's train/eval mode for {call} (.eval() or .train()): "
                "copying needs neither; leave net A as it was"
            )
        # The fresh net's modes do not matter (the trainer sets them every epoch, frozen batch
        # norms in eval mode), so .eval() there is harmless; but it freezes no weight, which
        # the hint says when .eval() stood in for requires_grad_(False).
        moved = any(f_modes.get(m, t) != t for m, t in _modes(got).items())
        if _same(got.state_dict()["fc.weight"], a_state["fc.weight"]):
            fail(
                f"{name} copied the head fc for {call}: fc is A's classifier (A's classes); "
                "the layers above n, the head included, stay as the fresh net has them"
            )
        problems = [_layer_problem(k, n, got, a_state, f_state) for k in range(1, DEPTH + 1)]
        frozen = [
            k
            for k in range(1, DEPTH + 1)
            if not any(p.requires_grad for p in got.get_submodule(f"conv{k}").parameters())
        ]
        if not fine_tune and frozen and not set(frozen) & set(range(1, n + 1)):
            problems.insert(
                0,
                f"layers {frozen} are frozen, the copied layers 1..{n} are not: the wrong part "
                "is frozen — freeze the copies, train the layers above n",
            )
        problems += [_trainable_problem(k, n, got, fine_tune) for k in range(1, DEPTH + 1)]
        problem = next((p for p in problems if p), None)
        if problem and moved and "trainable" in problem:
            problem += " (.eval() freezes no weight: it only switches batch norm and dropout)"
        if problem:
            fail(f"{name} is wrong for {call}:\n  Hint: {problem}.")
        if not all(p.requires_grad for p in got.get_submodule("fc").parameters()):
            fail(f"{name} froze the head fc for {call}: the new classifier must learn B")
        head = [
            key
            for key in ("fc.weight", "fc.bias")
            if not _same(got.state_dict()[key], f_state[key])
        ]
        if head:
            fail(
                f"{name} is wrong for {call}:\n  Hint: {head[0]} changed: the fresh net's head is "
                "already a new one for B; leave it as it was (no re-initialisation)."
            )
    ok(
        f"{name}: layers 1..n copied (weights and BN statistics, no shared tensors), frozen "
        f"for AnB, trainable for AnB+, the rest untouched ({len(runs)} cases)"
    )


# --------------------------------------------------------------------------------------------
# layer_lr_groups(model, lrs)


def _nested(seed: int, widths: tuple[int, int]) -> nn.Module:
    """A small ResNet-like net whose names nest (conv1, layer1.conv1, layer1.bn1) and start
    alike (fc_norm, fc: the prefix "fc" takes fc.weight, not fc_norm.weight)."""
    a, b = widths
    with seeded(seed):
        layer1 = nn.Sequential(
            OrderedDict(conv1=nn.Conv2d(a, b, 3), bn1=nn.BatchNorm2d(b), relu=nn.ReLU())
        )
        return nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(3, a, 3),
                bn1=nn.BatchNorm2d(a),
                layer1=layer1,
                pool=nn.AdaptiveAvgPool2d(1),
                flatten=nn.Flatten(1),
                fc_norm=nn.LayerNorm(b),
                fc=nn.Linear(b, 4),
            )
        )


def _expected(model: nn.Module, lrs: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for pname, p in model.named_parameters():
        if not p.requires_grad:
            continue
        for prefix, lr in lrs.items():
            if pname == prefix or pname.startswith(prefix + "."):
                out[pname] = lr
                break
    return out


def _is_number(value: object) -> bool:
    """A learning rate torch.optim takes: a real number (not a bool) or a one-value tensor."""
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 and not value.is_complex()
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _group_problem(got: object, model: nn.Module, lrs: Mapping[str, float]) -> str | None:
    if got is None:
        return "returned None: did you forget the `return` statement?"
    if not isinstance(got, list):
        once = (
            " (a generator can be read only once; the optimizer and the check both read it)"
            if isinstance(got, types.GeneratorType)
            else ""
        )
        return f"returned a {type(got).__name__}: return a list of dicts{once}"
    names = {id(p): n for n, p in model.named_parameters()}
    where: dict[str, tuple[int, float]] = {}  # parameter name -> (its group, that group's lr)
    for i, group in enumerate(got):
        if not isinstance(group, Mapping) or "params" not in group or "lr" not in group:
            return f"group {i} is {group!r:.60}: each group is a dict {{'params': [...], 'lr': lr}}"
        lr = group["lr"]
        if not _is_number(lr):
            return (
                f"group {i}'s 'lr' is a {type(lr).__name__}: it is the prefix's learning rate, "
                "one number (lrs[prefix])"
            )
        params = group["params"]
        if isinstance(params, torch.Tensor):
            params = [params]  # torch.optim takes one tensor as a group's params too
        if isinstance(params, (set, frozenset)):
            return (
                f"group {i}'s 'params' is a {type(params).__name__}: torch.optim refuses sets "
                "(their order changes from run to run); use a list"
            )
        params = list(params)
        if any(isinstance(p, str) for p in params):
            return (
                f"group {i} lists parameter names: put the parameter tensors themselves in "
                "'params' (from model.named_parameters())"
            )
        for p in params:
            if isinstance(p, tuple):
                return (
                    f"group {i} holds (name, parameter) pairs: put only the parameter of each "
                    "pair in 'params'"
                )
            if not isinstance(p, torch.Tensor):
                return f"group {i} holds a {type(p).__name__}: 'params' holds parameter tensors"
            if id(p) not in names:
                return (
                    f"group {i} holds a tensor that is not a parameter of the model (p.data, "
                    "p.detach() and p.clone() are new tensors: the optimizer would update them, "
                    "not the model): put the parameter itself"
                )
            pname = names[id(p)]
            if pname in where and where[pname][0] == i:
                return f"{pname} is twice in group {i}: add each parameter once"
            if pname in where:
                return (
                    f"{pname} is in two groups: its name contains two prefixes. Match a prefix "
                    "as name == prefix or name.startswith(prefix + '.'), not `prefix in name`, "
                    "and stop at the first prefix that matches"
                )
            if not p.requires_grad:
                return (
                    f"{pname} is frozen (requires_grad False) but sits in group {i}: leave "
                    "frozen parameters out, they get no gradient and must not be updated"
                )
            where[pname] = (i, float(lr))
    want = _expected(model, lrs)
    for pname, (i, _) in where.items():
        if pname not in want:
            alike = next((q for q in lrs if pname.startswith(q)), None)
            why = (
                f"it starts with '{alike}' but not with '{alike}.' — match name == prefix or "
                "name.startswith(prefix + '.')"
                if alike
                else "leave it out"
            )
            return f"{pname} sits in group {i} but matches no prefix of lrs: {why}"
    missing = [n for n in want if n not in where]
    if missing:
        return f"{missing[0]} is in no group: every trainable parameter needs its prefix's group"
    for pname, lr in want.items():
        if where[pname][1] != lr:
            if pname in lrs:
                return (
                    f"{pname} gets lr {where[pname][1]:g}, but {pname!r} is itself a prefix of "
                    f"lrs (lr {lr:g}): a name equal to the prefix belongs to its group"
                )
            return f"{pname} gets lr {where[pname][1]:g}, its prefix's lr is {lr:g}"
    return None


def layer_lr_groups(fn: Callable[..., Any], cases: int = 3) -> None:
    """Check ``fn(model, lrs) -> list[dict]``: one ``{"params": [...], "lr": lr}`` group per
    prefix of ``lrs`` with exactly the trainable parameters under it (each in one group),
    like ``TrainConfig(param_groups=...)`` builds them."""
    from cnnlab.transfer import layer_names, yosinski_net

    name = "layer_lr_groups"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: AnB+2 with lr rising with depth; then nested names and frozen layers
    with seeded(0):
        example = yosinski_net()
    example_lrs = {"conv1": 1e-4, "bn1": 1e-4, "conv2": 1e-3, "bn2": 1e-3,
                   "conv3": 1e-2, "bn3": 1e-2, "conv4": 1e-2, "bn4": 1e-2, "fc": 1e-2}  # fmt: skip
    runs: list[tuple[nn.Module, dict[str, float]]] = [(example, example_lrs)]
    frozen_ex = yosinski_net()
    for module in layer_names(1):
        frozen_ex.get_submodule(module).requires_grad_(False)
    runs.append((frozen_ex, example_lrs))
    for i in range(cases):
        model = _nested(300 + i, (pick(g, 2, 5), pick(g, 2, 5)))
        if i % 2:
            model.conv1.requires_grad_(False)
            model.bn1.requires_grad_(False)
        lrs = {"conv1": 0.25 * (i + 1), "bn1": 0.5, "layer1": 0.125 * (i + 2), "fc": 1.5}
        if i % 3 == 2:
            # prefixes that overlap (the first that matches wins) and one that is a whole
            # parameter name (name == prefix): a rule without `break` or without == shows
            lrs = {"layer1.conv1": 0.0625, "conv1": 0.75, "layer1": 0.375, "bn1": 0.5,
                   "fc.bias": 2.0, "fc": 1.5}  # fmt: skip
        runs.append((model, lrs))
    for model, lrs in runs:
        flags = {n: p.requires_grad for n, p in model.named_parameters()}
        frozen = [n for n, trainable in flags.items() if not trainable]
        call = f"{name}(model, {lrs}) ({len(frozen)} frozen parameters)"
        given = dict(lrs)  # call_student watches tensors and lists, not dicts
        got = call_student(
            name,
            fn,
            (model, given),
            call,
            forbidden=("cnnlab.train.params.param_groups",),
            instead="loop over model.named_parameters() and build the dicts yourself",
        )
        if given != lrs:
            fail(
                f"{name} changed the dict lrs for {call} (it is now {given}): read it, do not "
                "pop or change it — the caller uses it again"
            )
        changed = [n for n, p in model.named_parameters() if p.requires_grad != flags[n]]
        if changed:
            fail(
                f"{name} changed requires_grad of {changed[0]} for {call}: only read it; which "
                "parameters are frozen is the caller's choice"
            )
        problem = _group_problem(got, model, lrs)
        if problem:
            fail(f"{name} is wrong for {call}:\n  Hint: {problem}.")
    ok(
        f"{name}: one group per prefix, each trainable parameter in exactly one, frozen ones "
        f"left out ({len(runs)} cases)"
    )
