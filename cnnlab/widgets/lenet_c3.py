"""C3 connection-table explorer: which S2 maps feed which C3 map, and what it costs.

* :func:`parse_table` — a table from text (``"012 123 ..."``: one group of input maps per
  output map) or from a sequence of sequences;
* :func:`c3_state` — pure state: parameters against full connection, the paper's connections,
  multiply-adds, the maps the selected output map reads, maps sharing an input set;
* :func:`draw_c3_table` — a static figure: the input × output connection matrix;
* :func:`c3_explorer` — the ipywidgets container (preset, editable table, selected map).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlab._validate import as_int
from cnnlab.models.lenet import C3_TABLE, partial_conv_params
from cnnlab.widgets._base import ChoiceDropdown, Explorer, int_slider
from cnnlab.widgets._grid import HIGHLIGHT, SECONDARY, html_escape, new_axes

#: preset tables for 6 input maps and 16 output maps
PRESETS: dict[str, tuple[tuple[int, ...], ...]] = {
    "LeNet-5 (Table I)": C3_TABLE,
    "full connection": tuple(tuple(range(6)) for _ in range(16)),
    "three neighbours each": tuple(tuple(sorted((j + d) % 6 for d in range(3))) for j in range(16)),
    "one map each": tuple((j % 6,) for j in range(16)),
}
MAX_OUTPUTS = 64


def format_table(table: Sequence[Sequence[int]]) -> str:
    """``"012 123 ..."``: the text form of a table (input maps 0-9 as digits)."""
    return " ".join("".join(str(c) for c in row) for row in table)


def parse_table(table: object, in_channels: int = 6) -> tuple[tuple[int, ...], ...]:
    """A connection table: ``table[j]`` the input maps (0..in_channels-1) of output map ``j``.

    Text is groups of digits separated by spaces or commas (``"012 123"``: map 0 reads inputs
    0, 1, 2; map 1 reads 1, 2, 3). Raises ``ValueError`` naming the bad group.
    """
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    if isinstance(table, str):
        if in_channels > 10:
            raise ValueError("the text form writes input maps as digits: at most 10 input maps")
        groups = [g for g in re.split(r"[\s,;]+", table.strip()) if g]
        rows = []
        for j, group in enumerate(groups):
            if not group.isdigit():
                raise ValueError(f"map {j}: {group!r} is not a group of digits (input maps)")
            rows.append(tuple(int(c) for c in group))
    elif isinstance(table, Sequence):
        rows = [tuple(as_int(c, "input map") for c in row) for row in table]
    else:
        raise TypeError(
            f"table must be text or a sequence of sequences, got {type(table).__name__}"
        )
    if not rows:
        raise ValueError("the table is empty: give at least one output map")
    if len(rows) > MAX_OUTPUTS:
        raise ValueError(f"at most {MAX_OUTPUTS} output maps, got {len(rows)}")
    for j, row in enumerate(rows):
        if not row:
            raise ValueError(f"map {j} reads no input map")
        if len(set(row)) != len(row):
            raise ValueError(f"map {j} lists an input map twice: {format_table([row])}")
        bad = [c for c in row if not 0 <= c < in_channels]
        if bad:
            raise ValueError(f"map {j} reads input map {bad[0]}; inputs are 0..{in_channels - 1}")
    return tuple(tuple(sorted(row)) for row in rows)


@dataclass(frozen=True)
class C3State:
    """A partially connected k×k convolution from ``in_channels`` maps to ``len(table)`` maps.

    ``params`` (kernels of the connections + one bias per map) against ``full_params`` (every
    output map reads every input map); ``connections`` as the paper counts them (output
    positions × params) and ``mult_adds`` (output positions × connected kernel weights) for an
    ``output_size``×``output_size`` map; ``selected`` output map and ``same_inputs``: groups of
    output maps that read the same input maps.
    """

    table: tuple[tuple[int, ...], ...]
    in_channels: int
    kernel_size: int
    output_size: int
    selected: int
    params: int
    full_params: int
    connections: int
    mult_adds: int
    same_inputs: tuple[tuple[int, ...], ...]

    @property
    def saving(self) -> float:
        """The fraction of the full connection's parameters the table saves."""
        return 1 - self.params / self.full_params

    @property
    def matrix(self) -> np.ndarray:
        """(in_channels, out maps) booleans: input i feeds output map j."""
        m = np.zeros((self.in_channels, len(self.table)), dtype=bool)
        for j, row in enumerate(self.table):
            m[list(row), j] = True
        return m


def c3_state(
    table: object = C3_TABLE,
    in_channels: int = 6,
    kernel_size: int = 5,
    output_size: int = 10,
    selected: int = 0,
) -> C3State:
    """The costs of ``table`` (see :func:`parse_table`); LeNet-5's C3 by default (1,516 params)."""
    rows = parse_table(table, in_channels)
    k = as_int(kernel_size, "kernel_size", minimum=1)
    size = as_int(output_size, "output_size", minimum=1)
    selected = as_int(selected, "selected", minimum=0)
    if selected >= len(rows):
        raise ValueError(f"selected map {selected} does not exist: maps are 0..{len(rows) - 1}")
    params = partial_conv_params(rows, k)
    groups: dict[tuple[int, ...], list[int]] = {}
    for j, row in enumerate(rows):
        groups.setdefault(row, []).append(j)
    same = tuple(tuple(js) for js in groups.values() if len(js) > 1)
    return C3State(
        table=rows,
        in_channels=in_channels,
        kernel_size=k,
        output_size=size,
        selected=selected,
        params=params,
        full_params=len(rows) * (in_channels * k * k + 1),
        connections=size * size * params,
        mult_adds=size * size * sum(len(r) for r in rows) * k * k,
        same_inputs=same,
    )


def draw_c3_table(state: C3State, ax: Axes | None = None) -> Figure:
    """The connection matrix: rows the input maps, columns the output maps, a filled cell a
    connection; the selected output map's column is outlined."""
    n_out = len(state.table)
    fig, (ax,) = new_axes(
        1, None if ax is None else [ax], width=max(4.0, 0.32 * n_out + 1.2), height=2.6
    )
    ax.imshow(state.matrix, cmap="Blues", vmin=-0.3, vmax=1.2, aspect="equal")
    ax.set_xticks(range(n_out), [str(j) for j in range(n_out)], fontsize=7)
    ax.set_yticks(range(state.in_channels), [str(i) for i in range(state.in_channels)], fontsize=7)
    ax.set_xticks(np.arange(-0.5, n_out), minor=True)
    ax.set_yticks(np.arange(-0.5, state.in_channels), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("output map (C3)", fontsize=8)
    ax.set_ylabel("input map (S2)", fontsize=8)
    j = state.selected
    ax.add_patch(_box(j - 0.5, -0.5, 1, state.in_channels, HIGHLIGHT))
    for i in state.table[j]:
        ax.plot(j, i, "o", color=SECONDARY, ms=4)
    ax.set_title(
        f"{sum(len(r) for r in state.table)} connections: {state.params:,} parameters "
        f"(full: {state.full_params:,}, saves {state.saving:.0%})",
        fontsize=9,
    )
    return fig


def _box(x: float, y: float, w: float, h: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, fill=False, edgecolor=colour, linewidth=2.5)


class C3Explorer(Explorer[C3State]):
    """The explorer widget; build it with :func:`c3_explorer`.

    Controls: ``preset`` (fills ``table``), ``table`` (editable text), ``selected`` (an output
    map); ``state`` is the :class:`C3State` of the last valid table.
    """

    def __init__(self, table: str, selected: int, in_channels: int, kernel_size: int) -> None:
        self.in_channels, self.kernel_size = in_channels, kernel_size
        names = [n for n, t in PRESETS.items() if format_table(t) == table]
        self.preset = ChoiceDropdown(
            options=[*PRESETS, "custom"],
            value=names[0] if names else "custom",
            description="preset",
        )
        self.table = widgets.Text(value=table, description="table", continuous_update=False)
        self.table.layout.width = "95%"
        self.selected = int_slider(selected, 0, 15, "C3 map")
        super().__init__(
            {"table": self.table, "selected": self.selected},
            [self.preset, self.table, self.selected],
            linked=[self.preset],
        )

    def on_change(self, control: widgets.ValueWidget) -> None:
        if control is self.preset and self.preset.value in PRESETS:
            self.table.value = format_table(PRESETS[self.preset.value])
        elif control is self.table:
            names = [n for n, t in PRESETS.items() if format_table(t) == self.table.value.strip()]
            self.preset.value = names[0] if names else "custom"

    def compute(self, **values: Any) -> C3State:
        n_maps = len(parse_table(values["table"], self.in_channels))
        selected = min(values["selected"], n_maps - 1)  # a shorter table: the last map
        return c3_state(values["table"], self.in_channels, self.kernel_size, 10, selected)

    def sync(self, state: C3State) -> None:
        self.selected.max = len(state.table) - 1
        self.selected.value = state.selected

    def draw(self, state: C3State) -> Figure:
        return draw_c3_table(state)

    def readout(self, state: C3State) -> str:
        j = state.selected
        inputs = ", ".join(str(i) for i in state.table[j])
        return (
            f"C3 map {j} reads S2 maps <b>{inputs}</b>: {len(state.table[j])} × "
            f"{state.kernel_size}×{state.kernel_size} weights + 1 bias = "
            f"{len(state.table[j]) * state.kernel_size**2 + 1} parameters &nbsp;·&nbsp; "
            f"layer: <b>{state.params:,}</b> parameters, full connection {state.full_params:,}; "
            f"{state.connections:,} connections, {state.mult_adds:,} multiply-adds"
        )

    def note(self, state: C3State) -> str:
        if not state.same_inputs:
            return ""
        groups = "; ".join(", ".join(map(str, g)) for g in state.same_inputs[:4])
        return html_escape(
            f"maps reading the same inputs ({groups}): only their random initial weights tell "
            "them apart"
        )

    def describe(self, state: C3State) -> str:
        return (
            f"{len(state.table)} maps, {sum(len(r) for r in state.table)} connections, "
            f"{state.params:,} parameters (full {state.full_params:,}), map {state.selected}"
        )


def c3_explorer(
    table: object = C3_TABLE, selected: int = 0, in_channels: int = 6, kernel_size: int = 5
) -> C3Explorer:
    """Build the C3 connection-table explorer (LeNet-5's Table I by default).

    Returns the container: end a notebook cell with it.
    """
    state = c3_state(table, in_channels, kernel_size, 10, selected)  # reject bad input first
    return C3Explorer(format_table(state.table), state.selected, in_channels, kernel_size)


__all__ = [
    "PRESETS",
    "C3Explorer",
    "C3State",
    "c3_explorer",
    "c3_state",
    "draw_c3_table",
    "format_table",
    "parse_table",
]
