"""Signed maps are drawn on a diverging scale centred at zero, each with its colour bar."""

from __future__ import annotations

import pytest
import torch

from cnnlab import plots


def _images(fig):  # the AxesImages of the map panels (colour-bar axes hold none)
    return [im for ax in fig.axes for im in ax.get_images()]


def test_show_signed_maps_centres_each_map_at_zero_with_a_colour_bar() -> None:
    maps = torch.stack([torch.linspace(-1, 3, 16).reshape(4, 4), -2 * torch.ones(4, 4)])
    fig = plots.show_signed_maps(maps, ["ramp", "negative"], ncols=2)
    images = _images(fig)
    assert len(images) == 2
    for im, lim in zip(images, (3.0, 2.0), strict=True):
        assert im.get_cmap().name == "RdBu_r" and im.get_clim() == (-lim, lim)
    colour_bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colour_bars) == 2
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["ramp", "negative"]


def test_signed_filter_responses_get_a_colour_bar_and_others_do_not() -> None:
    image = torch.rand(8, 8)
    fig = plots.show_filter_responses(
        image, {"signed": image - 0.5, "grey": image}, scales={"signed": "signed"}
    )
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1


def test_show_signed_maps_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="titles for"):
        plots.show_signed_maps(torch.zeros(2, 3, 3), ["one"])
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        plots.show_signed_maps(torch.zeros(3, 3))
    with pytest.raises(TypeError, match="maps must be"):
        plots.show_signed_maps("maps")
