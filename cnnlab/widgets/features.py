"""Feature explorer: pick a layer, a channel and an input; see the feature map and its saliency.

* :func:`feature_state` — pure state (the input, the channel's map, its mean activation, the
  saliency of that channel, the model's prediction), computed with :mod:`cnnlab.viz`;
* :func:`draw_features` — a static figure of that state (widget, handouts);
* :func:`feature_explorer` — the ipywidgets container.

Works with any ``nn.Module`` taking (N, C, H, W) images; layers are ``named_modules()`` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from cnnlab import viz
from cnnlab._validate import as_int, check_choice, check_tensor
from cnnlab.widgets._base import ChoiceDropdown, Explorer, int_slider
from cnnlab.widgets._grid import html_escape, new_axes


@dataclass(frozen=True, eq=False)
class FeatureState:
    """What the explorer shows for (``layer``, ``channel``, ``index``).

    ``image`` (C, H, W) is input ``index``; ``feature_map`` (H', W') is ``channel`` of the
    layer's output for it ((1, 1) for a flat layer), ``output_shape`` that output's shape for one
    input (C', H', W'); ``activation`` the channel's mean; ``saliency`` (H, W) is
    ``|∂ activation / ∂ input|`` maximised over colour channels. ``prediction`` and
    ``confidence`` (softmax) are set when the model returns class scores (1, K), ``label`` when
    labels were given; ``*_name`` are the class names when ``classes`` were given.
    """

    layer: str
    channel: int
    index: int
    n_channels: int
    n_images: int
    image: torch.Tensor
    feature_map: torch.Tensor
    output_shape: tuple[int, ...]
    activation: float
    saliency: torch.Tensor
    prediction: int | None
    confidence: float | None
    label: int | None
    label_name: str | None
    prediction_name: str | None

    @property
    def summary(self) -> str:
        """One line: input, label, prediction, layer/channel and its mean activation."""
        parts = [f"input {self.index}/{self.n_images - 1}"]
        if self.label is not None:
            parts.append(f"label {self.label_name or self.label}")
        if self.prediction is not None:
            parts.append(
                f"predicted {self.prediction_name or self.prediction} ({self.confidence:.0%})"
            )
        shape = "×".join(map(str, self.output_shape))
        parts.append(
            f"{self.layer} ({shape}) channel {self.channel}/{self.n_channels - 1}: "
            f"mean activation {self.activation:.3g}"
        )
        return " · ".join(parts)


def _check_images(images: object) -> torch.Tensor:
    images = check_tensor(images, "images", 4, "a batch N×C×H×W")
    if not images.is_floating_point():
        raise TypeError(f"images must be a floating-point tensor, got dtype {images.dtype}")
    if images.shape[0] == 0:
        raise ValueError("images is empty: give at least one image")
    return images


def _check_labels(labels: object, n: int) -> torch.Tensor | None:
    if labels is None:
        return None
    labels = torch.as_tensor(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one per image, got {tuple(labels.shape)}")
    return labels


def feature_state(
    model: nn.Module,
    images: torch.Tensor,
    layer: str,
    channel: int,
    index: int,
    *,
    labels: torch.Tensor | Sequence[int] | None = None,
    classes: Sequence[str] | None = None,
) -> FeatureState:
    """State of the explorer for ``channel`` of ``layer`` on ``images[index]`` (N, C, H, W)."""
    images = _check_images(images)
    labels = _check_labels(labels, images.shape[0])
    index = as_int(index, "index", minimum=0)
    if index >= images.shape[0]:
        raise ValueError(f"index must be in 0..{images.shape[0] - 1}, got {index}")
    channel = as_int(channel, "channel", minimum=0)
    x = images[index : index + 1]
    out = viz.activations(model, x, layer)[layer][0]
    n_channels = int(out.shape[0]) if out.dim() >= 1 else 1
    if channel >= n_channels:
        raise ValueError(
            f"channel must be in 0..{n_channels - 1} for layer {layer!r} "
            f"(output {tuple(out.shape)} per input), got {channel}"
        )
    fmap = out[channel]
    fmap = fmap.reshape(1, 1) if fmap.dim() == 0 else fmap.reshape(-1, fmap.shape[-1])
    sal = viz.saliency(model, x, layer=layer, channel=channel)
    prediction = confidence = None
    device, dtype = viz._model_device_dtype(model)
    with viz.eval_mode(model), torch.no_grad():
        logits = model(x.to(device=device, dtype=dtype))
    if isinstance(logits, torch.Tensor) and logits.dim() == 2:
        probs = logits[0].float().softmax(0)
        prediction = int(probs.argmax())
        confidence = float(probs[prediction])

    def name(i: int | None) -> str | None:
        return classes[i] if classes is not None and i is not None and i < len(classes) else None

    label = None if labels is None else int(labels[index])
    return FeatureState(
        layer=layer,
        channel=channel,
        index=index,
        n_channels=n_channels,
        n_images=int(images.shape[0]),
        image=images[index].detach().cpu(),
        feature_map=fmap,
        output_shape=tuple(int(s) for s in out.shape),
        activation=float(out[channel].float().mean()),
        saliency=sal,
        prediction=prediction,
        confidence=confidence,
        label=label,
        label_name=name(label),
        prediction_name=name(prediction),
    )


def _show_input(ax: Axes, image: torch.Tensor) -> None:
    img = image.detach().float().cpu()
    if img.shape[0] == 3:
        ax.imshow(img.clamp(0, 1).permute(1, 2, 0).numpy(), interpolation="nearest")
    else:
        ax.imshow(img[0].numpy(), cmap="gray", interpolation="nearest")


def draw_features(state: FeatureState, axes: Sequence[Axes] | None = None) -> Figure:
    """Three panels: the input, the channel's feature map, and the channel's saliency map."""
    fig, (ax_in, ax_map, ax_sal) = new_axes(3, axes, width=2.7, height=3.0)
    _show_input(ax_in, state.image)
    title = f"input {state.index}"
    if state.label is not None:
        title += f": {state.label_name or state.label}"
    ax_in.set_title(title, fontsize=10)
    if state.prediction is not None:
        ax_in.set_xlabel(
            f"predicted {state.prediction_name or state.prediction} ({state.confidence:.0%})",
            fontsize=9,
        )
    ax_map.imshow(state.feature_map.float().numpy(), cmap="viridis", interpolation="nearest")
    h, w = state.feature_map.shape
    ax_map.set_title(f"{state.layer}, channel {state.channel} ({h}×{w})", fontsize=10)
    ax_map.set_xlabel(f"mean activation {state.activation:.3g}", fontsize=9)
    ax_sal.imshow(state.saliency.float().numpy(), cmap="hot", interpolation="nearest")
    ax_sal.set_title("saliency |∂ mean / ∂ input|", fontsize=10)
    for ax in (ax_in, ax_map, ax_sal):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


class FeatureExplorer(Explorer[FeatureState]):
    """The explorer widget; build it with :func:`feature_explorer`.

    Controls: ``layer`` (Dropdown), ``channel`` (IntSlider; its range follows the layer),
    ``index`` (IntSlider over the inputs). Outputs: ``summary`` (HTML), ``message`` (HTML
    errors), ``image`` (the figure as PNG). ``state`` is the current :class:`FeatureState` and
    ``channels`` maps each layer to its number of channels.
    """

    def __init__(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor | None,
        classes: Sequence[str] | None,
        channels: dict[str, int],
        layer: str,
        channel: int,
        index: int,
    ):
        self.model, self.images, self.labels, self.classes = model, images, labels, classes
        self.channels = channels
        self.layer = ChoiceDropdown(options=list(channels), value=layer, description="layer")
        # each change runs the model forward and backward: update on release only
        self.channel = int_slider(
            channel, 0, channels[layer] - 1, "channel", continuous_update=False
        )
        self.index = int_slider(index, 0, images.shape[0] - 1, "input", continuous_update=False)
        super().__init__(
            {"layer": self.layer, "channel": self.channel, "index": self.index},
            [widgets.HBox([self.layer, self.channel, self.index])],
        )

    def on_change(self, control: widgets.ValueWidget) -> None:
        if control is self.layer:  # the new layer may have fewer channels: clamp the slider
            last = self.channels[self.layer.value] - 1
            self.channel.value = min(self.channel.value, last)
            self.channel.max = last

    def compute(self, **choice: Any) -> FeatureState:
        return feature_state(
            self.model, self.images, **choice, labels=self.labels, classes=self.classes
        )

    def draw(self, state: FeatureState) -> Figure:
        return draw_features(state)

    def readout(self, state: FeatureState) -> str:
        return html_escape(state.summary)


def feature_explorer(
    model: nn.Module,
    images: object,
    labels: torch.Tensor | Sequence[int] | None = None,
    classes: Sequence[str] | None = None,
    *,
    layers: Sequence[str] | None = None,
    layer: str | None = None,
    channel: int = 0,
    index: int = 0,
) -> FeatureExplorer:
    """Build the explorer for ``model`` on ``images`` (N, C, H, W) or a ``cnnlab.data.Dataset``.

    ``layers``: the names offered (default: every convolution, :func:`cnnlab.viz.conv_layers`);
    ``layer``/``channel``/``index``: the starting choice. With a Dataset, its labels and class
    names are used unless given. Keep ``images`` small (tens of inputs): every change runs the
    model on one input, forward and backward. End a notebook cell with the result to show it.
    """
    if hasattr(images, "images") and hasattr(images, "labels"):  # a cnnlab.data.Dataset
        labels = images.labels if labels is None else labels
        classes = getattr(images, "classes", None) if classes is None else classes
        images = images.images
    images = _check_images(images)
    labels = _check_labels(labels, images.shape[0])
    names = viz.conv_layers(model) if layers is None else list(layers)
    if not names:
        raise ValueError(f"{type(model).__name__} has no conv layers: pass layers=[...] by name")
    layer = names[0] if layer is None else check_choice(layer, "layer", names)
    acts = viz.activations(model, images[:1], names)
    channels = {name: int(a.shape[1]) if a.dim() >= 2 else 1 for name, a in acts.items()}
    channel = as_int(channel, "channel", minimum=0)
    index = as_int(index, "index", minimum=0)
    feature_state(model, images, layer, channel, index, labels=labels, classes=classes)
    return FeatureExplorer(model, images, labels, classes, channels, layer, channel, index)
