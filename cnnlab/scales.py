"""VGG's test-time tools at course scale: dense evaluation, multi-scale testing, scale jittering.

* :class:`ScaleJitter` — the training augmentation of Simonyan & Zisserman (section 3.1):
  rescale each image so its side is a random S in [s_min, s_max], then crop back to the
  training size at a random place (a batched ``fit`` augmentation ``f(x, generator) -> x``);
* :func:`class_posteriors` — a fully convolutional VGG (``cnnlab.models.vgg.
  to_fully_convolutional``) run on images rescaled to side Q: its class-score map is averaged
  over positions, then turned into soft-max posteriors (section 3.2);
* :func:`scale_accuracies` — accuracy at each test scale Q and for the posteriors averaged over
  all scales (multi-scale testing, section 4.2);
* :func:`mosaic` — tile small images into one larger image, to show a score map per tile.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_int
from cnnlab.data.bundled import resize

__all__ = ["ScaleJitter", "class_posteriors", "mosaic", "scale_accuracies"]


class ScaleJitter:
    """Rescale each image of a batch to a random side S in [s_min, s_max], crop ``crop``×``crop``.

    (B, C, H, W) -> (B, C, crop, crop); ``crop`` defaults to the input's side. With s_min equal
    to the crop the whole image is one possible crop; larger S zooms in on a random part.
    """

    def __init__(self, s_min: int, s_max: int, crop: int | None = None) -> None:
        self.s_min = as_int(s_min, "s_min", minimum=1)
        self.s_max = as_int(s_max, "s_max", minimum=self.s_min)
        self.crop = None if crop is None else as_int(crop, "crop", minimum=1)
        if self.crop is not None and self.crop > self.s_min:
            raise ValueError(f"crop {self.crop} is larger than the smallest side s_min {s_min}")

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, crop, crop), each image at its own scale and offset."""
        crop = self.crop or int(x.shape[-1])
        if crop > self.s_min:
            raise ValueError(f"crop {crop} is larger than the smallest side s_min {self.s_min}")
        g = {"generator": generator, "device": generator.device}
        sides = torch.randint(self.s_min, self.s_max + 1, (x.shape[0],), **g).tolist()
        out = []
        for image, side in zip(x, sides, strict=True):
            big = F.interpolate(image[None], size=(side, side), mode="bilinear")
            top, left = torch.randint(0, side - crop + 1, (2,), **g).tolist()
            out.append(big[0, :, top : top + crop, left : left + crop])
        return torch.stack(out)

    def __repr__(self) -> str:
        return f"ScaleJitter(s_min={self.s_min}, s_max={self.s_max}, crop={self.crop})"


def class_posteriors(
    dense: nn.Module, images: torch.Tensor, side: int, *, batch_size: int = 256
) -> torch.Tensor:
    """Soft-max posteriors (N, classes) of ``dense`` on ``images`` (N, C, H, W) rescaled to
    side×side: the class-score map (N, classes, h, w) is averaged over its h·w positions first."""
    side = as_int(side, "side", minimum=1)
    was_training = dense.training
    dense.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, images.shape[0], batch_size):
                x = resize(images[start : start + batch_size], side)
                scores = dense(x)
                if scores.dim() != 4:
                    raise TypeError(
                        "dense must map images to score maps (N, classes, h, w): convert the "
                        "model with cnnlab.models.vgg.to_fully_convolutional first"
                    )
                out.append(scores.mean(dim=(2, 3)).softmax(dim=1))
    finally:
        dense.train(was_training)
    return torch.cat(out)


def scale_accuracies(
    dense: nn.Module, images: torch.Tensor, labels: torch.Tensor, sides: Sequence[int]
) -> dict[str, float]:
    """Accuracy at each test side Q (keys ``"Q=32"`` ...) and of the posteriors averaged over
    all of them (key ``"multi-scale"``)."""
    if not sides:
        raise ValueError("sides must name at least one test scale")
    accuracies: dict[str, float] = {}
    total = None
    for side in sides:
        p = class_posteriors(dense, images, side)
        accuracies[f"Q={side}"] = float((p.argmax(1) == labels).float().mean())
        total = p if total is None else total + p
    assert total is not None
    accuracies["multi-scale"] = float((total.argmax(1) == labels).float().mean())
    return accuracies


def mosaic(images: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """The first rows·cols images (N, C, s, s) tiled into one image (C, rows·s, cols·s), row by
    row: tile (i, j) is image i·cols + j."""
    rows, cols = as_int(rows, "rows", minimum=1), as_int(cols, "cols", minimum=1)
    if images.dim() != 4 or images.shape[0] < rows * cols:
        raise ValueError(f"need at least {rows * cols} images (N, C, H, W), got {images.shape}")
    c, h, w = images.shape[1:]
    grid = images[: rows * cols].reshape(rows, cols, c, h, w)
    return grid.permute(2, 0, 3, 1, 4).reshape(c, rows * h, cols * w)
