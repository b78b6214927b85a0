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
    assert "the library function" in message


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


# -- new attacks: pareto_front -----------------------------------------------------------------
def test_pareto_front_accepts_vectorised_answers(capsys) -> None:
    def with_numpy(rows):  # a dominance matrix by broadcasting; names come back as np.str_
        names = np.array([r[0] for r in rows])
        c, e = (np.array([r[i] for r in rows], dtype=float) for i in (1, 2))
        beats = (c[:, None] <= c) & (e[:, None] <= e) & ((c[:, None] < c) | (e[:, None] < e))
        return set(names[~beats.any(axis=0)])

    def with_torch(rows):  # float32 tensors: the values are exact in float32 (x.5, x.25, x.xx)
        c = torch.tensor([r[1] for r in rows])
        e = torch.tensor([r[2] for r in rows])
        beats = (c[:, None] <= c) & (e[:, None] <= e) & ((c[:, None] < c) | (e[:, None] < e))
        return {r[0] for r, hit in zip(rows, beats.any(dim=0).tolist(), strict=True) if not hit}

    checks.pareto_front(with_numpy)
    checks.pareto_front(with_torch)
    assert capsys.readouterr().out.count("✔ pareto_front") == 2


def _sweep_by_cost_only(rows):
    """Sorted by cost alone, keep a row when its error beats the best so far: equal costs
    come in input order, so a dearer twin is kept, and an equal twin dropped."""
    front, best = set(), float("inf")
    for name, _, err in sorted(rows, key=lambda r: r[1]):
        if err < best:
            front.add(name)
            best = err
    return front


def _one_per_point(rows):
    """Deduplicates equal rows (a dict keyed by (cost, error)): one of two twins is lost."""
    points = {(c, e): n for n, c, e in rows}
    return {n for (c, e), n in points.items() if not any(
        c2 <= c and e2 <= e and (c2, e2) != (c, e) for c2, e2 in points)}  # fmt: skip


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda rows: rows.sort() or pareto_front(rows), "changed its input list"),
        (lambda rows: {n for n, _, _ in rows} - pareto_front(rows), "the beaten models"),
        (_one_per_point, "equal rows do not beat each other"),
        (lambda rows: pareto_front([(n, int(c), int(e)) for n, c, e in rows]), "int("),
        (
            lambda rows: {
                n for n, c, e in rows if not any(c2 <= c and e2 < e for _, c2, e2 in rows)
            },  # fmt: skip
            "use <= on both and < on at least one",
        ),
        (
            lambda rows: {
                n for n, c, e in rows if not any(c2 < c and e2 <= e for _, c2, e2 in rows)
            },  # fmt: skip
            "use <= on both and < on at least one",
        ),
        (_sweep_by_cost_only, "pareto_front is wrong"),
        (lambda rows: dict.fromkeys(pareto_front(rows)).keys(), "return a set of names"),
    ],
)
def test_pareto_front_rejects_new_wrong_answers(wrong, hint) -> None:
    assert hint in failure(checks.pareto_front, wrong)


def test_pareto_front_forbids_the_library_through_an_alias() -> None:
    import importlib

    def via_getattr(rows):
        return getattr(importlib.import_module("cnnlab.latency"), "pareto_front")(rows)  # noqa: B009

    assert "the library function" in failure(checks.pareto_front, via_getattr)


# -- new attacks: grouped_conv_mult_adds -------------------------------------------------------
def test_grouped_conv_mult_adds_accepts_unusual_correct_answers(capsys) -> None:
    import math

    checks.grouped_conv_mult_adds(lambda ci, co, k, s, g: np.int64(k) ** 2 * ci * co * s**2 // g)
    checks.grouped_conv_mult_adds(lambda ci, co, k, s, g: ci * (co // g) * k * k * s * s)
    checks.grouped_conv_mult_adds(
        lambda ci, co, k, s, g: round(math.prod((k, k, ci / g, co, s, s)))
    )
    assert capsys.readouterr().out.count("✔ grouped_conv_mult_adds") == 3


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda ci, co, k, s, g: k * k * (ci // g) * co * (s - k + 1) ** 2, "already the output"),
        (lambda ci, co, k, s, g: k * k * co * s * s, "left out the input channels"),
        # groups read as the channels per group (ResNeXt's "32x4d"): right for groups=1 only
        (lambda ci, co, k, s, g: k * k * (ci if g == 1 else g) * co * s * s, "number of groups"),
        (lambda ci, co, k, s, g: str(k * k * (ci // g) * co * s * s), "return one int"),
    ],
)
def test_grouped_conv_mult_adds_rejects_new_wrong_answers(wrong, hint) -> None:
    assert hint in failure(checks.grouped_conv_mult_adds, wrong)


def test_grouped_conv_mult_adds_forbids_the_library_and_the_layer_through_aliases() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    import cnnlab.cost

    def library(c_in, c_out, k, s, g):  # the course's own counter, which takes groups
        return cnnlab.cost.conv_mult_adds(s, s, c_in, c_out, k, groups=g)

    def layer_by_its_module_path(c_in, c_out, k, s, g):
        layer = torch.nn.modules.conv.Conv2d(c_in, c_out, k, groups=g, device="meta")
        return layer.weight.numel() * s * s

    def flop_counter(c_in, c_out, k, s, g):  # torch counts FLOPs: 2 per multiply-add
        x = torch.empty(1, c_in, s + k - 1, s + k - 1, device="meta")
        w = torch.empty(c_out, c_in // g, k, k, device="meta")
        with FlopCounterMode(display=False) as counter:
            torch.nn.functional.conv2d(x, w, groups=g)
        return counter.get_total_flops() // 2

    assert "cnnlab.cost.conv_mult_adds" in failure(checks.grouped_conv_mult_adds, library)
    for fn in (layer_by_its_module_path, flop_counter):
        message = failure(checks.grouped_conv_mult_adds, fn)
        assert "torch.nn" in message and "count the multiply-adds" in message
