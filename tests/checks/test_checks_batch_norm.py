"""Topic 10 checks (batch_norm_train, update_running) accept correct answers and reject classic
mistakes with a hint that names the mistake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from cnnlab.checks import CheckFailed
from cnnlab.checks import batch_norm as checks

AX = (0, 2, 3)


def _v(t: torch.Tensor) -> torch.Tensor:
    return t[None, :, None, None]


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
}


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
}


@pytest.mark.parametrize("mistake", sorted(RUNNING_MISTAKES))
def test_running_mistakes_are_named(mistake: str) -> None:
    fn, words = RUNNING_MISTAKES[mistake]
    assert words in failure(checks.update_running, fn)


def test_stub_and_not_callable() -> None:
    def stub(*args: object) -> None:
        raise NotImplementedError()

    assert "not implemented yet" in failure(checks.batch_norm_train, stub)
    assert "not implemented yet" in failure(checks.update_running, stub)
    with pytest.raises(TypeError, match="checks.update_running"):
        checks.update_running(3)


def test_checks_module_lists_exactly_its_checks() -> None:
    assert checks.__all__ == ["batch_norm_train", "update_running"]
