"""The model comparison explorer: its state selects the right rows, errors show a banner, and its
repr is short and deterministic."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from cnnlab.published.comparing import IMAGENET
from cnnlab.widgets.model_comparison import (
    comparison_rows,
    comparison_state,
    draw_comparison,
    model_comparison_explorer,
)

COSTS = {"vgg16": (138_357_544, 15_470_264_320), "resnet50": (25_557_032, 4_089_184_256),
         "mobilenet_v1": (4_231_976, 568_740_352)}  # fmt: skip
ROWS = comparison_rows(IMAGENET, COSTS, {"vgg16": 900.0, "mobilenet_v1": 40.0})


def test_rows_follow_the_table_and_the_costs() -> None:
    assert [r.model for r in ROWS] == ["vgg16", "resnet50", "mobilenet_v1"]
    vgg = ROWS[0]
    assert (vgg.top1, vgg.protocol, vgg.latency_ms) == (27.0, "dense, 1 scale", 900.0)
    assert vgg.params_m == pytest.approx(138.357544) and vgg.gmac == pytest.approx(15.47026432)
    assert ROWS[1].latency_ms is None


def test_state_selects_and_filters_by_axis() -> None:
    st = comparison_state(ROWS, "resnet50", "parameters")
    assert st.selected.model == "resnet50" and len(st.points) == 3
    assert st.x(st.selected) == pytest.approx(25.557032)
    lat = comparison_state(ROWS, "mobilenet_v1", "latency")
    assert [r.model for r in lat.points] == ["vgg16", "mobilenet_v1"]


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown axis 'flops'"):
        comparison_state(ROWS, "vgg16", "flops")
    with pytest.raises(ValueError, match="unknown model 'vgg17'"):
        comparison_state(ROWS, "vgg17", "parameters")
    with pytest.raises(ValueError, match="no latency measured for resnet50"):
        comparison_state(ROWS, "resnet50", "latency")


def test_explorer_updates_shows_errors_and_has_a_short_repr() -> None:
    w = model_comparison_explorer(ROWS, model="vgg16", axis="multiply-adds")
    assert repr(w) == "ModelComparisonExplorer(vgg16 on multiply-adds, 3 models)"
    assert "27.0 %" in w.summary.value and "900 ms" in w.summary.value
    assert w.image.value[:4] == b"\x89PNG"
    w.model.value = "resnet50"
    w.axis.value = "latency"  # resnet50 has no latency in these rows
    assert w.error and "no latency measured for resnet50" in w.message.value
    assert "⚠" in w.message.value and w.image.layout.display == "none"
    assert w.state.selected.model == "resnet50" and w.state.axis == "multiply-adds"  # last good
    assert repr(w).startswith("ModelComparisonExplorer(invalid input: no latency measured")
    w.model.value = "mobilenet_v1"
    assert w.error is None and w.state.axis == "latency" and len(w.state.points) == 2
    assert plt.get_fignums() == []


def test_bad_start_raises_and_default_rows_come_from_the_band() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        model_comparison_explorer(ROWS, model="lenet5")
    w = model_comparison_explorer()
    assert len(w.state.points) >= 9 and w.state.selected.latency_ms is not None


def test_draw_rings_the_selected_model() -> None:
    fig = draw_comparison(comparison_state(ROWS, "vgg16", "multiply-adds"))
    assert "VGG-16 (D)" in fig.axes[0].get_title()
