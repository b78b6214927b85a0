"""The gradient-flow explorer: state, error banner, repr, drawing, speed."""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import pytest

from cnnlab.widgets.gradient_flow import (
    draw_gradient_flow,
    gradient_flow_explorer,
    gradient_flow_state,
)


def test_state_shows_the_vanishing_and_the_cure() -> None:
    plain = gradient_flow_state(20, "sigmoid", "default")
    assert len(plain.norms) == 20 and plain.ratio < 1e-10
    bn = gradient_flow_state(20, "sigmoid", "default", batch_norm=True)
    assert bn.ratio > 1e-3
    assert gradient_flow_state(20, "relu", "he").ratio > 1e-2
    assert gradient_flow_state(5).norms == gradient_flow_state(5).norms  # seeded


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at most 60"):
        gradient_flow_state(61)
    with pytest.raises(ValueError, match="activation"):
        gradient_flow_state(activation="sigmod")
    with pytest.raises(ValueError, match="depth"):
        gradient_flow_state(0)


def test_explorer_updates_shows_errors_and_has_a_short_repr() -> None:
    w = gradient_flow_explorer(depth=10, activation="relu", init="he")
    assert repr(w).startswith("GradientFlowExplorer(depth=10, relu, he: first/last = ")
    assert w.image.value[:4] == b"\x89PNG"
    start = time.perf_counter()
    w.batch_norm.value = True
    assert time.perf_counter() - start < 3  # < 0.5 s alone; the test machine is shared
    assert w.state.batch_norm and "batch norm" in repr(w)
    w.depth.value = 2
    assert len(w.state.norms) == 2
    w.depth.max = 100
    w.depth.value = 80
    assert w.error and "at most 60" in w.message.value and w.image.layout.display == "none"
    assert repr(w).startswith("GradientFlowExplorer(invalid input: depth 80")
    w.depth.value = 4
    assert w.error is None and len(w.state.norms) == 4
    assert plt.get_fignums() == []


def test_draw_is_log_scale() -> None:
    fig = draw_gradient_flow(gradient_flow_state(6))
    assert fig.axes[0].get_yscale() == "log"
