"""Topic 12 checks (dense_block_params, aggregated_paths) accept the reference answers and
reject classic mistakes with a hint that names the mistake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.functional import conv2d  # a name bound in the student's globals (a notebook)

from cnnlab.checks import CheckFailed
from cnnlab.checks import resnet_family as checks


# -- reference answers (as in solutions/12_resnet_family.ipynb) --------------------------------
def dense_block_params(in_channels, num_layers, growth_rate, bottleneck):
    k, total = growth_rate, 0
    for i in range(num_layers):
        c = in_channels + i * k
        if bottleneck:
            w = 4 * k
            total += 2 * c + c * w + 2 * w + 9 * w * k
        else:
            total += 2 * c + 9 * c * k
    return total


def aggregated_paths(x, w1, w2, w3, cardinality):
    d = w1.shape[0] // cardinality
    out = 0
    for g in range(cardinality):
        rows = slice(g * d, (g + 1) * d)
        h = torch.relu(F.conv2d(x, w1[rows]))
        h = torch.relu(F.conv2d(h, w2[rows], padding=1))
        out = out + F.conv2d(h, w3[:, rows])
    return out


def failure(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


# -- dense_block_params ------------------------------------------------------------------------
def test_dense_block_params_accepts_the_solution_and_a_closed_form(capsys) -> None:
    checks.dense_block_params(dense_block_params)

    def closed(c0, n, k, bc):  # Σ (c0 + i k) = n c0 + k n (n - 1) / 2, numpy ints allowed
        s = n * c0 + k * n * (n - 1) // 2
        return np.int64(2 * s + (s * 4 * k + n * (8 * k + 36 * k * k) if bc else 9 * s * k))

    checks.dense_block_params(closed)
    out = capsys.readouterr().out
    assert out.count("✔ dense_block_params") == 2 and "335,040 parameters" in out


def _variant(**kw: Any) -> Callable[..., int]:
    bn, width, start, bias = (
        kw.get("bn", 2),
        kw.get("width", 4),
        kw.get("start", 0),
        kw.get("bias", 0),
    )

    def fn(c0, n, k, bc):
        total = 0
        for i in range(start, n + start):
            c = c0 if kw.get("no_growth") else c0 + i * k
            if bc and not kw.get("no_bottleneck"):
                w = width * k
                total += bn * c + c * w + bn * w + 9 * w * k + 2 * bias * k
            else:
                total += bn * c + 9 * c * k + bias * k
        return total

    return fn


@pytest.mark.parametrize(
    ("variant", "hint"),
    [
        ({"bn": 0}, "you forgot the batch norms"),
        ({"bn": 1}, "two parameters per channel"),
        ({"no_growth": True}, "reads the concatenation"),
        ({"start": 1}, "off by one layer"),
        ({"width": 1}, "bn_size·k"),
        ({"no_bottleneck": True}, "count both convolutions"),
    ],
)
def test_dense_block_params_names_each_mistake(variant: dict, hint: str) -> None:
    message = failure(checks.dense_block_params, _variant(**variant))
    assert "Hint:" in message and hint in message, message


def test_dense_block_params_rejects_bias_types_and_the_library() -> None:
    def with_bias(c0, n, k, bc):  # a bias for every output channel of every convolution
        return dense_block_params(c0, n, k, bc) + n * (k + (4 * k if bc else 0))

    assert "have no bias" in failure(checks.dense_block_params, with_bias)

    msg = failure(
        checks.dense_block_params, lambda c0, n, k, bc: float(dense_block_params(c0, n, k, bc))
    )
    assert "float" in msg and "int" in msg
    msg = failure(checks.dense_block_params, lambda *a: torch.tensor(dense_block_params(*a)))
    assert "torch.Tensor" in msg
    msg = failure(checks.dense_block_params, lambda *a: None)
    assert "return" in msg

    def built(c0, n, k, bc):
        from cnnlab.models.densenet import DenseBlock

        return sum(p.numel() for p in DenseBlock(n, c0, k, 4 if bc else None, 0.0).parameters())

    assert "the library" in failure(checks.dense_block_params, built)

    def layers(c0, n, k, bc):
        return sum(p.numel() for p in nn.Conv2d(c0, k, 3, bias=False).parameters())

    assert "the library" in failure(checks.dense_block_params, layers)
    assert "not implemented yet" in failure(checks.dense_block_params, _stub)


def _stub(*args: object) -> None:
    raise NotImplementedError()


# -- aggregated_paths --------------------------------------------------------------------------
def test_aggregated_paths_accepts_the_solution_and_variants(capsys) -> None:
    checks.aggregated_paths(aggregated_paths)

    def concatenated(x, w1, w2, w3, cardinality):  # form (b): concatenate, one 1×1
        d = w1.shape[0] // cardinality
        paths = [
            torch.relu(F.conv2d(torch.relu(F.conv2d(x, w1[g * d : (g + 1) * d])),
                                w2[g * d : (g + 1) * d], padding=1))
            for g in range(cardinality)
        ]  # fmt: skip
        return F.conv2d(torch.cat(paths, 1), w3)

    checks.aggregated_paths(concatenated)
    out = capsys.readouterr().out
    assert out.count("✔ aggregated_paths") == 2


def _paths(relu: bool = True, pad: int = 1, mean: bool = False, first: bool = False,
           final_relu: bool = False) -> Callable[..., torch.Tensor]:  # fmt: skip
    def fn(x, w1, w2, w3, cardinality):
        d = w1.shape[0] // cardinality
        act = torch.relu if relu else (lambda t: t)
        out = 0
        for g in range(1 if first else cardinality):
            r = slice(g * d, (g + 1) * d)
            h = act(F.conv2d(act(F.conv2d(x, w1[r])), w2[r], padding=pad))
            out = out + F.conv2d(h, w3[:, r])
        out = out / cardinality if mean else out
        return torch.relu(out) if final_relu else out

    return fn


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (_paths(mean=True), "you averaged the paths"),
        (_paths(relu=False), "each path has a ReLU"),
        (_paths(first=True), "only the first path"),
        (_paths(final_relu=True), "no ReLU after the sum"),
        (_paths(pad=0), "padding=1"),
    ],
)
def test_aggregated_paths_names_each_mistake(fn: Callable[..., Any], hint: str) -> None:
    message = failure(checks.aggregated_paths, fn)
    assert "Hint:" in message and hint in message, message


def test_aggregated_paths_rejects_grouped_form_types_and_library() -> None:
    def grouped(x, w1, w2, w3, cardinality):
        h = torch.relu(F.conv2d(x, w1))
        return F.conv2d(torch.relu(F.conv2d(h, w2, padding=1, groups=cardinality)), w3)

    assert "grouped form (c)" in failure(checks.aggregated_paths, grouped)

    def grouped_by_name(x, w1, w2, w3, cardinality):
        h = torch.relu(conv2d(x, w1))
        return conv2d(torch.relu(conv2d(h, w2, None, 1, 1, 1, cardinality)), w3)

    assert "grouped form (c)" in failure(checks.aggregated_paths, grouped_by_name)

    def package(x, w1, w2, w3, cardinality):
        from cnnlab.models.wide import resnext_aggregated

        return resnext_aggregated(x, w1, w2, w3, cardinality)

    assert "the library" in failure(checks.aggregated_paths, package)
    msg = failure(checks.aggregated_paths, lambda *a: aggregated_paths(*a).float())
    assert "dtype" in msg
    msg = failure(checks.aggregated_paths, lambda *a: aggregated_paths(*a).numpy())
    assert "NumPy" in msg
    msg = failure(checks.aggregated_paths, lambda *a: [aggregated_paths(*a)])
    assert "list" in msg

    assert "not implemented yet" in failure(checks.aggregated_paths, _stub)


def test_all_lists_exactly_the_checks() -> None:
    assert sorted(checks.__all__) == ["aggregated_paths", "dense_block_params"]
