"""Checks of topic 11, degradation vs ResNet: ``basic_block``, ``shortcut_a``,
``bottleneck_params``.

* :func:`basic_block` checks a factory ``basic_block(inplanes, planes, stride) -> nn.Module``:
  He et al.'s basic block with a projection shortcut (1×1 convolution + BN) where the shape
  changes, against :class:`cnnlab.models.resnet.BasicBlock` with copied weights.
* :func:`shortcut_a` checks ``shortcut_a(x, out_channels, stride) -> Tensor``: option A
  (subsample, then append zero channels), against :class:`cnnlab.models.resnet.ShortcutA`.
* :func:`bottleneck_params` checks ``bottleneck_params(c_in, mid, c_out, projection, bn)``: the
  parameters of a bottleneck block (1×1, 3×3, 1×1, no biases), against a built one.

Each prints one ``✔ ...`` line on success and raises :class:`CheckFailed` naming the mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.checks._core import (
    CheckFailed,
    as_int,
    as_tensor,
    call_student,
    compare,
    fail,
    generator,
    num,
    ok,
    pick,
    randreal,
    require_callable,
    seeded,
)
from cnnlab.checks._module import module_matches

__all__ = ["basic_block", "bottleneck_params", "shortcut_a"]

# --------------------------------------------------------------------------------------------
# basic_block(inplanes, planes, stride)

_BLOCK_FORBIDDEN = (
    # .forward first (forbid() then replaces the class itself): it also catches a subclass
    # defined outside the factory, and torchvision's block, which has the very same names
    "cnnlab.models.resnet.BasicBlock.forward",
    "torchvision.models.resnet.BasicBlock.forward",
    "cnnlab.models.resnet.BasicBlock",
    "cnnlab.models.resnet.build_resnet",
    "cnnlab.models.resnet.cifar_resnet",
    "cnnlab.models.create_model",
)
_BLOCK_INSTEAD = "build it from nn.Conv2d and nn.BatchNorm2d"


def _reference_block(inplanes: int, planes: int, stride: int = 1) -> nn.Module:
    from cnnlab.models.resnet import BasicBlock

    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
        )
    return BasicBlock(inplanes, planes, stride, downsample)


def _block_variants(ref: nn.Module, x: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    """The outputs of the classic mistakes, computed with the reference's own layers."""
    identity = x if ref.downsample is None else ref.downsample(x)
    s = ref.conv1.stride

    def branch(first_stride: Any = s, second_stride: Any = 1, relu: bool = True) -> torch.Tensor:
        h = ref.bn1(F.conv2d(x, ref.conv1.weight, stride=first_stride, padding=1))
        h = F.relu(h) if relu else h
        return ref.bn2(F.conv2d(h, ref.conv2.weight, stride=second_stride, padding=1))

    f = branch()
    out = [
        (f + identity, "there is no ReLU after the addition: the block ends relu(F(x) + x)"),
        (
            F.relu(f) + identity,
            "the ReLU comes after the addition, not before it: relu(bn2(conv2(...)) + x); "
            "with the ReLU first the block can never output a negative correction",
        ),
        (F.relu(f), "the shortcut is missing: add the input (or its projection) before the ReLU"),
        (
            F.relu(ref.bn1(ref.conv1(x))),
            "the second convolution (conv2, bn2) is missing from the residual branch",
        ),
        (
            F.relu(branch(relu=False) + identity),
            "the ReLU between bn1 and conv2 is missing: relu(bn1(conv1(x))) goes into conv2",
        ),
    ]
    if s != (1, 1):
        moved = branch(1, s)
        out.append(
            (
                F.relu(moved + identity),
                "the stride belongs to the first 3×3 convolution (conv1), not the second",
            )
        )
    return out


def _diagnose_block(student: Callable[..., Any], name: str) -> None:
    """The worked example (16 -> 32 channels, stride 2) and an identity block (8 -> 8) in eval
    mode, with a named mistake."""
    for kwargs in ({"inplanes": 16, "planes": 32, "stride": 2},
                   {"inplanes": 8, "planes": 8, "stride": 1}):  # fmt: skip
        if not _diagnose_one(student, name, kwargs):
            return


def _diagnose_one(student: Callable[..., Any], name: str, kwargs: Mapping[str, Any]) -> bool:
    """False when module_matches should explain instead (the block could not be run)."""
    ctor = f"basic_block({kwargs['inplanes']}, {kwargs['planes']}, {kwargs['stride']})"
    with seeded(11):
        ref = _reference_block(**kwargs).double().eval()
    built = call_student(name, student, (), ctor, kwargs=kwargs)
    if not isinstance(built, nn.Module):
        return False  # module_matches explains
    mine = built.double().eval()
    try:
        mine.load_state_dict(ref.state_dict())
    except (RuntimeError, KeyError):
        return False  # names or shapes differ: module_matches lists them
    g = generator(name)
    x = randreal(g, 2, kwargs["inplanes"], 8, 8)
    x_before = x.clone()
    with torch.no_grad():
        want = ref(x)
        try:
            got = call_student(
                name, mine, (x,), f"the block on a {tuple(x.shape)} input",
                forbidden=_BLOCK_FORBIDDEN,
            )  # fmt: skip
        except CheckFailed:
            if not torch.equal(x, x_before):
                raise  # x changed in place (identity += out): call_student's message says so
            return False
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            return False
        if torch.allclose(got, want, rtol=1e-9, atol=1e-12):
            return True
        for alt, hint in _block_variants(ref, x):
            if alt.shape == got.shape and torch.allclose(got, alt, rtol=1e-9, atol=1e-12):
                raise CheckFailed(
                    f"{name} is wrong for {ctor} (eval mode, the reference's weights copied "
                    f"in):\n  Hint: {hint}"
                )
    return True


_BRANCH = ("conv1", "bn1", "conv2", "bn2", "downsample")


def _diagnose_projection(
    student: Callable[..., Any], name: str, configs: Sequence[Mapping[str, Any]]
) -> None:
    """Fail with a hint when the block has a projection where it needs none, or lacks one
    (or is the library's block, e.g. captured in a closure, out of forbid()'s reach)."""
    from cnnlab.models.resnet import BasicBlock

    for kw in configs:
        ctor = f"basic_block({kw['inplanes']}, {kw['planes']}, {kw['stride']})"
        built = call_student(
            name, student, (), ctor, kwargs=kw, forbidden=_BLOCK_FORBIDDEN, instead=_BLOCK_INSTEAD
        )
        if not isinstance(built, nn.Module):
            return  # module_matches explains
        if isinstance(built, BasicBlock):
            fail(
                f"{name} uses cnnlab.models.resnet.BasicBlock, the library layer this exercise "
                f"replaces: {_BLOCK_INSTEAD} (found for {ctor})."
            )
        owners = {key.split(".")[0] for key, _ in built.named_parameters()}
        if not owners <= set(_BRANCH):
            return  # the shortcut has another name: module_matches lists the names
        has = "downsample" in owners  # an nn.Identity() shortcut has no parameters: fine
        needs = kw["stride"] != 1 or kw["inplanes"] != kw["planes"]
        if has == needs:
            continue
        if needs:
            why = "the stride is not 1" if kw["stride"] != 1 else "the channels change"
            hint = (
                f"here {why}, so x and F(x) differ in shape: the shortcut needs the projection "
                "whenever stride != 1 *or* inplanes != planes"
            )
        else:
            hint = (
                "with stride 1 and inplanes == planes the shortcut is the identity: "
                "downsample = None"
            )
        fail(
            f"{name}: {ctor} {'has no' if needs else 'has a'} projection shortcut "
            f"(downsample).\n  Hint: {hint}"
        )


def basic_block(fn: Callable[..., Any]) -> None:
    """Check ``fn(inplanes, planes, stride) -> nn.Module`` against
    :class:`cnnlab.models.resnet.BasicBlock` with a projection shortcut (``downsample``: 1×1
    convolution + BN) where the shape changes; the names must be ``conv1``, ``bn1``, ``conv2``,
    ``bn2`` and ``downsample.0`` / ``downsample.1``."""
    name = "basic_block"
    fn = require_callable(name, fn)
    _diagnose_block(fn, name)
    configs: list[Mapping[str, Any]] = [
        {"inplanes": 16, "planes": 32, "stride": 2},  # the worked example: a stage change
        {"inplanes": 8, "planes": 8, "stride": 1},
        {"inplanes": 6, "planes": 10, "stride": 1},  # more channels, same size: a projection
        {"inplanes": 5, "planes": 5, "stride": 2},  # same channels, smaller: a projection too
    ]
    _diagnose_projection(fn, name, configs)

    def make_inputs(g: torch.Generator, kw: Mapping[str, Any]) -> torch.Tensor:
        side = pick(g, 5, 9)  # odd sides too: the stride-2 output is ceil(side / 2)
        return randreal(g, 3, kw["inplanes"], side, side + 1)

    module_matches(
        name,
        fn,
        _reference_block,
        make_inputs=make_inputs,
        init_args=configs,
        forbidden=_BLOCK_FORBIDDEN,
        instead=_BLOCK_INSTEAD,
        label="BasicBlock",
    )


# --------------------------------------------------------------------------------------------
# shortcut_a(x, out_channels, stride)

_A_FORBIDDEN = (
    "cnnlab.models.resnet.ShortcutA.forward",
    "torch.nn.Conv2d.forward",
    "torch.nn.functional.conv2d",
    "torch.nn.functional.avg_pool2d",
    "torch.nn.functional.max_pool2d",
    # the same functions under torch's other public names
    "torch.conv2d",
    "torch.convolution",
    "torch.max_pool2d",
    "torch.nn.functional.max_pool2d_with_indices",
    # the operators behind them, however they are reached (torch.ops.aten, a captured alias)
    *(
        f"aten::{op}"
        for op in (
            "convolution",
            "_convolution",
            "max_pool2d_with_indices",
            "max_pool2d",
            "avg_pool2d",
        )
    ),
)


def _shortcut_reference(x: torch.Tensor, out_channels: int, stride: int) -> torch.Tensor:
    from cnnlab.models.resnet import ShortcutA

    return ShortcutA(x.shape[1], out_channels, stride)(x)


def shortcut_a(fn: Callable[..., Any], cases: int = 8) -> None:
    """Check ``fn(x, out_channels, stride)`` (x: N×C×H×W) against option A of He et al.:
    keep every ``stride``-th row and column (from the first), then append ``out_channels - C``
    all-zero channels after the input's."""
    name = "shortcut_a"
    fn = require_callable(name, fn)
    g = generator(name)
    shapes = [((1, 2, 4, 4), 4, 2)]  # the worked example
    while len(shapes) < cases:
        c = pick(g, 1, 6)
        shapes.append(((pick(g, 1, 3), c, pick(g, 2, 9), pick(g, 2, 9)), c + pick(g, 0, 6),
                       pick(g, 1, 2) if len(shapes) % 3 else 2))  # fmt: skip
    for i, (shape, out_c, stride) in enumerate(shapes):
        dtype = torch.float32 if i % 2 else torch.float64
        x = randreal(g, *shape).to(dtype)
        call = f"{name}(x of shape {tuple(shape)}, out_channels={out_c}, stride={stride})"
        got = call_student(
            name, fn, (x, out_c, stride), call, forbidden=_A_FORBIDDEN,
            instead="option A has no weights: slice for the stride and pad (or concatenate) zeros",
        )  # fmt: skip
        got = as_tensor(name, got, call)
        expected = _shortcut_reference(x, out_c, stride)
        n, c, h, w = shape
        extra = out_c - c
        sub = x[:, :, ::stride, ::stride]
        wrong = [
            (
                F.pad(sub, (0, 0, 0, 0, extra, 0)),
                "the zeros go after the input's channels (channels C … out_channels-1), "
                "not before them: the identity keeps channels 0 … C-1",
            ),
            (
                F.pad(sub, (0, 0, 0, 0, extra // 2, extra - extra // 2)),
                "the zeros go after the input's channels, not split around them (as some "
                "CIFAR code does): the identity keeps channels 0 … C-1",
            ),
            (
                F.pad(x[:, :, 1::stride, 1::stride], (0, 0, 0, 0, 0, extra))
                if stride > 1 and x[:, :, 1::stride, 1::stride].shape == sub.shape
                else expected + 1,
                "subsample from the first row and column: x[:, :, ::stride, ::stride]",
            ),
        ]
        wrong_shapes = [
            (
                tuple(F.pad(x, (0, 0, 0, 0, 0, extra)).shape),
                "you forgot the subsampling: keep every stride-th row and column",
            ),
            (
                tuple(F.pad(sub, (0, 0, 0, extra)).shape),
                "the zeros were added along the height (the wrong axis): pad dimension 1, "
                "the channels",
            ),
            (
                tuple(F.pad(sub, (0, extra)).shape),
                "the zeros were added along the width (the wrong axis): pad dimension 1, "
                "the channels",
            ),
            (
                tuple(sub.shape),
                f"the channels were not padded: append out_channels - C = {extra} zero channels",
            ),
            (
                (n, out_c, *x[:, :, ::2, ::2].shape[2:]),
                "you subsampled by 2 whatever the stride: use x[:, :, ::stride, ::stride]",
            ),
            (
                (n, out_c, h // stride, w // stride),
                "an odd size keeps its last row (column): ceil(H/stride) rows, as "
                "x[:, :, ::stride, ::stride] gives",
            ),
            (
                (n, out_c, sub.shape[2], w),
                "subsample the width too: x[:, :, ::stride, ::stride] (dimensions 2 and 3)",
            ),
            (
                (n, out_c, h, sub.shape[3]),
                "subsample the height too: x[:, :, ::stride, ::stride] (dimensions 2 and 3)",
            ),
            (
                (n, c + out_c, *sub.shape[2:]),
                f"you appended out_channels = {out_c} zero channels: append out_channels - C "
                f"= {extra}, so that the output has out_channels channels",
            ),
            (
                (n, 2 * c, *sub.shape[2:]),
                f"you appended C = {c} zero channels (as many as x has): append out_channels - C "
                f"= {extra}",
            ),
        ]
        compare(name, got, expected, call, wrong_answers=wrong, wrong_shapes=wrong_shapes)
    ok(
        f"shortcut_a: {cases} inputs match option A (e.g. (1, 2, 4, 4) -> (1, 4, 2, 2), "
        "channels 2 and 3 all zero)"
    )


# --------------------------------------------------------------------------------------------
# bottleneck_params(c_in, mid, c_out, projection, bn)


def _count(c_in: int, mid: int, c_out: int, projection: bool, bn: bool, *, per_bn: int = 2,
           bias: bool = False, proj_bn: bool = True, conv3: int = 9) -> int:  # fmt: skip
    """Parameters of 1×1 (c_in→mid), 3×3 (mid→mid), 1×1 (mid→c_out), + a 1×1 projection."""
    convs = c_in * mid + conv3 * mid * mid + mid * c_out
    norms = per_bn * (mid + mid + c_out) if bn else 0
    biases = (mid + mid + c_out) if bias else 0
    if projection:
        convs += c_in * c_out
        norms += per_bn * c_out if bn and proj_bn else 0
        biases += c_out if bias else 0
    return convs + norms + biases


def _built(c_in: int, mid: int, c_out: int, projection: bool, bn: bool) -> int:
    """The parameters of the block built from nn layers (on the meta device: no memory)."""

    def norm(c: int) -> list[nn.Module]:
        return [nn.BatchNorm2d(c)] if bn else []

    with torch.device("meta"):
        layers: list[nn.Module] = [
            nn.Conv2d(c_in, mid, 1, bias=False), *norm(mid),
            nn.Conv2d(mid, mid, 3, padding=1, bias=False), *norm(mid),
            nn.Conv2d(mid, c_out, 1, bias=False), *norm(c_out),
        ]  # fmt: skip
        if projection:
            layers += [nn.Conv2d(c_in, c_out, 1, bias=False), *norm(c_out)]
    return sum(p.numel() for m in layers for p in m.parameters())


def _params_hint(answer: float, args: tuple[int, int, int, bool, bool]) -> str:
    c_in, mid, c_out, projection, bn = args
    checks = []
    if bn:
        checks += [
            (_count(*args, per_bn=0), "you forgot the batch norms: 2 parameters (γ, β) per "
             "channel of each BatchNorm2d"),
            (_count(*args, per_bn=1), "a BatchNorm2d has two parameters per channel (γ and β), "
             "not one"),
            (_count(*args, proj_bn=False), "the projection shortcut has its own BatchNorm2d "
             "(2·c_out parameters)"),
            (_count(*args, per_bn=4), "count only γ and β: the running mean and variance are "
             "buffers, not parameters"),
        ]  # fmt: skip
    if bn and not projection:
        checks.append((_count(*args) + 2 * c_out, "with projection=False the shortcut is the "
                       "identity: no parameters, no BatchNorm2d either"))  # fmt: skip
    if projection and not bn:
        checks.append((_count(*args) + 2 * c_out, "with bn=False there is no BatchNorm2d at "
                       "all, not even on the projection"))  # fmt: skip
    if projection:
        checks.append(
            (
                _count(c_in, mid, c_out, False, bn),
                "with projection=True add the 1×1 shortcut "
                "convolution (c_in·c_out weights) and, with bn, its batch norm",
            )  # fmt: skip
        )
    else:
        checks.append(
            (
                _count(c_in, mid, c_out, True, bn),
                "with projection=False the shortcut is the identity: no parameters",
            )  # fmt: skip
        )
    checks += [
        (_count(*args, bias=True), "the convolutions have no bias (bias=False): BN's β replaces "
         "it"),
        (_count(*args, bias=True, per_bn=0), "the convolutions have no bias, and each BN has "
         "2 parameters per channel"),
        (_count(*args, conv3=1), "the middle convolution is 3×3: 9·mid·mid weights"),
        (_count(*args, conv3=3), "the middle convolution is 3×3: 9·mid·mid weights (3·3 per "
         "pair of channels), not 3·mid·mid"),
    ]  # fmt: skip
    for value, hint in checks:
        if answer == value:
            return hint
    return (
        "count c_in·mid + 9·mid·mid + mid·c_out weights (no biases), 2 per channel of each "
        "BN when bn, and c_in·c_out (+ its BN) for a projection"
    )


def bottleneck_params(fn: Callable[..., Any], cases: int = 24) -> None:
    """Check ``fn(c_in, mid, c_out, projection, bn) -> int``: the parameters of a bottleneck
    block (1×1 c_in→mid, 3×3 mid→mid, 1×1 mid→c_out, no biases; with ``bn`` a BatchNorm2d after
    each; with ``projection`` a 1×1 c_in→c_out shortcut (+ BN))."""
    name = "bottleneck_params"
    fn = require_callable(name, fn)
    g = generator(name)
    blocks = [(256, 64, 256, False, True), (64, 64, 256, True, True)]  # ResNet-50's conv2_x
    while len(blocks) < cases:
        blocks.append((pick(g, 1, 300), pick(g, 1, 128), pick(g, 1, 600), len(blocks) % 2 == 0,
                       len(blocks) % 3 != 0))  # fmt: skip
    forbidden = ("torch.nn.Conv2d", "torch.nn.BatchNorm2d", "cnnlab.cost.summary",
                 "cnnlab.models.resnet.Bottleneck",
                 # the same layers under their module paths
                 "torch.nn.modules.Conv2d", "torch.nn.modules.conv.Conv2d",
                 "torch.nn.modules.BatchNorm2d",
                 "torch.nn.modules.batchnorm.BatchNorm2d")  # fmt: skip
    for args in blocks:
        call = f"{name}{args}"
        value = call_student(name, fn, args, call, forbidden=forbidden,
                             instead="count with the formula, do not build the block")  # fmt: skip
        answer = as_int(name, value, call, "a parameter count")
        expected = _built(*args)
        if answer != expected:
            raise CheckFailed(
                f"{name} is wrong for {call}:\n  expected {expected:,}, got {num(answer)}.\n"
                f"  Hint: {_params_hint(answer, args)}"
            )
    first, second = _built(*blocks[0]), _built(*blocks[1])
    ok(
        f"bottleneck_params: {cases} blocks match the built layers (ResNet-50: {first:,} "
        f"parameters per 256-64-256 block, {second:,} for the first, with its projection)"
    )
