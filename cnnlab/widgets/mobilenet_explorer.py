"""MobileNet explorer: the width multiplier α and the resolution multiplier ρ against cost,
latency and accuracy.

* :func:`median_ms` — the median wall time of a call, in milliseconds (latency on this machine);
* :func:`mobilenet_state` — the state: parameters and multiply-adds of MobileNet v1 at width α
  and input side 224ρ (``cnnlab.cost.summary`` on the meta device: no memory, no time), the
  paper's row for that setting if it has one (Tables 6 and 7), the course band's accuracy at the
  nearest stored α, and (``latency_repeats > 0``) the measured CPU latency of one image;
* :func:`draw_mobilenet` — the paper's accuracy against multiply-adds with this setting marked,
  and the course band's accuracy against α;
* :func:`mobilenet_explorer` — the ipywidgets container.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from cnnlab._validate import as_int
from cnnlab.widgets._base import Explorer

MIN_RESOLUTION = 32  # five stride-2 layers: 32 pixels become one


def median_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """The median over ``repeats`` calls of ``fn()`` of its wall time, in milliseconds."""
    repeats = as_int(repeats, "repeats", minimum=1)
    for _ in range(as_int(warmup, "warmup", minimum=0)):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


@dataclass(frozen=True)
class MobileNetState:
    """MobileNet v1 at width ``alpha`` on ``resolution``² inputs; ``paper``: the paper's
    (accuracy %, mult-adds M, parameters M) for this setting, if listed; ``band_alpha`` /
    ``band_acc``: the stored course band (α -> (median, min, max) validation accuracy);
    ``latency_ms``: measured on this machine (None when not measured)."""

    alpha: float
    resolution: int
    params: int
    mult_adds: int
    paper: tuple[float, float, float] | None
    band_acc: tuple[tuple[float, tuple[float, float, float]], ...]
    latency_ms: float | None = None

    @property
    def nearest_band(self) -> tuple[float, tuple[float, float, float]] | None:
        """The stored α closest to ``alpha`` and its (median, min, max) accuracy."""
        if not self.band_acc:
            return None
        return min(self.band_acc, key=lambda item: abs(item[0] - self.alpha))


def _paper_row(alpha: float, resolution: int) -> tuple[float, float, float] | None:
    from cnnlab.published import get_table

    if resolution == 224:
        rows = get_table("mobilenet", "width").where(alpha=alpha)
    elif alpha == 1.0:
        rows = get_table("mobilenet", "resolution").where(resolution=resolution)
    else:
        rows = []
    if not rows:
        return None
    r = rows[0]
    return (r["accuracy"], r["mult-adds"], r["parameters"])


def _band(profile: str) -> tuple[tuple[float, tuple[float, float, float]], ...]:
    from cnnlab.experiments import load_band
    from cnnlab.experiments.bands import BandMissingError
    from cnnlab.experiments.mobilenet import alpha_of

    try:
        band = load_band("mobilenet", profile)
    except BandMissingError:
        return ()
    out = []
    for config, metrics in band["results"].items():
        v = metrics["val_acc"]
        out.append((alpha_of(config), (v["median"], v["min"], v["max"])))
    return tuple(sorted(out))


def mobilenet_state(
    alpha: float = 1.0, resolution: int = 224, *, profile: str = "quick", latency_repeats: int = 0
) -> MobileNetState:
    """The cost of MobileNet v1 (1000 classes) at width ``alpha`` on ``resolution``² inputs,
    the paper's row and the ``profile``'s course band; the latency of one image, measured over
    ``latency_repeats`` runs (0: not measured). Raises ``ValueError`` for α outside (0, 2] or a
    resolution below 32."""
    from cnnlab.cost import summary
    from cnnlab.models import create_model

    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 2:
        raise ValueError(f"alpha must be a number in (0, 2], got {alpha!r}")
    side = as_int(resolution, "resolution", minimum=1)
    if side < MIN_RESOLUTION:
        raise ValueError(
            f"resolution {side} is too small: MobileNet halves the map five times, so it needs "
            f"at least {MIN_RESOLUTION} pixels"
        )
    alpha = round(float(alpha), 4)
    with torch.device("meta"):
        meta = create_model("mobilenet_v1", alpha=alpha)
    s = summary(meta, (3, side, side))
    latency = None
    if as_int(latency_repeats, "latency_repeats", minimum=0):
        model = create_model("mobilenet_v1", alpha=alpha).eval()
        x = torch.zeros(1, 3, side, side)
        with torch.no_grad():
            latency = median_ms(lambda: model(x), latency_repeats)
    return MobileNetState(
        alpha, side, s.totals.params, s.totals.mult_adds, _paper_row(alpha, side),
        _band(profile), latency,
    )  # fmt: skip


def draw_mobilenet(state: MobileNetState) -> Figure:
    """Left: the paper's ImageNet accuracy against multiply-adds (Tables 6 and 7), this
    setting's multiply-adds as a line. Right: the course band's accuracy against α."""
    from cnnlab.published import get_table

    fig = plt.figure(figsize=(9.0, 3.4))
    plt.close(fig)  # drawing and saving still work; pyplot will not show it a second time
    left, right = fig.subplots(1, 2)
    for name, key, marker in (("width", "alpha", "o"), ("resolution", "resolution", "s")):
        table = get_table("mobilenet", name)
        left.plot(table.column("mult-adds"), table.column("accuracy"), marker, ls="-",
                  label=f"paper, varying {key} ({table.source.split(', ')[-1]})")  # fmt: skip
    left.axvline(state.mult_adds / 1e6, color="C3", ls="--", label="this setting")
    left.set_xscale("log")
    left.set_xlabel("multiply-adds (M)")
    left.set_ylabel("ImageNet top-1 (%)")
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    left.set_title(
        f"α = {state.alpha:g}, {state.resolution}×{state.resolution}: "
        f"{state.mult_adds / 1e6:.0f} M mult-adds, {state.params / 1e6:.2f} M params",
        fontsize=9,
    )
    if state.band_acc:
        alphas = [a for a, _ in state.band_acc]
        med = [100 * m for _, (m, _, _) in state.band_acc]
        err = [[100 * (m - lo) for _, (m, lo, _) in state.band_acc],
               [100 * (hi - m) for _, (m, _, hi) in state.band_acc]]  # fmt: skip
        right.errorbar(alphas, med, yerr=err, fmt="o-", capsize=3, label="course band")
        near = state.nearest_band
        if near is not None:
            right.plot([near[0]], [100 * near[1][0]], "o", ms=12, mfc="none", color="C3")
        right.set_xlabel("width multiplier α")
        right.set_ylabel("validation accuracy (%)")
        right.grid(alpha=0.3)
        right.set_title("course MobileNet on shapes (median, min–max)", fontsize=9)
    else:
        right.axis("off")
        right.text(0.5, 0.5, "no stored band for this profile", ha="center", va="center")
    if state.latency_ms is not None:
        fig.suptitle(f"measured here: {state.latency_ms:.0f} ms per image (CPU)", fontsize=9)
    fig.tight_layout()
    return fig


class MobileNetExplorer(Explorer[MobileNetState]):
    """The explorer widget; build it with :func:`mobilenet_explorer`.

    Controls: ``alpha`` (width multiplier) and ``resolution`` (input side, 224ρ); ``state`` is
    the :class:`MobileNetState` of the last valid settings, with the latency measured live.
    """

    def __init__(self, state: MobileNetState, profile: str, latency_repeats: int):
        self.profile, self.latency_repeats = profile, latency_repeats
        self.alpha = widgets.FloatSlider(value=state.alpha, min=0.25, max=1.0, step=0.25,
                                         description="width α")  # fmt: skip
        self.resolution = widgets.IntSlider(value=state.resolution, min=16, max=224, step=16,
                                            description="side 224ρ")  # fmt: skip
        controls = {"alpha": self.alpha, "resolution": self.resolution}
        super().__init__(controls, [widgets.HBox([self.alpha, self.resolution])])

    def compute(self, **values: Any) -> MobileNetState:
        return mobilenet_state(**values, profile=self.profile, latency_repeats=self.latency_repeats)

    def draw(self, state: MobileNetState) -> Figure:
        return draw_mobilenet(state)

    def readout(self, state: MobileNetState) -> str:
        paper = (
            f" (paper: {state.paper[2]} M, {state.paper[1]:.0f} M, {state.paper[0]} % top-1)"
            if state.paper
            else ""
        )
        near = state.nearest_band
        course = (
            f" &nbsp;·&nbsp; course band at α = {near[0]:g}: {near[1][0]:.0%} validation accuracy"
            if near
            else ""
        )
        latency = f", {state.latency_ms:.0f} ms per image here" if state.latency_ms else ""
        return (
            f"<b>{state.params:,} parameters</b>, {state.mult_adds / 1e6:.1f} M multiply-adds"
            f"{latency}{paper}{course}"
        )

    def describe(self, state: MobileNetState) -> str:
        # no latency here: the repr is compared by nbval, a measured time is not reproducible
        return (
            f"α={state.alpha:g}, {state.resolution}×{state.resolution}: "
            f"{state.params:,} parameters, {state.mult_adds / 1e6:.1f} M multiply-adds"
        )


def mobilenet_explorer(
    alpha: float = 1.0, resolution: int = 224, *, profile: str = "quick", latency_repeats: int = 3
) -> MobileNetExplorer:
    """Build the explorer (arguments as :func:`mobilenet_state`); end a cell with it."""
    state = mobilenet_state(alpha, resolution, profile=profile)
    return MobileNetExplorer(state, profile, latency_repeats)
