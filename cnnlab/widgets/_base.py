"""The widget base: controls -> pure state -> static figure, with one error banner and one repr.

A widget subclasses :class:`Explorer`: it builds its controls as attributes, hands them to
``Explorer.__init__`` and provides ``compute(**values)`` (pure: control values -> state; bad input
raises ``ValueError``/``TypeError``) and ``draw(state)`` (a matplotlib figure). The base observes
the controls, recomputes, redraws, and keeps ``state`` (the last good one) and ``error``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, TypeVar

import ipywidgets as widgets
from matplotlib.figure import Figure
from traitlets import TraitError, validate

from cnnlab.widgets._grid import figure_png, html_escape

StateT = TypeVar("StateT")

ERROR_COLOUR = "#b30000"
OK_COLOUR = "#006d2c"


def status_html(text: str, ok: bool = False) -> str:
    """``text`` as one bold line: green with ✓ when ``ok``, else red with ⚠ (the error banner)."""
    colour, mark = (OK_COLOUR, "✓") if ok else (ERROR_COLOUR, "⚠")
    return f"<span style='color:{colour}'><b>{mark} {html_escape(text)}</b></span>"


def check_state(state: object, kind: type, source: str, name: str = "state") -> None:
    """A draw function's ``state`` must be what ``source`` returns (not None, not a dict)."""
    if not isinstance(state, kind):
        raise TypeError(
            f"{name} must be a {kind.__name__} (from {source}), got {type(state).__name__}"
        )


def int_slider(
    value: int, low: int, high: int, description: str, **kwargs: Any
) -> widgets.IntSlider:
    """An IntSlider over ``low..high``, widened to reach ``value`` (a start beyond the usual)."""
    return widgets.IntSlider(
        value=value, min=low, max=max(high, value), description=description, **kwargs
    )


class InvalidChoiceError(TraitError, ValueError):
    """A choice control set to a value it does not offer; the message lists the valid ones.

    A ``TraitError`` (what ipywidgets code expects) and a ``ValueError`` (what the course's
    functions raise for a bad name).
    """


class _NamedChoices:
    """Mixin for selection widgets: an unknown value names the valid ones.

    ipywidgets says only "Invalid selection: value not found"; ``kernel.value = "sobl"`` should
    say which kernels exist.
    """

    @validate("value")
    def _validate_value(self, proposal: Any) -> Any:
        try:
            return super()._validate_value(proposal)  # type: ignore[misc]
        except TraitError:
            raise InvalidChoiceError(
                choice_message(self.description or "value", proposal.value, self._options_values)
            ) from None


def choice_message(name: str, value: object, options: Iterable[object]) -> str:
    """``unknown kernel 'sobl'. Did you mean 'sobel_x'? Valid: ...`` for a choice control."""
    import difflib

    valid = [str(o) for o in options]
    close = difflib.get_close_matches(str(value), valid, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return f"unknown {name} {value!r}.{hint} Valid: {', '.join(valid)}"


class ChoiceDropdown(_NamedChoices, widgets.Dropdown):
    """A Dropdown whose unknown values raise :class:`InvalidChoiceError` listing the options."""


class ChoiceToggleButtons(_NamedChoices, widgets.ToggleButtons):
    """ToggleButtons whose unknown values raise :class:`InvalidChoiceError` like the Dropdown."""


class Explorer(widgets.VBox, Generic[StateT]):
    """A notebook widget: its controls' values go through ``compute`` to a state, drawn by ``draw``.

    ``controls`` maps ``compute``'s keyword names to the controls giving their values; ``linked``
    controls (a Play, a view-only slider) are observed too but not passed to ``compute``; ``rows``
    lay the controls out, above the outputs the base adds: ``summary`` (HTML from
    :meth:`readout`), ``message`` (HTML: :meth:`note`, or the error banner) and ``image`` (PNG).

    On every change the base calls :meth:`on_change` (keep linked controls consistent), then
    ``compute``, then :meth:`sync` (controls whose range follows the state), then draws. A
    ``ValueError``/``TypeError`` from ``compute`` or ``draw`` (a request too large to draw, say)
    leaves ``state`` at the last good one, sets ``error`` and shows only the banner (summary and
    figure hidden) until the input is fixed. While in error, subclasses must not move or redraw
    the stale state (a step button does nothing: see ``CorrelationStepper``).
    """

    #: resolution of the PNG in ``image`` (figure sizes are in inches)
    dpi: ClassVar[int] = 80

    def __init__(
        self,
        controls: Mapping[str, widgets.ValueWidget],
        rows: Sequence[widgets.Widget],
        *,
        linked: Sequence[widgets.ValueWidget] = (),
    ) -> None:
        self.state: StateT | None = None
        self.error: str | None = None
        self._controls = dict(controls)
        self._quiet = 0  # > 0 while controls are set from code: they must not trigger a redraw
        self.summary = widgets.HTML()
        self.message = widgets.HTML()
        self.image = widgets.Image(format="png")
        super().__init__(children=[*rows, self.summary, self.message, self.image])
        for control in (*self._controls.values(), *linked):
            control.observe(self._on_value, names="value")
        self.refresh()

    # -- what a subclass provides -------------------------------------------------------------
    def compute(self, **values: Any) -> StateT:
        """The state for the controls' ``values`` (pure); raise ValueError/TypeError if bad."""
        raise NotImplementedError

    def draw(self, state: StateT) -> Figure | bytes:
        """A figure (or PNG bytes) of ``state``."""
        raise NotImplementedError

    def readout(self, state: StateT) -> str:
        """HTML shown above the figure (escape any user text with ``html_escape``)."""
        return ""

    def note(self, state: StateT) -> str:
        """HTML shown below the readout when the input is valid (a remark, not an error)."""
        return ""

    def describe(self, state: StateT) -> str:
        """The inside of the repr; by default ``name=value`` for each control."""
        return ", ".join(f"{name}={value!r}" for name, value in self.values().items())

    def on_change(self, control: widgets.ValueWidget) -> None:
        """Called first when ``control`` changed: set dependent controls (they stay quiet)."""

    def sync(self, state: StateT) -> None:
        """Called with each good state: set controls that follow it, e.g. a slider's range."""

    # -- the machinery ------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The current value of each control, by ``compute``'s keyword names."""
        return {name: control.value for name, control in self._controls.items()}

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Set controls from code inside this block without each change redrawing."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def refresh(self, changed: widgets.ValueWidget | None = None) -> None:
        """Recompute the state from the controls and redraw (``changed``: the control moved)."""
        if changed is not None:
            with self.quietly():
                self.on_change(changed)
        try:
            state = self.compute(**self.values())
        except (ValueError, TypeError) as err:
            self._show_error(str(err))
            return
        with self.quietly():
            self.sync(state)  # before drawing: a slider clamped to the new range is drawn
        try:
            drawing = self.draw(state)
        except (ValueError, TypeError) as err:  # e.g. too large to draw
            self._show_error(str(err))
            return
        png = figure_png(drawing, self.dpi) if isinstance(drawing, Figure) else drawing
        self.state, self.error = state, None
        self.summary.value = self.readout(state)
        self.message.value = self.note(state)
        self.image.value = png
        self._show_outputs(True)

    def _on_value(self, change: Mapping[str, Any]) -> None:
        if not self._quiet:
            self.refresh(change["owner"])

    def _show_error(self, text: str) -> None:
        self.error = text
        self.message.value = status_html(text)
        # the last good picture would pretend to answer the bad input: hide it, keep the state
        self._show_outputs(False)

    def _show_outputs(self, visible: bool) -> None:
        for output in (self.summary, self.image):
            output.layout.display = None if visible else "none"

    def __repr__(self) -> str:
        # short and deterministic: it is the text/plain output nbval compares (the default
        # widget repr lists the children, the start of the PNG bytes included)
        name = type(self).__name__
        if self.error is not None:
            return f"{name}(invalid input: {self.error})"
        if self.state is None:
            return f"{name}()"
        return f"{name}({self.describe(self.state)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """What a notebook shows: the widget view and, as ``text/plain``, the repr.

        ipywidgets 8 displays a widget through this method. ipywidgets 7 (Colab's) has none and
        displays through ``_ipython_display_`` instead; the bundle built here is the one it sends,
        so that code and tests asking for the bundle see the same under both.
        """
        parent = getattr(super(), "_repr_mimebundle_", None)
        if parent is not None:
            return parent(**kwargs)
        if self.comm is None:  # closed: no view left to show, only the repr
            return None
        text = repr(self)
        return {
            "text/plain": text if len(text) <= 110 else text[:110] + "…",
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.model_id,
            },
        }
