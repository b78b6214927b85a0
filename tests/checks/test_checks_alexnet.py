"""The checks of topic 6 against wrong answers: each fails with the hint naming the mistake."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab import checks
from tests.checks.check_helpers import failure, hints, stub


def cost_of(*, bias_fix=None, groups=True, size=None, bias_adds=False, order=False, kind=int):
    def layer_cost(in_shape, out_channels, kernel, stride=1, padding=0, groups_=1, bias=True, **kw):
        g = kw.get("groups", groups_)
        c, h, w = in_shape
        out = size or (lambda n: (n - kernel + 2 * padding) // stride + 1)
        per = kernel * kernel * (c // g if groups else c)
        has_bias = bias if bias_fix is None else bias_fix
        params = per * out_channels + (out_channels if has_bias else 0)
        n_out = out(h) * out(w) * out_channels
        adds = n_out * per + (n_out if bias_adds and bias else 0)
        pair = (adds, params) if order else (params, adds)
        return tuple(kind(v) for v in pair)

    return layer_cost


def right(in_shape, out_channels, kernel, stride=1, padding=0, groups=1, bias=True):
    c, h, w = in_shape
    oh, ow = ((n - kernel + 2 * padding) // stride + 1 for n in (h, w))
    per = kernel * kernel * (c // groups)
    return per * out_channels + (out_channels if bias else 0), oh * ow * out_channels * per


def test_layer_cost_passes(capsys) -> None:
    checks.layer_cost(right)
    assert capsys.readouterr().out.startswith("✔ layer_cost: 40 layers")


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (cost_of(bias_fix=False), "one bias when bias=True"),
        (cost_of(groups=False), "groups=G each filter sees only C/G"),
        (cost_of(bias_adds=True), "bias add is not counted"),
        (cost_of(order=True), "(params, mult_adds) in this order"),
    ],
)
def test_layer_cost_mistakes(fn, hint: str) -> None:
    assert hint in " ".join(hints(failure("layer_cost", fn)))


def test_layer_cost_stride_padding_and_plus_one() -> None:
    def make(rule):
        def f(in_shape, out_channels, kernel, stride=1, padding=0, groups=1, bias=True):
            c, h, w = in_shape
            per = kernel * kernel * (c // groups)
            o = [rule(n, kernel, stride, padding) for n in (h, w)]
            return per * out_channels + (out_channels if bias else 0), o[0] * o[
                1
            ] * out_channels * per

        return f

    cases = [
        (lambda n, f, s, p: n - f + 2 * p + 1, "the stride shrinks the output"),
        (lambda n, f, s, p: (n - f) // s + 1, "padding adds P pixels"),
        (lambda n, f, s, p: (n - f + 2 * p) // s, "forgot the + 1"),
    ]
    for rule, hint in cases:
        assert hint in " ".join(hints(failure("layer_cost", make(rule))))


def test_layer_cost_types_and_library() -> None:
    def stub_cost(in_shape, out_channels, kernel, stride=1, padding=0, groups=1, bias=True):
        raise NotImplementedError()

    assert "is not implemented yet" in failure("layer_cost", stub_cost)
    msg = failure("layer_cost", lambda *a, **k: np.array(right(*a, **k)))
    assert "pair of ints" in msg
    msg = failure("layer_cost", lambda *a, **k: tuple(float(v) for v in right(*a, **k)))
    assert "whole number" in msg

    def library(in_shape, out_channels, kernel, stride=1, padding=0, groups=1, bias=True):
        from cnnlab.cost import summary

        conv = torch.nn.Conv2d(in_shape[0], out_channels, kernel, stride, padding, groups=groups,
                               bias=bias, device="meta")  # fmt: skip
        t = summary(conv, in_shape).totals
        return t.params, t.mult_adds

    assert "cnnlab.cost.summary" in failure("layer_cost", library)


def solution(images, alpha):
    pixels = images.transpose(0, 1).reshape(3, -1)
    values, vectors = torch.linalg.eigh(torch.cov(pixels))
    values, vectors = values.flip(0), vectors.flip(1)
    return images + ((alpha * values) @ vectors.T)[:, :, None, None]


def variant(**change):
    def pca_colour(images, alpha):
        pixels = images.transpose(0, 1).reshape(3, -1)
        if change.get("uncentred"):
            cov = pixels @ pixels.T / pixels.shape[1]
        else:
            cov = torch.cov(pixels, correction=0 if change.get("biased") else 1)
        values, vectors = torch.linalg.eigh(cov)
        if not change.get("ascending"):
            values, vectors = values.flip(0), vectors.flip(1)
        if change.get("sqrt"):
            values = values.sqrt()
        if change.get("no_lambda"):
            values = torch.ones_like(values)
        if change.get("rows"):
            vectors = vectors.T
        if change.get("negate"):
            vectors = vectors * torch.tensor([-1.0, 1.0, -1.0], dtype=vectors.dtype)
        shift = ((alpha * values) @ vectors.T)[:, :, None, None]
        out = shift.expand_as(images).clone() if change.get("shift_only") else images + shift
        if change.get("clamp"):
            out = out.clamp(0, 1)
        if change.get("float32"):
            out = out.float()
        if change.get("numpy"):
            out = out.numpy()
        return out

    return pca_colour


def test_pca_colour_passes_with_any_eigenvector_signs(capsys) -> None:
    checks.pca_colour(solution)
    checks.pca_colour(variant(negate=True))
    assert capsys.readouterr().out.count("✔ pca_colour: 12 batches") == 2


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ("ascending", "largest* eigenvalue"),
        ("sqrt", "not by its square root"),
        ("no_lambda", "multiply each alpha by its eigenvalue"),
        ("biased", "M − 1"),
        ("uncentred", "subtract the mean colour"),
        ("rows", "*columns*"),
        ("shift_only", "not the shift alone"),
    ],
)
def test_pca_colour_mistakes(change: str, hint: str) -> None:
    assert hint in " ".join(hints(failure("pca_colour", variant(**{change: True}))))


def test_pca_colour_types_and_library() -> None:
    assert "NumPy array" in failure("pca_colour", variant(numpy=True))
    assert "float32 round-off" in " ".join(hints(failure("pca_colour", variant(float32=True))))
    assert "is not implemented yet" in failure("pca_colour", stub)

    def library(images, alpha):
        from cnnlab.train.augment import pca_colour_shift, rgb_pca

        return pca_colour_shift(images, *rgb_pca(images), alpha)

    assert "cnnlab.train.augment.rgb_pca" in failure("pca_colour", library)
