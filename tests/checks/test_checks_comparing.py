"""Topic 14 checks (pareto_front, grouped_conv_mult_adds) accept the reference answers and
reject classic mistakes with a hint that names the mistake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from cnnlab.checks import CheckFailed
from cnnlab.checks import comparing as checks


# -- reference answers (as in solutions/14_comparing.ipynb) ------------------------------------
def pareto_front(rows):
    front = set()
    for name, cost, err in rows:
        beaten = any(c <= cost and e <= err and (c < cost or e < err) for _, c, e in rows)
        if not beaten:
            front.add(name)
    return front


def grouped_conv_mult_adds(c_in, c_out, k, out_size, groups):
    return k * k * (c_in // groups) * c_out * out_size * out_size


def failure(check: Callable[[Any], None], fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


def _dominates(a, b):
    return a[1] <= b[1] and a[2] <= b[2] and (a[1] < b[1] or a[2] < b[2])


# -- pareto_front ------------------------------------------------------------------------------
def test_pareto_front_accepts_correct_variants(capsys) -> None:
    checks.pareto_front(pareto_front)
    checks.pareto_front(lambda rows: frozenset(
        r[0] for r in rows if not any(_dominates(o, r) for o in rows)))  # fmt: skip

    def by_sorting(rows):  # sweep by cost, then error: a different algorithm
        front, best = set(), float("inf")
        ordered = sorted(rows, key=lambda r: (r[1], r[2]))
        for i, (name, cost, err) in enumerate(ordered):
            if err < best or any((c, e) == (cost, err) and n in front for n, c, e in ordered[:i]):
                front.add(name)
            best = min(best, err)
        return front

    checks.pareto_front(by_sorting)
    out = capsys.readouterr().out
    assert out.count("✔ pareto_front") == 3 and "mobilenet_v1" in out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda rows: sorted(pareto_front(rows)), "return a set of names"),
        (lambda rows: {r for r in rows if r[0] in pareto_front(rows)}, "return the *names*"),
        (lambda rows: None, "forget `return`"),
        (
            lambda rows: {
                n for n, c, e in rows if not any(c2 < c and e2 < e for _, c2, e2 in rows)
            },
            "use <= on both and < on at least one",
        ),
        (
            lambda rows: {
                n for n, c, e in rows if not any(c2 <= c and e2 <= e for _, c2, e2 in rows)
            },
            "equal models knock each other out",
        ),
        (
            lambda rows: {
                n
                for n, c, e in rows
                if not any(c2 <= c and e2 >= e and (c2 < c or e2 > e) for _, c2, e2 in rows)
            },
            "lower error is better",
        ),
        (lambda rows: {n for n, _, _ in rows}, "you returned every model"),
    ],
)
def test_pareto_front_names_the_mistake(wrong, hint) -> None:
    assert hint in failure(checks.pareto_front, wrong)


def test_pareto_front_forbids_the_library() -> None:
    import cnnlab.latency

    message = failure(checks.pareto_front, lambda rows: cnnlab.latency.pareto_front(rows))
    assert "the very function" in message


def test_pareto_front_dropping_twins_is_named() -> None:
    def drop_ties(rows):
        front = pareto_front(rows)
        return {n for n in front if not n.startswith("twin")} or front

    message = failure(checks.pareto_front, drop_ties)
    assert "equal models knock each other out" in message and "twin_a" in message


# -- grouped_conv_mult_adds --------------------------------------------------------------------
def test_grouped_conv_mult_adds_accepts_correct_variants(capsys) -> None:
    checks.grouped_conv_mult_adds(grouped_conv_mult_adds)
    checks.grouped_conv_mult_adds(
        lambda c_in, c_out, k, s, g: int(np.int64(k) ** 2 * (c_in // g) * c_out * s**2)
    )
    assert capsys.readouterr().out.count("✔ grouped_conv_mult_adds") == 2


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda ci, co, k, s, g: k * k * ci * co * s * s, "divide c_in by groups"),
        (lambda ci, co, k, s, g: k * k * (ci // g) * co, "number of weights"),
        (lambda ci, co, k, s, g: k * k * (ci // g) * co + co, "number of parameters"),
        (lambda ci, co, k, s, g: (k * k * (ci // g) + 1) * co * s * s, "the bias is an addition"),
        (lambda ci, co, k, s, g: k * (ci // g) * co * s * s, "use k², not k"),
        (lambda ci, co, k, s, g: k * k * (ci // g) * co * s, "not by out_size"),
        (lambda ci, co, k, s, g: 2 * k * k * (ci // g) * co * s * s, "not FLOPs"),
        (lambda ci, co, k, s, g: k * k * (ci // g) * co * s * s // g, "divide by groups once"),
        (lambda ci, co, k, s, g: k * k * (ci / g) * co * s * s, "return an int"),
        (lambda ci, co, k, s, g: torch.tensor(k * k * (ci // g) * co * s * s), "torch.Tensor"),
    ],
)
def test_grouped_conv_mult_adds_names_the_mistake(wrong, hint) -> None:
    assert hint in failure(checks.grouped_conv_mult_adds, wrong)


def test_grouped_conv_mult_adds_forbids_building_the_layer() -> None:
    def with_layer(c_in, c_out, k, s, g):
        layer = torch.nn.Conv2d(c_in, c_out, k, groups=g)
        return layer.weight.numel() * s * s

    assert "torch.nn.Conv2d" in failure(checks.grouped_conv_mult_adds, with_layer)


def test_all_lists_exactly_the_checks() -> None:
    assert sorted(checks.__all__) == ["grouped_conv_mult_adds", "pareto_front"]
