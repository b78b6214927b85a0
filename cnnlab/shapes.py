"""Shape arithmetic of convolution and pooling layers, equal to PyTorch's.

One spatial dimension of size ``n`` (height or width) through a layer with kernel ``k``,
stride ``s``, padding ``p`` and dilation ``d`` gives::

    out = floor((n + 2p - d(k - 1) - 1) / s) + 1        # = (N - F + 2P)/S + 1 for d = 1

Also here: parameter counts, "same" padding, the receptive field of a stack of layers and the
output shape of a stack (tuples ``(kernel, stride[, dilation[, padding]])`` or ``nn.Conv2d`` /
``nn.MaxPool2d`` / ``nn.AvgPool2d`` modules).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._limits import check_memory
from cnnlab._validate import as_int, as_pair

__all__ = [
    "ReceptiveFieldStep",
    "conv_output_formula",
    "conv_output_size",
    "conv_params",
    "measured_receptive_field",
    "output_shape",
    "pool_output_size",
    "receptive_field",
    "receptive_field_steps",
    "same_padding",
    "transposed_conv_output_size",
]

# Layers that act on each pixel separately: they change neither the receptive field nor the
# spatial shape, so a stack may contain them between its convolutions and poolings.
_POINTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh,
    nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Identity, nn.Dropout, nn.Dropout2d,
    nn.BatchNorm2d, nn.LocalResponseNorm, nn.GroupNorm, nn.InstanceNorm2d,
)  # fmt: skip


def _span(kernel: int, dilation: int) -> int:
    """How many input pixels a dilated kernel covers: d(k - 1) + 1."""
    return dilation * (kernel - 1) + 1


def _formula(n: int, kernel: int, stride: int, padding: int, dilation: int) -> str:
    """The lecture's formula with the numbers filled in, e.g. ``(7 - 3 + 2·0)/3 + 1 = 2.33``."""
    span = _span(kernel, dilation)
    value = (n - span + 2 * padding) / stride + 1
    shown = f"{value:.0f}" if value.is_integer() else f"{value:.2f}"
    text = f"({n} - {span} + 2·{padding})/{stride} + 1 = {shown}"
    if dilation > 1:
        text += f" (kernel {kernel} with dilation {dilation} spans {span})"
    return text


_STRIDE_SEARCH = 100_000  # candidate strides tried for a hint (a loop, kept short)


def _fitting_padding(room: int, stride: int) -> int | None:
    """Smallest extra padding q in 1..stride with ``(room + 2q) % stride == 0``, or None.

    Solved with modular arithmetic rather than by trying each q: a stride of 10¹² answers at
    once. ``2q ≡ -room (mod stride)`` has a solution only when gcd(2, stride) divides ``room``.
    """
    g = 2 if stride % 2 == 0 else 1
    if room % g:
        return None
    modulus = stride // g
    q = (-room // g) * pow(2 // g, -1, modulus) % modulus if modulus > 1 else 0
    return q or modulus


def _misfit_message(n: int, kernel: int, stride: int, padding: int, dilation: int) -> str:
    """Explain why the windows do not tile the padded input exactly, and what would."""
    room = n + 2 * padding - _span(kernel, dilation)  # how far the window can travel
    left = room % stride
    # Strides that tile the input exactly; a stride wider than the window would skip pixels.
    # The six smallest are shown; the search is bounded so that huge sizes answer at once.
    span = _span(kernel, dilation)
    strides = [t for t in range(1, min(room, span, _STRIDE_SEARCH) + 1) if room % t == 0][:6]
    shown = [str(t) for t in strides] if room else ["1"]
    hints = "try stride " + (
        ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]
    )
    fit = _fitting_padding(room, stride)
    if fit is not None:
        hints += f", or padding {padding + fit}"
    return (
        f"{_formula(n, kernel, stride, padding, dilation)}: the filter does not fit; stride "
        f"{stride} leaves {left} pixel{'s' if left != 1 else ''} of the padded input "
        f"({n} + 2·{padding} = {n + 2 * padding}) uncovered at the end ({hints})"
    )


def _check_fits(
    n: int, kernel: int, padding: int, dilation: int, what: str = "kernel_size"
) -> None:
    span = _span(kernel, dilation)
    if span > n + 2 * padding:
        spans = f" (dilation {dilation} spans {span})" if dilation > 1 else ""
        raise ValueError(
            f"{what} {kernel}{spans} does not fit in padded input {n + 2 * padding} "
            f"(n = {n}, padding = {padding}); use a smaller kernel or more padding"
        )


def conv_output_size(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    exact: bool = False,
) -> int:
    """Output size of a convolution along one dimension, as ``nn.Conv2d`` computes it.

    ``floor((n + 2p - d(k-1) - 1)/s) + 1``. PyTorch silently drops the input columns the last
    window cannot reach; with ``exact=True`` that case raises a ``ValueError`` showing the
    fractional result of ``(N - F + 2P)/S + 1`` (7, 3, stride 3 -> 2.33). A kernel larger than
    the padded input always raises.
    """
    n = as_int(n, "n", minimum=1)
    kernel_size = as_int(kernel_size, "kernel_size", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    dilation = as_int(dilation, "dilation", minimum=1)
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be True or False, got {exact!r}")
    _check_fits(n, kernel_size, padding, dilation)
    room = n + 2 * padding - _span(kernel_size, dilation)
    if exact and room % stride:
        raise ValueError(_misfit_message(n, kernel_size, stride, padding, dilation))
    return room // stride + 1


def conv_output_formula(
    n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> str:
    """The formula with numbers, e.g. ``"(7 - 3 + 2·1)/1 + 1 = 7"``, for widgets and prints.

    Never raises for a misfit; arguments are still checked (TypeError/ValueError).
    """
    n = as_int(n, "n", minimum=1)
    kernel_size = as_int(kernel_size, "kernel_size", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    dilation = as_int(dilation, "dilation", minimum=1)
    return _formula(n, kernel_size, stride, padding, dilation)


def _pool_size_unchecked(
    n: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooling output size (may be < 1: the caller reports that)."""
    room = n + 2 * padding - _span(kernel, dilation)
    out = (room + (stride - 1 if ceil_mode else 0)) // stride + 1  # // floors like div_rtn
    # ceil_mode: the last window must start inside the input or its left padding.
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1
    return out


def _check_pool_padding(kernel: tuple[int, int], padding: tuple[int, int]) -> None:
    # PyTorch's rule compares with the undilated kernel: pad <= kernel_size // 2.
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(
            f"padding {padding[0]}×{padding[1]} must be at most half of kernel_size "
            f"{kernel[0]}×{kernel[1]} (<= {kernel[0] // 2}×{kernel[1] // 2}), as PyTorch requires"
        )


def pool_output_size(
    n: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    exact: bool = False,
) -> int:
    """Output size of pooling along one dimension, as ``nn.MaxPool2d``/``nn.AvgPool2d`` give it.

    ``stride`` defaults to ``kernel_size``. ``ceil_mode=True`` rounds up but drops a last window
    that would start in the right padding. PyTorch's rule ``padding <= kernel_size // 2`` is
    enforced. ``exact=True`` raises when the windows do not tile the padded input exactly.
    """
    n = as_int(n, "n", minimum=1)
    kernel_size = as_int(kernel_size, "kernel_size", minimum=1)
    stride = kernel_size if stride is None else as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    dilation = as_int(dilation, "dilation", minimum=1)
    for flag, name in ((ceil_mode, "ceil_mode"), (exact, "exact")):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    _check_pool_padding((kernel_size, kernel_size), (padding, padding))
    out = _pool_size_unchecked(n, kernel_size, stride, padding, dilation, ceil_mode)
    if out < 1:
        _check_fits(n, kernel_size, padding, dilation)
    if exact and (n + 2 * padding - _span(kernel_size, dilation)) % stride:
        raise ValueError(_misfit_message(n, kernel_size, stride, padding, dilation))
    return out


def conv_params(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    bias: bool = True,
    groups: int = 1,
) -> int:
    """Learnable parameters of a conv layer: ``F·F·(D1/groups)·K + K`` (K bias terms).

    32×32×3 input, ten 5×5 filters: ``conv_params(3, 10, 5) == 760``.
    """
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    out_channels = as_int(out_channels, "out_channels", minimum=1)
    kh, kw = as_pair(kernel_size, "kernel_size", minimum=1)
    groups = as_int(groups, "groups", minimum=1)
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups {groups} must divide both in_channels {in_channels} and "
            f"out_channels {out_channels}"
        )
    return kh * kw * (in_channels // groups) * out_channels + (out_channels if bias else 0)


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding that keeps the size at stride 1: ``(F - 1)/2`` (``d(F - 1)/2`` when dilated).

    F = 3, 5, 7 -> 1, 2, 3. An even span has no symmetric answer and raises ``ValueError``.
    """
    kernel_size = as_int(kernel_size, "kernel_size", minimum=1)
    dilation = as_int(dilation, "dilation", minimum=1)
    total = dilation * (kernel_size - 1)
    if total % 2:
        raise ValueError(
            f"kernel_size {kernel_size} (dilation {dilation}) has no symmetric 'same' padding: "
            f"it would need {total / 2} pixels per side; use an odd kernel_size "
            f"(PyTorch's padding='same' pads {total // 2} before and {total - total // 2} after)"
        )
    return total // 2


@dataclass(frozen=True)
class _Geometry:
    """One spatial layer, per axis (height, width)."""

    name: str
    kind: str  # "conv", "pool" or "adaptive"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int] | str  # "same" for nn.Conv2d(padding="same")
    ceil_mode: bool = False
    out_channels: int | None = None
    in_channels: int | None = None
    output_size: tuple[int | None, int | None] | None = None


def _module_padding(module: nn.Conv2d) -> tuple[int, int] | str:
    if module.padding == "valid":
        return (0, 0)
    if module.padding == "same":
        return "same"
    return as_pair(module.padding, "padding", minimum=0)


def _flatten(layers: object) -> list[object]:
    if isinstance(layers, nn.Sequential):
        items: list[object] = []
        for child in layers:
            items.extend(_flatten(child))
        return items
    if isinstance(layers, nn.Module):
        return [layers]
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable):
        raise TypeError(
            "layers must be a sequence of (kernel, stride[, dilation[, padding]]) tuples or "
            f"Conv2d/MaxPool2d/AvgPool2d modules, or an nn.Sequential; got {type(layers).__name__}"
        )
    items = []
    for layer in layers:
        items.extend(_flatten(layer) if isinstance(layer, nn.Sequential) else [layer])
    return items


def _geometry(layer: object, index: int) -> _Geometry | None:
    """Normalise one layer spec; ``None`` for pointwise layers."""
    where = f"layers[{index}]"
    if isinstance(layer, _POINTWISE):
        return None
    if isinstance(layer, nn.Conv2d):
        return _Geometry(
            name=repr(layer),
            kind="conv",
            kernel=as_pair(layer.kernel_size, "kernel_size"),
            stride=as_pair(layer.stride, "stride"),
            dilation=as_pair(layer.dilation, "dilation"),
            padding=_module_padding(layer),
            out_channels=layer.out_channels,
            in_channels=layer.in_channels,
        )
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        kernel = as_pair(layer.kernel_size, "kernel_size")
        # nn.AvgPool2d has no dilation; an unset stride means stride = kernel_size.
        return _Geometry(
            name=repr(layer),
            kind="pool",
            kernel=kernel,
            stride=as_pair(layer.stride or kernel, "stride"),
            dilation=as_pair(getattr(layer, "dilation", 1), "dilation"),
            padding=as_pair(layer.padding, "padding"),
            ceil_mode=bool(layer.ceil_mode),
        )
    if isinstance(layer, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        size = layer.output_size
        pair = (size, size) if isinstance(size, int) or size is None else tuple(size)
        return _Geometry(repr(layer), "adaptive", (1, 1), (1, 1), (1, 1), (0, 0), output_size=pair)
    if isinstance(layer, nn.Module):
        raise TypeError(
            f"{where} is {type(layer).__name__}: only Conv2d, MaxPool2d, AvgPool2d and "
            "pointwise layers (activations, BatchNorm2d, Dropout, ...) have a spatial geometry here"
        )
    if isinstance(layer, bool):
        raise TypeError(
            f"{where} must be a tuple (kernel, stride[, dilation[, padding]]) or a module"
        )
    if isinstance(layer, int):
        layer = (layer,)
    if not isinstance(layer, (tuple, list)) or not 1 <= len(layer) <= 4:
        raise TypeError(
            f"{where} must be a tuple (kernel, stride[, dilation[, padding]]) or a "
            f"Conv2d/MaxPool2d/AvgPool2d module, got {layer!r}"
        )
    kernel, stride, dilation, padding = (*layer, *(1, 1, 0)[len(layer) - 1 :])
    return _Geometry(
        name=f"conv{tuple(layer)}",
        kind="conv",
        kernel=as_pair(kernel, f"{where} kernel", minimum=1),
        stride=as_pair(stride, f"{where} stride", minimum=1),
        dilation=as_pair(dilation, f"{where} dilation", minimum=1),
        padding=as_pair(padding, f"{where} padding", minimum=0),
    )


@dataclass(frozen=True)
class ReceptiveFieldStep:
    """The receptive field after one layer, per axis (height, width).

    ``size``: input pixels one output unit sees; ``jump``: input pixels between neighbouring
    output units (the product of the strides so far).
    """

    layer: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    size: tuple[int, int]
    jump: tuple[int, int]


def _stack_geometries(layers: object) -> list[_Geometry]:
    """The geometry of each conv/pool layer of a stack (pointwise layers skipped)."""
    geometries = []
    for i, layer in enumerate(_flatten(layers)):
        g = _geometry(layer, i)
        if g is None:
            continue
        if g.kind == "adaptive":
            raise TypeError(
                f"layers[{i}] {g.name}: the receptive field of adaptive pooling depends on the "
                "input size; leave it out of the stack"
            )
        geometries.append(g)
    return geometries


def receptive_field_steps(layers: object) -> list[ReceptiveFieldStep]:
    """Per-layer receptive field of a stack: ``r += d(k - 1)·jump`` then ``jump *= s``.

    ``layers``: ``(kernel, stride[, dilation[, padding]])`` tuples (an int is a stride-1 kernel),
    ``nn.Conv2d``/``nn.MaxPool2d``/``nn.AvgPool2d`` modules or an ``nn.Sequential``; pointwise
    layers (ReLU, BatchNorm2d, ...) are skipped.
    """
    size, jump = [1, 1], [1, 1]
    steps = []
    for g in _stack_geometries(layers):
        for a in (0, 1):
            size[a] += g.dilation[a] * (g.kernel[a] - 1) * jump[a]
            jump[a] *= g.stride[a]
        steps.append(
            ReceptiveFieldStep(
                g.name, g.kernel, g.stride, g.dilation, (size[0], size[1]), (jump[0], jump[1])
            )
        )
    return steps


def receptive_field(layers: object) -> int | tuple[int, int]:
    """Receptive field of one output unit of a stack, in input pixels.

    Two 3×3 stride-1 convolutions see 5×5 (``receptive_field([(3, 1), (3, 1)]) == 5``), three
    see 7×7. Returns an int for square fields and ``(height, width)`` otherwise; an empty stack
    sees 1 pixel. See :func:`receptive_field_steps` for the layer-by-layer table.
    """
    steps = receptive_field_steps(layers)
    if not steps:
        return 1
    h, w = steps[-1].size
    return h if h == w else (h, w)


def _footprint(kernels: list[int], strides: list[int], dilations: list[int]) -> int:
    """Backpropagate from the first output unit of a stack of all-ones 1-D convolutions and
    count the input pixels from the first to the last one that receives a gradient."""
    # Enough input for one output unit whatever the formula says: Σ d·k·Π s + 1 pixels.
    n = sum(d * k for k, d in zip(kernels, dilations, strict=True)) * math.prod(strides) + 1
    # the signal, its gradient and each layer's output, in float64
    check_memory(
        n * 8 * (len(kernels) + 2),
        f"measuring the receptive field on a {n:,}-pixel signal",
        "use receptive_field(layers), the formula, for stacks this large",
    )
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in zip(kernels, strides, dilations, strict=True):
        # All-ones weights are positive, so no gradient cancels out (a max pool would pass the
        # gradient to one pixel only: the field is every pixel that *can* reach the unit).
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, 0].backward()
    hit = (x.grad[0, 0] != 0).nonzero()
    return int(hit.max() - hit.min()) + 1


def measured_receptive_field(layers: object) -> int | tuple[int, int]:
    """Receptive field of one output unit *measured* with autograd, in input pixels.

    ``layers``: as for :func:`receptive_field` (``(kernel, stride[, dilation[, padding]])``
    tuples, conv/pool modules or an ``nn.Sequential``). Each layer becomes an all-ones
    convolution with its kernel, stride and dilation (padding only moves the field, so it is
    left out); a 1-D input signal (1, 1, n) per axis goes through the stack, the first output
    unit is backpropagated, and the span of input pixels with a non-zero gradient is returned.
    Equals :func:`receptive_field` (``[(3, 1)] * 3`` -> 7): a check of the formula, not a
    replacement for it. Returns an int for square fields and ``(height, width)`` otherwise.
    """
    geometries = _stack_geometries(layers)
    if not geometries:
        return 1
    h, w = (
        _footprint(
            [g.kernel[a] for g in geometries],
            [g.stride[a] for g in geometries],
            [g.dilation[a] for g in geometries],
        )
        for a in (0, 1)
    )
    return h if h == w else (h, w)


def output_shape(layers: object, input_shape: Iterable[int]) -> tuple[int, ...]:
    """Output shape of a stack of conv/pool layers for an input ``(H, W)`` or ``(C, H, W)``.

    Channels follow ``nn.Conv2d.out_channels`` (tuples keep C). A layer that does not fit
    raises ``ValueError`` naming the layer.
    """
    shape = tuple(as_int(v, "input_shape", minimum=1) for v in input_shape)
    if len(shape) not in (2, 3):
        raise ValueError(f"input_shape must be (H, W) or (C, H, W), got {shape}")
    channels = shape[0] if len(shape) == 3 else None
    hw = list(shape[-2:])
    for i, layer in enumerate(_flatten(layers)):
        g = _geometry(layer, i)
        if g is None:
            continue
        if channels is not None and g.in_channels is not None and g.in_channels != channels:
            raise ValueError(
                f"layers[{i}] {g.name} expects {g.in_channels} channels but gets {channels}"
            )
        try:
            for a in (0, 1):
                if g.kind == "adaptive":
                    hw[a] = hw[a] if g.output_size[a] is None else g.output_size[a]
                elif g.padding == "same":
                    continue  # nn.Conv2d(padding="same") needs stride 1 and keeps the size
                elif g.kind == "conv":
                    hw[a] = conv_output_size(
                        hw[a], g.kernel[a], g.stride[a], g.padding[a], g.dilation[a]
                    )
                else:
                    hw[a] = pool_output_size(
                        hw[a], g.kernel[a], g.stride[a], g.padding[a], g.dilation[a], g.ceil_mode
                    )
        except ValueError as err:
            raise ValueError(f"layers[{i}] {g.name}: {err}") from None
        if channels is not None and g.out_channels is not None:
            channels = g.out_channels
    return (hw[0], hw[1]) if channels is None else (channels, hw[0], hw[1])


def transposed_conv_output_size(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output size of a transposed convolution (``nn.ConvTranspose2d``), the upsampling layer.

    ``(n - 1)·s - 2p + d(k - 1) + output_padding + 1``: the input size a convolution with the
    same settings would map to ``n`` (``output_padding`` picks one when several do, and must be
    smaller than the stride or the dilation). 16, k=2, s=2 -> 32.
    """
    n = as_int(n, "n", minimum=1)
    kernel_size = as_int(kernel_size, "kernel_size", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    dilation = as_int(dilation, "dilation", minimum=1)
    output_padding = as_int(output_padding, "output_padding", minimum=0)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding must be smaller than the stride ({stride}) or the dilation "
            f"({dilation}), got {output_padding}"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if size < 1:
        raise ValueError(
            f"a transposed convolution of {n} with kernel_size {kernel_size}, stride {stride} and "
            f"padding {padding} leaves no output ({size}); use less padding"
        )
    return size
