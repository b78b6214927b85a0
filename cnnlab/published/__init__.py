"""Published results as data: the tables of the papers and lecture notes the course cites.

One module per topic (``cnnlab.published.<slug>``) holds its tables as :class:`Table` objects,
each with its source; notebooks load and plot them rather than typing numbers into prose.
``get_table("alexnet", "ilsvrc2012")`` finds one; ``list_tables()`` lists them.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    """A published table: ``columns`` names, ``rows`` of values, the ``source`` it comes from.

    ``units`` maps a column to its unit ("%", "M"); ``note`` says how the numbers were read
    (e.g. "top-5 error, single model, validation set").
    """

    name: str
    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    units: tuple[tuple[str, str], ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        bad = [r for r in self.rows if len(r) != len(self.columns)]
        if bad:
            raise ValueError(f"table {self.name!r}: rows {bad[:2]} do not have {self.columns}")

    def column(self, name: str) -> list[Any]:
        """The values of one column, in row order."""
        if name not in self.columns:
            raise ValueError(f"table {self.name!r} has no column {name!r}: {self.columns}")
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts (column -> value)."""
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def where(self, **match: Any) -> list[dict[str, Any]]:
        """The rows whose columns equal ``match``, as dicts."""
        return [r for r in self.records() if all(r.get(k) == v for k, v in match.items())]

    def _repr_html_(self) -> str:
        unit = dict(self.units)
        head = "".join(f"<th>{c}{f' ({unit[c]})' if c in unit else ''}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{'' if v is None else v}</td>" for v in r) + "</tr>"
            for r in self.rows
        )
        caption = f"{self.name}: {self.source}" + (f" — {self.note}" if self.note else "")
        return f"<table><caption>{caption}</caption><tr>{head}</tr>{body}</table>"

    def __str__(self) -> str:
        cells = [list(map(str, self.columns))] + [
            ["—" if v is None else str(v) for v in r] for r in self.rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        return "\n".join([f"{self.name} ({self.source})", *lines])


def _module(topic: str) -> Any:
    try:
        return importlib.import_module(f"cnnlab.published.{topic}")
    except ModuleNotFoundError:
        raise ValueError(f"no published tables for topic {topic!r}") from None


def list_tables(topics: Sequence[str] | None = None) -> list[str]:
    """``topic/table`` names of every published table (of the built topics, or of ``topics``)."""
    if topics is None:
        from cnnlab.course.manifest import topics as course_topics

        topics = [t.slug for t in course_topics()]
    names = []
    for topic in topics:
        try:
            module = _module(topic)
        except ValueError:
            continue
        names += [f"{topic}/{t.name}" for t in vars(module).values() if isinstance(t, Table)]
    return names


def get_table(topic: str, name: str) -> Table:
    """The table ``name`` of topic ``topic`` (its slug); a clear error naming the others."""
    tables = {t.name: t for t in vars(_module(topic)).values() if isinstance(t, Table)}
    if name not in tables:
        raise ValueError(f"topic {topic!r} has no table {name!r}; tables: {sorted(tables)}")
    return tables[name]
