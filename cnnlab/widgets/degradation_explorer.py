"""Degradation explorer: plain against residual training curves of one depth, from stored bands.

* :func:`degradation_state` — pure state: for a depth, the stored per-epoch training-error band
  (median, min, max over seeds) of ``plain<depth>`` and ``resnet<depth>``, and of the shallowest
  plain net as the reference; no training happens here;
* :func:`draw_degradation` — a static figure of those bands;
* :func:`degradation_explorer` — the ipywidgets container (a depth slider).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cnnlab._validate import as_int
from cnnlab.widgets._base import Explorer, check_state

METRIC = "train_error_curve"


@dataclass(frozen=True)
class Curve:
    """One config's per-epoch band: ``median``, ``low`` (min) and ``high`` (max) over seeds."""

    config: str
    median: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    final: float  # median of the final train_error (eval mode, whole training set)
    seeds: int


@dataclass(frozen=True)
class DegradationState:
    """The bands the explorer draws for one depth."""

    depth: int
    depths: tuple[int, ...]  # depths with both a plain and a residual band
    plain: Curve
    resnet: Curve
    reference: Curve  # the shallowest plain net
    profile: str


def band_depths(band: Mapping[str, Any]) -> tuple[int, ...]:
    """Depths d for which ``band`` holds both ``plain<d>`` and ``resnet<d>``, ascending."""
    results = band.get("results") if isinstance(band, Mapping) else None
    if not isinstance(results, Mapping):
        raise TypeError("band must be a band file (see cnnlab.experiments.load_band)")
    depths = []
    for name in results:
        if not isinstance(name, str):
            raise TypeError(f"band's config names must be strings, got {name!r}")
        if name.startswith("plain") and name[5:].isdigit() and f"resnet{name[5:]}" in results:
            depths.append(int(name[5:]))
    return tuple(sorted(depths))


def _curve(band: Mapping[str, Any], config: str) -> Curve:
    entry = band["results"][config]
    for metric in (METRIC, "train_error"):
        if metric not in entry:
            raise ValueError(f"the band has no {metric!r} for {config}: not a degradation band")
    curve = entry[METRIC]
    return Curve(
        config,
        tuple(curve["median"]),
        tuple(curve["min"]),
        tuple(curve["max"]),
        float(entry["train_error"]["median"]),
        len(curve["values"]),
    )


def degradation_state(band: Mapping[str, Any], depth: int) -> DegradationState:
    """The stored training-error bands of ``plain<depth>`` and ``resnet<depth>``.

    ``band``: the ``degradation`` band file (``load_band("degradation", profile)``). Raises
    ``ValueError`` naming the stored depths when ``depth`` has no band.
    """
    depths = band_depths(band)
    if not depths:
        raise ValueError("the band holds no plain<d>/resnet<d> pair")
    d = as_int(depth, "depth", minimum=1)
    if d not in depths:
        raise ValueError(
            f"no stored band for depth {d}; stored depths: {', '.join(map(str, depths))}"
        )
    return DegradationState(
        d,
        depths,
        _curve(band, f"plain{d}"),
        _curve(band, f"resnet{d}"),
        _curve(band, f"plain{depths[0]}"),
        str(band.get("profile", "?")),
    )


def draw_degradation(state: DegradationState) -> Figure:
    """Training error per epoch: the plain and residual bands of ``state.depth``, and the
    shallowest plain net's median as a dotted reference."""
    check_state(state, DegradationState, "degradation_state")
    fig = plt.figure(figsize=(6.4, 3.4))
    plt.close(fig)  # drawing and saving still work; pyplot will not show it a second time
    ax = fig.subplots()
    for curve, colour, label in (
        (state.plain, "C3", f"plain-{state.depth}"),
        (state.resnet, "C0", f"ResNet-{state.depth}"),
    ):
        epochs = range(1, len(curve.median) + 1)
        ax.fill_between(epochs, curve.low, curve.high, color=colour, alpha=0.25, lw=0)
        ax.plot(epochs, curve.median, color=colour, label=f"{label} (final {curve.final:.1%})")
    if state.reference.config != state.plain.config:
        ref = state.reference
        ax.plot(range(1, len(ref.median) + 1), ref.median, ":", color="0.3",
                label=f"{ref.config} (median)")  # fmt: skip
    ax.set_xlabel("epoch")
    ax.set_ylabel("training error")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(
        f"depth {state.depth}: median and min–max of {state.plain.seeds} seeds "
        f"({state.profile} profile)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


class DegradationExplorer(Explorer[DegradationState]):
    """The explorer widget; build it with :func:`degradation_explorer`.

    Control: ``depth`` (6n + 2); ``state`` is the :class:`DegradationState` of the last depth
    with a stored band.
    """

    def __init__(self, band: Mapping[str, Any], depth: int):
        depths = band_depths(band)
        if not depths:
            raise ValueError("the band holds no plain<d>/resnet<d> pair")
        # a clear error for a bad start: the slider would silently clamp 200 to 44, "20" to 20
        depth = degradation_state(band, depth).depth
        self._band = band
        # step over the stored depths (8, 20, 32, 44), not 6n + 2: every notch has a band
        gap = min((b - a for a, b in zip(depths[:-1], depths[1:], strict=True)), default=6)
        self.depth = widgets.IntSlider(
            value=depth, min=depths[0], max=depths[-1], step=gap, description="depth"
        )
        super().__init__({"depth": self.depth}, [self.depth])

    def compute(self, **values: Any) -> DegradationState:
        return degradation_state(self._band, **values)

    def draw(self, state: DegradationState) -> Figure:
        return draw_degradation(state)

    def readout(self, state: DegradationState) -> str:
        gap = state.plain.final - state.resnet.final
        return (
            f"final training error (median): plain-{state.depth} <b>{state.plain.final:.1%}</b>, "
            f"ResNet-{state.depth} <b>{state.resnet.final:.1%}</b> ({gap:+.1%} for plain)"
        )

    def describe(self, state: DegradationState) -> str:
        return (
            f"depth={state.depth}: plain {state.plain.final:.3f}, "
            f"resnet {state.resnet.final:.3f} final training error"
        )


def degradation_explorer(depth: int = 32, profile: str = "quick") -> DegradationExplorer:
    """Build the explorer over the stored ``degradation`` band of ``profile``; end a cell with it.

    Raises ``BandMissingError`` when no band is stored for ``profile``.
    """
    from cnnlab.experiments import load_band

    return DegradationExplorer(load_band("degradation", profile), depth)
