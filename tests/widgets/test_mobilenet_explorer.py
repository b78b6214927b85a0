"""The MobileNet explorer: its state agrees with the model's cost table and the paper's tables,
errors show a banner, latency stays out of the repr."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from cnnlab.cost import summary
from cnnlab.models import create_model
from cnnlab.widgets.mobilenet_explorer import (
    draw_mobilenet,
    median_ms,
    mobilenet_explorer,
    mobilenet_state,
)


@pytest.mark.parametrize(("alpha", "side"), [(1.0, 224), (0.5, 160), (0.75, 96)])
def test_state_matches_the_cost_table(alpha: float, side: int) -> None:
    st = mobilenet_state(alpha, side)
    with torch.device("meta"):
        s = summary(create_model("mobilenet_v1", alpha=alpha), (3, side, side))
    assert (st.params, st.mult_adds) == (s.totals.params, s.totals.mult_adds)
    assert st.latency_ms is None


def test_state_finds_the_paper_row_and_the_band() -> None:
    assert mobilenet_state(0.5, 224).paper == (63.7, 149, 1.3)
    assert mobilenet_state(1.0, 160).paper == (67.2, 290, 4.2)
    assert mobilenet_state(0.5, 160).paper is None
    st = mobilenet_state(0.6, 224)
    assert [a for a, _ in st.band_acc] == [0.25, 0.5, 1.0]
    near = st.nearest_band
    assert near is not None and near[0] == 0.5 and near[1][1] <= near[1][0] <= near[1][2]
    assert mobilenet_state(profile="full").band_acc == ()  # no full band stored here


def test_state_measures_latency_when_asked() -> None:
    st = mobilenet_state(0.25, 64, latency_repeats=1)
    assert st.latency_ms is not None and st.latency_ms > 0


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 32 pixels"):
        mobilenet_state(resolution=16)
    with pytest.raises(ValueError, match="alpha must be a number"):
        mobilenet_state(alpha=0)
    with pytest.raises(ValueError, match="repeats"):
        median_ms(lambda: None, 0)


def test_explorer_updates_shows_errors_and_keeps_latency_out_of_the_repr() -> None:
    w = mobilenet_explorer(alpha=0.5, resolution=160, latency_repeats=1)
    assert (
        repr(w) == "MobileNetExplorer(α=0.5, 160×160: 1,331,592 parameters, 76.5 M multiply-adds)"
    )
    assert w.state.latency_ms is not None and "ms per image here" in w.summary.value
    assert w.image.value[:4] == b"\x89PNG"
    w.alpha.value = 1.0
    w.resolution.value = 224
    assert "paper: 4.2 M, 569 M, 70.6 % top-1" in w.summary.value
    w.resolution.value = 16
    assert w.error and "at least 32 pixels" in w.message.value and "⚠" in w.message.value
    assert w.state.resolution == 224 and w.image.layout.display == "none"
    assert repr(w).startswith("MobileNetExplorer(invalid input: resolution 16 is too small")
    w.resolution.value = 128
    assert w.error is None and w.state.resolution == 128
    assert plt.get_fignums() == []


def test_draw_has_two_panels_and_says_when_no_band() -> None:
    fig = draw_mobilenet(mobilenet_state(0.5, 224))
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    empty = draw_mobilenet(mobilenet_state(profile="full"))
    assert "no stored band" in empty.axes[1].texts[0].get_text()
