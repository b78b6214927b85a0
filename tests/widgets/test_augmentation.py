"""The augmentation explorer: pure state, error banner, repr."""

from __future__ import annotations

import pytest
import torch

from cnnlab.widgets.augmentation import augmentation_explorer, augmentation_state, draw_augmentation


def _photo() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 24, 32, generator=g)


def test_state_is_deterministic_and_shaped() -> None:
    a = augmentation_state(_photo(), flip=True, crop=20, std=0.1, seed=3)
    b = augmentation_state(_photo(), flip=True, crop=20, std=0.1, seed=3)
    assert torch.equal(a.augmented, b.augmented) and a.augmented.shape == (3, 20, 20)
    assert a.offset[0] <= 4 and a.offset[1] <= 12


def test_no_flip_no_colour_is_a_plain_crop() -> None:
    x = _photo()
    s = augmentation_state(x, flip=False, crop=24, std=0.0, seed=5)
    top, left = s.offset
    assert not s.flipped and torch.allclose(s.augmented, x[:, top : top + 24, left : left + 24])


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"crop": 30}, "does not fit"), ({"std": -1}, ">= 0")]
)
def test_bad_input_raises(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        augmentation_state(_photo(), **kwargs)


def test_widget_repr_and_error_banner() -> None:
    w = augmentation_explorer(_photo(), crop=20, std=0.1, seed=1)
    assert repr(w) == "AugmentationExplorer(flip=True, crop=20, std=0.1, seed=1)"
    w.seed.value = 2
    assert w.state.seed == 2 and w.error is None and w.image.value
    w.photo = torch.rand(1, 24, 32)  # a grey image cannot be colour-shifted
    w.refresh()
    assert w.error is not None and "colour image" in w.error
    assert repr(w).startswith("AugmentationExplorer(invalid input:")
    assert w.state.seed == 2  # the last good state is kept


def test_draw_returns_a_figure() -> None:
    fig = draw_augmentation(augmentation_state(_photo(), crop=16), more=2)
    assert len(fig.axes) == 4
