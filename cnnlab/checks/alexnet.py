"""Checks of topic 6, AlexNet: ``layer_cost`` and ``pca_colour``.

* :func:`layer_cost` checks ``layer_cost(in_shape, out_channels, kernel, stride, padding,
  groups, bias) -> (params, mult_adds)`` of a convolution (an FC layer is a convolution whose
  kernel covers its whole input) against ``cnnlab.cost.summary`` of a real ``nn.Conv2d``;
* :func:`pca_colour` checks ``pca_colour(images, alpha)``: AlexNet's colour augmentation with
  given draws, against ``cnnlab.train.augment`` (whose functions it forbids).

Each runs the worked example of the notebook first, then seeded random cases, prints one
``✔ ...`` line on success and raises :class:`CheckFailed` with a hint naming the mistake.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnlab.checks._core import (
    CheckFailed,
    as_int,
    as_tensor,
    call_student,
    fail,
    first_difference,
    generator,
    matches,
    num,
    ok,
    pick,
    require_callable,
    show,
)

__all__ = ["layer_cost", "pca_colour"]

# --------------------------------------------------------------------------------------------
# layer_cost

Case = tuple[tuple[int, int, int], int, int, int, int, int, bool]
_COST_FORBIDDEN = (
    "cnnlab.cost.summary",
    "cnnlab.cost.conv_mult_adds",
    "cnnlab.shapes.conv_output_size",
    "cnnlab.shapes.conv_params",
    "torch.nn.Conv2d.forward",
)


def _reference_cost(case: Case) -> tuple[int, int]:
    """(params, mult-adds) of the real layer, from ``cnnlab.cost.summary`` on the meta device."""
    from cnnlab.cost import summary

    (c, h, w), k_out, f, s, p, g, b = case
    with torch.device("meta"):
        conv = nn.Conv2d(c, k_out, f, stride=s, padding=p, groups=g, bias=b)
    totals = summary(conv, (c, h, w)).totals
    return totals.params, totals.mult_adds


def _size(n: int, f: int, s: int, p: int) -> int:
    return (n - f + 2 * p) // s + 1


def _formula(
    case: Case,
    *,
    size: Callable[[int, int, int, int], int] = _size,
    groups: bool = True,
    bias_params: Callable[[bool], bool] = lambda b: b,
    bias_adds: bool = False,
) -> tuple[int, int]:
    """The cost by formula, with switches that reproduce classic mistakes."""
    (c, h, w), k_out, f, s, p, g, b = case
    per_filter = f * f * (c // g if groups else c)
    out = size(h, f, s, p) * size(w, f, s, p) * k_out
    params = per_filter * k_out + (k_out if bias_params(b) else 0)
    adds = out * per_filter + (out if bias_adds and b else 0)
    return params, adds


_COST_MISTAKES: list[tuple[Callable[[Case], tuple[int, int]], str]] = [
    (
        lambda c: _formula(c, bias_params=lambda b: False),
        "each of the K filters has one bias when bias=True: F·F·(C/groups)·K + K parameters",
    ),
    (
        lambda c: _formula(c, bias_params=lambda b: True),
        "bias=False means the layer has no bias terms: F·F·(C/groups)·K parameters only",
    ),
    (
        lambda c: _formula(c, groups=False),
        "with groups=G each filter sees only C/G input channels (AlexNet's two GPUs): "
        "F·F·(C/G) weights per filter, and as many multiply-adds per output value",
    ),
    (
        lambda c: _formula(c, size=lambda n, f, s, p: n - f + 2 * p + 1),
        "the stride shrinks the output: H' = floor((H − F + 2P)/S) + 1",
    ),
    (
        lambda c: _formula(c, size=lambda n, f, s, p: (n - f) // s + 1),
        "padding adds P pixels on both sides: H' = floor((H − F + 2P)/S) + 1",
    ),
    (
        lambda c: _formula(c, size=lambda n, f, s, p: (n - f + 2 * p) // s),
        "you forgot the + 1 of the output size: H' = floor((H − F + 2P)/S) + 1",
    ),
    (
        lambda c: _formula(c, size=lambda n, f, s, p: -(-(n - f + 2 * p) // s) + 1),
        "PyTorch floors (H − F + 2P)/S; you rounded up",
    ),
    (
        lambda c: _formula(c, bias_adds=True),
        "a multiply-add is one multiplication with its addition: the bias add is not counted, "
        "so mult-adds = H'·W'·K · F·F·(C/groups)",
    ),
]


def _cost_call(case: Case) -> str:
    (c, h, w), k_out, f, s, p, g, b = case
    return (
        f"layer_cost(({c}, {h}, {w}), out_channels={k_out}, kernel={f}, stride={s}, "
        f"padding={p}, groups={g}, bias={b})"
    )


def _cost_answer(name: str, value: object, call: str) -> tuple[int | float, int | float]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (
            as_int(name, value[0], call, "a parameter count"),
            as_int(name, value[1], call, "a multiply-add count"),
        )
    if value is None:
        fail(f"{name} returned None for {call}: did you forget the `return` statement?")
    fail(
        f"{name} returned a {type(value).__name__} for {call}; return a pair of ints: "
        "(params, mult_adds)"
    )
    raise AssertionError  # unreachable


def _cost_cases(n: int) -> list[Case]:
    cases: list[Case] = [
        ((3, 227, 227), 96, 11, 4, 0, 1, True),  # AlexNet conv1
        ((96, 27, 27), 256, 5, 1, 2, 2, True),  # conv2 on two GPUs
        ((256, 6, 6), 4096, 6, 1, 0, 1, True),  # fc6 as a 6×6 convolution
        ((384, 13, 13), 256, 3, 1, 1, 1, False),
    ]
    g = generator("layer_cost")
    while len(cases) < n:
        groups = [1, 1, 2, 4][pick(g, 0, 3)]
        c, k_out = groups * pick(g, 1, 12), groups * pick(g, 1, 12)
        f, s, p = pick(g, 1, 7), pick(g, 1, 4), pick(g, 0, 3)
        h, w = pick(g, max(f, 3), 40), pick(g, max(f, 3), 40)
        cases.append(((c, h, w), k_out, f, s, p, groups, pick(g, 0, 3) > 0))
    return cases


def layer_cost(fn: Callable[..., Any], cases: int = 40) -> None:
    """Check ``fn(in_shape, out_channels, kernel, stride=1, padding=0, groups=1, bias=True)
    -> (params, mult_adds)`` against ``cnnlab.cost.summary`` of ``nn.Conv2d`` layers."""
    name = "layer_cost"
    fn = require_callable(name, fn)
    for case in _cost_cases(cases):
        shape, k_out, f, s, p, g, b = case
        call = _cost_call(case)
        want = _reference_cost(case)
        value = call_student(
            name,
            fn,
            (shape, k_out, f),
            call,
            kwargs={"stride": s, "padding": p, "groups": g, "bias": b},
            forbidden=_COST_FORBIDDEN,
            instead="count with the formulas: F·F·(C/groups)·K (+ K) and H'·W'·K·F·F·(C/groups)",
        )
        got = _cost_answer(name, value, call)
        if got == want:
            continue
        hint = next((h for rule, h in _COST_MISTAKES if rule(case) == got), None)
        if hint is None and got == want[::-1]:
            hint = "return (params, mult_adds) in this order"
        which = [
            f"{what}: expected {num(e)}, got {num(a)}"
            for what, e, a in zip(("params", "mult-adds"), want, got, strict=True)
            if e != a
        ]
        raise CheckFailed(
            f"{name} is wrong for {call}:\n  "
            + "; ".join(which)
            + f" (cnnlab.cost.summary of nn.Conv2d({shape[0]}, {k_out}, {f}, stride={s}, "
            f"padding={p}, groups={g}, bias={b}))." + (f"\n  Hint: {hint}" if hint else "")
        )
    ok(
        f"{name}: {cases} layers (AlexNet's conv1, grouped conv2 and fc6 first) match "
        "cnnlab.cost.summary of nn.Conv2d"
    )


# --------------------------------------------------------------------------------------------
# pca_colour

_PCA_FORBIDDEN = (
    "cnnlab.train.augment.rgb_pca",
    "cnnlab.train.augment.pca_colour_shift",
    "cnnlab.train.augment.PCAColour.__call__",
    "cnnlab.train.augment.PCAColour.from_images",
)


def _components(
    images: torch.Tensor, *, correction: int = 1, centre: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = images.permute(1, 0, 2, 3).reshape(3, -1)
    if centre:
        cov = torch.cov(pixels, correction=correction)
    else:
        cov = pixels @ pixels.T / pixels.shape[1]
    values, vectors = torch.linalg.eigh(cov)
    return values.flip(0), vectors.flip(1)


def _shifted(
    images: torch.Tensor, values: torch.Tensor, vectors: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    shift = (alpha * values) @ vectors.T
    return images + shift[:, :, None, None]


def _any_sign(
    got: torch.Tensor,
    images: torch.Tensor,
    values: torch.Tensor,
    vectors: torch.Tensor,
    alpha: torch.Tensor,
    rtol: float,
) -> bool:
    """``got`` equals the augmentation for some choice of each eigenvector's sign (an
    eigenvector is only defined up to its sign; every library picks its own)."""
    scale = float(images.abs().max()) + 1e-3
    for signs in itertools.product((1.0, -1.0), repeat=3):
        flip = torch.tensor(signs, dtype=vectors.dtype)
        if matches(got, _shifted(images, values, vectors * flip, alpha), scale, rtol):
            return True
    return False


def _pca_mistakes(
    images: torch.Tensor, alpha: torch.Tensor
) -> tuple[list[tuple[Any, str]], list[tuple[torch.Tensor, torch.Tensor]]]:
    """Classic mistakes as ((images, values, vectors, alpha) or a keyword, hint), and the
    per-image components."""
    values, vectors = _components(images)
    per_image = [_components(images[i : i + 1]) for i in range(images.shape[0])]
    return [
        (
            (images, values.flip(0), vectors.flip(1), alpha),
            "pair alpha[:, 0] with the *largest* eigenvalue: torch.linalg.eigh returns them in "
            "ascending order, so flip both (values.flip(0), vectors.flip(1))",
        ),
        (
            (images, values.sqrt(), vectors, alpha),
            "the paper scales by the eigenvalue λ itself, not by its square root",
        ),
        (
            (images, torch.ones_like(values), vectors, alpha),
            "multiply each alpha by its eigenvalue: the shift is P @ (alpha * λ)",
        ),
        (
            (images, *_components(images, correction=0), alpha),
            "use the covariance normalised by M − 1, as torch.cov does (you divided by M)",
        ),
        (
            (images, *_components(images, centre=False), alpha),
            "subtract the mean colour before the covariance (torch.cov does it): you used the "
            "uncentred second moments",
        ),
        (
            (images, values, vectors.T, alpha),
            "the eigenvectors are the *columns* of what torch.linalg.eigh returns, not its rows",
        ),
        (
            "per_image",
            "compute one covariance over the pixels of *all* images of the batch, not one per "
            "image",
        ),
        (
            "shift_only",
            "return the shifted images, images + shift, not the shift alone",
        ),
        ("clamped", "do not clamp: the exercise asks for the raw shifted values"),
    ], per_image


def _pca_hint(got: torch.Tensor, images: torch.Tensor, alpha: torch.Tensor) -> str | None:
    mistakes, per_image = _pca_mistakes(images, alpha)
    values, vectors = _components(images)
    right = _shifted(images, values, vectors, alpha)
    for spec, hint in mistakes:
        if spec == "per_image":
            alt = torch.cat(
                [
                    _shifted(images[i : i + 1], v, p, alpha[i : i + 1])
                    for i, (v, p) in enumerate(per_image)
                ]
            )
            if matches(got, alt, float(images.abs().max()) + 1e-3, 1e-5):
                return hint
            continue
        if spec == "shift_only":
            for signs in itertools.product((1.0, -1.0), repeat=3):
                flip = torch.tensor(signs, dtype=vectors.dtype)
                alt = _shifted(images, values, vectors * flip, alpha) - images
                if matches(got, alt, float(images.abs().max()) + 1e-3, 1e-5):
                    return hint
            continue
        if spec == "clamped":
            if matches(got, right.clamp(0, 1), 1.0, 1e-5) and not matches(got, right, 1.0, 1e-5):
                return hint
            continue
        if _any_sign(got, *spec, rtol=1e-5):
            return hint
    return None


def _pca_cases(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = generator("pca_colour")
    example = torch.tensor(
        [[0.9, 0.1], [0.3, 0.5]], dtype=torch.float64
    )  # the notebook's worked example: two 2×2 images
    images = torch.stack(
        [
            torch.stack([example, 0.5 * example + 0.2, 1 - example]),
            torch.stack([example.T, example.flip(0), 0.25 + 0.5 * example]),
        ]
    )
    cases = [(images, torch.tensor([[0.1, -0.2, 0.05], [-0.1, 0.0, 0.3]], dtype=torch.float64))]
    while len(cases) < n:
        b, h, w = pick(g, 2, 5), pick(g, 3, 9), pick(g, 3, 9)
        mix = torch.randn(3, 3, generator=g, dtype=torch.float64)  # correlated colours
        base = torch.rand(b, 3, h, w, generator=g, dtype=torch.float64)
        imgs = torch.einsum("ij,bjhw->bihw", mix, base).round(decimals=2)
        alpha = (0.1 * torch.randn(b, 3, generator=g, dtype=torch.float64)).round(decimals=3)
        cases.append((imgs, alpha))
    return cases


def pca_colour(fn: Callable[..., Any], cases: int = 12) -> None:
    """Check ``fn(images (N, 3, H, W), alpha (N, 3)) -> (N, 3, H, W)``: each image plus
    ``P @ (alpha[n] * λ)``, with λ, P the eigenvalues (largest first) and eigenvectors of the
    covariance of all pixels of the batch. Any sign of each eigenvector is accepted."""
    name = "pca_colour"
    fn = require_callable(name, fn)
    for images, alpha in _pca_cases(cases):
        call = f"{name}(images of shape {tuple(images.shape)}, alpha of shape {tuple(alpha.shape)})"
        if images.numel() <= 24:
            call += f" with images = {show(images)} and alpha = {show(alpha)}"
        got = as_tensor(
            name,
            call_student(
                name,
                fn,
                (images, alpha),
                call,
                forbidden=_PCA_FORBIDDEN,
                instead="compute the covariance (torch.cov) and its eigenvectors "
                "(torch.linalg.eigh) yourself",
            ),
            call,
        )
        values, vectors = _components(images)
        if tuple(got.shape) == tuple(images.shape) and _any_sign(
            got.to(torch.float64), images, values, vectors, alpha, 1e-9
        ):
            if got.dtype != images.dtype:
                fail(
                    f"{name} returned {got.dtype} for {call}; keep the images' dtype "
                    f"{images.dtype} (no .float(), no float32 tensors in the computation)"
                )
            continue
        want = _shifted(images, values, vectors, alpha)
        problem = first_difference(
            got.to(torch.float64), want, scale=float(images.abs().max()) + 1e-3, what="output"
        )
        hint = None
        if tuple(got.shape) == tuple(images.shape):
            hint = _pca_hint(got.to(torch.float64), images, alpha)
            if hint is None and _any_sign(
                got.to(torch.float64), images, values, vectors, alpha, 1e-5
            ):
                hint = (
                    f"right up to float32 round-off: keep the images' dtype {images.dtype} "
                    "throughout"
                )
        raise CheckFailed(
            f"{name} is wrong for {call}:\n  {problem} (any sign of each eigenvector is "
            "accepted)." + (f"\n  Hint: {hint}" if hint else "")
        )
    ok(
        f"{name}: {cases} batches (the worked example first) match AlexNet's PCA colour shift "
        "P @ (alpha * λ) with the covariance of all pixels"
    )
