"""The module harness: an ``nn.Module`` a student wrote against a reference module.

:func:`module_matches` builds both with the same constructor arguments, aligns parameters and
buffers by name (listing what is missing, extra or of another shape), then compares outputs in
train and eval mode, every buffer after each forward (running statistics), and the gradients of
inputs and parameters, on several seeded random inputs. For topic 10's batch norm, topic 9's
inception module, topic 11's residual block.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from cnnlab.checks._core import (
    CheckFailed,
    as_tensor,
    call_student,
    fail,
    first_difference,
    generator,
    ok,
    pick,
    require_callable,
    seeded,
    shape_of,
)

__all__ = ["module_matches"]

# --------------------------------------------------------------------------------------------
# the module harness: a student's nn.Module against a reference module


def _ctor(label: str, kwargs: Mapping[str, Any]) -> str:
    return f"{label}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _state(module: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    return dict(module.named_parameters()), dict(module.named_buffers())


def _describe_tensor(kind: str, t: torch.Tensor) -> str:
    return f"{kind}, shape {tuple(t.shape)}"


def _align(
    name: str,
    student: nn.Module,
    reference: nn.Module,
    ctor: str,
    ref_label: str,
    ignore: Collection[str],
) -> None:
    """Fail unless the student's parameters and buffers have the reference's names, kinds
    (parameter or buffer) and shapes; names in ``ignore`` may be missing or extra."""
    ref_p, ref_b = _state(reference)
    st_p, st_b = _state(student)
    problems: list[str] = []
    hints: list[str] = []
    for key, t in {**ref_p, **ref_b}.items():
        if key in ignore:
            continue
        kind = "parameter" if key in ref_p else "buffer"
        mine = st_p.get(key, st_b.get(key))
        if mine is None:
            problems.append(f"missing {kind} {key!r} ({_describe_tensor(kind, t)})")
            owner_name, _, attr = key.rpartition(".")
            try:
                owner = student.get_submodule(owner_name)
            except AttributeError:
                owner = None
            if owner is not None and isinstance(getattr(owner, attr, None), torch.Tensor):
                registration = (
                    f"self.{attr} = nn.Parameter(...)"
                    if kind == "parameter"
                    else f"self.register_buffer({attr!r}, ...)"
                )
                hints.append(
                    f"{key!r} is a plain tensor attribute, invisible to .to(), state_dict() and "
                    f"the optimiser: register it with {registration}"
                )
        elif (key in st_p) != (key in ref_p):
            problems.append(
                f"{key!r} is a {'parameter' if key in st_p else 'buffer'} in yours but a {kind} "
                f"in {ref_label}"
            )
            hints.append(
                f"{key!r} must be a buffer (self.register_buffer): it is state, not learnt by "
                "the optimiser"
                if kind == "buffer"
                else f"{key!r} must be an nn.Parameter: it is learnt by the optimiser"
            )
        elif tuple(mine.shape) != tuple(t.shape):
            problems.append(
                f"{kind} {key!r} has shape {tuple(mine.shape)}, expected {tuple(t.shape)}"
            )
    extra = [k for k in (*st_p, *st_b) if k not in ref_p and k not in ref_b and k not in ignore]
    if extra:
        problems.append(f"extra: {', '.join(map(repr, extra))} (not in {ref_label})")
    if problems:
        lines = [f"{name}: the parameters and buffers of {ctor} do not match {ref_label}'s:"]
        lines += [f"  {p}" for p in problems]
        lines += [f"  Hint: {h}" for h in hints]
        lines.append(
            f"  (the check copies {ref_label}'s values into yours by name: "
            f"{', '.join(repr(k) for k in (*ref_p, *ref_b) if k not in ignore)})"
        )
        raise CheckFailed("\n".join(lines))


def _perturb(module: nn.Module, g: torch.Generator) -> None:
    """Move every float parameter and buffer off its initial value (ones, zeros), so that a
    mistake such as a missing weight or an ignored running variance changes the result;
    positive values (variances) stay positive."""
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            if not t.is_floating_point():
                continue
            factor = torch.empty(t.shape, dtype=t.dtype).uniform_(0.75, 1.25, generator=g)
            shift = torch.empty(t.shape, dtype=t.dtype).uniform_(-0.25, 0.25, generator=g)
            if bool((t == 0).all()):  # biases, running means
                t.add_(shift)
            elif bool((t > 0).all()):  # scales, running variances: they stay positive
                t.mul_(factor)
            else:
                t.mul_(factor).add_(shift * float(t.abs().mean()))


def _as_inputs(value: object) -> tuple[torch.Tensor, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)  # type: ignore[arg-type]


def _small_difference_hint(got: torch.Tensor, expected: torch.Tensor) -> str | None:
    rel = float((got - expected).abs().max()) / (float(expected.abs().max()) or 1.0)
    if rel < 1e-3:
        return (
            f"the difference is tiny (at most {rel:.1e} of the largest value): look for a small "
            "constant such as eps that is missing or in the wrong place"
        )
    return None


def module_matches(
    name: str,
    student: Callable[..., nn.Module],
    reference: Callable[..., nn.Module],
    *,
    make_inputs: Callable[[torch.Generator, Mapping[str, Any]], Any],
    init_args: Sequence[Mapping[str, Any]] | Callable[[torch.Generator], Mapping[str, Any]],
    cases: int = 4,
    train_steps: int = 2,
    ignore: Collection[str] = (),
    forbidden: Sequence[str] = (),
    instead: str = "",
    rtol: float = 1e-7,
    label: str | None = None,
    dtype: torch.dtype = torch.float64,
) -> None:
    """Check an ``nn.Module`` class the student wrote against a reference module class.

    For each case (``init_args``: a list of constructor kwargs, or a function of a generator
    giving them, called ``cases`` times), both modules are built with the same kwargs and
    seed, converted to ``dtype``; the parameters and buffers must match by name, kind and shape
    (names in ``ignore`` may be missing, e.g. ``num_batches_tracked``). The reference's values,
    moved off their initial ones, are copied into the student's. Then, in train mode
    (``train_steps`` forwards) and in eval mode (one), on fresh inputs ``make_inputs(g,
    kwargs)`` (a tensor or a tuple, e.g. N×C×H×W), it compares the outputs, every buffer after
    the forward, and the gradients of the inputs and parameters after a backward of a random
    weighting of the output. The library calls in ``forbidden`` are blocked during the student's
    code (``instead``: what to do instead). Prints one line on success, else raises
    :class:`CheckFailed` naming the mode, the step and what differs.
    """
    student = require_callable(name, student)
    ref_label = label or getattr(reference, "__qualname__", type(reference).__name__)
    st_label = getattr(student, "__qualname__", name)
    g = generator(name)
    configs = (
        list(init_args) if not callable(init_args) else [dict(init_args(g)) for _ in range(cases)]
    )
    for kwargs in configs:
        seed = pick(g, 0, 2**31 - 2)
        ctor = _ctor(st_label, kwargs)
        with seeded(seed):
            ref = reference(**kwargs).to(dtype)
        with seeded(seed):
            try:
                built = call_student(name, student, (), ctor, kwargs=kwargs, forbidden=forbidden)
            except CheckFailed as exc:
                if "before Module.__init__() call" in str(exc.__cause__):
                    raise CheckFailed(
                        f"{exc}\n  Hint: call super().__init__() first in your __init__, "
                        "before assigning parameters, buffers or layers"
                    ) from exc.__cause__
                raise
        if not isinstance(built, nn.Module):
            fail(
                f"{name}: {ctor} gave a {type(built).__name__}, not an nn.Module: write a class "
                "that inherits from nn.Module (class ...(nn.Module):)"
            )
        mod = built.to(dtype)
        _align(name, mod, ref, ctor, ref_label, ignore)
        _perturb(ref, g)
        ref_p, ref_b = _state(ref)
        st_p, st_b = _state(mod)
        with torch.no_grad():
            for key, t in {**ref_p, **ref_b}.items():
                if key in st_p or key in st_b:
                    (st_p.get(key, st_b.get(key))).copy_(t)
        for training in (True, False):
            mode = "train" if training else "eval"
            ref.train(training)
            mod.train(training)
            for step in range(1, (train_steps if training else 1) + 1):
                where = f"{ctor} in {mode} mode" + (f", forward {step}" if training else "")
                _compare_step(
                    name, mod, ref, g, kwargs, make_inputs, where, forbidden, instead, rtol
                )
    ok(
        f"{name}: {len(configs)} random configurations match {ref_label} in train and eval mode "
        "(outputs, buffers and gradients)"
    )


def _compare_step(
    name: str,
    mod: nn.Module,
    ref: nn.Module,
    g: torch.Generator,
    kwargs: Mapping[str, Any],
    make_inputs: Callable[[torch.Generator, Mapping[str, Any]], Any],
    where: str,
    forbidden: Sequence[str],
    instead: str,
    rtol: float,
) -> None:
    """One forward and backward of both modules on the same fresh inputs, compared."""
    inputs = _as_inputs(make_inputs(g, kwargs))
    shapes = ", ".join(shape_of(x) for x in inputs)
    call = f"{where} on input(s) of shape {shapes}"
    seed = pick(g, 0, 2**31 - 2)  # the same random stream for both (dropout)

    def leaves() -> list[torch.Tensor]:
        return [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]

    ref_in, st_in = leaves(), leaves()
    before = {k: b.detach().clone() for k, b in mod.named_buffers()}
    ref_before = {k: b.detach().clone() for k, b in ref.named_buffers()}
    with seeded(seed):
        ref_out = ref(*ref_in)
    with seeded(seed):
        out = call_student(name, mod, st_in, call, forbidden=forbidden, instead=instead)
    got = as_tensor(name, out, call)
    # read again: the forward may have replaced a buffer (self.running_mean = ...)
    ref_p, ref_b = _state(ref)
    st_p, st_b = _state(mod)

    def check(got_t: torch.Tensor, want: torch.Tensor, what: str, hints: list[str]) -> None:
        # round-off is relative to each value, with a floor for values that cancel to ~0
        size = want.detach().to(torch.float64).abs()
        scale = size + 0.01 * float(size.mean())
        problem = first_difference(got_t, want, scale=scale, rtol=rtol, what=what, at="")
        if problem is None and got_t.dtype == want.dtype:
            return
        if problem is None:
            problem = f"{what} has dtype {got_t.dtype}, expected {want.dtype}"
        elif tuple(got_t.shape) == tuple(want.shape):
            small = _small_difference_hint(got_t.to(want.dtype), want)
            hints = hints + ([small] if small else [])
        lines = [f"{name}: {what} differs for {call}:", f"  {problem}."]
        lines += [f"  Hint: {h}" for h in hints]
        raise CheckFailed("\n".join(lines))

    out_hints = []
    if not mod.training:
        out_hints.append(
            "train mode matched, eval mode does not: in eval mode (self.training is False) "
            "the layer must use its stored state (e.g. running statistics) instead of the batch"
        )
    check(
        got, ref_out.detach(), f"the {'train' if mod.training else 'eval'}-mode output", out_hints
    )
    for key, b in st_b.items():
        if b.requires_grad or b.grad_fn is not None:
            fail(
                f"{name}: buffer {key!r} is part of the autograd graph after {call}.\n  Hint: "
                "update state under torch.no_grad() (or from .detach()ed values): otherwise "
                "every step keeps the graph of all the previous ones alive"
            )
    for key, want in ref_b.items():
        if key not in st_b:
            continue
        hints = []
        if key not in before:  # replaced by the forward: no before/after to compare
            pass
        elif torch.equal(st_b[key], before[key]) and not torch.equal(want, ref_before[key]):
            hints.append(f"your forward did not update {key!r}; in this mode every forward must")
        elif not torch.equal(st_b[key], before[key]) and torch.equal(want, ref_before[key]):
            hints.append(f"{key!r} must not change in this mode, but your forward changed it")
        check(st_b[key].detach(), want.detach(), f"buffer {key!r} after the forward", hints)
    if not out.requires_grad:
        fail(
            f"{name}: the output of {call} is not connected to the autograd graph "
            "(requires_grad is False).\n  Hint: no .detach(), .item(), .numpy(), .data or "
            "torch.no_grad() in forward: gradients must flow back to the input and parameters"
        )
    weights = torch.randn(ref_out.shape, generator=g, dtype=ref_out.dtype)
    (ref_out * weights).sum().backward()
    try:
        (out * weights).sum().backward()
    except Exception as exc:
        raise CheckFailed(
            f"{name}: the backward pass through {call} raised {type(exc).__name__}: {exc}"
        ) from exc
    for i, (x_ref, x_st) in enumerate(zip(ref_in, st_in, strict=True)):
        if x_ref.grad is None:
            continue
        if x_st.grad is None:
            fail(f"{name}: input {i + 1} got no gradient for {call}; do not detach it")
        check(x_st.grad, x_ref.grad, f"the gradient of input {i + 1}", [])
    for key, p in ref_p.items():
        if key not in st_p or p.grad is None:
            continue
        if st_p[key].grad is None:
            fail(
                f"{name}: parameter {key!r} got no gradient for {call}.\n  Hint: use "
                f"self.{key} itself in forward (not .detach() or .data of it)"
            )
        check(st_p[key].grad, p.grad, f"the gradient of {key!r}", [])
    for module in (ref, mod):
        module.zero_grad(set_to_none=True)
