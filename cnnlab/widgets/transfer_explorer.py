"""Transfer explorer: the stored Yosinski band, one transfer depth n and its numbers.

* :func:`transfer_state` — the state: for a split and a depth n, each chosen treatment's
  (median, min, max) test accuracy on B from the stored ``transfer`` band, baseB's, and how
  many parameters are copied from the base net and how many stay frozen at that n;
* :func:`transfer_explorer` — the ipywidgets container (no training: stored bands only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from cnnlab._validate import as_int
from cnnlab.widgets._base import ChoiceDropdown, Explorer, check_state

Band = tuple[float, float, float]


@dataclass(frozen=True)
class TransferState:
    """Depth ``n`` of ``split``: ``rows`` (treatment, (median, min, max)) at that n, ``base``:
    baseB's band, ``copied``/``frozen``: parameters copied from the base net and frozen in
    the non-+ treatments, ``total``: the net's parameters; ``band``: the band file drawn."""

    split: str
    n: int
    treatments: tuple[str, ...]
    rows: tuple[tuple[str, Band], ...]
    base: Band | None
    copied: int
    total: int
    band: Any = None


def _load(profile: str) -> Any:
    from cnnlab.experiments import load_band
    from cnnlab.experiments.bands import BandMissingError

    try:
        return load_band("transfer", profile)
    except BandMissingError:
        return None


def transfer_state(
    split: str = "similar",
    n: int = 2,
    treatments: Sequence[str] = ("BnB", "BnB+", "AnB", "AnB+"),
    *,
    profile: str = "quick",
    band: Any = None,
) -> TransferState:
    """The stored results at depth ``n`` (1..L) for ``treatments`` of ``split``.

    ``band``: a ``transfer`` band file (default: the stored one for ``profile``). Raises
    ``ValueError`` for an unknown split or treatment, n outside 1..L or no stored band.
    """
    from cnnlab.figures.transfer import yosinski_points
    from cnnlab.transfer import (
        DEPTH,
        SPLITS,
        TREATMENTS,
        layer_names,
        trainable_counts,
        yosinski_net,
    )

    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    n = as_int(n, "n", minimum=1)
    if n > DEPTH:
        raise ValueError(f"n must be in 1..{DEPTH} (the net has {DEPTH} conv layers), got {n}")
    if isinstance(treatments, str):  # one name, not its letters
        treatments = (treatments,)
    if not isinstance(treatments, Sequence):
        raise TypeError(
            f"treatments must be a list of names such as ('BnB', 'AnB'), got {treatments!r}"
        )
    chosen = tuple(treatments)
    unknown = [t for t in chosen if not isinstance(t, str) or t not in TREATMENTS]
    if unknown:
        raise ValueError(f"unknown treatment {unknown[0]!r}; treatments: {', '.join(TREATMENTS)}")
    if not chosen:
        raise ValueError("choose at least one treatment to show")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"treatments names one twice: {list(chosen)}")
    band = _load(profile) if band is None else band
    if band is None:
        raise ValueError(
            f"no stored 'transfer' band for profile {profile!r}: run "
            f"python -m cnnlab experiment run transfer --profile {profile}"
        )
    if not isinstance(band, Mapping) or not isinstance(band.get("results"), Mapping):
        raise TypeError("band must be a 'transfer' band file (see cnnlab.experiments.load_band)")
    points = yosinski_points(band, split)
    if not any(points.values()):  # another experiment's band: nothing to draw, say so
        raise ValueError(
            f"the band holds no transfer results (baseB, BnB1, ...) for split {split!r}"
        )
    rows = tuple((t, b) for t in chosen for m, b in points[t] if m == n)
    base = points["baseB"][0][1] if points["baseB"] else None
    counts = trainable_counts(yosinski_net(), layer_names(n))
    total = counts["trainable"] + counts["frozen"]
    return TransferState(split, n, chosen, rows, base, counts["frozen"], total, band)


def draw_transfer(state: TransferState) -> Figure:
    """The Yosinski plot of the state's split, depth ``n`` shaded."""
    check_state(state, TransferState, "transfer_state")
    from cnnlab.figures.transfer import plot_yosinski

    return plot_yosinski(state.band, state.split, treatments=state.treatments, highlight=state.n)


class TransferExplorer(Explorer[TransferState]):
    """The explorer widget; build it with :func:`transfer_explorer`.

    Controls: ``split`` (similar/dissimilar), ``n`` (transfer depth) and ``treatments``.
    """

    def __init__(self, state: TransferState, profile: str) -> None:
        from cnnlab.transfer import DEPTH, SPLITS, TREATMENTS

        self.profile = profile
        self.split = ChoiceDropdown(options=list(SPLITS), value=state.split, description="split")
        self.n = widgets.IntSlider(value=state.n, min=1, max=DEPTH, description="depth n")
        self.treatments = widgets.SelectMultiple(
            options=list(TREATMENTS), value=state.treatments, description="treatments", rows=4
        )
        controls = {"split": self.split, "n": self.n, "treatments": self.treatments}
        super().__init__(controls, [widgets.HBox([self.split, self.n]), self.treatments])

    def compute(self, **values: Any) -> TransferState:
        return transfer_state(**values, profile=self.profile)

    def draw(self, state: TransferState) -> Figure:
        return draw_transfer(state)

    def readout(self, state: TransferState) -> str:
        base = f"baseB {state.base[0]:.1%}" if state.base else "no baseB"
        cells = ", ".join(f"{t} {b[0]:.1%} ({b[1]:.1%}–{b[2]:.1%})" for t, b in state.rows)
        return (
            f"<b>n = {state.n}</b>: {cells or 'nothing stored'} &nbsp;·&nbsp; {base}<br>"
            f"{state.copied:,} of {state.total:,} parameters copied (frozen in BnB and AnB)"
        )

    def describe(self, state: TransferState) -> str:
        cells = ", ".join(f"{t}={b[0]:.3f}" for t, b in state.rows)
        return f"{state.split}, n={state.n}: {cells}"


def transfer_explorer(
    split: str = "similar",
    n: int = 2,
    treatments: Sequence[str] = ("BnB", "BnB+", "AnB", "AnB+"),
    *,
    profile: str = "quick",
) -> TransferExplorer:
    """Build the explorer (arguments as :func:`transfer_state`); end a cell with it."""
    return TransferExplorer(transfer_state(split, n, treatments, profile=profile), profile)
