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


def rgb_pca(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The principal components of the RGB values of ``images`` (N, 3, H, W), as AlexNet did
    over its training set: (eigenvalues (3,), eigenvectors (3, 3) as columns), largest first.

    The covariance of all N·H·W pixels (``torch.cov``, normalised by M − 1), in the images' dtype.
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be (N, 3, H, W), got shape {tuple(images.shape)}")
    pixels = images.permute(1, 0, 2, 3).reshape(3, -1)  # (3, M): one column per pixel
    values, vectors = torch.linalg.eigh(torch.cov(pixels))  # ascending order
    return values.flip(0), vectors.flip(1)


def pca_colour_shift(
    x: torch.Tensor, eigenvalues: torch.Tensor, eigenvectors: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """Add ``eigenvectors @ (alpha[b] * eigenvalues)`` to every pixel of image b.

    ``x`` (B, 3, H, W), ``eigenvalues`` (3,), ``eigenvectors`` (3, 3) as columns, ``alpha``
    (B, 3): Krizhevsky et al.'s colour augmentation with given draws. Returns (B, 3, H, W).
    """
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"x must be (B, 3, H, W), got shape {tuple(x.shape)}")
    if tuple(alpha.shape) != (x.shape[0], 3):
        raise ValueError(f"alpha must be ({x.shape[0]}, 3), got {tuple(alpha.shape)}")
    shift = (alpha * eigenvalues) @ eigenvectors.T  # (B, 3): one RGB offset per image
    return x + shift[:, :, None, None].to(x.dtype)


class PCAColour:
    """AlexNet's colour augmentation: shift each image along the RGB principal components.

    Each call draws ``alpha ~ N(0, std²)`` per image and component (the paper: std 0.1) and
    adds ``eigenvectors @ (alpha * eigenvalues)`` to all its pixels (:func:`pca_colour_shift`);
    ``clamp`` keeps values in [0, 1]. Build it from the training images with
    :meth:`from_images`. (B, 3, H, W) -> (B, 3, H, W), batched, on the images' device.
    """

    def __init__(
        self,
        eigenvalues: torch.Tensor,
        eigenvectors: torch.Tensor,
        std: float = 0.1,
        clamp: bool = True,
    ) -> None:
        if tuple(eigenvalues.shape) != (3,) or tuple(eigenvectors.shape) != (3, 3):
            raise ValueError("eigenvalues must be (3,) and eigenvectors (3, 3)")
        if not float(std) >= 0.0:
            raise ValueError(f"std must be >= 0, got {std}")
        self.eigenvalues, self.eigenvectors = eigenvalues, eigenvectors
        self.std, self.clamp = float(std), bool(clamp)

    @classmethod
    def from_images(cls, images: torch.Tensor, std: float = 0.1, clamp: bool = True) -> PCAColour:
        """The augmentation with the principal components of ``images`` (N, 3, H, W)."""
        values, vectors = rgb_pca(images)
        return cls(values, vectors, std, clamp)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 3, H, W) with one random colour shift per image."""
        alpha = torch.randn(x.shape[0], 3, device=x.device, generator=generator) * self.std
        vals = self.eigenvalues.to(x.device, torch.float32)
        vecs = self.eigenvectors.to(x.device, torch.float32)
        out = pca_colour_shift(x, vals, vecs, alpha)
        return out.clamp(0.0, 1.0) if self.clamp else out

    def __repr__(self) -> str:
        return f"PCAColour(std={self.std}, clamp={self.clamp})"


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
