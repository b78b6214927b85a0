"""The widget base (cnnlab.widgets._base.Explorer) with a tiny dummy subclass, and its uniform repr
on the real widgets."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest
import torch
from IPython.lib.pretty import pretty
from matplotlib.figure import Figure
from torch import nn

from cnnlab.widgets import correlation_stepper, feature_explorer
from cnnlab.widgets._base import Explorer, status_html
from cnnlab.widgets._grid import new_axes
from cnnlab.widgets.correlation import LECTURE_X

PNG_MAGIC = b"\x89PNG"


@dataclass(frozen=True)
class Ratio:
    a: int
    b: int

    @property
    def value(self) -> float:
        return self.a / self.b


class RatioExplorer(Explorer[Ratio]):
    """a / b, with b typed as text; ``limit``'s range follows a (sync), ``mirror`` copies a."""

    def __init__(self, a: int = 6, b: str = "2") -> None:
        self.a = widgets.IntSlider(value=a, min=0, max=20, description="a")
        self.b = widgets.Text(value=b, description="b")
        self.mirror = widgets.IntText(value=a)  # linked: setting it moves a
        self.limit = widgets.IntSlider(value=0, min=0, max=0)
        self.draws = 0
        super().__init__(
            {"a": self.a, "b": self.b}, [widgets.HBox([self.a, self.b])], linked=[self.mirror]
        )

    def compute(self, a: int, b: str) -> Ratio:  # type: ignore[override]
        try:
            divisor = int(b)
        except ValueError:
            raise ValueError(f"b must be a whole number, got {b!r}") from None
        if divisor == 0:
            raise ValueError("b must not be 0 <here>")
        return Ratio(a, divisor)

    def on_change(self, control: widgets.ValueWidget) -> None:
        if control is self.mirror:
            self.a.value = self.mirror.value

    def sync(self, state: Ratio) -> None:
        self.limit.max = state.a
        self.mirror.value = state.a

    def draw(self, state: Ratio) -> Figure:
        self.draws += 1
        fig, (ax,) = new_axes(1, None)
        ax.set_title(f"{state.value:g}")
        return fig

    def readout(self, state: Ratio) -> str:
        return f"a / b = {state.value:g}"


def test_a_control_change_recomputes_and_redraws_once() -> None:
    w = RatioExplorer()
    assert isinstance(w, widgets.VBox) and w.children[-3:] == (w.summary, w.message, w.image)
    assert w.state == Ratio(6, 2) and w.error is None and w.draws == 1
    assert w.summary.value == "a / b = 3" and w.message.value == ""
    first = w.image.value
    assert first[:4] == PNG_MAGIC
    w.a.value = 9
    assert w.state == Ratio(9, 2) and w.summary.value == "a / b = 4.5"
    assert w.draws == 2 and w.image.value != first  # sync set two controls without a redraw
    assert (w.limit.max, w.mirror.value) == (9, 9)
    w.mirror.value = 4  # a linked control: on_change moves a, then one redraw
    assert w.a.value == 4 and w.state == Ratio(4, 2) and w.draws == 3
    assert plt.get_fignums() == []


@pytest.mark.parametrize("bad", ["0", "two"])
def test_an_error_shows_only_the_banner_until_the_input_is_fixed(bad: str) -> None:
    w = RatioExplorer()
    w.b.value = bad
    assert w.error is not None and w.message.value == status_html(w.error)
    assert "⚠" in w.message.value
    assert "<here>" not in w.message.value  # the message is escaped
    assert ("&lt;here&gt;" in w.message.value) == (bad == "0")
    assert w.summary.layout.display == "none" and w.image.layout.display == "none"
    assert w.state == Ratio(6, 2) and w.draws == 1  # the last good state, not redrawn
    assert repr(w) == f"RatioExplorer(invalid input: {w.error})"
    w.a.value = 8  # still invalid: no redraw, the banner stays
    assert w.error is not None and w.draws == 1 and w.state == Ratio(6, 2)
    w.b.value = "4"
    assert w.error is None and w.message.value == "" and w.state == Ratio(8, 4)
    assert w.summary.layout.display is None and w.image.layout.display is None
    assert w.summary.value == "a / b = 2" and w.draws == 2


def test_type_errors_count_as_bad_input_and_other_errors_propagate() -> None:
    class Strict(RatioExplorer):
        def compute(self, a: int, b: str) -> Ratio:  # type: ignore[override]
            if b == "boom":
                raise RuntimeError("a bug, not bad input")
            if not b.isdigit():
                raise TypeError("b must be digits")
            return super().compute(a, b)

    w = Strict()
    w.b.value = "x"
    assert w.error == "b must be digits"
    with pytest.raises(RuntimeError, match="a bug"):
        w.b.value = "boom"


def test_repr_is_uniform_short_and_deterministic() -> None:
    w = RatioExplorer(a=5, b="1")
    assert repr(w) == "RatioExplorer(a=5, b='1')" == pretty(w)
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == "RatioExplorer(a=5, b='1')"
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view == {"version_major": 2, "version_minor": 0, "model_id": w.model_id}


def test_the_bundle_is_what_the_notebook_is_sent_under_ipywidgets_7_and_8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ipywidgets 8 displays through ``_repr_mimebundle_``; 7 (Colab's) through
    ``_ipython_display_``, which the base does not replace: both must send the same bundle.
    tests/test_widgets_ipywidgets7.py runs this file under ipywidgets 7."""
    w = RatioExplorer(a=5, b="x" * 200)  # an error long enough to be cut at 110 characters
    bundle = w._repr_mimebundle_()
    assert len(bundle["text/plain"]) == 111 and bundle["text/plain"].endswith("…")
    if hasattr(widgets.Widget, "_ipython_display_"):  # ipywidgets 7
        from ipywidgets.widgets import widget as widget_module

        sent: list[dict] = []
        monkeypatch.setattr(widget_module, "display", lambda data, raw: sent.append(data))
        w._ipython_display_()
        assert sent == [bundle]
    else:  # ipywidgets 8: the base defers to ipywidgets' own bundle
        assert bundle == widgets.VBox._repr_mimebundle_(w)
    w.close()  # a closed widget has no view left: IPython falls back to the repr
    method = getattr(w, "_repr_mimebundle_", None)
    assert method is None or method() is None
    assert repr(w) == f"RatioExplorer(invalid input: b must be a whole number, got {'x' * 200!r})"


def test_draw_may_return_png_bytes() -> None:
    class Bytes(RatioExplorer):
        def draw(self, state: Ratio) -> bytes:  # type: ignore[override]
            return PNG_MAGIC + bytes([state.a])

    w = Bytes(a=7)
    assert w.image.value == PNG_MAGIC + b"\x07"


def test_the_real_widgets_share_the_banner_and_repr() -> None:
    w = correlation_stepper(LECTURE_X)
    w.x_text.value = "1 two"
    assert w.error == "X row 1: 'two' is not a number" and w.state.total == 19
    assert w.image.layout.display == "none" and w.summary.layout.display == "none"
    assert repr(w) == "CorrelationStepper(invalid input: X row 1: 'two' is not a number)"
    w.x_text.value = "1 2\n3 4"
    assert w.error is None and w.image.layout.display is None and w.state.total == 0 + 2 + 6 + 12

    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(48, 2))
    images = torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    fx = feature_explorer(model, images, index=2)
    assert repr(fx) == "FeatureExplorer(layer='0', channel=0, index=2)"
    fx.channel.value = 1
    assert repr(fx) == "FeatureExplorer(layer='0', channel=1, index=2)"


def test_the_stepper_stops_the_browsers_play_under_ipywidgets_7_and_8() -> None:
    """A tick while the input is invalid stops the Play through the trait the browser syncs:
    ``playing`` in ipywidgets 8, ``_playing`` in 7 (Colab's), where ``playing`` is no trait."""
    w = correlation_stepper(LECTURE_X)
    synced = "playing" if w.play.has_trait("playing") else "_playing"
    assert w.play.trait_metadata(synced, "sync")
    setattr(w.play, synced, True)
    w.k_text.value = "1 2\n3"  # invalid kernel text
    w.play.value = 2  # a tick of the Play widget
    assert getattr(w.play, synced) is False and w.play.value == 0
    assert w.state.total == 19  # the last good state, not advanced
