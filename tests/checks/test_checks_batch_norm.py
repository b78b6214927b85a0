"""Topic 10 checks (batch_norm_train, update_running) accept correct answers and reject classic
mistakes with a hint that names the mistake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

import cnnlab.ops
from cnnlab.checks import CheckFailed
from cnnlab.checks import batch_norm as checks

AX = (0, 2, 3)


def _v(t: torch.Tensor) -> torch.Tensor:
    return t[None, :, None, None]


def _per_channel(x: torch.Tensor) -> int:
    """N·H·W, the number of values of one channel."""
    return x.numel() // x.shape[1]


# -- reference answers (as in solutions/10_batch_norm.ipynb) -----------------------------------
def batch_norm_train(x, gamma, beta, eps):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    x_hat = (x - mean) / torch.sqrt(var + eps)
    return gamma[None, :, None, None] * x_hat + beta[None, :, None, None]


def update_running(running_mean, running_var, x, momentum):
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mean = x.mean(dim=(0, 2, 3))
    var = ((x - mean[None, :, None, None]) ** 2).sum(dim=(0, 2, 3)) / (m - 1)
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var
    return new_mean, new_var


def failure(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


def _bn(x, g, b, mean, var, eps):
    return _v(g) * (x - mean) / torch.sqrt(var + eps) + _v(b)


def test_correct_answers_pass(capsys: pytest.CaptureFixture[str]) -> None:
    checks.batch_norm_train(batch_norm_train)
    checks.update_running(update_running)

    def var_mean_version(x, gamma, beta, eps):  # torch.var_mean is allowed
        var, mean = torch.var_mean(x, dim=(0, 2, 3), unbiased=False, keepdim=True)
        return _v(gamma) * (x - mean) * torch.rsqrt(var + eps) + _v(beta)

    checks.batch_norm_train(var_mean_version)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and all(line.startswith("✔") for line in out)
    assert "running mean 0.4500, running var 1.5000" in out[1]


FORWARD_MISTAKES = {
    "unbiased": (
        lambda x, g, b, e: _bn(
            x, g, b, x.mean(AX, True), x.var(AX, unbiased=True, keepdim=True), e
        ),
        "unbiased variance",
    ),
    "per_sample": (
        lambda x, g, b, e: _bn(
            x, g, b, x.mean((1, 2, 3), True), x.var((1, 2, 3), unbiased=False, keepdim=True), e
        ),
        "per sample",
    ),
    "instance": (
        lambda x, g, b, e: _bn(
            x, g, b, x.mean((2, 3), True), x.var((2, 3), unbiased=False, keepdim=True), e
        ),
        "instance norm",
    ),
    "eps_outside": (
        lambda x, g, b, e: (
            _v(g) * (x - x.mean(AX, True)) / (x.var(AX, unbiased=False, keepdim=True).sqrt() + e)
            + _v(b)
        ),
        "inside the square root",
    ),
    "no_affine": (
        lambda x, g, b, e: (
            (x - x.mean(AX, True)) / torch.sqrt(x.var(AX, unbiased=False, keepdim=True) + e)
        ),
        "forgot the scale and shift",
    ),
    "no_beta": (
        lambda x, g, b, e: batch_norm_train(x, g, torch.zeros_like(b), e),
        "forgot the shift",
    ),
    "swapped": (lambda x, g, b, e: batch_norm_train(x, b, g, e), "swapped"),
    "library": (
        lambda x, g, b, e: F.batch_norm(x, None, None, g, b, training=True, eps=e),
        "torch.nn.functional.batch_norm",
    ),
    "module": (
        lambda x, g, b, e: torch.nn.BatchNorm2d(x.shape[1], eps=e).to(x.dtype)(x) * _v(g) + _v(b),
        "torch.nn.BatchNorm2d",
    ),
    "numpy": (lambda x, g, b, e: batch_norm_train(x, g, b, e).numpy(), "NumPy array"),
    "float32": (lambda x, g, b, e: batch_norm_train(x.float(), g.float(), b.float(), e), "dtype"),
    "promoted": (
        lambda x, g, b, e: batch_norm_train(x.double(), g.double(), b.double(), e),
        "float32",
    ),
    "tuple": (lambda x, g, b, e: (batch_norm_train(x, g, b, e),), "return that tensor alone"),
    "in_place": (lambda x, g, b, e: x.sub_(0.0).mul_(1.5), "in place"),
    # statistics of shape (C,) broadcast along W (the worked example has C = W = 2)
    "no_keepdim": (
        lambda x, g, b, e: _bn(x, g, b, x.mean(AX), x.var(AX, unbiased=False), e),
        "last axis of x (W)",
    ),
    "gamma_not_reshaped": (
        lambda x, g, b, e: g * batch_norm_train(x, torch.ones_like(g), torch.zeros_like(b), e) + b,
        "gamma[None, :, None, None]",
    ),
    "reshape_without_transpose": (
        lambda x, g, b, e: _bn(
            x, g, b, _v(x.reshape(x.shape[1], -1).mean(1)),
            _v(x.reshape(x.shape[1], -1).var(1, unbiased=False)), e,
        ),
        "x.reshape(C, -1)",
    ),
    "channels_last_dims": (
        lambda x, g, b, e: _bn(
            x, g, b, x.mean((0, 1, 2), True), x.var((0, 1, 2), unbiased=False, keepdim=True), e
        ),
        "channels are dimension 1",
    ),
    "eps_ignored": (lambda x, g, b, e: batch_norm_train(x, g, b, 0.0), "ignores the eps argument"),
    "eps_fixed": (lambda x, g, b, e: batch_norm_train(x, g, b, 1e-5), "ignores the eps argument"),
    "not_divided": (
        lambda x, g, b, e: _v(g) * (x - x.mean(AX, True)) + _v(b),
        "only subtracted the mean",
    ),
    "not_centred": (
        lambda x, g, b, e: _v(g) * x / torch.sqrt(x.var(AX, unbiased=False, keepdim=True) + e)
        + _v(b),
        "forgot to subtract the mean",
    ),
    # right in float64, wrong in float32: the float32 case compares values too
    "float32_special_case": (
        lambda x, g, b, e: batch_norm_train(x, g, b, e) if x.dtype == torch.float64 else x * 1,
        "float32 ones do not",
    ),
    # torch's other public names for the same computation (on x.transpose(0, 1))
    "torch_layer_norm": (
        lambda x, g, b, e: (
            _v(g) * torch.layer_norm(x.transpose(0, 1), x.transpose(0, 1).shape[1:], eps=e)
            .transpose(0, 1) + _v(b)
        ),
        "torch.layer_norm",
    ),
    "torch_group_norm": (
        lambda x, g, b, e: (
            _v(g) * torch.group_norm(x.transpose(0, 1), 1, eps=e).transpose(0, 1) + _v(b)
        ),
        "torch.group_norm",
    ),
    "torch_native_batch_norm": (
        lambda x, g, b, e: torch.native_batch_norm(x, g, b, None, None, True, 0.1, e)[0],
        "torch.native_batch_norm",
    ),
    "rms_norm_of_centred": (
        lambda x, g, b, e: (
            _v(g) * F.rms_norm((x - x.mean(AX, True)).transpose(0, 1),
                               x.transpose(0, 1).shape[1:], eps=e).transpose(0, 1) + _v(b)
        ),
        "rms_norm",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", sorted(FORWARD_MISTAKES))
def test_forward_mistakes_are_named(mistake: str) -> None:
    fn, words = FORWARD_MISTAKES[mistake]
    assert words in failure(checks.batch_norm_train, fn)


RUNNING_MISTAKES = {
    "biased": (
        lambda rm, rv, x, m: (
            (1 - m) * rm + m * x.mean(AX),
            (1 - m) * rv + m * x.var(AX, unbiased=False),
        ),
        "*unbiased* batch variance",
    ),
    "reversed": (
        lambda rm, rv, x, m: (m * rm + (1 - m) * x.mean(AX), m * rv + (1 - m) * x.var(AX)),
        "momentum convention is reversed",
    ),
    "reversed_var_only": (
        lambda rm, rv, x, m: (update_running(rm, rv, x, m)[0], m * rv + (1 - m) * x.var(AX)),
        "momentum convention is reversed",
    ),
    "per_n": (
        lambda rm, rv, x, m: (
            update_running(rm, rv, x, m)[0],
            (1 - m) * rv + m * x.var(AX, unbiased=False) * x.shape[0] / (x.shape[0] - 1),
        ),
        "not N",
    ),
    "no_blend": (lambda rm, rv, x, m: (x.mean(AX), x.var(AX)), "replaced the running mean"),
    "one_value": (lambda rm, rv, x, m: update_running(rm, rv, x, m)[0], "return the pair"),
    "module": (
        lambda rm, rv, x, m: (torch.nn.BatchNorm2d(x.shape[1]).to(x.dtype)(x), rv),
        "torch.nn.BatchNorm2d",
    ),
    "in_place": (lambda rm, rv, x, m: (rm, rv.mul_(1 - m)), "in place"),
    "correction_numel": (
        lambda rm, rv, x, m: (
            update_running(rm, rv, x, m)[0],
            (1 - m) * rv + m * x.var(AX, unbiased=False) * x.numel() / (x.numel() - 1),
        ),
        "x.numel() counts all C channels",
    ),
    "correction_hw": (
        lambda rm, rv, x, m: (
            update_running(rm, rv, x, m)[0],
            (1 - m) * rv + m * x.var(AX, unbiased=False) * 4 / 3,  # the worked example's H·W
        ),
        "not H·W",
    ),
    "corrected_twice": (
        lambda rm, rv, x, m: (
            update_running(rm, rv, x, m)[0],
            (1 - m) * rv + m * x.var(AX) * _per_channel(x) / (_per_channel(x) - 1),
        ),
        "corrected twice",
    ),
    "momentum_fixed": (
        lambda rm, rv, x, m: update_running(rm, rv, x, 0.1), "whatever the momentum"
    ),
    "keepdim": (
        lambda rm, rv, x, m: (
            (1 - m) * rm.view(1, -1, 1, 1) + m * x.mean(AX, keepdim=True),
            (1 - m) * rv.view(1, -1, 1, 1) + m * x.var(AX, keepdim=True),
        ),
        "keepdim=True",
    ),
    "keepdim_broadcast": (
        lambda rm, rv, x, m: (
            (1 - m) * rm + m * x.mean(AX, keepdim=True),
            (1 - m) * rv + m * x.var(AX, keepdim=True),
        ),
        "keepdim=True",
    ),
    "swapped": (lambda rm, rv, x, m: update_running(rm, rv, x, m)[::-1], "(new_mean, new_var)"),
    "whole_batch": (
        lambda rm, rv, x, m: ((1 - m) * rm + m * x.mean(), (1 - m) * rv + m * x.var()),
        "one mean over the whole batch",
    ),
    "std": (
        lambda rm, rv, x, m: (update_running(rm, rv, x, m)[0], (1 - m) * rv + m * x.std(AX)),
        "standard deviation",
    ),
    "per_sample": (
        lambda rm, rv, x, m: (
            (1 - m) * rm + m * x.mean((1, 2, 3)),
            (1 - m) * rv + m * x.var((1, 2, 3)),
        ),
        "per sample",
    ),
    "three_values": (
        lambda rm, rv, x, m: (*update_running(rm, rv, x, m), x.mean(AX)),
        "a tuple of 3 items",
    ),
    "torch_update_stats": (
        lambda rm, rv, x, m: (
            lambda a, b: (torch.batch_norm_update_stats(x, a, b, m), (a, b))[1]
        )(rm.clone(), rv.clone()),
        "torch.batch_norm_update_stats",
    ),
    "torch_native_batch_norm": (
        lambda rm, rv, x, m: (
            lambda a, b: (torch.native_batch_norm(x, None, None, a, b, True, m, 1e-5), (a, b))[1]
        )(rm.clone(), rv.clone()),
        "torch.native_batch_norm",
    ),
    "ops_update_running": (lambda rm, rv, x, m: _ops_update(rm, rv, x, m), "_update_running"),
}  # fmt: skip


def _ops_update(rm, rv, x, m):
    """The blending and correction left to cnnlab.ops.BatchNorm2d's private helper."""
    bn = cnnlab.ops.BatchNorm2d(x.shape[1], momentum=m).to(x.dtype)
    bn.running_mean.copy_(rm)
    bn.running_var.copy_(rv)
    bn._update_running(x.mean(AX), x.var(AX, unbiased=False), _per_channel(x))
    return bn.running_mean.clone(), bn.running_var.clone()


@pytest.mark.parametrize("mistake", sorted(RUNNING_MISTAKES))
def test_running_mistakes_are_named(mistake: str) -> None:
    fn, words = RUNNING_MISTAKES[mistake]
    assert words in failure(checks.update_running, fn)


def _einsum_forward(x, gamma, beta, eps):
    m = _per_channel(x)
    d = x - (torch.einsum("nchw->c", x) / m)[None, :, None, None]
    var = torch.einsum("nchw,nchw->c", d, d) / m
    return torch.einsum("c,nchw->nchw", gamma / torch.sqrt(var + eps), d) + _v(beta)


def _loop_forward(x, gamma, beta, eps):  # one channel at a time, the scalars in Python
    out = torch.empty_like(x)
    for c in range(x.shape[1]):
        xc = x[:, c]
        mu = xc.mean()
        out[:, c] = gamma[c] * (xc - mu) / ((xc - mu).pow(2).mean().item() + eps) ** 0.5 + beta[c]
    return out


def _moments_forward(x, gamma, beta, eps):  # σ² = E[x²] - E[x]², gamma as (C, 1, 1)
    mu = x.mean(AX, keepdim=True)
    var = (x * x).mean(AX, keepdim=True) - mu**2
    return gamma.view(-1, 1, 1) * (x - mu) / (var + eps).sqrt() + beta.view(-1, 1, 1)


def _rows_forward(x, gamma, beta, eps):  # channels moved first, then one row per channel
    rows = x.transpose(0, 1).reshape(x.shape[1], -1)
    mu, var = rows.mean(1), rows.var(1, correction=0)
    return _bn(x, gamma, beta, _v(mu), _v(var), eps)


def _norm_forward(x, gamma, beta, eps):  # the variance from a vector norm, on a copy in place
    y = x - x.mean(AX, keepdim=True)
    var = torch.linalg.vector_norm(y, dim=AX, keepdim=True) ** 2 / _per_channel(x)
    y /= torch.sqrt(var + eps)
    return y.mul_(_v(gamma)).add_(_v(beta)).contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize(
    "fn", [_einsum_forward, _loop_forward, _moments_forward, _rows_forward, _norm_forward]
)
def test_unusual_correct_forwards_pass(fn: Callable[..., Any]) -> None:
    checks.batch_norm_train(fn)


UNUSUAL_RUNNING = {
    "default_var_is_unbiased": lambda rm, rv, x, m: (
        (1 - m) * rm + m * x.mean(AX), (1 - m) * rv + m * x.var(AX)
    ),
    "var_mean_and_lerp": lambda rm, rv, x, m: (
        lambda var, mean: (torch.lerp(rm, mean, m), torch.lerp(rv, var, m))
    )(*torch.var_mean(x, AX)),
    "a_list_and_steps": lambda rm, rv, x, m: [
        rm + m * (x.mean(AX) - rm), rv + m * (x.var(AX, correction=1) - rv)
    ],
    "copies_updated_in_place": lambda rm, rv, x, m: (
        rm.clone().mul_(1 - m).add_(m * x.mean(AX)),
        rv.clone().mul_(1 - m).add_(m * x.var(AX)),
    ),
    "rows_per_channel": lambda rm, rv, x, m: (
        lambda rows: ((1 - m) * rm + m * rows.mean(1), (1 - m) * rv + m * rows.var(1))
    )(x.transpose(0, 1).reshape(x.shape[1], -1)),
}  # fmt: skip


@pytest.mark.parametrize("variant", sorted(UNUSUAL_RUNNING))
def test_unusual_correct_running_statistics_pass(variant: str) -> None:
    checks.update_running(UNUSUAL_RUNNING[variant])


def test_stub_and_not_callable() -> None:
    def stub(*args: object) -> None:
        raise NotImplementedError()

    assert "not implemented yet" in failure(checks.batch_norm_train, stub)
    assert "not implemented yet" in failure(checks.update_running, stub)
    with pytest.raises(TypeError, match="checks.update_running"):
        checks.update_running(3)


def test_checks_module_lists_exactly_its_checks() -> None:
    assert checks.__all__ == ["batch_norm_train", "update_running"]
