"""cnnlab.viz, cnnlab.plots and the feature explorer, checked against plain PyTorch.

Two small models: a flat ``nn.Sequential`` and a nested module (blocks inside blocks, a shared
ReLU called twice, batch norm and dropout) so that nothing relies on the course's own models.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlab import plots, viz


def sequential() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 5),
    )


class Block(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Nested(nn.Module):
    """stem -> body (two blocks, a residual add) -> shared ReLU -> head (dropout, linear)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.stem = Block(1, 4)
        self.body = nn.ModuleDict({"a": Block(4, 4), "b": Block(4, 8)})
        self.relu = nn.ReLU()  # called twice in forward
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(8 * 4 * 4, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.stem(x))
        x = self.relu(x + self.body["a"](x))
        x = nn.functional.max_pool2d(self.body["b"](x), 2)
        return self.head(x)


def nested() -> Nested:
    model = Nested()
    with torch.no_grad():  # non-trivial batch-norm statistics, so eval and train mode differ
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model


class Unused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = nn.ReLU()
        self.spare = nn.ReLU()  # defined, never called

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.used(x)


def no_hooks(model: nn.Module) -> bool:
    return all(not m._forward_hooks for m in model.modules())


SEQ_X = torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(3))
NEST_X = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(4))


# -- layer names and filters ---------------------------------------------------------------
def test_conv_layers_and_filters() -> None:
    assert viz.conv_layers(sequential()) == ["0", "3"]
    assert viz.conv_layers(nested()) == ["stem.conv", "body.a.conv", "body.b.conv"]
    model = sequential()
    w = viz.first_layer_filters(model)
    assert w.shape == (4, 3, 3, 3)
    assert torch.equal(w, model[0].weight)
    w += 1  # a copy: the model is untouched
    assert not torch.equal(w, model[0].weight)
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        viz.first_layer_filters(nn.Linear(3, 2))
    with pytest.raises(TypeError, match="nn.Module"):
        viz.conv_layers("not a model")


# -- activations ---------------------------------------------------------------------------
def test_activations_match_manual_forward_sequential() -> None:
    model = sequential()
    acts = viz.activations(model, SEQ_X)
    assert list(acts) == [str(i) for i in range(8)]
    h = SEQ_X
    with torch.no_grad():
        for i, layer in enumerate(model):
            h = layer(h)
            torch.testing.assert_close(acts[str(i)], h)
    assert no_hooks(model)
    picked = viz.activations(model, SEQ_X, ["3", "0"])
    assert list(picked) == ["3", "0"]  # the order asked for
    torch.testing.assert_close(picked["0"], acts["0"])


def test_activations_match_manual_forward_nested() -> None:
    model = nested().eval()
    names = ["stem", "stem.bn", "body.a", "body.b.conv", "relu", "head.2"]
    acts = viz.activations(model, NEST_X, names)
    with torch.no_grad():
        stem = model.stem(NEST_X)
        a = model.body["a"](model.relu(stem))
        b_conv = model.body["b"].conv(model.relu(model.relu(stem) + a))
        logits = model(NEST_X)
        torch.testing.assert_close(acts["stem"], stem)
        torch.testing.assert_close(acts["stem.bn"], model.stem.bn(model.stem.conv(NEST_X)))
        torch.testing.assert_close(acts["body.a"], a)
        torch.testing.assert_close(acts["body.b.conv"], b_conv)
        torch.testing.assert_close(acts["relu"], model.relu(stem))  # first call of a shared one
        torch.testing.assert_close(acts["head.2"], logits)
    assert no_hooks(model)


def test_activations_default_is_every_leaf_and_restores_mode() -> None:
    model = nested().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    acts = viz.activations(model, NEST_X)
    leaves = [n for n, m in model.named_modules() if n and not any(m.children())]
    assert list(acts) == leaves
    assert all(m.training for m in model.modules())  # the train flag is restored everywhere
    for k, v in model.state_dict().items():  # eval mode: batch-norm statistics untouched
        assert torch.equal(v, before[k]), k
    # eval mode was used: dropout is off, so two calls agree
    again = viz.activations(model, NEST_X, "head.2")["head.2"]
    torch.testing.assert_close(again, acts["head.2"])


def test_hooks_removed_after_an_exception() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.later = nn.Conv2d(2, 2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.conv(x)
            raise KeyError("boom")

    model = Broken()
    with pytest.raises(KeyError, match="boom"):
        viz.activations(model, NEST_X, ["conv", "later"])
    assert no_hooks(model)
    with pytest.raises(KeyError, match="boom"):
        viz.saliency(model, NEST_X[0], layer="later", channel=0)
    assert no_hooks(model)
    assert model.training
    seq = sequential()
    with pytest.raises(ValueError, match="expects 3 input channels"):
        viz.activations(seq, torch.rand(2, 1, 8, 8))
    assert no_hooks(seq)


def test_activations_errors() -> None:
    model = nested()
    with pytest.raises(ValueError, match=r"unknown layer 'body.c'.*Valid: stem, stem.conv"):
        viz.activations(model, NEST_X, "body.c")
    with pytest.raises(ValueError, match="Did you mean 'stem.conv'"):
        viz.activations(model, NEST_X, "stem.cnv")
    with pytest.raises(ValueError, match=r"4-D \(a batch N×C×H×W\), got shape \(1, 8, 8\)"):
        viz.activations(model, NEST_X[0])
    with pytest.raises(TypeError, match="floating-point"):
        viz.activations(model, (NEST_X * 255).to(torch.uint8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        viz.activations(model, NEST_X.numpy())
    with pytest.raises(ValueError, match="layers is empty"):
        viz.activations(model, NEST_X, [])
    with pytest.raises(ValueError, match="was not called"):
        viz.activations(Unused(), NEST_X, "spare")
    assert no_hooks(model)


# -- top activating ------------------------------------------------------------------------
@pytest.mark.parametrize("make, x, layer", [(sequential, SEQ_X, "3"), (nested, NEST_X, "body.b")])
def test_top_activating_matches_brute_force(
    make: Callable[[], nn.Module], x: torch.Tensor, layer: str
) -> None:
    model = make()
    images = torch.cat([x, x.flip(-1), x.flip(-2)])  # a few more inputs
    n_channels = viz.activations(model, images[:1], layer)[layer].shape[1]
    for channel in range(n_channels):
        idx, scores = viz.top_activating(model, layer, channel, images, k=4, batch_size=5)
        with viz.eval_mode(model), torch.no_grad():
            brute = torch.stack(
                [
                    viz.activations(model, img[None], layer)[layer][0, channel].mean()
                    for img in images
                ]
            )
        expected = torch.sort(brute, descending=True, stable=True)
        torch.testing.assert_close(scores, expected.values[:4])
        torch.testing.assert_close(brute[idx], expected.values[:4])
    assert no_hooks(model)


def test_top_activating_flat_layer_and_errors() -> None:
    model = sequential()
    idx, scores = viz.top_activating(model, "7", 2, SEQ_X, k=len(SEQ_X))
    with torch.no_grad():
        logits = model(SEQ_X)[:, 2]
    assert torch.equal(idx, torch.sort(logits, descending=True, stable=True).indices)
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.5 for layer '3'"):
        viz.top_activating(model, "3", 6, SEQ_X, k=3)
    with pytest.raises(ValueError, match="k must be <= the number of images"):
        viz.top_activating(model, "3", 0, SEQ_X, k=7)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        viz.top_activating(model, "3", 0, SEQ_X, k=0)
    with pytest.raises(ValueError, match="unknown layer"):
        viz.top_activating(model, "conv9", 0, SEQ_X)
    assert no_hooks(model)


# -- saliency ------------------------------------------------------------------------------
def test_saliency_equals_manual_gradient() -> None:
    model = nested().train()
    x = NEST_X[1]
    sal = viz.saliency(model, x, target=2)
    assert model.training and all(m.training for m in model.modules())
    assert all(p.grad is None for p in model.parameters())  # parameter grads untouched
    model.eval()
    inp = x[None].clone().requires_grad_(True)
    model(inp)[0, 2].backward()
    torch.testing.assert_close(sal, inp.grad[0].abs().amax(0))
    # default target: the predicted class
    with torch.no_grad():
        pred = int(model(x[None]).argmax())
    torch.testing.assert_close(viz.saliency(model, x[None]), viz.saliency(model, x, target=pred))


def test_saliency_of_a_unit_and_rgb_channels() -> None:
    model = sequential()
    x = SEQ_X[0]
    sal = viz.saliency(model, x, layer="3", channel=1)
    inp = x[None].clone().requires_grad_(True)
    h = inp
    for layer in list(model)[:4]:
        h = layer(h)
    h[0, 1].mean().backward()
    assert sal.shape == (8, 8)
    torch.testing.assert_close(sal, inp.grad[0].abs().amax(0))  # max over the 3 colour channels
    assert no_hooks(model)


def test_saliency_errors() -> None:
    model = sequential()
    with pytest.raises(ValueError, match=r"target must be in 0\.\.4"):
        viz.saliency(model, SEQ_X[0], target=5)
    with pytest.raises(ValueError, match="one image, got a batch of 6"):
        viz.saliency(model, SEQ_X)
    with pytest.raises(ValueError, match="give both layer and channel"):
        viz.saliency(model, SEQ_X[0], layer="3")
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.5"):
        viz.saliency(model, SEQ_X[0], layer="3", channel=6)
    with pytest.raises(ValueError, match="class scores"):
        viz.saliency(nn.Conv2d(3, 2, 3), SEQ_X[0])
    with pytest.raises(ValueError, match="one image C×H×W"):
        viz.saliency(model, SEQ_X[0, 0])


# -- activation maximisation ---------------------------------------------------------------
@pytest.mark.parametrize(
    "make, layer, channel, size",
    [(sequential, "3", 2, (3, 8, 8)), (nested, "body.a.conv", 1, (1, 8, 8))],
)
def test_activation_maximization_increases_the_activation(
    make: Callable[[], nn.Module], layer: str, channel: int, size: tuple[int, int, int]
) -> None:
    model = make().train()

    def score(img: torch.Tensor) -> float:
        return float(viz.activations(model, img[None], layer)[layer][0, channel].mean())

    start = viz.activation_maximization(model, layer, channel, size=size, steps=0, seed=5)
    best = viz.activation_maximization(model, layer, channel, size=size, steps=40, seed=5)
    assert start.shape == best.shape == size
    expected_start = 0.1 * torch.randn(1, *size, generator=torch.Generator().manual_seed(5))[0]
    torch.testing.assert_close(start, expected_start)
    assert score(best) > score(start) + 0.1
    again = viz.activation_maximization(model, layer, channel, size=size, steps=40, seed=5)
    assert torch.equal(best, again)  # deterministic for a given seed
    other = viz.activation_maximization(model, layer, channel, size=size, steps=40, seed=6)
    assert not torch.equal(best, other)
    assert all(m.training for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    assert no_hooks(model)


def test_activation_maximization_errors() -> None:
    model = sequential()
    with pytest.raises(ValueError, match=r"size must be \(C, H, W\)"):
        viz.activation_maximization(model, "3", 0, size=(8, 8))
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.5"):
        viz.activation_maximization(model, "3", 6, size=(3, 8, 8), steps=0)
    with pytest.raises(ValueError, match="lr must be a number"):
        viz.activation_maximization(model, "3", 0, size=(3, 8, 8), lr=-1.0)
    with pytest.raises(ValueError, match="unknown layer"):
        viz.activation_maximization(model, "x", 0, size=(3, 8, 8))
    with pytest.raises(ValueError, match="expects 3 input channels"):
        viz.activation_maximization(model, "3", 0, size=(1, 8, 8), steps=1)
    assert no_hooks(model)


# -- plots ---------------------------------------------------------------------------------
def test_plots_return_figures() -> None:
    model = nested()
    acts = viz.activations(model, NEST_X)
    figs = [
        plots.show_filters(viz.first_layer_filters(sequential())),  # RGB filters
        plots.show_filters(viz.first_layer_filters(model), titles=list("abcd")),  # 1 channel
        plots.show_filters(model.body["b"].conv.weight),  # 4 input channels: a grid
        plots.show_filters(torch.eye(3)),  # one hand-made kernel
        plots.show_feature_maps(acts["body.b.conv"], index=1),
        plots.show_feature_maps(acts),  # every layer, flat ones as strips
        plots.show_image_grid(SEQ_X[:3], ["a", "b", "c"]),
        plots.show_image_grid([NEST_X[0], SEQ_X[0], torch.rand(5, 5)], normalize=True),
        plots.plot_history({"train_loss": [1.0, 0.5], "val_acc": [0.4, 0.6]}),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert len(figs[0].axes) == 4 and len(figs[2].axes) == 8 * 4
    sub = Figure().subfigures(1, 2)
    assert plots.show_image_grid(SEQ_X[:2], fig=sub[1]) is sub[1].figure
    with pytest.raises(ValueError, match="titles has 2 entries for 3 images"):
        plots.show_image_grid(SEQ_X[:3], ["a", "b"])
    with pytest.raises(ValueError, match="nothing to plot"):
        plots.plot_history({"loss": [1.0]})
    with pytest.raises(ValueError, match="weight must be"):
        plots.show_filters(torch.rand(2, 2, 2, 2, 2))


def test_show_filter_responses_panels_and_scales() -> None:
    photo = torch.rand(3, 12, 12)
    grey = photo.mean(0)
    edge = torch.nn.functional.conv2d(grey[None, None], torch.tensor([[[[-1.0, 0, 1]]]]))[0]
    responses = {"edge": edge, "blur": grey * 1.5 - 0.2, "magnitude": edge[0].abs() * 7}
    fig = plots.show_filter_responses(
        photo, responses, scales={"edge": "signed", "blur": "image"}, ncols=2
    )
    assert isinstance(fig, Figure)
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1  # the one signed panel ("edge") has its colour bar
    visible = [ax for ax in fig.axes if ax.get_visible() and ax not in bars]
    assert len(fig.axes) == 5 and len(visible) == 4  # image + 3 responses in a 2×2 grid
    assert [ax.get_title() for ax in visible] == ["original", "edge", "blur", "magnitude"]
    shown = [ax.get_images()[0] for ax in visible]
    torch.testing.assert_close(torch.from_numpy(shown[0].get_array().data), photo.permute(1, 2, 0))
    lim = float(edge.abs().max())
    assert shown[1].get_cmap().name == "RdBu_r" and shown[1].get_clim() == pytest.approx(
        (-lim, lim)
    )
    assert shown[2].get_clim() == (0, 1) and float(shown[2].get_array().max()) == 1.0  # clipped
    assert shown[3].get_clim() == pytest.approx((float(edge.abs().min() * 7), lim * 7))
    fig = plots.show_filter_responses(grey, {"a": edge, "b": edge}, ncols=4, image_title="photo")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3
    sub = Figure().subfigures(2, 1)
    assert plots.show_filter_responses(photo, {"a": edge}, fig=sub[0]) is sub[0].figure
    with pytest.raises(ValueError, match="unknown scale for 'edge' 'sign'"):
        plots.show_filter_responses(photo, responses, scales={"edge": "sign"})
    with pytest.raises(ValueError, match="not in responses"):
        plots.show_filter_responses(photo, responses, scales={"egde": "signed"})
    with pytest.raises(ValueError, match=r"responses\['edge'\] must be \(H, W\)"):
        plots.show_filter_responses(photo, {"edge": torch.rand(2, 4, 4)})
    with pytest.raises(TypeError, match="non-empty"):
        plots.show_filter_responses(photo, {})


# -- the feature explorer ------------------------------------------------------------------
def test_feature_state_matches_viz() -> None:
    from cnnlab.widgets.features import feature_state

    model = nested()
    labels = torch.tensor([0, 1, 2, 0, 1])
    state = feature_state(
        model, NEST_X, "body.a.conv", 3, 2, labels=labels, classes=["x", "y", "z"]
    )
    acts = viz.activations(model, NEST_X[2:3], "body.a.conv")["body.a.conv"]
    torch.testing.assert_close(state.feature_map, acts[0, 3])
    assert state.n_channels == 4 and state.output_shape == (4, 8, 8) and state.n_images == 5
    assert state.activation == pytest.approx(float(acts[0, 3].mean()))
    torch.testing.assert_close(
        state.saliency, viz.saliency(model, NEST_X[2], layer="body.a.conv", channel=3)
    )
    with torch.no_grad():
        pred = int(model.eval()(NEST_X[2:3]).argmax())
    assert state.prediction == pred and state.prediction_name == "xyz"[pred]
    assert state.label == 2 and state.label_name == "z"
    assert "label z" in state.summary and "body.a.conv (4×8×8) channel 3/3" in state.summary
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.3"):
        feature_state(model, NEST_X, "body.a.conv", 4, 0)
    with pytest.raises(ValueError, match=r"index must be in 0\.\.4"):
        feature_state(model, NEST_X, "body.a.conv", 0, 5)
    with pytest.raises(ValueError, match="unknown layer"):
        feature_state(model, NEST_X, "bdy", 0, 0)


def test_feature_explorer_controls_update_state() -> None:
    from cnnlab.widgets.features import FeatureExplorer, feature_explorer

    model = nested()
    w = feature_explorer(model, NEST_X, labels=[0, 1, 2, 0, 1], classes=["x", "y", "z"])
    assert isinstance(w, FeatureExplorer)
    assert list(w.layer.options) == viz.conv_layers(model)
    assert w.channels == {"stem.conv": 4, "body.a.conv": 4, "body.b.conv": 8}
    assert (w.state.layer, w.state.channel, w.state.index) == ("stem.conv", 0, 0)
    assert bytes(w.image.value).startswith(b"\x89PNG")
    w.layer.value = "body.b.conv"
    assert w.channel.max == 7 and w.state.layer == "body.b.conv"
    w.channel.value = 6
    w.index.value = 4
    assert (w.state.channel, w.state.index, w.state.n_channels) == (6, 4, 8)
    assert "input 4/4" in w.summary.value
    w.layer.value = "stem.conv"  # fewer channels: the slider is clamped, then redrawn once
    assert w.channel.max == 3 and w.channel.value == 3
    assert (w.state.layer, w.state.channel) == ("stem.conv", 3)
    assert w.message.value == ""
    assert no_hooks(model)


def test_feature_explorer_accepts_a_dataset_and_checks_arguments() -> None:
    from cnnlab.widgets.features import feature_explorer

    class FakeDataset:  # the duck type of cnnlab.data.Dataset
        images = SEQ_X
        labels = torch.arange(6) % 5
        classes = ("a", "b", "c", "d", "e")

    w = feature_explorer(sequential(), FakeDataset(), layers=["0", "3", "5"], layer="3")
    assert w.state.layer == "3" and w.state.label_name == "a"
    assert w.channels == {"0": 4, "3": 6, "5": 6}
    with pytest.raises(ValueError, match="unknown layer"):
        feature_explorer(sequential(), SEQ_X, layer="9")
    with pytest.raises(ValueError, match=r"labels must have shape \(6,\)"):
        feature_explorer(sequential(), SEQ_X, labels=[1, 2])
    with pytest.raises(ValueError, match="no conv layers"):
        feature_explorer(nn.Sequential(nn.Flatten(), nn.Linear(192, 2)), SEQ_X)
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.3"):
        feature_explorer(sequential(), SEQ_X, channel=4)


def test_a_registry_model_with_input_check_hooks() -> None:
    from cnnlab.models import create_model

    model = create_model("resnet20")
    pre_hooks = {n: dict(m._forward_pre_hooks) for n, m in model.named_modules()}
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    names = viz.conv_layers(model)
    assert names[0] == "conv1" and "layer1.0.conv1" in names
    acts = viz.activations(model, x, ["conv1", "layer3"])
    with torch.no_grad():
        torch.testing.assert_close(acts["conv1"], model.eval().conv1(x))
    assert acts["layer3"].shape[:2] == (2, 64)
    assert viz.saliency(model, x[0]).shape == (32, 32)
    assert no_hooks(model)
    # the model's own pre-hooks (shape checks) are left exactly as they were
    assert {n: dict(m._forward_pre_hooks) for n, m in model.named_modules()} == pre_hooks


# -- learned filters vs hand-made kernels ------------------------------------------------
def test_kernel_similarity_matches_cosine_of_centred_kernels() -> None:
    g = torch.Generator().manual_seed(6)
    kernels = torch.randn(4, 3, 3, generator=g)
    filters = torch.randn(7, 3, 5, 5, generator=g)
    sim = viz.kernel_similarity(kernels, filters)
    assert sim.shape == (4, 7)
    grey = filters.sum(dim=1).flatten(1)
    for k in range(4):
        frame = torch.zeros(5, 5)
        frame[1:4, 1:4] = kernels[k]
        expected = torch.nn.functional.cosine_similarity(frame.flatten()[None], grey, dim=1)
        torch.testing.assert_close(sim[k], expected.abs())
        torch.testing.assert_close(
            viz.kernel_similarity(kernels, filters, signed=True)[k], expected
        )
    assert ((sim >= 0) & (sim <= 1)).all()


def test_kernel_similarity_finds_a_planted_filter_and_mixed_sizes() -> None:
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    dot = torch.ones(1, 1)
    filters = torch.randn(5, 5, 5, generator=torch.Generator().manual_seed(7))
    filters[2] = 0.0
    filters[2, 1:4, 1:4] = -3.0 * sobel  # opposite polarity, another scale
    filters[4] = 0.0  # an all-zero filter: similarity 0, not NaN
    sim = viz.kernel_similarity([sobel, dot], filters)
    assert sim.shape == (2, 5)
    torch.testing.assert_close(sim[0, 2], torch.tensor(1.0))
    assert int(sim[0].argmax()) == 2
    assert viz.kernel_similarity([sobel], filters, signed=True)[0, 2] < -0.999
    assert sim[:, 4].eq(0).all() and torch.isfinite(sim).all()
    # a 1×1 kernel sits at the centre: its similarity reads the centre weight only
    expected = filters[:, 2, 2].abs() / filters.flatten(1).norm(dim=1).clamp_min(1e-12)
    torch.testing.assert_close(sim[1], expected)
    # an even size difference is centred, an odd one puts the extra zeros bottom/right
    two = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    frame = torch.zeros(1, 5, 5)
    frame[0, 1:3, 1:3] = two
    torch.testing.assert_close(viz.kernel_similarity([two], frame), torch.ones(1, 1))


def test_kernel_similarity_errors() -> None:
    filters = torch.randn(3, 2, 3, 3)
    with pytest.raises(ValueError, match="larger than the 3×3 filters"):
        viz.kernel_similarity(torch.randn(1, 5, 5), filters)
    with pytest.raises(ValueError, match=r"filters must be 3-D or 4-D"):
        viz.kernel_similarity(torch.randn(1, 3, 3), torch.randn(9))
    with pytest.raises(ValueError, match=r"kernels\[1\] must be 2-D"):
        viz.kernel_similarity([torch.randn(3, 3), torch.randn(1, 3, 3)], filters)
    with pytest.raises(ValueError, match="at least one"):
        viz.kernel_similarity([], filters)
    with pytest.raises(TypeError, match="kernels must be"):
        viz.kernel_similarity("sobel_x", filters)
