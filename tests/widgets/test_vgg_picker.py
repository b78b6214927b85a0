"""The VGG configuration picker: its pure state, its error banner and its short repr."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from cnnlab.widgets._base import InvalidChoiceError
from cnnlab.widgets.vgg_picker import draw_vgg, layer_names, vgg_picker, vgg_state

PNG_MAGIC = b"\x89PNG"


def test_state_matches_the_paper_counts() -> None:
    expected = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}
    for cfg, millions in expected.items():
        st = vgg_state(cfg)
        assert st.paper_params == millions and round(st.params / 1e6) == millions
    d = vgg_state("D")
    assert d.params == 138_357_544 and d.weight_layers == 16
    assert vgg_state("E").weight_layers == 19 and vgg_state("A-LRN").layers[1] == "LRN"


def test_state_course_scale_and_batch_norm() -> None:
    st = vgg_state("A", scale="course")
    assert st.params == 9_750_922 and st.paper_params is None
    assert st.summary.input_shape == (1, 3, 32, 32)
    bn = vgg_state("D", batch_norm=True)
    assert bn.params == 138_365_992 and bn.paper_params is None


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown configuration 'F'"):
        vgg_state("F")
    with pytest.raises(ValueError, match="scale"):
        vgg_state("A", scale="cifar")
    with pytest.raises(TypeError, match="batch_norm"):
        vgg_state("A", batch_norm="yes")  # type: ignore[arg-type]


def test_layer_names_follow_table_1() -> None:
    names = layer_names("C")
    assert names[:3] == ["conv3-64", "conv3-64", "maxpool"]
    assert names.count("conv1-512") == 2 and names[-3:] == ["FC-4096", "FC-4096", "FC-1000"]


def test_draw_has_the_column_and_two_panels() -> None:
    fig = draw_vgg(vgg_state("B", scale="course"))
    assert len(fig.axes) == 3


def test_picker_updates_and_shows_errors() -> None:
    w = vgg_picker("A")
    assert "133 M" in w.summary.value and w.image.value[:4] == PNG_MAGIC
    w.cfg.value = "E"
    assert (
        w.state.cfg == "E" and "144 M" in w.summary.value and "19 weight layers" in w.summary.value
    )
    w.scale.value = "course"
    assert w.state.scale == "course" and "paper" not in w.summary.value
    with pytest.raises(InvalidChoiceError, match="Valid: A, A-LRN, B, C, D, E"):
        w.cfg.value = "F"
    # the error banner: a compute that raises leaves the last good state and hides the figure
    w._show_error("boom")
    assert "⚠" in w.message.value and w.image.layout.display == "none"
    assert repr(w) == "VggPicker(invalid input: boom)"
    w.batch_norm.value = True  # a good change clears the error
    assert w.error is None and w.state.batch_norm and "⚠" not in w.message.value


def test_repr_is_short_and_deterministic() -> None:
    w = vgg_picker("D")
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == "VggPicker(D, imagenet: 138,357,544 parameters)"
    w.batch_norm.value = True
    assert repr(w) == "VggPicker(D, batch norm, imagenet: 138,365,992 parameters)"
    assert plt.get_fignums() == []
