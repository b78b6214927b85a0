"""Topic 15's figures: the Yosinski plot (accuracy against transfer depth n, one marker per
treatment, seed bands) and the regimes grid (similar/different × little/lots)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

# the paper's colours: selffer blue, transfer red; "+" (fine-tuned) lighter
STYLE: dict[str, dict[str, Any]] = {
    "BnB": {"color": "#1f4e9c", "marker": "o"},
    "BnB+": {"color": "#7fa7e0", "marker": "o"},
    "AnB": {"color": "#b2182b", "marker": "D"},
    "AnB+": {"color": "#f4a582", "marker": "D"},
}
Band = tuple[float, float, float]  # (median, min, max)


def _stat(results: Mapping[str, Any], config: str, metric: str) -> Band | None:
    entry = results.get(config)
    if entry is None:
        return None
    v = entry[metric]
    return (float(v["median"]), float(v["min"]), float(v["max"]))


def yosinski_points(
    band: Mapping[str, Any], split: str = "similar", metric: str = "test_accuracy"
) -> dict[str, list[tuple[int, Band]]]:
    """{"baseB": [(0, band)], "BnB": [(1, band), ...], ...} from a ``transfer`` band file;
    ``split``: "similar" (plain config names) or "dissimilar" (``dissimilar/`` prefix)."""
    from cnnlab.transfer import DEPTH, TREATMENTS

    prefix = "" if split == "similar" else f"{split}/"
    results = band["results"]
    out: dict[str, list[tuple[int, Band]]] = {}
    base = _stat(results, prefix + "baseB", metric)
    out["baseB"] = [] if base is None else [(0, base)]
    for t in TREATMENTS:
        out[t] = [
            (n, s)
            for n in range(1, DEPTH + 1)
            if (s := _stat(results, f"{prefix}{t}{n}", metric)) is not None
        ]
    return out


def plot_yosinski(
    band: Mapping[str, Any],
    split: str = "similar",
    *,
    treatments: Sequence[str] = ("BnB", "BnB+", "AnB", "AnB+"),
    highlight: int | None = None,
    fresh: Mapping[str, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Test accuracy on B against transfer depth n: baseB at n = 0, each treatment's median
    with its min–max over seeds (bars), the paper's layout; ``highlight`` shades one n;
    ``fresh``: {config: accuracy} of this notebook's run, drawn as black crosses."""
    if ax is None:
        fig = Figure(figsize=(6.4, 3.8), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    points = yosinski_points(band, split)
    shift = {t: 0.09 * (i - 1.5) for i, t in enumerate(STYLE)}
    for name in ("baseB", *treatments):
        rows = points.get(name, [])
        if not rows:
            continue
        xs = [n + shift.get(name, 0.0) for n, _ in rows]
        med = [m for _, (m, _, _) in rows]
        err = [[m - lo for _, (m, lo, _) in rows], [hi - m for _, (m, _, hi) in rows]]
        style = STYLE.get(name, {"color": "black", "marker": "s", "mfc": "white"})
        ax.errorbar(xs, med, yerr=err, ls="none", capsize=3, ms=7, label=name, **style)
    if fresh:
        prefix = "" if split == "similar" else f"{split}/"
        from cnnlab.transfer import parse_treatment

        for i, (config, value) in enumerate(fresh.items()):
            name = config.removeprefix(prefix)
            n = 0 if name.startswith("base") else parse_treatment(name).n
            ax.plot([n], [value], "kx", ms=9, mew=2, label="this run" if i == 0 else None)
    if highlight is not None:
        ax.axvspan(highlight - 0.4, highlight + 0.4, color="0.9", zorder=0)
    ax.set_xlabel("layer n at which the network is chopped and retrained")
    ax.set_ylabel("test accuracy on B")
    ax.set_xticks(range(0, 1 + max((n for r in points.values() for n, _ in r), default=0)))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
    seeds = len(band.get("seeds", []))
    ax.set_title(f"{split} split: median and min–max of {seeds} seeds", fontsize=10)
    return fig


def plot_regimes(band: Mapping[str, Any], metric: str = "test_accuracy") -> Figure:
    """The seed's 2×2 table as an experiment: one panel per (dataset, amount of data), a bar per
    method (frozen features, fine-tuning, from scratch) with its min–max over seeds."""
    from cnnlab.published import get_table
    from cnnlab.transfer import REGIME_DATA, REGIME_METHODS, REGIME_SPLITS

    # the notes' rows: very little data, then quite a lot of data
    advice = dict(zip(REGIME_DATA, get_table("transfer", "advice").records(), strict=True))
    fig = Figure(figsize=(8.0, 5.6), layout="constrained")
    axes = fig.subplots(2, 2, sharey=True)
    results = band["results"]
    for i, amount in enumerate(REGIME_DATA):
        for j, dataset in enumerate(REGIME_SPLITS):
            ax = axes[i][j]
            for k, method in enumerate(REGIME_METHODS):
                s = _stat(results, f"regime/{dataset}-{amount}-{method}", metric)
                if s is None:
                    continue
                ax.bar(k, s[0], color=f"C{k}", yerr=[[s[0] - s[1]], [s[2] - s[0]]], capsize=4)
                ax.text(k, 0.03, f"{s[0]:.2f}", ha="center", color="white", fontsize=9)
            ax.set_xticks(range(len(REGIME_METHODS)), REGIME_METHODS)
            column = "very similar dataset" if dataset == "similar" else "very different dataset"
            ax.set_title(f"{dataset}, {amount} data\nnotes: {advice[amount][column]}", fontsize=8)
            ax.set_ylim(0, 1)
            ax.grid(axis="y", alpha=0.3)
        axes[i][0].set_ylabel("test accuracy on B")
    return fig


def plot_halves(data: Any, split: str, per_class: int = 3) -> Figure:
    """``per_class`` example images of each class of half A (top) and half B (bottom) of
    ``split``; ``data``: a ``shapes`` Dataset (images (N, 3, H, W) in [0, 1])."""
    from cnnlab.transfer import SPLITS

    halves = SPLITS[split]
    cols = len(halves[0]) * per_class
    fig = Figure(figsize=(cols * 0.55, 1.8), layout="constrained")
    axes = fig.subplots(2, cols)
    for row, classes in enumerate(halves):
        for i, name in enumerate(classes):
            hits = (data.labels == data.classes.index(name)).nonzero().flatten()[:per_class]
            for j, idx in enumerate(hits.tolist()):
                ax = axes[row][i * per_class + j]
                ax.imshow(data.images[idx].permute(1, 2, 0).clamp(0, 1).numpy())
                if j == 0:
                    ax.set_title(name, fontsize=7, loc="left")
        axes[row][0].set_ylabel("AB"[row], rotation=0, labelpad=10)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{split} split: half A (top), half B (bottom)", fontsize=9)
    return fig
