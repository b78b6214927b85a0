"""Data that ships with the installed libraries: scikit-learn's digits, scikit-image's photos.

Both load without network, so they are the defaults of the course.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab._limits import check_memory
from cnnlab._validate import as_pair, check_choice

# Real photographs bundled with scikit-image (the loaders that need no download).
PHOTOS: tuple[str, ...] = (
    "astronaut",
    "brick",
    "camera",
    "cat",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)


def load_digits_array() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 handwritten digits: float images (N, 1, 8, 8) in [0, 1], labels (N,)."""
    from sklearn.datasets import load_digits  # imported here: sklearn is slow to import

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]
    return images, bunch.target.astype(np.int64)


def resize(images: torch.Tensor, size: object, name: str = "size") -> torch.Tensor:
    """Resize (N, C, H, W) images to ``size`` (int or (h, w)) with bilinear interpolation.

    Shrinking uses antialiasing so that fine detail averages out instead of aliasing.
    """
    h, w = as_pair(size, name, minimum=1)
    if images.shape[-2:] == (h, w):
        return images
    n, c = images.shape[:2]
    # the result and about as much again inside the (antialiased) interpolation
    check_memory(
        2 * n * c * h * w * images.element_size(),
        f"resizing {n} image{'s' if n != 1 else ''} of {c} channels to {h}×{w}",
        "ask for a smaller size",
    )
    shrink = h < images.shape[-2] or w < images.shape[-1]
    out = F.interpolate(images, size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
    return out.clamp_(0.0, 1.0)


def load_photo(name: str = "camera", size: object = None, gray: bool = False) -> torch.Tensor:
    """One of scikit-image's sample photographs as a float tensor (C, H, W) in [0, 1].

    Colour photos give C = 3 and grey ones C = 1; ``gray=True`` converts colour to luminance
    (ITU-R 709 weights, as ``skimage.color.rgb2gray``). ``size`` (int or (h, w)) resizes;
    ``None`` keeps the original resolution. Names: ``PHOTOS``.
    """
    import skimage.data  # imported here: skimage is slow to import

    check_choice(name, "photo", PHOTOS)
    if not isinstance(gray, bool):
        raise TypeError(f"gray must be True or False, got {gray!r}")
    array = np.asarray(getattr(skimage.data, name)())
    x = torch.from_numpy(array.astype(np.float32) / 255.0)
    x = x.permute(2, 0, 1)[:3] if x.dim() == 3 else x[None]
    if gray and x.shape[0] == 3:
        weights = torch.tensor([0.2125, 0.7154, 0.0721]).view(3, 1, 1)
        x = (x * weights).sum(0, keepdim=True)
    if size is not None:
        x = resize(x[None], size)[0]
    return x.contiguous()


def load_photos_array(size: int | tuple[int, int]) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Every photo centre-cropped to a square and resized to ``size`` (int or (h, w)):
    (len(PHOTOS), 3, h, w)."""
    out = []
    for name in PHOTOS:
        x = load_photo(name)
        h, w = x.shape[-2:]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        x = x[:, top : top + side, left : left + side].expand(3, -1, -1)
        out.append(resize(x[None], size)[0])
    return torch.stack(out), PHOTOS
