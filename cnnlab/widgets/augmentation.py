"""Augmentation explorer: AlexNet's flips, crops and PCA colour shifts on a photograph.

* :func:`augmentation_state` — pure state: one augmented draw of a photo (flip, random crop,
  PCA colour shift with strength ``std``), computed with :mod:`cnnlab.train.augment`;
* :func:`draw_augmentation` — a static figure: the photo, this draw, and a few more draws;
* :func:`augmentation_explorer` — the ipywidgets container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from cnnlab._validate import as_int
from cnnlab.train.augment import pca_colour_shift, rgb_pca
from cnnlab.widgets._base import Explorer, int_slider
from cnnlab.widgets._grid import html_escape, new_axes

#: how many extra draws the figure shows beside the current one
MORE_DRAWS = 4


@dataclass(frozen=True, eq=False)
class AugmentationState:
    """One draw: ``image`` (3, H, W) -> ``augmented`` (3, crop, crop), with what was drawn.

    ``flipped``: whether this draw was flipped; ``offset``: (top, left) of the crop;
    ``alpha`` (3,): the colour draws; ``shift`` (3,): the RGB offset added to every pixel;
    ``eigenvalues`` (3,), largest first, of the RGB covariance of ``image``.
    """

    image: torch.Tensor
    augmented: torch.Tensor
    flip: bool
    crop: int
    std: float
    seed: int
    flipped: bool
    offset: tuple[int, int]
    alpha: torch.Tensor
    shift: torch.Tensor
    eigenvalues: torch.Tensor


def augmentation_state(
    image: torch.Tensor,
    flip: bool = True,
    crop: int | None = None,
    std: float = 0.1,
    seed: int = 0,
    components: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> AugmentationState:
    """Augment ``image`` (3, H, W) once with draws from ``seed``.

    ``flip``: flip left-right with probability 1/2; ``crop``: the side of a random square crop
    (default: the whole image; AlexNet cropped 224 of 256); ``std``: the standard deviation of
    the colour draws α (AlexNet: 0.1); ``components``: (eigenvalues, eigenvectors) of the RGB
    covariance, by default those of ``image`` itself. Raises ``ValueError`` for a crop larger
    than the image or a negative ``std``.
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        raise ValueError("image must be a colour image tensor (3, H, W)")
    _, h, w = image.shape
    crop = min(h, w) if crop is None else as_int(crop, "crop", minimum=1)
    if crop > min(h, w):
        raise ValueError(f"a {crop}×{crop} crop does not fit a {h}×{w} image")
    std = float(std)
    if not std >= 0.0:
        raise ValueError(f"the colour strength std must be >= 0, got {std}")
    seed = as_int(seed, "seed", minimum=0)
    values, vectors = components if components is not None else rgb_pca(image[None].double())
    g = torch.Generator().manual_seed(seed)
    flipped = bool(flip) and bool(torch.rand(1, generator=g) < 0.5)
    top = int(torch.randint(0, h - crop + 1, (1,), generator=g))
    left = int(torch.randint(0, w - crop + 1, (1,), generator=g))
    alpha = torch.randn(1, 3, generator=g, dtype=torch.float64) * std
    x = image.flip(-1) if flipped else image
    x = x[:, top : top + crop, left : left + crop]
    shifted = pca_colour_shift(x[None].double(), values.double(), vectors.double(), alpha)[0]
    shift = (alpha[0] * values.double()) @ vectors.double().T
    return AugmentationState(
        image,
        shifted.clamp(0.0, 1.0).to(image.dtype),
        bool(flip),
        crop,
        std,
        seed,
        flipped,
        (top, left),
        alpha[0],
        shift,
        values.double(),
    )


def _title(state: AugmentationState) -> str:
    r, g, b = (float(v) for v in state.shift)
    return f"{'flipped, ' if state.flipped else ''}RGB {r:+.2f} {g:+.2f} {b:+.2f}"


def draw_augmentation(state: AugmentationState, more: int = MORE_DRAWS) -> Figure:
    """The photo, this draw, and ``more`` draws with the next seeds (same settings)."""
    fig, axes = new_axes(2 + more, None, width=1.9, height=2.1)
    draws = [state] + [
        augmentation_state(
            state.image,
            state.flip,
            state.crop,
            state.std,
            state.seed + i,
            (state.eigenvalues, _vectors(state)),
        )
        for i in range(1, more + 1)
    ]
    axes[0].imshow(state.image.permute(1, 2, 0).clamp(0, 1).numpy())
    axes[0].set_title("photo", fontsize=8)
    for ax, s in zip(axes[1:], draws, strict=True):
        ax.imshow(s.augmented.permute(1, 2, 0).numpy())
        ax.set_title(f"seed {s.seed}\n{_title(s)}", fontsize=7)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def _vectors(state: AugmentationState) -> torch.Tensor:
    return rgb_pca(state.image[None].double())[1]


class AugmentationExplorer(Explorer[AugmentationState]):
    """The explorer widget; build it with :func:`augmentation_explorer`.

    Controls: ``flip`` (checkbox), ``crop`` (side of the random crop), ``std`` (colour strength),
    ``seed`` (which random draw); ``state`` is the :class:`AugmentationState` shown.
    """

    def __init__(self, image: torch.Tensor, flip: bool, crop: int, std: float, seed: int):
        self.photo = image
        side = min(image.shape[-2:])
        self.flip = widgets.Checkbox(value=flip, description="random flip")
        self.crop = int_slider(crop, max(1, side // 2), side, "crop side")
        self.std = widgets.FloatSlider(
            value=std, min=0.0, max=1.0, step=0.05, description="colour σ"
        )
        self.seed = int_slider(seed, 0, 50, "draw")
        super().__init__(
            {"flip": self.flip, "crop": self.crop, "std": self.std, "seed": self.seed},
            [widgets.HBox([self.flip, self.crop]), widgets.HBox([self.std, self.seed])],
        )

    def compute(self, **values: Any) -> AugmentationState:
        return augmentation_state(self.photo, **values)

    def draw(self, state: AugmentationState) -> Figure:
        return draw_augmentation(state)

    def readout(self, state: AugmentationState) -> str:
        a = ", ".join(f"{float(v):+.3f}" for v in state.alpha)
        lam = ", ".join(f"{float(v):.4f}" for v in state.eigenvalues)
        return html_escape(
            f"crop {state.crop}×{state.crop} at {state.offset}, "
            f"{'flipped' if state.flipped else 'not flipped'}; α = ({a}), λ = ({lam})"
        )

    def describe(self, state: AugmentationState) -> str:
        return f"flip={state.flip}, crop={state.crop}, std={state.std:g}, seed={state.seed}"


def augmentation_explorer(
    image: torch.Tensor | None = None,
    flip: bool = True,
    crop: int | None = None,
    std: float = 0.1,
    seed: int = 0,
) -> AugmentationExplorer:
    """Build the explorer for ``image`` (3, H, W), by default scikit-image's ``astronaut``
    at 96×96; ``crop`` defaults to 7/8 of the side (AlexNet: 224 of 256)."""
    if image is None:
        from cnnlab.data import load_photo

        image = load_photo("astronaut", size=96)
    crop = int(min(image.shape[-2:]) * 7 // 8) if crop is None else crop
    state = augmentation_state(image, flip, crop, std, seed)  # reject bad arguments first
    return AugmentationExplorer(image, state.flip, state.crop, state.std, state.seed)
