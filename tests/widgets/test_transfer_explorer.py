"""The transfer explorer: its state reads the stored band, errors show a banner, the repr is
short and deterministic; no training happens in the widget."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from cnnlab.transfer import layer_names, trainable_counts, yosinski_net
from cnnlab.widgets.transfer_explorer import draw_transfer, transfer_explorer, transfer_state


def _band() -> dict:
    def entry(m: float) -> dict:
        return {"test_accuracy": {"median": m, "min": m - 0.02, "max": m + 0.01}}

    results = {"baseB": entry(0.8), "dissimilar/baseB": entry(0.7)}
    for i, t in enumerate(("BnB", "AnB", "BnB+", "AnB+")):
        for n in range(1, 5):
            results[f"{t}{n}"] = entry(0.5 + 0.01 * n + 0.1 * i)
            results[f"dissimilar/{t}{n}"] = entry(0.4 + 0.01 * n + 0.1 * i)
    return {"results": results, "seeds": [0, 1, 2]}


def test_state_reads_the_band_at_depth_n() -> None:
    st = transfer_state("similar", 3, ("AnB", "BnB+"), band=_band())
    assert [t for t, _ in st.rows] == ["AnB", "BnB+"]
    assert st.rows[0][1] == pytest.approx((0.63, 0.61, 0.64))
    assert st.base == pytest.approx((0.8, 0.78, 0.81))
    assert st.copied == trainable_counts(yosinski_net(), layer_names(3))["frozen"]
    assert st.total == 17_013
    far = transfer_state("dissimilar", 1, ("BnB",), band=_band())
    assert far.rows[0][1][0] == pytest.approx(0.41)


def test_state_reads_the_stored_quick_band() -> None:
    st = transfer_state("similar", 2)
    assert len(st.rows) == 4 and all(lo <= m <= hi for _, (m, lo, hi) in st.rows)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"split": "far"}, "split must be one of"),
        ({"n": 5}, "n must be in 1..4"),
        ({"n": 0}, "n"),
        ({"treatments": ("CnB",)}, "unknown treatment"),
        ({"treatments": ()}, "at least one treatment"),
    ],
)
def test_state_rejects_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        transfer_state(**{"band": _band(), **kwargs})


def test_state_without_a_band_says_how_to_make_one() -> None:
    with pytest.raises(ValueError, match="experiment run transfer --profile full"):
        transfer_state(profile="full")


def test_explorer_updates_shows_errors_and_repr() -> None:
    w = transfer_explorer("similar", 2)
    assert repr(w).startswith("TransferExplorer(similar, n=2: BnB=")
    assert w.image.value[:4] == b"\x89PNG" and "parameters copied" in w.summary.value
    w.n.value = 4
    assert w.state.n == 4 and w.state.copied == 16_848
    w.treatments.value = ()
    assert w.error and "at least one treatment" in w.message.value and "⚠" in w.message.value
    assert w.state.n == 4 and w.image.layout.display == "none"
    assert repr(w).startswith("TransferExplorer(invalid input: choose at least one")
    w.treatments.value = ("AnB",)
    assert w.error is None and [t for t, _ in w.state.rows] == ["AnB"]
    w.split.value = "dissimilar"
    assert w.state.split == "dissimilar"
    assert plt.get_fignums() == []


def test_draw_shades_n_and_labels_treatments() -> None:
    fig = draw_transfer(transfer_state("similar", 2, band=_band()))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["baseB", "BnB", "BnB+", "AnB", "AnB+"]
    assert "3 seeds" in ax.get_title()
