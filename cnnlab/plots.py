"""Static figures for the course: filters, feature maps, image grids, training curves.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot (so a figure returned
by a notebook cell is shown exactly once and nothing accumulates in pyplot's global state).
Pass ``fig=`` (a Figure or a SubFigure) to draw into an existing one instead. The numbers come
from :mod:`cnnlab.viz` and :mod:`cnnlab.train`; this module only draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from cnnlab._validate import as_float, as_int, check_choice

FigureLike = Figure | SubFigure


_TITLE_IN = 0.22  # inches above an axes for its title
_SUPTITLE_IN = 0.32  # inches at the top for a figure title


def _check_fig(fig: object) -> None:
    if fig is not None and not isinstance(fig, (Figure, SubFigure)):
        raise TypeError(f"fig must be a matplotlib Figure or SubFigure, got {type(fig).__name__}")


def _grid(
    fig: FigureLike | None,
    rows: int,
    cols: int,
    cell: float,
    *,
    titled: bool,
    suptitle: bool,
) -> tuple[FigureLike, np.ndarray]:
    """A rows×cols grid of square axes (``cell`` inches in a new figure) with room for titles.

    Into a given ``fig`` (e.g. a SubFigure) the cells are sized to fit it. No constrained
    layout: with tens of image axes it costs seconds per figure, and a grid of equal cells
    needs none. Returns the figure and the axes as a flat array.
    """
    _check_fig(fig)
    title_in = _TITLE_IN if titled else 0.04
    top_in = _SUPTITLE_IN if suptitle else 0.04
    if fig is None:
        fig = Figure(
            figsize=(max(cols * cell * 1.1 / 0.96, 2.2), rows * (cell + title_in) + top_in)
        )
    dpi = fig.figure.dpi
    width, height = fig.bbox.width / dpi, fig.bbox.height / dpi  # a SubFigure's own share
    left, right = 0.02, 0.98
    cell = max(min(width * (right - left) / (cols * 1.1), (height - top_in) / rows - title_in), 0.1)
    top = 1 - top_in / height
    bottom = max(top - rows * (cell + title_in) / height, 0.0)
    axes = fig.subplots(
        rows,
        cols,
        squeeze=False,
        gridspec_kw={
            "left": left,
            "right": right,
            "bottom": bottom,
            "top": top - title_in / height,
            "wspace": 0.1,
            "hspace": title_in / cell,
        },
    )
    return fig, np.asarray(axes).ravel()


def _root(fig: FigureLike) -> Figure:
    return fig.figure  # a Figure is its own root; a SubFigure's is the figure holding it


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _grid_shape(n: int, ncols: int) -> tuple[int, int]:
    cols = max(1, min(ncols, n))
    return math.ceil(n / cols), cols


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


# -- filters -------------------------------------------------------------------------------
def _filter_stack(weight: object) -> torch.Tensor:
    """Weights as (C_out, C_in, kh, kw): a 2-D kernel or 3-D stack of kernels gets C_in = 1."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    if weight.dim() == 2:
        return weight[None, None]
    if weight.dim() == 3:
        return weight[:, None]
    if weight.dim() == 4:
        return weight
    raise ValueError(
        "weight must be (C_out, C_in, kh, kw), (C_out, kh, kw) or one kernel (kh, kw), "
        f"got shape {tuple(weight.shape)}"
    )


def show_filters(
    weight: torch.Tensor,
    *,
    fig: FigureLike | None = None,
    ncols: int = 8,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    max_filters: int = 64,
    max_channels: int = 8,
) -> Figure:
    """Draw conv filters ``weight`` (C_out, C_in, kh, kw) as small images.

    C_in = 3: each filter as a colour image (rescaled to [0, 1] per filter, so mid-grey is 0).
    C_in = 1 (or a (C_out, kh, kw) stack / one (kh, kw) kernel): a diverging map, red > 0 >
    blue, symmetric per filter, so the sign pattern is visible. Other C_in: one row per filter,
    one column per input channel (at most ``max_channels``). ``titles`` label the filters.
    """
    w = _filter_stack(weight).detach().float().cpu()
    ncols = as_int(ncols, "ncols", minimum=1)
    max_filters = as_int(max_filters, "max_filters", minimum=1)
    max_channels = as_int(max_channels, "max_channels", minimum=1)
    w = w[:max_filters]
    n, c_in = w.shape[:2]
    if n == 0 or c_in == 0 or w.shape[-1] == 0 or w.shape[-2] == 0:
        raise ValueError(f"weight holds no filters to show (shape {tuple(weight.shape)})")
    if titles is not None and len(titles) < n:
        raise ValueError(f"titles has {len(titles)} entries for {n} filters")
    if c_in in (1, 3):
        rows, cols = _grid_shape(n, ncols)
        cells = [(i, None) for i in range(n)]
    else:
        rows, cols = n, min(c_in, max_channels)
        cells = [(i, ch) for i in range(n) for ch in range(cols)]
    titled = titles is not None or c_in not in (1, 3)
    out, axes = _grid(fig, rows, cols, 0.8, titled=titled, suptitle=bool(title))
    for ax in axes:
        _bare(ax)
        ax.set_visible(False)
    for ax, (i, ch) in zip(axes, cells, strict=False):
        ax.set_visible(True)
        if c_in == 3:
            f = w[i]
            lo, hi = float(f.min()), float(f.max())
            img = (f - lo) / (hi - lo) if hi > lo else torch.full_like(f, 0.5)
            ax.imshow(_numpy(img.permute(1, 2, 0)), interpolation="nearest")
        else:
            k = w[i, 0 if ch is None else ch]
            lim = float(k.abs().max()) or 1.0
            ax.imshow(_numpy(k), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        label = titles[i] if titles is not None else None
        if ch is not None:
            label = (f"{label} " if label else f"f{i} ") + f"c{ch}"
        if label:
            ax.set_title(label, fontsize=8)
    if title:
        out.suptitle(title, fontsize=10)
    return _root(out)


# -- feature maps --------------------------------------------------------------------------
def _one_sample(t: torch.Tensor, index: int, name: str) -> torch.Tensor:
    if t.dim() in (2, 4):  # a batch: (N, F) or (N, C, H, W)
        if not 0 <= index < t.shape[0]:
            raise ValueError(f"index must be in 0..{t.shape[0] - 1} for {name}, got {index}")
        return t[index]
    if t.dim() in (1, 3):
        return t
    raise ValueError(
        f"{name} must be (N, C, H, W), (C, H, W), (N, F) or (F,), got {tuple(t.shape)}"
    )


def show_feature_maps(
    acts: torch.Tensor | Mapping[str, torch.Tensor],
    *,
    index: int = 0,
    max_maps: int = 16,
    ncols: int = 8,
    fig: FigureLike | None = None,
    title: str | None = None,
    cmap: str = "viridis",
) -> Figure:
    """Draw activation maps: one layer's (N, C, H, W) / (C, H, W), or a ``{layer: output}`` dict.

    One layer: its first ``max_maps`` channels in a grid of ``ncols``, titled by channel. A dict
    (from :func:`cnnlab.viz.activations`): one strip per layer with its first ``max_maps``
    channels side by side, labelled with the layer name and its output shape; 1×1 maps and flat
    (N, F) outputs are drawn as a row of cells on one colour scale. Otherwise each map has its own
    colour scale (bright = strong activation). ``index`` picks the sample of a batch.
    """
    index = as_int(index, "index", minimum=0)
    max_maps = as_int(max_maps, "max_maps", minimum=1)
    ncols = as_int(ncols, "ncols", minimum=1)
    if isinstance(acts, torch.Tensor):
        x = _one_sample(acts, index, "acts")
        if x.dim() == 1:
            x = x[:, None, None]
        n = min(x.shape[0], max_maps)
        rows, cols = _grid_shape(n, ncols)
        out, axes = _grid(fig, rows, cols, 0.9, titled=True, suptitle=bool(title))
        for i, ax in enumerate(axes):
            _bare(ax)
            if i < n:
                ax.imshow(_numpy(x[i]), cmap=cmap, interpolation="nearest")
                ax.set_title(f"ch {i}", fontsize=8)
            else:
                ax.set_visible(False)
        if title:
            out.suptitle(title, fontsize=10)
        return _root(out)
    if not isinstance(acts, Mapping) or not acts:
        raise TypeError("acts must be a tensor or a non-empty {layer name: tensor} dict")
    strips = {
        name: _mosaic(_one_sample(t, index, f"acts[{name!r}]"), max_maps)
        for name, t in acts.items()
    }
    # one axes per layer (tens of small axes would make the figure slow to draw)
    _check_fig(fig)
    ratios = [m.shape[0] / m.shape[1] if m.shape[0] > 1 else 0.04 for m, _ in strips.values()]
    width = 9.0
    out = fig or Figure(figsize=(width, width * 0.8 * sum(ratios) + 0.15 * len(strips) + 0.4))
    axes = out.subplots(
        len(strips),
        1,
        squeeze=False,
        gridspec_kw={
            "height_ratios": ratios,
            "left": 0.16,
            "right": 0.98,
            "bottom": 0.01,
            "top": 0.94 if title else 0.99,
            "hspace": 0.25,
        },
    )[:, 0]
    for ax, (name, (mosaic, shape)) in zip(axes, strips.items(), strict=True):
        _bare(ax)
        ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        label = "×".join(map(str, shape))
        ax.set_ylabel(f"{name}\n{label}", rotation=0, ha="right", va="center", fontsize=8)
    if title:
        out.suptitle(title, fontsize=10)
    return _root(out)


def _mosaic(t: torch.Tensor, max_maps: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """One layer's output for one input as a single strip of its first ``max_maps`` maps.

    (C, H, W): each map rescaled to [0, 1] on its own, side by side with 1-pixel gaps (NaN,
    drawn blank); 1×1 maps and flat (F,) outputs share one scale. Returns (strip, shape).
    """
    shape = tuple(int(v) for v in t.shape)
    x = t.detach().float().cpu()
    if x.dim() == 1:
        x = x[:, None, None]
    x = x[:max_maps]
    if x.shape[-2:] == (1, 1):  # one number per channel: a colour scale across channels
        flat = x.flatten()
        lo, hi = float(flat.min()), float(flat.max())
        return (_numpy((flat - lo) / (hi - lo) if hi > lo else flat * 0 + 0.5)[None, :], shape)
    lo = x.amin(dim=(1, 2), keepdim=True)
    hi = x.amax(dim=(1, 2), keepdim=True)
    x = torch.where(hi > lo, (x - lo) / (hi - lo).clamp_min(1e-12), torch.full_like(x, 0.5))
    c, h, w = x.shape
    strip = np.full((h, c * (w + 1) - 1), np.nan, dtype=np.float32)
    for i in range(c):
        strip[:, i * (w + 1) : i * (w + 1) + w] = _numpy(x[i])
    return strip, shape


# -- images --------------------------------------------------------------------------------
def _as_image_list(images: object) -> list[torch.Tensor]:
    if isinstance(images, torch.Tensor):
        if images.dim() in (3, 4) and images.shape[0] == 0:
            raise ValueError(f"images is empty (shape {tuple(images.shape)}): nothing to show")
        if images.dim() in (3, 4):
            return list(images)
        raise ValueError(
            f"images must be (N, C, H, W), (N, H, W) or a list of images, got {tuple(images.shape)}"
        )
    if isinstance(images, Sequence) and images and all(isinstance(i, torch.Tensor) for i in images):
        return list(images)
    raise TypeError("images must be a tensor (N, C, H, W) / (N, H, W) or a list of tensors")


def show_image_grid(
    images: torch.Tensor | Sequence[torch.Tensor],
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    fig: FigureLike | None = None,
    cmap: str | None = None,
    normalize: bool = False,
    title: str | None = None,
    cell: float = 1.3,
) -> Figure:
    """Draw images (N, C, H, W) with C = 1 or 3, (N, H, W), or a list of (C, H, W)/(H, W).

    Colour images are clipped to [0, 1] unless ``normalize``, which rescales each image to its
    own min..max (for images such as activation maximisations with an arbitrary range). One-
    channel images use ``cmap`` (default grey) with their own colour scale.
    """
    items = _as_image_list(images)
    ncols = as_int(ncols, "ncols", minimum=1)
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"titles has {len(titles)} entries for {len(items)} images")
    rows, cols = _grid_shape(len(items), ncols)
    out, axes = _grid(fig, rows, cols, cell, titled=titles is not None, suptitle=bool(title))
    for i, ax in enumerate(axes):
        _bare(ax)
        if i >= len(items):
            ax.set_visible(False)
            continue
        img = items[i].detach().float().cpu()
        if img.dim() == 3 and img.shape[0] == 1:
            img = img[0]
        if img.dim() == 3:
            if img.shape[0] != 3:
                raise ValueError(f"image {i} has {img.shape[0]} channels; expected 1 or 3")
            if normalize:
                lo, hi = float(img.min()), float(img.max())
                img = (img - lo) / (hi - lo) if hi > lo else torch.full_like(img, 0.5)
            ax.imshow(_numpy(img.clamp(0, 1).permute(1, 2, 0)), interpolation="nearest")
        elif img.dim() == 2:
            ax.imshow(_numpy(img), cmap=cmap or "gray", interpolation="nearest")
        else:
            raise ValueError(
                f"image {i} has shape {tuple(img.shape)}; expected (C, H, W) or (H, W)"
            )
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if title:
        out.suptitle(title, fontsize=10)
    return _root(out)


# -- filter responses ----------------------------------------------------------------------
_SCALES = ("auto", "image", "signed")


def _image_panel(ax: Axes, img: torch.Tensor, scale: str) -> None:
    """One (H, W) response or (3, H, W) colour image on the colour scale ``scale``."""
    if img.dim() == 3:  # colour: the pixel values as they are, clipped to [0, 1]
        ax.imshow(_numpy(img.clamp(0, 1).permute(1, 2, 0)), interpolation="nearest")
    elif scale == "signed":  # blue < 0 < red, symmetric, so white is exactly zero
        lim = float(img.abs().max()) or 1.0
        shown = ax.imshow(_numpy(img), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        # a signed map needs its scale: which blue is -1 and which is -100
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)
    elif scale == "image":  # the photo's own [0, 1] range: blur and sharpen look like photos
        ax.imshow(_numpy(img.clamp(0, 1)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(_numpy(img), cmap="gray", interpolation="nearest")


def _response_image(t: object, name: str, *, colour: bool) -> torch.Tensor:
    """(H, W), (1, H, W) or, when ``colour``, (3, H, W) as a float CPU tensor."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    x = t.detach().float().cpu()
    if x.dim() == 3 and x.shape[0] == 1:
        x = x[0]
    if x.dim() == 2 or (colour and x.dim() == 3 and x.shape[0] == 3):
        return x
    allowed = "(H, W), (1, H, W) or (3, H, W)" if colour else "(H, W) or (1, H, W)"
    raise ValueError(f"{name} must be {allowed}, got shape {tuple(t.shape)}")


def show_filter_responses(
    image: torch.Tensor,
    responses: Mapping[str, torch.Tensor],
    *,
    scales: Mapping[str, str] | None = None,
    image_title: str = "original",
    ncols: int = 3,
    cell: float = 2.6,
    fig: FigureLike | None = None,
    title: str | None = None,
) -> Figure:
    """Draw an image followed by the responses of filters to it, one titled panel each.

    ``image``: (H, W), (1, H, W) or colour (3, H, W) in [0, 1]. ``responses``: ``{title: (H', W')
    or (1, H', W')}``, e.g. from :func:`cnnlab.filters.apply_filter`. ``scales`` maps a title to
    its colour scale: ``"signed"`` (blue < 0 < red, symmetric: edge detectors),
    ``"image"`` (grey clipped to [0, 1], like the photo: blur, sharpen) or ``"auto"`` (grey from
    the response's own min to max; the default for titles not in ``scales``).
    """
    if not isinstance(responses, Mapping) or not responses:
        raise TypeError("responses must be a non-empty {title: (H, W) tensor} dict")
    scales = dict(scales or {})
    unknown = set(scales) - set(responses)
    if unknown:
        raise ValueError(
            f"scales names {sorted(unknown)}, which are not in responses {list(responses)}"
        )
    panels = [(image_title, _response_image(image, "image", colour=True), "image")]
    for name, t in responses.items():
        scale = check_choice(scales.get(name, "auto"), f"scale for {name!r}", _SCALES)
        panels.append((str(name), _response_image(t, f"responses[{name!r}]", colour=False), scale))
    ncols = as_int(ncols, "ncols", minimum=1)
    cell = as_float(cell, "cell", minimum=0.1)
    rows, cols = _grid_shape(len(panels), ncols)
    out, axes = _grid(fig, rows, cols, cell, titled=True, suptitle=bool(title))
    for i, ax in enumerate(axes):
        _bare(ax)
        if i >= len(panels):
            ax.set_visible(False)
            continue
        name, img, scale = panels[i]
        _image_panel(ax, img, scale)
        ax.set_title(name, fontsize=9)
    if title:
        out.suptitle(title, fontsize=10)
    return _root(out)


def show_signed_maps(
    maps: object,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    cell: float = 1.6,
    fig: FigureLike | None = None,
    title: str | None = None,
) -> Figure:
    """Draw maps that can be negative (kernels, pre-activation feature maps, gradients).

    ``maps``: a (N, H, W) tensor or a list of (H, W) tensors. Each panel uses a diverging colour
    map centred at zero (blue < 0 < red, white = 0) on its own symmetric scale, with a colour
    bar, so that signs and magnitudes can be read off.
    """
    if isinstance(maps, torch.Tensor):
        if maps.dim() != 3:
            raise ValueError(f"maps must be (N, H, W), got shape {tuple(maps.shape)}")
        panels = list(maps)
    elif isinstance(maps, Sequence) and maps and not isinstance(maps, str):
        panels = list(maps)
    else:
        raise TypeError("maps must be an (N, H, W) tensor or a non-empty list of (H, W) tensors")
    panels = [_response_image(m, f"maps[{i}]", colour=False) for i, m in enumerate(panels)]
    names = [str(t) for t in titles] if titles is not None else [""] * len(panels)
    if len(names) != len(panels):
        raise ValueError(f"{len(names)} titles for {len(panels)} maps")
    ncols = as_int(ncols, "ncols", minimum=1)
    cell = as_float(cell, "cell", minimum=0.1)
    rows, cols = _grid_shape(len(panels), ncols)
    out, axes = _grid(fig, rows, cols, cell, titled=titles is not None, suptitle=bool(title))
    for i, ax in enumerate(axes):
        _bare(ax)
        if i >= len(panels):
            ax.set_visible(False)
            continue
        _image_panel(ax, panels[i], "signed")
        if names[i]:
            ax.set_title(names[i], fontsize=8)
    if title:
        out.suptitle(title, fontsize=10)
    return _root(out)


# -- training curves -----------------------------------------------------------------------
_CURVES = (("loss", "loss"), ("acc", "accuracy"))


def _series(history: object, key: str) -> list[float] | None:
    """``history[key]`` or ``history.key`` as a list of floats, or None when absent/empty."""
    values = history.get(key) if isinstance(history, Mapping) else getattr(history, key, None)
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | torch.Tensor):
        raise TypeError(f"history's {key} must be a list of numbers, got {values!r}")
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"history's {key} must be a list of numbers, got {values!r}") from None
    if all(math.isnan(v) for v in values):  # also empty; train.History has NaN without val data
        return None
    return values


def plot_history(
    history: object,
    *,
    fig: FigureLike | None = None,
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
) -> Figure:
    """Loss and accuracy per epoch for the training and validation sets (two panels).

    ``history``: a :class:`cnnlab.train.History` or any mapping/object with the lists
    ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc`` (missing ones are skipped;
    accuracies are fractions in [0, 1]). ``axes``: two Axes to draw into instead of a new figure.
    """
    if history is None or isinstance(history, (str, bytes, int, float, Sequence)):
        raise TypeError(
            "history must be a cnnlab.train.History or a dict of per-epoch lists (train_loss, "
            f"val_loss, train_acc, val_acc), got {type(history).__name__}"
        )
    if axes is not None:
        axes = list(axes)
        if len(axes) != 2:
            raise ValueError(f"axes must be two matplotlib Axes (loss, accuracy), got {len(axes)}")
        root = axes[0].figure
    else:
        _check_fig(fig)
        out = fig or Figure(figsize=(7.0, 2.8), layout="constrained")  # two axes: cheap
        axes = list(out.subplots(1, 2))
        root = _root(out)
        if title:
            out.suptitle(title, fontsize=10)
    drawn = 0
    for ax, (key, label) in zip(axes, _CURVES, strict=True):
        for split, style in (("train", "-o"), ("val", "-s")):
            values = _series(history, f"{split}_{key}")
            if values is None:
                continue
            epochs = range(1, len(values) + 1)
            ax.plot(epochs, values, style, markersize=3, label=split)
            drawn += 1
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        if key == "acc":
            ax.set_ylim(0, 1.02)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if drawn == 0:
        raise ValueError(
            "history has none of train_loss, val_loss, train_acc, val_acc: nothing to plot"
        )
    return root


def plot_band(
    band: Mapping[str, object] | None,
    metric: str,
    *,
    configs: Sequence[str] | None = None,
    fresh: Mapping[str, Sequence[float]] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A stored per-epoch band (median line, min–max shading) per config, and fresh runs.

    ``band``: a band file as returned by ``cnnlab.experiments.load_band``; ``metric``: one of
    its per-epoch metrics (e.g. "val_acc_curve"); ``fresh``: config -> this run's curve, drawn
    as a dashed line over its band so a reader sees whether it lies inside. ``band=None`` (none
    stored for this profile yet) draws the fresh runs alone and says so in the title.
    """
    if band is None:
        if not fresh:
            raise ValueError("no stored band and no fresh run: nothing to plot")
        band = {"results": {}, "seeds": []}
        title = f"{title or metric}: no stored band for this profile"
    if not isinstance(band, Mapping):
        raise TypeError(f"band must be a band file (see load_band), got {type(band).__name__}")
    results = band.get("results")
    if not isinstance(results, Mapping):
        raise TypeError("band must be a band file (a dict with 'results'), see load_band")
    names = list(configs or results or (fresh or {}))
    if ax is None:
        root = Figure(figsize=(6.0, 3.0), layout="constrained")
        ax = root.subplots()
    else:
        root = _root(ax.figure)
    seeds = len(band.get("seeds", []))  # type: ignore[arg-type]
    for i, config in enumerate(names):
        colour = f"C{i}"
        if results:
            if config not in results:
                raise ValueError(
                    f"the band has no config {config!r}; configs: {', '.join(results)}"
                )
            if metric not in results[config]:
                raise ValueError(
                    f"the band has no {metric!r} for config {config!r}; metrics: "
                    f"{', '.join(results[config])}"
                )
            entry = results[config][metric]
            if not isinstance(entry["median"], list):
                raise ValueError(f"{metric!r} is a final value, not a per-epoch curve")
            epochs = np.arange(1, len(entry["median"]) + 1)
            ax.fill_between(epochs, entry["min"], entry["max"], color=colour, alpha=0.25, lw=0)
            label = f"{config}: median, min–max of {seeds} seeds"
            ax.plot(epochs, entry["median"], color=colour, label=label)
        if fresh and config in fresh:
            run = [float(v) for v in fresh[config]]
            ax.plot(range(1, len(run) + 1), run, "--o", ms=3, color=colour, label="this run")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.removesuffix("_curve").replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return root


def plot_cost_breakdown(
    summary: object,
    *,
    types: Sequence[str] = ("Conv2d", "Linear"),
    fig: FigureLike | None = None,
    title: str | None = None,
) -> Figure:
    """Where a network's parameters and multiply-adds sit: one bar per layer, two panels.

    ``summary``: a ``cnnlab.cost.Summary``; ``types``: the layer types drawn (the others hold no
    or few parameters). Each panel's title gives the share of the largest layer type, e.g. how
    FC-heavy AlexNet's parameters are against how conv-heavy its multiply-adds are.
    """
    from cnnlab.cost import Summary

    if not isinstance(summary, Summary):
        raise TypeError(f"summary must be a cnnlab.cost.Summary, got {type(summary).__name__}")
    rows = [r for r in summary.rows if r.type in types]
    if not rows:
        raise ValueError(f"the summary has no layers of types {tuple(types)} to draw")
    _check_fig(fig)
    out = fig or Figure(figsize=(max(7.5, 0.32 * len(rows) + 2.5), 3.6), layout="constrained")
    axes = out.subplots(1, 2)
    names = [r.name.split(".")[-1] if len(r.name) > 14 else r.name for r in rows]
    colours = [f"C{list(types).index(r.type)}" for r in rows]
    panels = (("params", "parameters"), ("mult_adds", "multiply-adds"))
    for ax, (key, label) in zip(axes, panels, strict=True):
        values = np.array([getattr(r, key) for r in rows], dtype=float)
        ax.bar(range(len(rows)), values / 1e6, color=colours)
        ax.set_xticks(range(len(rows)), names, rotation=90, fontsize=7)
        ax.set_ylabel(f"{label} (millions)")
        total = values.sum()
        shares = ", ".join(
            f"{t} {100 * values[[r.type == t for r in rows]].sum() / total:.0f}%"
            for t in types
            if any(r.type == t for r in rows)
        )
        ax.set_title(f"{label}\n{shares}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    if title:
        out.suptitle(title, fontsize=10)
    return _root(out)
