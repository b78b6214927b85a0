"""The mlpconv explorer: its state agrees with cnnlab.cost on the real layers, errors show a
banner, and its repr is short and deterministic."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from torch import nn

from cnnlab.cost import summary
from cnnlab.models.nin import mlpconv
from cnnlab.widgets.mlpconv import draw_mlpconv, mlpconv_explorer, mlpconv_state


@pytest.mark.parametrize("head", ["gap", "fc"])
@pytest.mark.parametrize(("k", "p", "depth"), [(3, 1, 2), (5, 0, 1), (1, 0, 0)])
def test_state_matches_the_cost_table_of_real_layers(head: str, k: int, p: int, depth: int):
    st = mlpconv_state(channels=7, size=9, kernel=k, padding=p, width=5, n_1x1=depth,
                       classes=4, head=head)  # fmt: skip
    out = 9 + 2 * p - k + 1
    layers: list[nn.Module] = [mlpconv(7, [5] * (depth + 1), k, padding=p)]
    if head == "gap":
        layers += [nn.Conv2d(5, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    else:
        layers += [nn.Flatten(), nn.Linear(5 * out * out, 4)]
    s = summary(nn.Sequential(*layers), (7, 9, 9))
    assert (st.params, st.mult_adds) == (s.totals.params, s.totals.mult_adds)
    assert st.rows[0].shape == (5, out, out) and st.rows[-1].shape[0] == 4
    assert st.head_params == (5 * 4 + 4 if head == "gap" else 5 * out * out * 4 + 4)


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="does not fit a 2×2 input with padding 0"):
        mlpconv_state(size=2, kernel=5, padding=0)
    with pytest.raises(ValueError, match="unknown head 'avg'"):
        mlpconv_state(head="avg")
    with pytest.raises(ValueError, match="width"):
        mlpconv_state(width=0)


def test_explorer_updates_shows_errors_and_has_a_short_repr() -> None:
    w = mlpconv_explorer()
    assert repr(w) == (
        "MlpconvExplorer(96×13×13, 3×3 conv to 192 + 2 1×1, gap head: 242,122 parameters)"
    )
    assert "242,122 parameters" in w.summary.value and w.image.value[:4] == b"\x89PNG"
    w.head.value = "fc"
    assert w.state.head == "fc" and w.state.head_params == 192 * 13 * 13 * 10 + 10
    w.padding.value, w.size.value = 0, 2  # a 3×3 filter on an unpadded 2×2 map
    assert w.error and "does not fit" in w.message.value and "⚠" in w.message.value
    assert w.state.size == 13 and w.image.layout.display == "none"  # the last good state
    assert repr(w).startswith("MlpconvExplorer(invalid input: the 3×3 filter does not fit")
    w.padding.value = 1
    assert w.error is None and w.state.size == 2 and "⚠" not in w.message.value
    assert plt.get_fignums() == []


def test_draw_has_two_panels() -> None:
    fig = draw_mlpconv(mlpconv_state(head="fc"))
    assert len(fig.axes) == 2 and "fc" in fig.axes[0].get_yticklabels()[-1].get_text()
