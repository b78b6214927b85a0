"""PCA colour augmentation (AlexNet): the components, the shift, the batched callable."""

from __future__ import annotations

import pytest
import torch

from cnnlab.train import fit
from cnnlab.train.augment import PCAColour, pca_colour_shift, rgb_pca


def _images(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mix = torch.tensor([[1.0, 0.2, 0.1], [0.8, 0.5, 0.0], [0.6, 0.1, 0.4]], dtype=torch.float64)
    return torch.einsum(
        "ij,bjhw->bihw", mix, torch.rand(4, 3, 5, 6, generator=g, dtype=torch.float64)
    )


def test_rgb_pca_diagonalises_the_pixel_covariance() -> None:
    x = _images()
    values, vectors = rgb_pca(x)
    cov = torch.cov(x.permute(1, 0, 2, 3).reshape(3, -1))
    assert torch.allclose(vectors.T @ cov @ vectors, torch.diag(values), atol=1e-12)
    assert bool((values[:-1] >= values[1:]).all())  # largest first


def test_shift_is_constant_per_image_and_follows_the_formula() -> None:
    x = _images()
    values, vectors = rgb_pca(x)
    alpha = torch.tensor([[0.1, 0.0, 0.0], [0.0, -0.2, 0.0], [0.0, 0.0, 0.3], [0.1, 0.1, 0.1]],
                         dtype=torch.float64)  # fmt: skip
    out = pca_colour_shift(x, values, vectors, alpha)
    delta = out - x
    assert torch.allclose(delta, delta[:, :, :1, :1].expand_as(delta))
    assert torch.allclose(delta[0, :, 0, 0], 0.1 * values[0] * vectors[:, 0])
    with pytest.raises(ValueError):
        pca_colour_shift(x, values, vectors, alpha[:2])
    with pytest.raises(ValueError):
        rgb_pca(x[:, :2])


def test_callable_is_seeded_clamped_and_trains() -> None:
    x = _images().float().clamp(0, 1)
    aug = PCAColour.from_images(x, std=0.5)
    a = aug(x, torch.Generator().manual_seed(1))
    b = aug(x, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, x)
    assert torch.equal(PCAColour.from_images(x, std=0.0)(x, torch.Generator()), x)
    assert repr(aug) == "PCAColour(std=0.5, clamp=True)"
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 5 * 6, 2))
    history = fit(model, (x, torch.tensor([0, 1, 0, 1])), epochs=1, batch_size=2, augment=[aug],
                  progress=False)  # fmt: skip
    assert len(history.train_loss) == 1
