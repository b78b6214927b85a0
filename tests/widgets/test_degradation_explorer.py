"""The degradation explorer: state from a band file, an error banner for a depth without a band,
a short deterministic repr, and the stored quick band."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from cnnlab.experiments.bands import summarise
from cnnlab.widgets.degradation_explorer import (
    DegradationExplorer,
    band_depths,
    degradation_explorer,
    degradation_state,
    draw_degradation,
)


def fake_band() -> dict:
    def entry(final: list[float], curve: list[list[float]]) -> dict:
        return {"train_error": summarise(final), "train_error_curve": summarise(curve)}

    return {
        "profile": "quick",
        "results": {
            "plain8": entry([0.0, 0.01], [[0.5, 0.1, 0.0], [0.6, 0.2, 0.01]]),
            "plain20": entry([0.3, 0.4], [[0.8, 0.5, 0.3], [0.9, 0.6, 0.4]]),
            "resnet8": entry([0.0, 0.0], [[0.5, 0.1, 0.0], [0.5, 0.1, 0.0]]),
            "resnet20": entry([0.0, 0.02], [[0.4, 0.1, 0.0], [0.5, 0.2, 0.02]]),
            "resnet110": entry([0.0, 0.0], [[0.4, 0.1, 0.0], [0.4, 0.1, 0.0]]),
        },
    }


def test_state_picks_both_bands_and_the_reference() -> None:
    band = fake_band()
    assert band_depths(band) == (8, 20)  # resnet110 has no plain twin
    st = degradation_state(band, 20)
    assert (st.plain.config, st.resnet.config, st.reference.config) == (
        "plain20",
        "resnet20",
        "plain8",
    )
    assert st.plain.median == pytest.approx((0.85, 0.55, 0.35)) and st.plain.low == (0.8, 0.5, 0.3)
    assert st.plain.final == pytest.approx(0.35) and st.resnet.final == pytest.approx(0.01)
    assert st.plain.seeds == 2


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no stored band for depth 14; stored depths: 8, 20"):
        degradation_state(fake_band(), 14)
    with pytest.raises(TypeError, match="band file"):
        degradation_state({"x": 1}, 8)


def test_explorer_updates_shows_errors_and_has_a_short_repr() -> None:
    w = DegradationExplorer(fake_band(), 20)
    assert repr(w) == (
        "DegradationExplorer(depth=20: plain 0.350, resnet 0.010 final training error)"
    )
    assert "plain-20" in w.summary.value and w.image.value[:4] == b"\x89PNG"
    w.depth.value = 14  # set directly (the slider steps between stored depths): no band for 14
    assert w.error and "no stored band for depth 14" in w.message.value and "⚠" in w.message.value
    assert w.state.depth == 20 and w.image.layout.display == "none"
    assert repr(w).startswith("DegradationExplorer(invalid input: no stored band")
    w.depth.value = 8
    assert w.error is None and w.state.depth == 8
    assert plt.get_fignums() == []


def test_draw_and_the_stored_quick_band() -> None:
    fig = draw_degradation(degradation_state(fake_band(), 20))
    assert len(fig.axes) == 1 and "depth 20" in fig.axes[0].get_title()
    w = degradation_explorer(32)
    assert w.state.plain.final > w.state.resnet.final
