"""Model comparison explorer: pick a model and an x-axis, see every ImageNet model of the course
with that one ringed, and its table row.

* :class:`ModelRow` — one model: published error and protocol, our cost-table figures, the
  latency measured on this machine (the stored ``latency`` band) when there is one;
* :func:`comparison_rows` — the rows from the published table, costs and latencies (pure);
* :func:`comparison_state` — pure state: the selected row and the points of the chosen axis;
* :func:`draw_comparison` — the scatter plot;
* :func:`model_comparison_explorer` — the ipywidgets container.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from cnnlab._validate import as_float, check_choice
from cnnlab.figures.comparing import scatter_models
from cnnlab.published import Table
from cnnlab.widgets._base import ChoiceDropdown, Explorer, check_state
from cnnlab.widgets._grid import html_escape

AXES = ("multiply-adds", "parameters", "latency")
_UNITS = {"multiply-adds": "G multiply-adds", "parameters": "M parameters", "latency": "ms"}


@dataclass(frozen=True)
class ModelRow:
    """One ImageNet model: published top-1/top-5 error (%) and test protocol, our parameters (M)
    and multiply-adds (G) at its native input, measured latency (ms; None: not measured)."""

    model: str
    label: str
    top1: float
    top5: float | None
    protocol: str
    params_m: float
    gmac: float
    latency_ms: float | None = None

    def value(self, axis: str) -> float | None:
        """This row's x value on ``axis`` (one of :data:`AXES`)."""
        check_choice(axis, "axis", AXES)
        return {"multiply-adds": self.gmac, "parameters": self.params_m,
                "latency": self.latency_ms}[axis]  # fmt: skip


def comparison_rows(
    table: Table,
    costs: Mapping[str, tuple[int | float, int | float]],
    latency_ms: Mapping[str, float] | None = None,
) -> tuple[ModelRow, ...]:
    """A :class:`ModelRow` per row of ``table`` (``cnnlab.published.comparing.IMAGENET``) whose
    model has ``costs[model] = (parameters, multiply-adds)``, in the table's order."""
    if not isinstance(table, Table):
        raise TypeError(f"table must be a cnnlab.published.Table, got {type(table).__name__}")
    latency_ms = {} if latency_ms is None else latency_ms
    for name, value in (("costs", costs), ("latency_ms", latency_ms)):
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict {{model: ...}}, got {type(value).__name__}")
    pairs = {}
    for model, pair in costs.items():
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"costs[{model!r}] must be (parameters, multiply-adds), got {pair!r}")
        pairs[model] = tuple(
            as_float(v, f"costs[{model!r}] {what}", minimum=0, exclusive=True)
            for v, what in zip(pair, ("parameters", "multiply-adds"), strict=True)
        )
    times = {m: as_float(v, f"latency_ms[{m!r}]", minimum=0, exclusive=True)
             for m, v in latency_ms.items()}  # fmt: skip
    rows = tuple(
        ModelRow(
            r["model"],
            r["label"],
            r["top1"],
            r["top5"],
            r["protocol"],
            pairs[r["model"]][0] / 1e6,
            pairs[r["model"]][1] / 1e9,
            times.get(r["model"]),
        )  # fmt: skip
        for r in table.records()
        if r["model"] in pairs
    )
    if not rows:
        raise ValueError(f"costs names none of the table's models ({table.name!r})")
    return rows


@dataclass(frozen=True)
class ComparisonState:
    """The selected row and the (model, x, top-1) points on ``axis``."""

    axis: str
    selected: ModelRow
    points: tuple[ModelRow, ...]

    def x(self, row: ModelRow) -> float:
        value = row.value(self.axis)
        assert value is not None  # points hold only rows with a value on the axis
        return value


def comparison_state(rows: Sequence[ModelRow], model: str, axis: str) -> ComparisonState:
    """The state for ``model`` on ``axis``; ValueError for an unknown model or axis, or a model
    without a value on that axis (no latency measured)."""
    if not isinstance(axis, str) or axis not in AXES:
        raise ValueError(f"unknown axis {axis!r}; axes: {', '.join(AXES)}")
    rows = _rows(rows)
    by_name = {r.model: r for r in rows}
    if model not in by_name:
        raise ValueError(f"unknown model {model!r}; models: {', '.join(by_name)}")
    points = tuple(r for r in rows if r.value(axis) is not None)
    if by_name[model].value(axis) is None:
        measured = ", ".join(r.model for r in points) or "none"
        raise ValueError(f"no {axis} measured for {model}; measured: {measured}")
    return ComparisonState(axis, by_name[model], points)


def _rows(rows: object) -> tuple[ModelRow, ...]:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be a list of ModelRow (comparison_rows), got {rows!r:.80}")
    rows = tuple(rows)
    for i, row in enumerate(rows):
        check_state(row, ModelRow, "comparison_rows", f"rows[{i}]")
    if not rows:
        raise ValueError("rows is empty: pass comparison_rows(...) of at least one model")
    return rows


def draw_comparison(state: ComparisonState) -> Figure:
    """Published top-1 error against the axis, every model, the selected one ringed."""
    check_state(state, ComparisonState, "comparison_state")
    fig = Figure(figsize=(6.0, 3.8), layout="constrained")
    ax = fig.subplots()
    p = state.points
    names, tops = [r.model for r in p], [r.top1 for r in p]
    xs, protos = [state.x(r) for r in p], [r.protocol for r in p]
    scatter_models(ax, names, xs, tops, protos, highlight=state.selected.model, labels=False)
    ax.set_xlabel(_UNITS[state.axis] + (" (this CPU, batch 1)" if state.axis == "latency" else ""))
    ax.set_ylabel("ImageNet top-1 error (%, published)")
    ax.legend(fontsize=7, title="test protocol", title_fontsize=7)
    ax.set_title(f"{state.selected.label}: {state.selected.top1} % top-1 error", fontsize=9)
    return fig


def row_html(row: ModelRow) -> str:
    """The selected model's table row as a one-row HTML table."""
    check_state(row, ModelRow, "comparison_rows", "row")
    cells = {
        "model": row.model,
        "top-1 / top-5 error": f"{row.top1} % / {'—' if row.top5 is None else f'{row.top5} %'}",
        "protocol": row.protocol,
        "parameters": f"{row.params_m:.2f} M",
        "multiply-adds": f"{row.gmac:.2f} G",
        "latency": "—" if row.latency_ms is None else f"{row.latency_ms:.0f} ms",
    }
    head = "".join(f"<th>{html_escape(k)}</th>" for k in cells)
    body = "".join(f"<td>{html_escape(v)}</td>" for v in cells.values())
    return f"<table><tr>{head}</tr><tr>{body}</tr></table>"


class ModelComparisonExplorer(Explorer[ComparisonState]):
    """The explorer widget; build it with :func:`model_comparison_explorer`.

    Controls: ``model`` (dropdown) and ``axis`` (dropdown of :data:`AXES`).
    """

    def __init__(self, rows: Sequence[ModelRow], model: str, axis: str):
        self._rows = tuple(rows)
        self.model = ChoiceDropdown(
            options=[(r.label, r.model) for r in self._rows], value=model, description="model"
        )
        self.axis = ChoiceDropdown(options=list(AXES), value=axis, description="x-axis")
        super().__init__({"model": self.model, "axis": self.axis},
                         [widgets.HBox([self.model, self.axis])])  # fmt: skip

    def compute(self, **values: Any) -> ComparisonState:
        return comparison_state(self._rows, values["model"], values["axis"])

    def draw(self, state: ComparisonState) -> Figure:
        return draw_comparison(state)

    def readout(self, state: ComparisonState) -> str:
        return row_html(state.selected)

    def describe(self, state: ComparisonState) -> str:
        return f"{state.selected.model} on {state.axis}, {len(state.points)} models"


def model_comparison_explorer(
    rows: Sequence[ModelRow] | None = None,
    model: str = "resnet50",
    axis: str = "multiply-adds",
) -> ModelComparisonExplorer:
    """Build the explorer; end a cell with it. ``rows`` default: the models of the stored
    ``latency`` band (quick profile), with their costs and median latencies from it."""
    if rows is None:
        from cnnlab.experiments import load_band
        from cnnlab.published.comparing import IMAGENET

        res = load_band("latency", "quick")["results"]
        costs = {m: (v["params"]["median"], v["mult_adds"]["median"]) for m, v in res.items()}
        rows = comparison_rows(
            IMAGENET, costs, {m: v["latency_ms"]["median"] for m, v in res.items()}
        )
    rows = _rows(rows)  # once: a generator would be empty the second time
    comparison_state(rows, model, axis)  # a clear error for a bad start, before any widget
    return ModelComparisonExplorer(rows, model, axis)
