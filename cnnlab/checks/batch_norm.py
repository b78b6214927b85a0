"""Checks of topic 10, batch normalisation: ``batch_norm_train`` and ``update_running``.

* :func:`batch_norm_train` checks ``batch_norm_train(x, gamma, beta, eps) -> y``: Algorithm 1 of
  Ioffe & Szegedy on (N, C, H, W) in training mode, per channel over N, H and W, with the
  *biased* batch variance, against ``torch.nn.functional.batch_norm`` (training=True);
* :func:`update_running` checks ``update_running(running_mean, running_var, x, momentum) ->
  (mean, var)``: PyTorch's running statistics, ``(1 - m)·old + m·batch`` with the *unbiased*
  batch variance, against ``torch.nn.BatchNorm2d``'s buffers after one training step.

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.checks._core import (
    CheckFailed,
    Hint,
    ShapeHint,
    as_tensor,
    call_student,
    compare,
    first_difference,
    generator,
    matches,
    pick,
    randreal,
    require_callable,
)

__all__ = ["batch_norm_train", "update_running"]

_FORBIDDEN = (
    "torch.nn.functional.batch_norm",
    "torch.batch_norm",
    "torch.nn.functional.instance_norm",
    "torch.nn.functional.layer_norm",
    "torch.nn.functional.group_norm",
    "torch.nn.BatchNorm2d.forward",
    "cnnlab.ops.BatchNorm2d.forward",
    "cnnlab.ops.BatchNorm2d._update_running",
    "cnnlab.ops.batch_statistics",
    # the same computation under torch's other public names (layer and group norm give batch
    # norm on x.transpose(0, 1); the native ones return the running statistics too)
    "torch.native_batch_norm",
    "torch._native_batch_norm_legit",
    "torch.batch_norm_update_stats",
    "torch.batch_norm_stats",
    "torch.layer_norm",
    "torch.native_layer_norm",
    "torch.group_norm",
    "torch.native_group_norm",
    "torch.instance_norm",
    "torch.nn.functional.rms_norm",
    "torch.rms_norm",
    # the operators all of them run, however they are reached (torch.ops.aten, a captured alias)
    "aten::native_batch_norm",
    "aten::_native_batch_norm_legit",
    "aten::_native_batch_norm_legit_no_training",
    "aten::_native_batch_norm_legit_functional",
    "aten::batch_norm_stats",
    "aten::batch_norm_update_stats",
    "aten::native_layer_norm",
    "aten::native_group_norm",
)
_INSTEAD = "compute the per-channel mean and variance yourself with .mean(dim=...)"
_AXES = (0, 2, 3)


def _v(t: torch.Tensor) -> torch.Tensor:
    """(C,) -> (1, C, 1, 1): broadcast a per-channel value over N, H, W."""
    return t[None, :, None, None]


def _normalise(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, eps: float) -> torch.Tensor:
    return (x - mean) / torch.sqrt(var + eps)


def _wrong_forwards(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float
) -> list[Hint]:
    """What classic mistakes return, each with the hint that names it."""
    n, c, _, w = x.shape
    mean = x.mean(dim=_AXES, keepdim=True)
    var = x.var(dim=_AXES, unbiased=False, keepdim=True)
    unbiased = x.var(dim=_AXES, unbiased=True, keepdim=True)
    g, b = _v(gamma), _v(beta)
    right = _normalise(x, mean, var, eps)
    per_sample = _normalise(
        x,
        x.mean(dim=(1, 2, 3), keepdim=True),
        x.var(dim=(1, 2, 3), unbiased=False, keepdim=True),
        eps,
    )
    per_map = _normalise(
        x, x.mean(dim=(2, 3), keepdim=True), x.var(dim=(2, 3), unbiased=False, keepdim=True), eps
    )
    over_batch = _normalise(
        x, x.mean(dim=0, keepdim=True), x.var(dim=0, unbiased=False, keepdim=True), eps
    )
    whole = _normalise(x, x.mean(), x.var(unbiased=False), eps)
    # x.reshape(C, -1) cuts x in memory order (N, C, H, W): its rows are not the channels
    rows = x.reshape(c, -1)
    cut = _normalise(x, _v(rows.mean(1)), _v(rows.var(1, unbiased=False)), eps)
    # channels last (N, H, W, C), the layout of other libraries
    last = _normalise(
        x, x.mean(dim=(0, 1, 2), keepdim=True), x.var(dim=(0, 1, 2), unbiased=False, keepdim=True),
        eps,
    )  # fmt: skip
    sample_hint = (
        "you took the mean and variance per sample (over C, H, W): batch norm takes them per "
        "channel, over the batch and the positions, dim=(0, 2, 3)"
    )
    if n == c:  # then x.reshape(C, -1) has one row per sample
        sample_hint += (
            " (x.reshape(C, -1) does this too: its rows are not the channels; "
            "x.transpose(0, 1).reshape(C, -1) are)"
        )
    out = [
        (g * _normalise(x, mean, unbiased, eps) + b,
         "you normalised with the unbiased variance (dividing by m - 1): Algorithm 1 divides by "
         "m = N·H·W — use unbiased=False (torch.var's default is unbiased=True)"),
        (g * per_sample + b, sample_hint),
        (g * cut + b,
         "x.reshape(C, -1) does not gather each channel into a row (it cuts x in memory order "
         "N, C, H, W): use x.transpose(0, 1).reshape(C, -1), or .mean(dim=(0, 2, 3))"),
        (g * per_map + b,
         "you took the statistics per sample and channel (over H, W only: instance norm): "
         "batch norm averages over the batch too, dim=(0, 2, 3)"),
        (g * over_batch + b,
         "you took the statistics over the batch only (dim=0), one per position: batch norm "
         "for images shares them over the positions too, dim=(0, 2, 3)"),
        (g * whole + b,
         "you took one mean and variance over the whole tensor: batch norm keeps one per channel"),
        (g * last + b,
         "you took the statistics over dim=(0, 1, 2), as for channels-last images: here the "
         "channels are dimension 1, so average over dim=(0, 2, 3)"),
        (g * (x - mean) / (torch.sqrt(var) + eps) + b,
         "eps goes inside the square root: (x - μ) / sqrt(σ² + eps)"),
        (g * (x - mean) / (var + eps) + b,
         "you divided by the variance: divide by the standard deviation sqrt(σ² + eps)"),
        (g * _normalise(x, mean, var, 0.0) + b,
         "your answer ignores the eps argument: add it to the variance, sqrt(σ² + eps)"),
        (g * (x - mean) + b,
         "you only subtracted the mean: divide by the standard deviation sqrt(σ² + eps) too"),
        (g * x / torch.sqrt(var + eps) + b,
         "you forgot to subtract the mean: x̂ = (x - μ) / sqrt(σ² + eps)"),
        (right, "you forgot the scale and shift: return gamma·x̂ + beta (each (C,), per channel)"),
        (g * right, "you forgot the shift: add beta"),
        (right + b, "you forgot the scale: multiply by gamma"),
        (b * right + g, "gamma and beta are swapped: gamma scales, beta shifts"),
    ]  # fmt: skip
    if c == w:  # then a (C,) tensor broadcasts, wrongly, along the last axis (W)
        flat_mean, flat_var = x.mean(dim=_AXES), x.var(dim=_AXES, unbiased=False)
        flat = (
            "a (C,) tensor lines up with the last axis of x (W), not with the channels: keep "
            "the statistics' dimensions (keepdim=True) and use gamma[None, :, None, None] "
            "(the same for beta)"
        )
        out += [
            (g * _normalise(x, flat_mean, flat_var, eps) + b, flat),
            (gamma * _normalise(x, flat_mean, flat_var, eps) + beta, flat),
            (gamma * right + beta, flat),
        ]
    return out


def _forward_cases(
    g: torch.Generator, cases: int
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]]:
    # the worked example: a batch of two images, two 2×2 channels holding 1..16 in order
    x = torch.arange(1.0, 17.0, dtype=torch.float64).reshape(2, 2, 2, 2)
    gamma, beta = (torch.tensor(v, dtype=torch.float64) for v in ([2.0, 0.5], [1.0, -1.0]))
    out = [(x, gamma, beta, 0.1)]
    for i in range(cases):
        n, c, h, w = pick(g, 2, 4), pick(g, 2, 4), pick(g, 2, 4), pick(g, 2, 5)
        x = randreal(g, n, c, h, w) + randreal(g, 1, c, 1, 1)  # channels with their own mean
        gamma = 0.5 + torch.rand(c, generator=g, dtype=torch.float64)
        beta = randreal(g, c)
        out.append((x, gamma, beta, (0.5, 1e-5, 0.1)[i % 3]))
    return out


def batch_norm_train(fn: Callable[..., Any], cases: int = 6) -> None:
    """Check ``fn(x, gamma, beta, eps) -> y``: batch norm in training mode, x (N, C, H, W),
    gamma and beta (C,), y (N, C, H, W) of x's dtype."""
    name = "batch_norm_train"
    fn = require_callable(name, fn)
    g = generator(name)
    all_cases = _forward_cases(g, cases)
    for x, gamma, beta, eps in all_cases:
        call = f"{name}(x of shape {tuple(x.shape)}, gamma, beta, eps={eps:g})"
        answer = call_student(
            name, fn, (x, gamma, beta, eps), call, forbidden=_FORBIDDEN, instead=_INSTEAD
        )
        got = as_tensor(name, answer, call)
        want = F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
        scale = want.abs() + beta.abs().max() + 1
        hints = [
            (a, h) for a, h in _wrong_forwards(x, gamma, beta, eps) if not matches(a, want, scale)
        ]
        compare(name, got, want, call, scale=scale, wrong_answers=hints)
    # float32 in, float32 out: not silently promoted or truncated
    x32, gamma32, beta32 = (t.float() for t in all_cases[1][:3])
    call = f"{name}(float32 x of shape {tuple(x32.shape)}, gamma, beta, eps=0.5)"
    got = as_tensor(name, call_student(name, fn, (x32, gamma32, beta32, 0.5), call,
                                       forbidden=_FORBIDDEN, instead=_INSTEAD), call)  # fmt: skip
    if got.dtype != torch.float32:
        raise CheckFailed(
            f"{name} returned {got.dtype} for {call}: keep the input's dtype (float32 in, "
            "float32 out; do not call .double() or create tensors with another dtype)"
        )
    # the values too, up to float32 round-off: an answer right in float64 only is wrong
    x64, gamma64, beta64 = (t.double() for t in (x32, gamma32, beta32))
    want = F.batch_norm(x64, None, None, gamma64, beta64, training=True, eps=0.5)
    problem = first_difference(got, want, scale=want.abs() + beta64.abs().max() + 1, rtol=1e-4)
    if problem is not None:
        raise CheckFailed(
            f"{name} is wrong for {call}:\n  {problem}.\n  Hint: float64 inputs gave the right "
            "answer, float32 ones do not: compute the same way whatever the dtype"
        )
    y = fn(*all_cases[0][:3], all_cases[0][3])
    print(
        f"✔ {name}: the worked example (1..16, γ = (2, 0.5), β = (1, -1), eps = 0.1) gives "
        f"{y[0, 0, 0, 0].item():.4f} for its first value, and {cases} random batches match "
        "torch's training-mode batch norm (float64, and float32 stays float32)"
    )


# --------------------------------------------------------------------------------------------
# update_running(running_mean, running_var, x, momentum)


def _torch_running(
    rm: torch.Tensor, rv: torch.Tensor, x: torch.Tensor, m: float
) -> tuple[torch.Tensor, torch.Tensor]:
    bn = torch.nn.BatchNorm2d(x.shape[1], momentum=m).to(x.dtype)
    with torch.no_grad():
        bn.running_mean.copy_(rm)
        bn.running_var.copy_(rv)
        bn.train()(x)
    return bn.running_mean.clone(), bn.running_var.clone()


_FIXED_MOMENTUM = "you used momentum 0.1 whatever the momentum argument: use the argument"
_SWAPPED = "you returned (var, mean): return the pair in the order (new_mean, new_var)"


def _wrong_running(
    rm: torch.Tensor, rv: torch.Tensor, x: torch.Tensor, m: float
) -> tuple[list[Hint], list[Hint]]:
    mean = x.mean(dim=_AXES)
    biased = x.var(dim=_AXES, unbiased=False)
    unbiased = x.var(dim=_AXES, unbiased=True)
    n, _, h, w = x.shape
    count = n * h * w
    want_mean, want_var = _torch_running(rm, rv, x, m)

    def corrected(k: int) -> torch.Tensor:  # blended with the correction k/(k - 1)
        return (1 - m) * rv + m * biased * k / max(k - 1, 1)

    means = [
        (
            m * rm + (1 - m) * mean,
            "the momentum convention is reversed: torch keeps (1 - momentum) of the old value, "
            "new = (1 - m)·old + m·batch (momentum=0.1 moves 10 % of the way to the batch)",
        ),
        (
            mean,
            "you replaced the running mean by the batch mean: blend them, (1 - m)·old + m·batch",
        ),
        (rm, "the running mean did not change: new = (1 - m)·old + m·batch"),
        (
            (1 - m) * rm + m * x.mean(),
            "you took one mean over the whole batch: keep one per channel, dim=(0, 2, 3)",
        ),
        (0.9 * rm + 0.1 * mean, _FIXED_MOMENTUM),
        (want_var, _SWAPPED),
    ]
    variances = [
        ((1 - m) * rv + m * biased,
         "the running variance takes the *unbiased* batch variance (× m/(m - 1), m = N·H·W), "
         "as torch does; only the normalisation uses the biased one"),
        (m * rv + (1 - m) * unbiased,
         "the momentum convention is reversed: torch keeps (1 - momentum) of the old value, "
         "new = (1 - m)·old + m·batch"),
        (corrected(n),
         "the correction is m/(m - 1) with m = N·H·W, the number of values per channel, not N"),
        (corrected(x.numel()),
         "the correction is m/(m - 1) with m = N·H·W, the values of one channel: x.numel() "
         "counts all C channels"),
        (corrected(h * w),
         "the correction is m/(m - 1) with m = N·H·W, the number of values per channel, not H·W"),
        ((1 - m) * rv + m * unbiased * count / (count - 1),
         "you corrected twice: x.var() is already unbiased (it divides by m - 1), do not "
         "multiply it by m/(m - 1) again"),
        ((1 - m) * rv + m * x.std(dim=_AXES),
         "you blended the standard deviation (.std()): the running variance takes the variance"),
        ((1 - m) * rv + m * x.var(),
         "you took one variance over the whole batch: keep one per channel, dim=(0, 2, 3)"),
        (0.9 * rv + 0.1 * unbiased, _FIXED_MOMENTUM),
        (unbiased, "you replaced the running variance by the batch variance: blend them"),
        (rv, "the running variance did not change: new = (1 - m)·old + m·unbiased batch variance"),
        (want_mean, _SWAPPED),
    ]  # fmt: skip
    return means, variances


def _running_shapes(x: torch.Tensor) -> list[ShapeHint]:
    """The shapes of the classic shape mistakes of a running statistic, with hints."""
    n, c = x.shape[:2]
    kept = (
        "keepdim=True keeps four dimensions, (1, C, 1, 1), which broadcast wrongly against the "
        "(C,) running values: the running statistics have shape (C,), like running_mean"
    )
    out = [((1, c, 1, 1), kept), ((1, c, 1, c), kept)]
    if n != c:
        out.append(((n,), "you took statistics per sample: batch norm keeps one per channel, "
                    "dim=(0, 2, 3)"))  # fmt: skip
    return out


def update_running(fn: Callable[..., Any], cases: int = 6) -> None:
    """Check ``fn(running_mean, running_var, x, momentum) -> (mean, var)``: torch's running
    statistics after one training batch x (N, C, H, W); the inputs are not changed in place."""
    name = "update_running"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: a fresh BN (mean 0, var 1), the batch 1..8 of one channel, momentum 0.1
    x = torch.arange(1.0, 9.0, dtype=torch.float64).reshape(2, 1, 2, 2)
    examples = [(torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64), x, 0.1)]
    for i in range(cases):
        n, c, h, w = pick(g, 2, 4), pick(g, 2, 4), pick(g, 2, 4), pick(g, 2, 4)
        rm, rv = randreal(g, c), 0.5 + torch.rand(c, generator=g, dtype=torch.float64)
        examples.append((rm, rv, randreal(g, n, c, h, w), (0.1, 0.3, 0.75)[i % 3]))
    for rm, rv, x, m in examples:
        call = f"{name}(running_mean, running_var, x of shape {tuple(x.shape)}, momentum={m:g})"
        out = call_student(name, fn, (rm, rv, x, m), call, forbidden=_FORBIDDEN, instead=_INSTEAD)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            what = type(out).__name__
            if isinstance(out, (tuple, list)):
                what = f"a {what} of {len(out)} items"
            raise CheckFailed(
                f"{name} returned {what} for {call}; return the pair "
                "(new_running_mean, new_running_var)"
            )
        want_mean, want_var = _torch_running(rm, rv, x, m)
        hint_mean, hint_var = _wrong_running(rm, rv, x, m)
        for got, want, hints, what in (
            (out[0], want_mean, hint_mean, "new running mean"),
            (out[1], want_var, hint_var, "new running variance"),
        ):
            got = as_tensor(name, got, call)
            scale = want.abs() + rv.abs() + 1
            hints = [(a, h) for a, h in hints if not matches(a, want, scale)]
            compare(name, got, want, call, scale=scale, wrong_answers=hints,
                    wrong_shapes=_running_shapes(x), what=what,
                    at=what.replace(" ", "_"))  # fmt: skip
    rm, rv, x, m = examples[0]
    mean, var = fn(rm, rv, x, m)
    print(
        f"✔ {name}: after the worked batch (1..8, momentum 0.1) running mean "
        f"{float(mean[0]):.4f}, running var {float(var[0]):.4f} (unbiased 6 against biased "
        f"5.25), and {cases} random batches match torch.nn.BatchNorm2d's buffers"
    )
