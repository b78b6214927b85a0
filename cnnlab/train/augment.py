"""Batched augmentations that run on the device: ``f(x (B, C, H, W), generator) -> x``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F

from cnnlab._validate import as_int, check_choice

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class RandomFlip:
    """Flip each image of a batch left-right with probability ``p`` (batched, on device)."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        flip = torch.rand(x.shape[0], device=x.device, generator=generator) < self.p
        return torch.where(flip[:, None, None, None], x.flip(-1), x)

    def __repr__(self) -> str:
        return f"RandomFlip(p={self.p})"


class RandomCrop:
    """Zero-pad each image by ``padding`` and crop it back at a random offset (batched)."""

    def __init__(self, padding: int = 4) -> None:
        self.padding = as_int(padding, "padding", minimum=0)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W), each image shifted by up to ``padding`` pixels."""
        span = 2 * self.padding + 1
        top = torch.randint(0, span, (x.shape[0],), device=x.device, generator=generator)
        left = torch.randint(0, span, (x.shape[0],), device=x.device, generator=generator)
        return shift_crop(x, top, left, self.padding)

    def __repr__(self) -> str:
        return f"RandomCrop(padding={self.padding})"


def shift_crop(
    x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, padding: int
) -> torch.Tensor:
    """Crop ``x`` (B, C, H, W), zero-padded by ``padding``, at per-image offsets (B,) each.

    One gather for the whole batch: rows ``top[b] + i`` and columns ``left[b] + j`` of image b.
    """
    b, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    rows = top[:, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = left[:, None] + torch.arange(w, device=x.device)  # (B, W)
    batch = torch.arange(b, device=x.device)[:, None, None]
    out = padded[batch, :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2)  # NCHW view with channels_last strides


AUGMENT_NAMES: dict[str, Callable[[], Augment]] = {"flip": RandomFlip, "crop": RandomCrop}


def check_augment(spec: Iterable[str | Augment] | str | None) -> tuple[str | Augment, ...]:
    """``spec`` as a tuple of checked names ("flip", "crop") and callables ``f(x, generator)``."""
    if spec is None:
        return ()
    if isinstance(spec, str) or callable(spec):
        spec = (spec,)
    if not isinstance(spec, Iterable):
        raise TypeError(f"augment must be names or callables f(x, generator), got {spec!r}")
    out: list[str | Augment] = []
    for item in spec:
        if isinstance(item, str):
            out.append(check_choice(item, "augment", AUGMENT_NAMES))
        elif callable(item):
            out.append(item)
        else:
            raise TypeError(
                f"augment items must be 'flip', 'crop' or callables f(x, generator), got {item!r}"
            )
    return tuple(out)


def make_augment(spec: Iterable[str | Augment] | str | None) -> list[Augment]:
    """Turn ``("flip", "crop")`` (names or callables ``f(x, generator) -> x``) into callables."""
    return [
        AUGMENT_NAMES[item]() if isinstance(item, str) else item for item in check_augment(spec)
    ]
