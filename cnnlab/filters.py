"""Hand-made image filters, applying them with our ``conv2d``, and learning a kernel back.

Kernels are cross-correlation kernels (as ``nn.Conv2d`` uses them): ``sobel_x`` is positive
where brightness grows to the right. Images are H×W (grayscale) or C×H×W (each channel
filtered separately).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab._limits import check_memory
from cnnlab._validate import as_float, as_int, as_pair, check_choice, check_tensor
from cnnlab.ops import conv2d, corr2d

__all__ = [
    "KERNELS",
    "apply_filter",
    "gaussian_kernel",
    "get_kernel",
    "learn_kernel",
    "shift_image",
    "shift_equivariance_error",
    "sobel_magnitude",
    "step_edge_example",
]

# Stored as nested tuples so nobody can change a shared kernel in place; KERNELS[name] and
# get_kernel(name) build a fresh tensor each time.
_KERNEL_VALUES: dict[str, tuple[tuple[float, ...], ...]] = {
    "identity": ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
    # Prewitt-style: responds to vertical edges (brightness changing along x).
    "edge_vertical": ((-1, 0, 1), (-1, 0, 1), (-1, 0, 1)),
    "edge_horizontal": ((-1, -1, -1), (0, 0, 0), (1, 1, 1)),
    # The lecture's "edge detect": centre minus its 8 neighbours, zero on flat regions.
    "edge": ((-1, -1, -1), (-1, 8, -1), (-1, -1, -1)),
    "laplacian": ((0, 1, 0), (1, -4, 1), (0, 1, 0)),
    "sobel_x": ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)),
    "sobel_y": ((-1, -2, -1), (0, 0, 0), (1, 2, 1)),
    "box_blur": tuple(tuple(1 / 9 for _ in range(3)) for _ in range(3)),
    # Binomial approximations of a Gaussian; both sum to 1 so flat regions keep their value.
    "gaussian_blur": tuple(tuple(a * b / 16 for b in (1, 2, 1)) for a in (1, 2, 1)),
    "gaussian_blur_5x5": tuple(
        tuple(a * b / 256 for b in (1, 4, 6, 4, 1)) for a in (1, 4, 6, 4, 1)
    ),
    "sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
    "emboss": ((-2, -1, 0), (-1, 1, 1), (0, 1, 2)),
    # The 1×2 difference kernel of the "learn a kernel" example: +1 / -1 at an edge.
    "diff_x": ((1, -1),),
}


class _KernelBank(Mapping):
    """Read-only ``name -> kh×kw float32 tensor`` mapping that hands out fresh copies."""

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in _KERNEL_VALUES:
            raise KeyError(f"unknown kernel {name!r}; valid: {', '.join(_KERNEL_VALUES)}")
        return torch.tensor(_KERNEL_VALUES[name], dtype=torch.float32)

    def __iter__(self) -> Iterator[str]:
        return iter(_KERNEL_VALUES)

    def __len__(self) -> int:
        return len(_KERNEL_VALUES)

    def __repr__(self) -> str:
        return f"KERNELS({', '.join(_KERNEL_VALUES)})"


KERNELS: Mapping[str, torch.Tensor] = _KernelBank()


def get_kernel(name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A classic kernel by name as a fresh kh×kw tensor (3×3 except the 5×5 Gaussian, 1×2 diff_x).

    Unknown names raise ``ValueError`` listing the valid ones.
    """
    name = check_choice(name, "kernel name", _KERNEL_VALUES)
    return torch.tensor(_KERNEL_VALUES[name], dtype=dtype)


def gaussian_kernel(size: int, sigma: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Sampled 2-D Gaussian ``exp(-(x² + y²)/(2σ²))``, normalised to sum 1: size×size."""
    size = as_int(size, "size", minimum=1)
    check_memory(3 * size * size * 8, f"a {size}×{size} Gaussian kernel")  # float64 temporaries
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise TypeError(f"sigma must be a positive number, got {sigma!r}")
    if not math.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * float(sigma) ** 2))
    kernel = torch.outer(g, g)
    return (kernel / kernel.sum()).to(dtype)


def _reject_complex(t: torch.Tensor, name: str) -> None:
    # .to(float32) would drop the imaginary part with only a warning: a silent wrong result
    if t.is_complex():
        raise TypeError(
            f"{name} is complex ({t.dtype}); filters work on real images: pass {name}.real, "
            f"{name}.imag or {name}.abs()"
        )


def _as_image(image: object) -> torch.Tensor:
    """H×W or C×H×W tensor (numpy arrays accepted); integer and bool images become float32."""
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(np.ascontiguousarray(image))
    image = check_tensor(image, "image", (2, 3), "H×W grayscale or C×H×W")
    _reject_complex(image, "image")
    if not image.is_floating_point():
        image = image.to(torch.float32)
    return image


def _as_kernel(kernel: object, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(kernel, str):
        kernel = get_kernel(kernel)
    elif isinstance(kernel, np.ndarray):
        kernel = torch.from_numpy(np.ascontiguousarray(kernel))
    kernel = check_tensor(kernel, "kernel", 2, "kh×kw, or a name from KERNELS")
    _reject_complex(kernel, "kernel")
    return kernel.to(dtype=dtype, device=device)


def apply_filter(
    image: torch.Tensor | np.ndarray,
    kernel: torch.Tensor | np.ndarray | str,
    padding: str | int | tuple[int, int] = "same",
    padding_mode: str = "zeros",
) -> torch.Tensor:
    """Cross-correlate an image with one kernel, channel by channel, using our ``conv2d``.

    image: H×W or C×H×W (uint8 and bool become float32, values unchanged; float16 is summed in
    float32, as by ``conv2d``; complex raises ``TypeError``); kernel: kh×kw tensor or a
    name from :data:`KERNELS`. ``padding="same"`` keeps H×W (an even kernel gets the extra
    pixel after, like PyTorch); ``"valid"`` or an int pads that much. ``padding_mode`` fills the
    border with ``"zeros"`` (as ``nn.Conv2d``), ``"reflect"`` or ``"replicate"``.
    Returns the same rank as ``image``.
    """
    image = _as_image(image)
    kernel = _as_kernel(kernel, image.dtype, image.device)
    mode = check_choice(padding_mode, "padding_mode", ("zeros", "reflect", "replicate"))
    kh, kw = kernel.shape
    if isinstance(padding, str):
        if check_choice(padding, "padding", ("same", "valid")) == "same":
            th, tw = kh - 1, kw - 1
            pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)  # left, right, top, bottom
        else:
            pads = (0, 0, 0, 0)
    else:
        ph, pw = as_pair(padding, "padding", minimum=0)
        pads = (pw, pw, ph, ph)
    # Channels ride in the batch dimension so one 1-channel filter treats each alike.
    x = image.reshape(-1, 1, *image.shape[-2:])
    if any(pads):
        h, w = x.shape[-2:]
        check_memory(
            x.shape[0] * (h + pads[2] + pads[3]) * (w + pads[0] + pads[1]) * x.element_size(),
            f"padding a {h}×{w} image by {padding}",
        )
        if mode == "reflect" and (max(pads[2:]) >= h or max(pads[:2]) >= w):
            raise ValueError(
                f"padding_mode='reflect' needs padding smaller than the image {h}×{w}; "
                "use 'replicate' or 'zeros'"
            )
        x = F.pad(x, pads, mode="constant" if mode == "zeros" else mode)
    out = conv2d(x, kernel[None, None])
    return out.reshape(*image.shape[:-2], *out.shape[-2:])


def sobel_magnitude(
    image: torch.Tensor | np.ndarray, padding_mode: str = "reflect"
) -> torch.Tensor:
    """Gradient magnitude ``sqrt(Gx² + Gy²)`` from the Sobel kernels: same shape as ``image``.

    Reflect padding by default, so the image border does not show up as a false edge.
    """
    gx = apply_filter(image, "sobel_x", padding="same", padding_mode=padding_mode)
    gy = apply_filter(image, "sobel_y", padding="same", padding_mode=padding_mode)
    return torch.sqrt(gx**2 + gy**2)


def step_edge_example(
    height: int = 6, width: int = 8
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The textbook edge example: X (white sides, black middle), K = [[1, -1]], Y = corr2d(X, K).

    X: height×width, K: 1×2, Y: height×(width - 1) with +1 at white→black and -1 at
    black→white edges.
    """
    height = as_int(height, "height", minimum=1)
    width = as_int(width, "width", minimum=4)
    check_memory(height * width * 4, f"a {height}×{width} step-edge image")
    X = torch.ones(height, width)
    X[:, width // 4 : width - width // 4] = 0
    K = get_kernel("diff_x")
    return X, K, corr2d(X, K)


def learn_kernel(
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: int | tuple[int, int],
    steps: int = 300,
    lr: float = 0.1,
    seed: int = 0,
) -> tuple[torch.Tensor, list[float]]:
    """Learn K with ``conv2d(X, K) ≈ Y`` by plain gradient descent on the mean squared error.

    X: H×W or N×H×W inputs; Y: the matching (H - kh + 1)×(W - kw + 1) outputs (no padding).
    K starts small and random from ``seed`` (deterministic), then takes ``steps`` updates
    ``K -= lr · dL/dK``. Returns (kernel kh×kw, losses: one float per step, before its update).
    Raises ``ValueError`` if the loss blows up (``lr`` too large).
    """
    X = check_tensor(X, "X", (2, 3), "H×W or N×H×W")
    Y = check_tensor(Y, "Y", (2, 3), "matching X: H_out×W_out or N×H_out×W_out")
    _reject_complex(X, "X")
    _reject_complex(Y, "Y")
    kh, kw = as_pair(kernel_size, "kernel_size", minimum=1)
    steps = as_int(steps, "steps", minimum=1)
    check_memory(steps * 32, f"the loss history of {steps:,} steps")  # a list of Python floats
    seed = as_int(seed, "seed")
    lr = as_float(lr, "lr", minimum=0, exclusive=True)
    dtype = X.dtype if X.is_floating_point() else torch.float32
    x = X.to(dtype).reshape(-1, 1, *X.shape[-2:])
    y = Y.to(dtype).reshape(-1, 1, *Y.shape[-2:])
    h, w = x.shape[-2:]
    if kh > h or kw > w:
        raise ValueError(f"kernel {kh}×{kw} does not fit in input {h}×{w}")
    expected = (x.shape[0], 1, h - kh + 1, w - kw + 1)
    if tuple(y.shape) != expected:
        raise ValueError(
            f"Y must have shape {expected[2]}×{expected[3]} per input (X {tuple(X.shape)} with a "
            f"{kh}×{kw} kernel and no padding), got {tuple(Y.shape)}"
        )
    generator = torch.Generator().manual_seed(seed)
    kernel = (0.1 * torch.randn(1, 1, kh, kw, generator=generator, dtype=dtype)).to(x.device)
    kernel.requires_grad_()
    losses: list[float] = []
    for step in range(steps):
        loss = ((conv2d(x, kernel) - y) ** 2).mean()
        (grad,) = torch.autograd.grad(loss, kernel)
        value = loss.item()
        if not math.isfinite(value):
            raise ValueError(f"the loss diverged at step {step} (lr={lr} is too large; try lr/10)")
        losses.append(value)
        with torch.no_grad():
            kernel -= lr * grad
    return kernel.detach()[0, 0], losses


def shift_image(image: torch.Tensor | np.ndarray, dy: int, dx: int) -> torch.Tensor:
    """``image`` (H×W or C×H×W) moved ``dy`` rows down and ``dx`` columns right, zero-filled.

    Unlike ``torch.roll`` nothing wraps around: what leaves one edge is lost and the other edge
    fills with zeros, as when an object moves within a camera's frame.
    """
    image = _as_image(image)
    dy, dx = as_int(dy, "dy"), as_int(dx, "dx")
    h, w = image.shape[-2:]
    out = torch.zeros_like(image)
    if abs(dy) < h and abs(dx) < w:
        out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
            ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out


def shift_equivariance_error(
    image: torch.Tensor | np.ndarray, kernel: torch.Tensor | np.ndarray | str, dy: int, dx: int
) -> float:
    """Largest difference between "shift, then filter" and "filter, then shift", away from borders.

    Cross-correlation uses the same kernel at every position (weight sharing), so shifting the
    input by ``(dy, dx)`` shifts the ``"same"``-padded output map by exactly ``(dy, dx)``: the
    result is 0 up to rounding. Only a band of ``|dy| + kh`` rows and ``|dx| + kw`` columns at the
    edges is left out, where pixels enter or leave the frame and the zero padding differs.
    """
    image = _as_image(image)
    kh, kw = _as_kernel(kernel, image.dtype, image.device).shape
    dy, dx = as_int(dy, "dy"), as_int(dx, "dx")
    h, w = image.shape[-2:]
    my, mx = abs(dy) + kh, abs(dx) + kw
    if 2 * my >= h or 2 * mx >= w:
        raise ValueError(
            f"a shift of ({dy}, {dx}) with a {kh}×{kw} kernel leaves no interior in a {h}×{w} "
            "image; use a larger image or a smaller shift"
        )
    first_shift = apply_filter(shift_image(image, dy, dx), kernel)
    first_filter = shift_image(apply_filter(image, kernel), dy, dx)
    diff = (first_shift - first_filter)[..., my : h - my, mx : w - mx]
    return float(diff.abs().max())
