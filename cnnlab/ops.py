"""Convolution and pooling written from scratch, equal to ``torch.nn.functional``'s.

Shapes: ``N`` batch, ``C`` channels, ``H×W`` spatial size, ``kh×kw`` kernel.

- :func:`corr2d` is the lecture's readable double loop over output positions (2-D only).
- :func:`conv2d` is the vectorised version: pad, take a strided *view* of every window
  (``as_strided``, no copy), then one ``einsum`` multiplies each window by each filter.
- Pooling reuses the same window view and reduces it with ``max`` or ``mean``.

Nothing here calls ``torch.nn.functional.conv*``, ``*pool*`` or ``unfold``; only ``F.pad``.
Every function is differentiable with autograd (gradients equal PyTorch's).

Dtypes, one rule for every function (never a silently wrapped sum):

- floating point: the result has the input's dtype; float16/bfloat16 are summed in float32 and
  rounded once at the end, as PyTorch does (only a result beyond the dtype's range is ``inf``);
- integer and bool: the 2-D lecture functions :func:`corr2d` and :func:`convolve2d` compute
  exactly in int64 and return int64 (a uint8 image times a kernel cannot wrap around; inputs
  whose sums could pass int64's range are refused); the batched functions and pooling want
  floating point, like ``torch.nn.functional``, and raise a ``TypeError`` saying ``.float()``;
- an integer with a floating input: promoted to the floating dtype (``torch.promote_types``);
- complex: refused with a ``TypeError`` (no course function defines it).

Memory: the window view costs nothing, but reducing it copies N·C·H_out·W_out·kh·kw values;
a large kernel would need tens of GB at once, so that copy is made a tile of the output at a
time, and a request whose result (or, with autograd, whose saved copy) exceeds the memory limit
of :mod:`cnnlab._limits` raises ``ResourceLimitError`` (a ``ValueError``) with the estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

from cnnlab._limits import check_memory, memory_limit
from cnnlab._validate import as_float, as_int, as_pair, check_choice, check_tensor
from cnnlab.shapes import _check_pool_padding, _pool_size_unchecked

__all__ = [
    "BatchNorm2d",
    "avg_pool2d",
    "conv2d",
    "convolve2d",
    "corr2d",
    "global_avg_pool2d",
    "max_pool2d",
]

_X4_HINT = "N×C×H×W; for a single C×H×W image use x.unsqueeze(0)"
# Bytes of window copies reduced at once; a larger output is done tile by tile.
CHUNK_BYTES = 256 * 1024**2
# A Python 0-d tensor (object, storage, autograd node) per output of corr2d's loop.
_LOOP_BYTES_PER_OUTPUT = 1024
_REDUCED = (torch.float16, torch.bfloat16)  # summed in float32, as PyTorch's kernels do


def _reject_complex(*tensors: tuple[str, torch.Tensor]) -> None:
    for name, t in tensors:
        if t.is_complex():
            raise TypeError(
                f"{name} is a complex tensor ({t.dtype}); the course's convolutions and poolings "
                f"are defined for real numbers: pass {name}.real and {name}.imag separately"
            )


def _exact_integer_dtype(X: torch.Tensor, K: torch.Tensor) -> torch.dtype:
    """The dtype to compute ``X ⋆ K`` in: int64 for integer/bool pairs, else the promoted one.

    Integer inputs are refused when their largest possible sum could pass int64's range
    (only huge int64 values can do that; the bound uses exact Python integers).
    """
    _reject_complex(("X", X), ("K", K))
    dtype = torch.promote_types(X.dtype, K.dtype)
    if dtype.is_floating_point:
        return dtype
    if X.numel() and K.numel():
        big_x = max(abs(int(X.max())), abs(int(X.min())))
        big_k = max(abs(int(K.max())), abs(int(K.min())))
        if big_x * big_k * K.numel() >= 2**63:
            raise ValueError(
                f"integer inputs this large (|X| up to {big_x}, |K| up to {big_k}, "
                f"{K.numel()} taps) could overflow int64 sums: convert them with .double()"
            )
    return torch.int64


def _tiles(out_hw: tuple[int, int], cell_bytes: int) -> list[list[tuple[slice, slice]]]:
    """Split the output into tiles (rows of tiles) whose window copies take <= CHUNK_BYTES.

    ``cell_bytes``: the window copy behind one output position. Whole rows when they fit (one
    tile per band), else parts of a row (a huge kernel on a wide input).
    """
    (out_h, out_w), budget = out_hw, max(1, CHUNK_BYTES // max(cell_bytes, 1))
    cols = min(out_w, budget)
    rows = max(1, budget // cols)
    return [
        [
            (slice(r, min(r + rows, out_h)), slice(c, min(c + cols, out_w)))
            for c in range(0, out_w, cols)
        ]
        for r in range(0, out_h, rows)
    ]


def _by_tiles(
    reduce: Callable[[slice, slice], torch.Tensor], out_hw: tuple[int, int], cell_bytes: int
) -> torch.Tensor:
    """``reduce(rows, cols)`` of each tile, assembled along the last two dimensions."""
    grid = [[reduce(r, c) for r, c in band] for band in _tiles(out_hw, cell_bytes)]
    rows = [band[0] if len(band) == 1 else torch.cat(band, dim=-1) for band in grid]
    return rows[0] if len(rows) == 1 else torch.cat(rows, dim=-2)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation by the lecture's loop: ``Y[i, j] = (X[i:i+kh, j:j+kw] * K).sum()``.

    X: H×W, K: kh×kw -> (H - kh + 1)×(W - kw + 1). The output is assembled with
    ``torch.stack`` so gradients flow back to ``X`` and ``K``.
    """
    X = check_tensor(X, "X", 2, "H×W")
    K = check_tensor(K, "K", 2, "kh×kw")
    kh, kw = K.shape
    h, w = X.shape
    if kh < 1 or kw < 1:
        raise ValueError(f"K must have at least one row and column, got shape {tuple(K.shape)}")
    if kh > h or kw > w:
        raise ValueError(f"kernel {kh}×{kw} does not fit in input {h}×{w}")
    dtype = _exact_integer_dtype(X, K)  # uint8 products must not wrap around
    work = torch.float32 if dtype in _REDUCED else dtype
    oh, ow = h - kh + 1, w - kw + 1
    # one small tensor object per output: a huge output would fill the memory with them
    check_memory(
        oh * ow * _LOOP_BYTES_PER_OUTPUT,
        f"corr2d's loop over a {oh}×{ow} output",
        "use cnnlab.ops.conv2d(X[None, None], K[None, None])[0, 0], the vectorised version",
    )
    X, K = X.to(work), K.to(work)
    rows = []
    for i in range(oh):
        rows.append(torch.stack([(X[i : i + kh, j : j + kw] * K).sum() for j in range(ow)]))
    return torch.stack(rows).to(dtype)


def _windows(
    x: torch.Tensor,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
) -> torch.Tensor:
    """Strided view of every window: N×C×H×W -> N×C×out_h×out_w×kh×kw (no copy).

    Moving one output step moves ``stride`` rows in memory; moving one kernel tap moves
    ``dilation`` rows. Windows overlap in memory when stride < kernel, which is fine for a
    read-only view and for autograd.
    """
    x = x.contiguous()
    sn, sc, sh, sw = x.stride()
    return x.as_strided(
        (x.shape[0], x.shape[1], out_hw[0], out_hw[1], kernel[0], kernel[1]),
        (sn, sc, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]),
        x.storage_offset(),
    )


def _pad(
    x: torch.Tensor, top: int, bottom: int, left: int, right: int, value: float
) -> torch.Tensor:
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


def _conv_padding(
    padding: object,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, ``"valid"`` or ``"same"``."""
    if isinstance(padding, str):
        mode = check_choice(padding, "padding", ("same", "valid"))
        if mode == "valid":
            return 0, 0, 0, 0
        if stride != (1, 1):
            raise ValueError(f"padding='same' needs stride 1 (as in PyTorch), got stride {stride}")
        # An even span cannot be split evenly: PyTorch puts the extra pixel after.
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    ph, pw = as_pair(padding, "padding", minimum=0)
    return ph, ph, pw, pw


def _dilated(spans: tuple[int, int], dilation: tuple[int, int]) -> str:
    """`` with dilation 2 spans 5×5`` for error messages; empty when not dilated."""
    if dilation == (1, 1):
        return ""
    d = str(dilation[0]) if dilation[0] == dilation[1] else f"{dilation[0]}×{dilation[1]}"
    return f" with dilation {d} spans {spans[0]}×{spans[1]} and"


def _check_same_kind(x: torch.Tensor, other: torch.Tensor, name: str) -> None:
    if other.dtype != x.dtype:
        raise TypeError(
            f"x has dtype {x.dtype} but {name} has dtype {other.dtype}; "
            f"convert one, e.g. {name}.to(x.dtype)"
        )
    if other.device != x.device:
        raise ValueError(
            f"x is on {x.device} but {name} is on {other.device}; move both to one device"
        )


def _check_float(x: torch.Tensor, name: str = "x") -> None:
    """Like ``torch.nn.functional``, work on floating-point tensors only."""
    _reject_complex((name, x))
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got {x.dtype} (use {name}.float())"
        )


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Vectorised 2-D cross-correlation, equal to ``torch.nn.functional.conv2d``.

    x: N×C_in×H×W, weight: C_out×(C_in/groups)×kh×kw, bias: C_out or None
    -> N×C_out×H_out×W_out with ``H_out = floor((H + 2p - d(kh - 1) - 1)/s) + 1``.
    ``padding`` is an int, a pair, ``"valid"`` (0) or ``"same"`` (stride 1 only). ``groups``
    splits the channels into independent groups (``groups = C_in`` is depthwise). ``x`` and
    ``weight`` must be floating-point tensors of one dtype (float16/bfloat16 are summed in
    float32). Large kernels are computed a tile of the output at a time (bounded memory).
    """
    x = check_tensor(x, "x", 4, _X4_HINT)
    _check_float(x)
    return _conv2d(x, weight, bias, stride, padding, dilation, groups)


def _conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: int | tuple[int, int],
    padding: int | tuple[int, int] | str,
    dilation: int | tuple[int, int],
    groups: int,
) -> torch.Tensor:
    """:func:`conv2d` for any dtype (integer tensors too, for the 2-D :func:`convolve2d`)."""
    x = check_tensor(x, "x", 4, _X4_HINT)
    weight = check_tensor(weight, "weight", 4, "C_out×C_in/groups×kh×kw")
    _reject_complex(("x", x), ("weight", weight))
    _check_same_kind(x, weight, "weight")
    stride = as_pair(stride, "stride", minimum=1)
    dilation = as_pair(dilation, "dilation", minimum=1)
    groups = as_int(groups, "groups", minimum=1)
    n, c_in, h, w = x.shape
    c_out, c_group, kh, kw = weight.shape
    if min(c_out, c_group, kh, kw) < 1:
        raise ValueError(f"weight must have no empty dimension, got shape {tuple(weight.shape)}")
    if c_out % groups:
        raise ValueError(f"groups {groups} must divide the {c_out} output channels of weight")
    if c_in != c_group * groups:
        per_group = f" ({groups} groups × {c_group})" if groups > 1 else ""
        raise ValueError(
            f"input has {c_in} channels but weight expects {c_group * groups}{per_group} "
            f"(x shape {tuple(x.shape)}, weight shape {tuple(weight.shape)})"
        )
    if bias is not None:
        bias = check_tensor(bias, "bias", 1, "one value per output channel")
        _check_same_kind(x, bias, "bias")
        if bias.shape[0] != c_out:
            raise ValueError(
                f"bias must have {c_out} entries (one per output channel), got {bias.shape[0]}"
            )
    top, bottom, left, right = _conv_padding(padding, (kh, kw), stride, dilation)
    hp, wp = h + top + bottom, w + left + right
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    if span_h > hp or span_w > wp:
        raise ValueError(
            f"kernel {kh}×{kw}{_dilated((span_h, span_w), dilation)} does not fit in padded "
            f"input {hp}×{wp}"
        )
    out_hw = ((hp - span_h) // stride[0] + 1, (wp - span_w) // stride[1] + 1)

    dtype = x.dtype
    work = torch.float32 if dtype in _REDUCED else dtype  # float16 sums would lose digits
    item = torch.empty((), dtype=work).element_size()
    what = f"conv2d of x {tuple(x.shape)} with weight {tuple(weight.shape)}"
    check_memory(n * c_in * hp * wp * item, f"{what} padded by {top}+{bottom}, {left}+{right}")
    check_memory(n * c_out * out_hw[0] * out_hw[1] * item, f"the {what} output")
    copy_cell = n * c_in * kh * kw * item  # window copies behind one output position
    total = copy_cell * out_hw[0] * out_hw[1]
    grad = torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)
    if grad and total > memory_limit():
        # autograd keeps every tile's window copy for the backward pass
        check_memory(
            total,
            f"{what} with gradients (autograd keeps the {kh}×{kw} window copies)",
            "use torch.nn.functional.conv2d, a smaller kernel, or torch.no_grad()",
        )
    x, weight = x.to(work), weight.to(work)
    windows = _windows(_pad(x, top, bottom, left, right, 0.0), (kh, kw), stride, dilation, out_hw)
    # Split channels into groups: each group's filters only see that group's channels.
    windows = windows.reshape(n, groups, c_group, *out_hw, kh, kw)
    filters = weight.reshape(groups, c_out // groups, c_group, kh, kw)
    # Sum over input channel c and kernel taps (i, j) for every window (h, w) and filter o,
    # a tile of the output at a time: einsum copies the windows of the tile it multiplies.
    out = _by_tiles(
        lambda r, c: torch.einsum("ngchwij,gocij->ngohw", windows[:, :, :, r, c], filters),
        out_hw,
        copy_cell,
    ).reshape(n, c_out, *out_hw)
    if bias is not None:
        out = out + bias.to(work).view(1, c_out, 1, 1)
    return out.to(dtype)


def convolve2d(
    X: torch.Tensor,
    K: torch.Tensor,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """True convolution: cross-correlation with the kernel flipped in both spatial axes.

    2-D: X: H×W, K: kh×kw -> (H - kh + 1)×(W - kw + 1) (or padded), equal to
    ``corr2d(X, K.flip(0, 1))`` (same dtype rule: integers exactly in int64) and to
    ``scipy.signal.convolve2d(X, K, mode="valid")``.
    Batched: X: N×C_in×H×W, K: C_out×(C_in/groups)×kh×kw -> N×C_out×H_out×W_out.
    """
    X = check_tensor(X, "X", (2, 4), "H×W, or N×C_in×H×W for the batched version")
    if X.dim() == 2:
        K = check_tensor(K, "K", 2, "kh×kw, to go with a 2-D X")
        # Like corr2d: integers (bool too) exactly in int64, integer with float promoted.
        dtype = _exact_integer_dtype(X, K)
        out = _conv2d(
            X.to(dtype)[None, None],
            K.to(dtype).flip(0, 1)[None, None],
            None,
            stride,
            padding,
            dilation,
            1,
        )
        return out[0, 0]
    _check_float(X, "X")
    K = check_tensor(K, "K", 4, "C_out×C_in/groups×kh×kw, to go with a 4-D X")
    return conv2d(
        X, K.flip(-2, -1), stride=stride, padding=padding, dilation=dilation, groups=groups
    )


class _PoolPlan(NamedTuple):
    """Checked pooling geometry: 4-D input, how to pad it and the output size."""

    x: torch.Tensor  # N×C×H×W (a C×H×W input gets a batch of one)
    was_3d: bool
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int]
    extra: tuple[int, int]  # ceil_mode: more bottom/right padding for the last window
    out_hw: tuple[int, int]

    def windows(self, fill: float) -> torch.Tensor:
        """Windows of the input padded with ``fill``: N×C×oh×ow×kh×kw."""
        (ph, pw), (eh, ew) = self.padding, self.extra
        padded = _pad(self.x, ph, ph + eh, pw, pw + ew, fill)
        return _windows(padded, self.kernel, self.stride, self.dilation, self.out_hw)


def _pool_plan(
    x: object,
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
    ceil_mode: object,
) -> _PoolPlan:
    """Check pooling arguments the way PyTorch does and work out the geometry."""
    x = check_tensor(x, "x", (3, 4), "C×H×W or N×C×H×W")
    _check_float(x)
    was_3d = x.dim() == 3
    if was_3d:
        x = x.unsqueeze(0)
    k = as_pair(kernel_size, "kernel_size", minimum=1)
    s = k if stride is None else as_pair(stride, "stride", minimum=1)
    p = as_pair(padding, "padding", minimum=0)
    d = as_pair(dilation, "dilation", minimum=1)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    _check_pool_padding(k, p)
    hw = x.shape[-2:]
    spans = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    out_hw = (
        _pool_size_unchecked(hw[0], k[0], s[0], p[0], d[0], ceil_mode),
        _pool_size_unchecked(hw[1], k[1], s[1], p[1], d[1], ceil_mode),
    )
    if min(out_hw) < 1:
        raise ValueError(
            f"kernel {k[0]}×{k[1]}{_dilated(spans, d)} does not fit in padded input "
            f"{hw[0] + 2 * p[0]}×{hw[1] + 2 * p[1]}"
        )
    # ceil_mode may let the last window hang over the right/bottom edge: pad for it too.
    extra = tuple(max(0, (out_hw[a] - 1) * s[a] + spans[a] - (hw[a] + 2 * p[a])) for a in (0, 1))
    return _PoolPlan(x, was_3d, k, s, d, p, extra, out_hw)


def max_pool2d(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> torch.Tensor:
    """Max pooling, equal to ``torch.nn.functional.max_pool2d``.

    x: N×C×H×W or C×H×W -> N×C×H_out×W_out (or C×H_out×W_out). ``stride`` defaults to
    ``kernel_size``; padding (at most ``kernel_size // 2``) is filled with -inf so it never wins.
    No parameters: each output is the largest value in its window.
    """
    plan = _pool_plan(x, kernel_size, stride, padding, dilation, ceil_mode)
    windows = plan.windows(float("-inf"))
    n, ch, oh, ow, kh, kw = windows.shape
    # max over the flattened window sends the gradient to one winner, as PyTorch does; the
    # flattening copies the windows, so it is done a tile of the output at a time.
    out = _by_tiles(
        lambda r, c: windows[:, :, r, c].flatten(-2).max(dim=-1).values,
        (oh, ow),
        n * ch * kh * kw * windows.element_size(),
    )
    return out[0] if plan.was_3d else out


def avg_pool2d(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> torch.Tensor:
    """Average pooling, equal to ``torch.nn.functional.avg_pool2d``.

    x: N×C×H×W or C×H×W -> N×C×H_out×W_out (or C×H_out×W_out). Zero padding counts in the
    average (``count_include_pad=True``, PyTorch's default); a window hanging past the padded
    input in ``ceil_mode`` divides only by the part inside it, as PyTorch does.
    """
    if not isinstance(count_include_pad, bool):
        raise TypeError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    plan = _pool_plan(x, kernel_size, stride, padding, 1, ceil_mode)
    dtype = plan.x.dtype
    if dtype in _REDUCED:  # sum float16 windows in float32, round once at the end
        plan = plan._replace(x=plan.x.float())
    sums = plan.windows(0.0).sum(dim=(-2, -1))
    # The divisor of each window: pool a mask of ones over the cells that count.
    (ph, pw), (h, w) = plan.padding, plan.x.shape[-2:]
    if count_include_pad:  # the zero padding counts, the ceil_mode overhang does not
        counted = plan.x.new_ones((1, 1, h + 2 * ph, w + 2 * pw))
        mask_plan = plan._replace(x=counted, padding=(0, 0))
    else:
        mask_plan = plan._replace(x=plan.x.new_ones((1, 1, h, w)))
    out = (sums / mask_plan.windows(0.0).sum(dim=(-2, -1))).to(dtype)
    return out[0] if plan.was_3d else out


def global_avg_pool2d(x: torch.Tensor) -> torch.Tensor:
    """Average each channel over all positions: N×C×H×W -> N×C×1×1 (C×H×W -> C×1×1).

    The trailing 1×1 matches ``nn.AdaptiveAvgPool2d(1)``; use ``.flatten(1)`` for N×C.
    """
    x = check_tensor(x, "x", (3, 4), "C×H×W or N×C×H×W")
    _check_float(x)
    if x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(f"x must have a non-empty H×W, got shape {tuple(x.shape)}")
    if x.dtype in _REDUCED:  # sum float16 in float32, round once at the end
        return x.float().mean(dim=(-2, -1), keepdim=True).to(x.dtype)
    return x.mean(dim=(-2, -1), keepdim=True)


# --------------------------------------------------------------------------------------------
# batch normalisation (Ioffe & Szegedy 2015, Algorithm 1), equal to torch.nn.BatchNorm2d


def batch_statistics(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and *biased* variance of ``x`` (N, C, H, W) over N, H and W: (C,), (C,).

    Algorithm 1 divides by m = N·H·W (not m - 1) when it normalises.
    """
    check_tensor(x, "x", 4, _X4_HINT)
    _check_float(x)
    if x.numel() == 0:
        raise ValueError(f"x is empty (shape {tuple(x.shape)}): no values to take statistics of")
    mean = x.mean(dim=(0, 2, 3))
    var = (x - mean[None, :, None, None]).square().mean(dim=(0, 2, 3))
    return mean, var


def _check_bn_input(
    x: object, num_features: int, needs_batch: bool, own: torch.Tensor | None
) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"BatchNorm2d expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(
            f"BatchNorm2d expects a 4-D input N×C×H×W, got {x.dim()}-D of shape "
            f"{tuple(x.shape)}; for a single C×H×W image use x.unsqueeze(0)"
        )
    if x.shape[1] != num_features:
        raise ValueError(
            f"BatchNorm2d({num_features}) got an input with {x.shape[1]} channels "
            f"(shape {tuple(x.shape)}); it normalises exactly num_features={num_features}"
        )
    if not x.is_floating_point():
        raise TypeError(f"BatchNorm2d needs a floating-point input, got {x.dtype}: use x.float()")
    if own is not None and own.device != x.device:
        raise ValueError(
            f"x is on {x.device} but BatchNorm2d's parameters are on {own.device}; move both "
            "to one device"
        )
    if needs_batch and x.shape[0] * x.shape[2] * x.shape[3] == 1:
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            f"{tuple(x.shape)}: batch statistics of one value per channel are undefined "
            "(use a larger batch or map, or model.eval())"
        )
    return x


class BatchNorm2d(torch.nn.Module):
    """Batch normalisation over (N, H, W) per channel, written from scratch: Algorithm 1.

    Same constructor, buffers, state_dict keys and numbers as ``torch.nn.BatchNorm2d``:

    - training (or ``track_running_stats=False``): normalise with the batch mean and the
      *biased* batch variance, ``y = γ·(x - μ_B)/sqrt(σ²_B + eps) + β``;
    - training with ``track_running_stats``: ``num_batches_tracked += 1`` and
      ``running = (1 - m)·running + m·batch`` with the *unbiased* variance (× m/(m-1)); with
      ``momentum=None``, m = 1/num_batches_tracked (a cumulative moving average);
    - eval with ``track_running_stats``: normalise with ``running_mean``/``running_var``.

    ``affine=False``: no γ, β (``weight``/``bias`` are None); ``bias=False`` (keyword, as in
    torch 2.13): γ without β. (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = as_int(num_features, "num_features", minimum=1)
        eps = as_float(eps, "eps", minimum=0)
        if momentum is not None and (
            isinstance(momentum, bool) or not isinstance(momentum, (int, float))
        ):
            raise TypeError(f"momentum must be a number or None, got {momentum!r}")
        if momentum is not None and not 0 <= as_float(momentum, "momentum") <= 1:
            raise ValueError(f"momentum must be in [0, 1] or None, got {momentum!r}")
        flags = {"affine": affine, "track_running_stats": track_running_stats, "bias": bias}
        for name, flag in flags.items():
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if dtype is float:  # torch's own modules take Python's float as float64
            dtype = torch.float64
        if dtype is not None and (
            not isinstance(dtype, torch.dtype) or not dtype.is_floating_point
        ):
            raise TypeError(
                f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}"
            )
        if device is not None:
            from cnnlab.train.devices import pick_device

            device = pick_device(device)
        # γ, β and the two running statistics, at most 8 bytes an element
        check_memory(4 * 8 * self.num_features, f"BatchNorm2d({self.num_features})")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = self.affine and bias
        kw = {"device": device, "dtype": dtype}
        if self.affine:
            self.weight = torch.nn.Parameter(torch.ones(self.num_features, **kw))
        else:
            self.register_parameter("weight", None)
        if self.use_bias:
            self.bias = torch.nn.Parameter(torch.zeros(self.num_features, **kw))
        else:
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(self.num_features, **kw))
            self.register_buffer("running_var", torch.ones(self.num_features, **kw))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch tracked."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0 and fresh running statistics."""
        self.reset_running_stats()
        if self.affine:
            torch.nn.init.ones_(self.weight)
        if self.use_bias:
            torch.nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.use_bias}, "
            f"track_running_stats={self.track_running_stats}"
        )

    def _update_running(self, mean: torch.Tensor, var: torch.Tensor, count: int) -> None:
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average, as torch
                m = 1.0 / float(self.num_batches_tracked)
            else:
                m = float(self.momentum)
            unbiased = var * (count / (count - 1))
            self.running_mean.mul_(1 - m).add_(m * mean.to(self.running_mean.dtype))
            self.running_var.mul_(1 - m).add_(m * unbiased.to(self.running_var.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        use_batch = self.training or not self.track_running_stats
        own = self.weight if self.weight is not None else self.running_mean
        x = _check_bn_input(x, self.num_features, use_batch, own)
        if use_batch and x.numel() == 0:  # as torch: an empty batch passes, statistics untouched
            mean, var = x.new_zeros(self.num_features), x.new_ones(self.num_features)
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked.add_(1)
        elif use_batch:
            mean, var = batch_statistics(x)
            if self.training and self.track_running_stats:
                count = x.shape[0] * x.shape[2] * x.shape[3]
                self._update_running(mean.detach(), var.detach(), count)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + self.eps)
        if self.affine:
            x_hat = x_hat * self.weight[None, :, None, None]
        if self.use_bias:
            x_hat = x_hat + self.bias[None, :, None, None]
        return x_hat
