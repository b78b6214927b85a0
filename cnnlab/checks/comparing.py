"""Checks of topic 14, comparing architectures: ``pareto_front`` and ``grouped_conv_mult_adds``.

* :func:`pareto_front` checks ``pareto_front(rows) -> set[str]``: the names of the rows
  (name, multiply-adds, error) that no other row beats on both, against
  :func:`cnnlab.latency.pareto_front`, on the course's ImageNet table, then on random tables
  with ties.
* :func:`grouped_conv_mult_adds` checks
  ``grouped_conv_mult_adds(c_in, c_out, k, out_size, groups) -> int``: the multiply-adds of a
  (grouped) k×k convolution on an out_size² output, against the cost table of the real layer.

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnlab.checks._core import (
    CheckFailed,
    as_int,
    call_student,
    generator,
    num,
    ok,
    pick,
    require_callable,
)

__all__ = ["grouped_conv_mult_adds", "pareto_front"]

Rows = list[tuple[str, float, float]]

# --------------------------------------------------------------------------------------------
# pareto_front(rows)

_PARETO_FORBIDDEN = ("cnnlab.latency.pareto_front",)


def _front(rows: Rows) -> set[str]:
    from cnnlab.latency import pareto_front as reference

    return reference(rows)


# (c2, e2, c, e) -> does a row of cost c2 and error e2 beat one of cost c and error e?
Rule = Callable[[float, float, float, float], bool]

# Slips in the dominance test, each with what to tell the student.
_BOTH_STRICT = (
    "a model that costs the same but errs less (or errs the same and costs less) also beats it: "
    "use <= on both and < on at least one"
)
_SLIPS: tuple[tuple[Rule, str], ...] = (
    (
        lambda c2, e2, c, e: c2 <= c and e2 >= e and (c2 < c or e2 > e),
        "you kept the models with the *highest* error for their cost: lower error is better, "
        "a model b beats a when b.cost <= a.cost and b.error <= a.error",
    ),
    (lambda c2, e2, c, e: c2 < c and e2 < e, _BOTH_STRICT),
    (lambda c2, e2, c, e: c2 <= c and e2 < e, _BOTH_STRICT),  # strict on one of the two only
    (lambda c2, e2, c, e: c2 < c and e2 <= e, _BOTH_STRICT),
    (
        lambda c2, e2, c, e: c2 <= c and e2 <= e,  # then equal rows knock each other out
        "with <= on both and no strict <, equal models knock each other out: require b to "
        "be strictly better on at least one of the two",
    ),
)


def _kept(rows: Rows, beats: Rule) -> set[str]:
    """The names of the rows that no *other* row beats under the rule ``beats``."""
    return {
        n for i, (n, c, e) in enumerate(rows)
        if not any(beats(c2, e2, c, e) for j, (_, c2, e2) in enumerate(rows) if j != i)
    }  # fmt: skip


def _pareto_hint(got: set[str], rows: Rows) -> str:
    want = _front(rows)
    names = {n for n, _, _ in rows}
    for beats, hint in _SLIPS:
        if got == _kept(rows, beats):
            return hint
    if not got:
        return _SLIPS[-1][1]
    if got == names:
        return "you returned every model: drop each one some other model beats on both"
    if want and got == names - want:
        return "you returned the beaten models: keep the ones that *no* other model beats"
    # costs and errors are real numbers (2.5, 11.25): int() or round() merges distinct values
    for cut in (int, round):
        if got == _front([(n, cut(c), cut(e)) for n, c, e in rows]):
            return (
                f"costs and errors have fractions (e.g. 2.5): {cut.__name__}(...) merges distinct "
                "values; compare them as they are"
            )
    if got < want:
        lost = sorted(want - got)
        point = {n: (c, e) for n, c, e in rows}
        if all(any(point[m] == point[n] for m in got) for n in lost):
            return (
                f"{lost} equal a model you kept: equal rows do not beat each other, so both "
                "stay (a dict or set keyed by (cost, error) keeps only one of them)"
            )
        return f"{lost} are beaten by no model and belong to the front"
    if got > want:
        return f"{sorted(got - want)} are beaten by another model on both cost and error"
    return "keep exactly the rows no other row beats on both cost and error"


def _random_rows(g: torch.Generator, n: int) -> Rows:
    rows: Rows = []
    for i in range(n):
        cost = float(pick(g, 1, 8)) + 0.5 * pick(g, 0, 1)  # few values: ties happen
        err = float(pick(g, 10, 16)) + 0.25 * pick(g, 0, 3)
        rows.append((f"m{i}", cost, err))
    rows.append(("twin_a", 2.5, 11.0))  # two equal rows: both or neither on the front
    rows.append(("twin_b", 2.5, 11.0))
    return rows


def pareto_front(fn: Callable[..., Any], cases: int = 12) -> None:
    """Check ``fn(rows) -> set[str]``: the names of the rows (name, cost, error) that no other
    row beats on both (cost and error at most as high, one strictly lower)."""
    name = "pareto_front"
    fn = require_callable(name, fn)
    from cnnlab.published.comparing import IMAGENET

    # the worked example: published top-1 error against published multiply-adds
    example: Rows = [
        (r["model"], r["mult_adds"], r["top1"])
        for r in IMAGENET.records()
        if r["mult_adds"] is not None
    ]
    g = generator(name)
    tables = [example, *(_random_rows(g, pick(g, 4, 12)) for _ in range(cases))]
    for rows in tables:
        call = f"{name}({rows!r})" if rows is not example else f"{name}(<the ImageNet table>)"
        got = call_student(
            name, fn, (rows,), call, forbidden=_PARETO_FORBIDDEN,
            instead="compare each row with every other row yourself",
        )  # fmt: skip
        if got is None:
            raise CheckFailed(f"{name} returned None for {call}: did you forget `return`?")
        if not isinstance(got, (set, frozenset)):
            kind = type(got).__name__
            raise CheckFailed(
                f"{name} returned a {kind} for {call}; return a set of names (the front has no "
                "order): set(...) or a set comprehension {name for ...}"
            )
        if not all(isinstance(x, str) for x in got):
            raise CheckFailed(
                f"{name} returned {sorted(map(repr, got))[:4]} for {call}: return the *names* "
                "(the first item of each row), not the rows"
            )
        want = _front(rows)
        if set(got) != want:
            raise CheckFailed(
                f"{name} is wrong for {call}:\n  expected {sorted(want)},\n  got      "
                f"{sorted(got)}.\n  Hint: {_pareto_hint(set(got), rows)}."
            )
    front = sorted(_front(example), key=dict((n, c) for n, c, _ in example).__getitem__)
    ok(
        f"{name}: the ImageNet table's front by published multiply-adds is {', '.join(front)}; "
        f"{cases} random tables with ties agree"
    )


# --------------------------------------------------------------------------------------------
# grouped_conv_mult_adds(c_in, c_out, k, out_size, groups)

# The course's counters, the layer (its __init__ first: that blocks it under any name, such as
# torch.nn.modules.conv.Conv2d, before torch.nn.Conv2d itself is replaced) and the convolution
# (what a FLOP counter such as torch.utils.flop_counter would have to run).
_COST_FORBIDDEN = (
    "cnnlab.cost.summary",
    "cnnlab.cost.conv_mult_adds",
    "torch.nn.Conv2d.__init__",
    "torch.nn.Conv2d",
    "torch.nn.functional.conv2d",
    "torch.conv2d",
    "aten::convolution",  # however it is reached (torch.ops.aten, a FLOP counter's run)
    "aten::_convolution",
)


def _true_cost(c_in: int, c_out: int, k: int, out: int, groups: int) -> int:
    from cnnlab.cost import summary

    with torch.device("meta"):
        layer = nn.Conv2d(c_in, c_out, k, padding=k // 2, groups=groups, bias=False)
    return summary(layer, (c_in, out, out)).totals.mult_adds


def _cost_hint(ans: float, c_in: int, c_out: int, k: int, out: int, groups: int) -> str:
    area, right = out * out, k * k * (c_in // groups) * c_out * out * out
    if ans == k * k * c_in * c_out * area and groups > 1:
        return (
            f"with groups={groups} each filter sees only c_in / groups = {c_in // groups} input "
            "channels: divide c_in by groups"
        )
    if ans == k * k * c_out * area:
        return (
            "you left out the input channels: each output value sums k² · (c_in // groups) products"
        )
    if groups > 1 and ans == k * k * groups * c_out * area:
        return (
            f"groups is the number of groups, not the input channels per group: each filter "
            f"sees c_in // groups = {c_in // groups} input channels"
        )
    if k > 1 and ans == right // area * (out - k + 1) ** 2:
        return (
            "out_size is already the output size (the layer pads to keep it): do not subtract "
            "k - 1 from it"
        )
    if ans == k * k * (c_in // groups) * c_out:
        return "that is the number of weights: every output position repeats them, × out_size²"
    if ans == k * k * (c_in // groups) * c_out + c_out:
        return "that is the number of parameters (with bias): multiply the weights by out_size²"
    if ans == right + c_out * area:
        return "the bias is an addition, not a multiply-add: the cost table does not count it"
    if ans == k * (c_in // groups) * c_out * area:
        return "a k×k filter has k² weights per input channel: use k², not k"
    if ans == right // out:
        return "the output map is out_size × out_size: multiply by out_size², not by out_size"
    if ans == 2 * right:
        return "count multiply-adds (one multiplication and one addition each), not FLOPs"
    if ans == right // groups:
        return "divide by groups once: c_in / groups input channels per filter, c_out filters"
    if isinstance(ans, float):
        return "a count is a whole number: use // for c_in // groups"
    return "k² · (c_in / groups) · c_out multiply-adds per output position, × out_size²"


def grouped_conv_mult_adds(fn: Callable[..., Any], cases: int = 30) -> None:
    """Check ``fn(c_in, c_out, k, out_size, groups) -> int``: the multiply-adds of a k×k
    convolution with ``groups`` groups from c_in to c_out channels on an out_size² output."""
    name = "grouped_conv_mult_adds"
    fn = require_callable(name, fn)
    g = generator(name)
    # the worked example: VGG-16's second 3×3 convolution, 64 -> 64 maps at 224×224
    layers = [(64, 64, 3, 224, 1), (128, 128, 3, 28, 32)]  # and a ResNeXt grouped 3×3
    while len(layers) < cases:
        groups = (1, 2, 4, 8)[len(layers) % 4]
        c_in, c_out = groups * pick(g, 1, 24), groups * pick(g, 1, 24)
        if c_in == c_out:
            continue
        layers.append((c_in, c_out, (1, 3, 5, 7)[len(layers) % 4], pick(g, 2, 30), groups))
    for args in layers:
        call = f"{name}{args}"
        value = call_student(
            name, fn, args, call, forbidden=_COST_FORBIDDEN,
            instead="count the multiply-adds with the formula: no layer, convolution or cost table",
        )  # fmt: skip
        answer = as_int(name, value, call, "a number of multiply-adds")
        want = _true_cost(*args)
        if answer != want:
            raise CheckFailed(
                f"{name} is wrong for {call}:\n  expected {want:,} (the cost table of the real "
                f"layer), got {num(answer)}.\n  Hint: {_cost_hint(answer, *args)}."
            )
    ok(
        f"{name}: {cases} layers match the cost table (VGG-16's 64 -> 64 3×3 convolution at "
        f"224×224: {_true_cost(*layers[0]):,} multiply-adds)"
    )
