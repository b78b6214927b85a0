"""Bad input gives a clear TypeError/ValueError naming the parameter, never a silent wrong
result or a crash deep inside torch."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab import filters, ops, viz
from cnnlab._validate import as_float
from cnnlab.data import load_dataset
from cnnlab.models import create_model, list_models
from cnnlab.train import GradNormRecorder, Trainer, evaluate, fit


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 3),
    )  # fmt: skip


def small_data(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 6, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


# -- registry ----------------------------------------------------------------------------------
def test_list_models_rejects_unknown_scale_and_tag() -> None:
    with pytest.raises(ValueError, match=r"unknown scale 'huge'.*Valid: imagenet, course"):
        list_models(scale="huge")
    with pytest.raises(ValueError, match=r"unknown tag 'nonexistent'.*Valid: .*resnet"):
        list_models(tag="nonexistent")
    with pytest.raises(ValueError, match="Did you mean 'resnet'"):
        list_models(tag="resnett")
    # valid filters still work and agree with the registry's own data
    assert set(list_models(scale="course")) < set(list_models())
    assert "resnet20" in list_models(tag="resnet")


# -- viz ---------------------------------------------------------------------------------------
def test_activations_rejects_a_non_name_for_layers() -> None:
    model, x = small_cnn(), small_data(2)[0]
    with pytest.raises(TypeError, match="layers must be a layer name or a list of names, got 5"):
        viz.activations(model, x, 5)  # type: ignore[arg-type]
    assert viz.activations(model, x, ("0", "1"))["1"].shape == (2, 4, 6, 6)


# -- lr and other floats -----------------------------------------------------------------------
def test_as_float() -> None:
    assert as_float(3, "a") == 3.0 and isinstance(as_float(3, "a"), float)
    assert as_float(torch.tensor(0.5), "a") == 0.5
    with pytest.raises(TypeError, match=r"a must be a number, got 'x' \(str\)"):
        as_float("x", "a")
    with pytest.raises(TypeError, match="a must be a number, got True"):
        as_float(True, "a")
    with pytest.raises(ValueError, match="a must be a finite number, got nan"):
        as_float(math.nan, "a")
    with pytest.raises(ValueError, match="a must be a positive number, got 0.0"):
        as_float(0, "a", minimum=0, exclusive=True)
    with pytest.raises(ValueError, match="a must be a number >= 1, got 0.5"):
        as_float(0.5, "a", minimum=1)
    assert as_float(0, "a", minimum=0) == 0.0


def test_lr_of_the_wrong_type_is_a_type_error() -> None:
    X = torch.rand(6, 6)
    with pytest.raises(TypeError, match="lr must be a number, got 'a'"):
        filters.learn_kernel(X, X[:4, :4], 3, lr="a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lr must be a number, got 'a'"):
        fit(small_cnn(), small_data(), lr="a", progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lr must be a number, got 'a'"):
        viz.activation_maximization(small_cnn(), "0", 0, size=(1, 6, 6), lr="a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="weight_decay must be a number"):
        viz.activation_maximization(small_cnn(), "0", 0, size=(1, 6, 6), weight_decay=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lr must be a positive number"):
        fit(small_cnn(), small_data(), lr=0, progress=False)
    with pytest.raises(ValueError, match="lr must be a finite number"):
        filters.learn_kernel(X, X[:4, :4], 3, lr=math.inf)


# -- fit on non-finite data or a diverging loss ------------------------------------------------
def test_fit_rejects_non_finite_images() -> None:
    x, y = small_data()
    x[3, 0, 2, 2] = math.nan
    x[7, 0, 0, 0] = math.inf
    with pytest.raises(ValueError, match=r"train_data images contain NaN or inf values \(2 of 32"):
        fit(small_cnn(), (x, y), progress=False)
    with pytest.raises(ValueError, match="val_data images contain NaN or inf"):
        fit(small_cnn(), small_data(), (x, y), progress=False)


def test_fit_raises_when_the_loss_diverges() -> None:
    x, y = small_data()
    torch.manual_seed(0)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(36, 8), nn.Linear(8, 3))
    with pytest.raises(FloatingPointError, match=r"loss .* became nan in epoch 1.*lr=1e\+10"):
        fit(linear, (x, y), lr=1e10, epochs=3, batch_size=8, progress=False)
    # a sane run does not trip the check
    h = fit(small_cnn(), (x, y), lr=0.05, epochs=2, batch_size=8, progress=False)
    assert all(math.isfinite(v) for v in h.train_loss)


# -- ops on integer tensors --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (ops.global_avg_pool2d, ()),
        (ops.max_pool2d, (2,)),
        (ops.avg_pool2d, (2,)),
        (ops.conv2d, (torch.ones(1, 1, 2, 2, dtype=torch.int64),)),
    ],
)
def test_ops_reject_integer_tensors(fn: object, args: tuple) -> None:
    x = torch.arange(16).reshape(1, 1, 4, 4)
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor, got torch.int64 "):
        fn(x, *args)  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"\(use x.float\(\)\)"):
        fn(x[0], *args) if fn is not ops.conv2d else fn(x, *args)  # type: ignore[operator]
    # float input of course works, and equals torch
    xf = x.float()
    ref = {
        ops.global_avg_pool2d: lambda t: F.adaptive_avg_pool2d(t, 1),
        ops.max_pool2d: lambda t: F.max_pool2d(t, 2),
        ops.avg_pool2d: lambda t: F.avg_pool2d(t, 2),
        ops.conv2d: lambda t: F.conv2d(t, args[0].float()),
    }[fn](xf)
    got = fn(xf, *(a.float() for a in args)) if fn is ops.conv2d else fn(xf, *args)  # type: ignore[operator]
    torch.testing.assert_close(got, ref)


def test_convolve2d_keeps_integer_2d_input_and_rejects_integer_batches() -> None:
    X = torch.arange(9).reshape(3, 3)
    assert ops.convolve2d(X, torch.tensor([[0, 1], [2, 3]])).tolist() == [[5, 11], [23, 29]]
    with pytest.raises(TypeError, match="X must be a floating-point tensor"):
        ops.convolve2d(X[None, None], torch.ones(1, 1, 2, 2, dtype=torch.int64))


# -- datasets ----------------------------------------------------------------------------------
def test_load_dataset_size_pair_and_difficulty() -> None:
    a = load_dataset("shapes", n=4, size=(16, 16))
    b = load_dataset("shapes", n=4, size=16)
    assert a.images.shape == (4, 3, 16, 16) and torch.equal(a.images, b.images)
    with pytest.raises(ValueError, match="size for 'shapes' must be square.*got 16×24"):
        load_dataset("shapes", n=4, size=(16, 24))
    with pytest.raises(ValueError, match="at least 8"):
        load_dataset("shapes", n=4, size=4)
    with pytest.raises(TypeError, match="size must be an integer"):
        load_dataset("digits", n=4, size="big")  # type: ignore[arg-type]
    assert load_dataset("digits", n=3, size=(10, 12)).images.shape == (3, 1, 10, 12)
    with pytest.raises(
        ValueError, match="difficulty only applies to dataset 'shapes', not 'digits'"
    ):
        load_dataset("digits", n=4, difficulty="hard")
    load_dataset("digits", n=4, difficulty="medium")  # the default is fine anywhere
    with pytest.raises(ValueError, match="unknown difficulty 'extreme'"):
        load_dataset("shapes", n=4, difficulty="extreme")


# -- the training API: raw torch errors become clear ones --------------------------------------
class _TupleOut(nn.Module):
    """Returns (logits, aux) like an Inception model with an auxiliary head."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(36, 3)

    def forward(self, x: torch.Tensor) -> object:
        out = self.fc(x.flatten(1))
        return out, out


class _DictOut(_TupleOut):
    def forward(self, x: torch.Tensor) -> object:
        return {"logits": self.fc(x.flatten(1))}


class _MapOut(_TupleOut):
    def forward(self, x: torch.Tensor) -> object:
        return self.fc(x.flatten(1))[:, None]  # (N, 1, classes): not logits


class _FewRows(_TupleOut):
    def forward(self, x: torch.Tensor) -> object:
        return self.fc(x.flatten(1))[:1]  # one row for the whole batch


def test_evaluate_names_labels_out_of_range() -> None:
    x, y = small_data()
    with pytest.raises(
        ValueError,
        match=r"data labels range over 10\.\.12 but model 'Sequential' "
        r"has 3 outputs \(classes 0\.\.2\); build it with num_classes=13",
    ):
        evaluate(small_cnn(), (x, y + 10))
    with pytest.raises(ValueError, match=r"range over -5\.\.-3 .* class indices start at 0"):
        evaluate(small_cnn(), (x, y - 5))


@pytest.mark.parametrize(
    ("model", "error", "message"),
    [
        (
            _TupleOut,
            TypeError,
            r"must return one logits tensor \(N, classes\), got a tuple of "
            r"length 2; with auxiliary outputs",
        ),
        (_DictOut, TypeError, r"got a dict with keys \['logits'\]"),
        (
            _MapOut,
            ValueError,
            r"must return logits \(N, classes\) with N = 32 .* got shape "
            r"\(32, 1, 3\)",
        ),
        (_FewRows, ValueError, r"with N = 32 \(the batch\), got shape \(1, 3\)"),
    ],
)
def test_fit_and_evaluate_name_a_model_output_that_is_not_logits(
    model: type[nn.Module], error: type[Exception], message: str
) -> None:
    data = small_data()
    with pytest.raises(error, match=message):
        fit(model(), data, batch_size=32, progress=False)
    with pytest.raises(error, match=message):
        evaluate(model(), data)


def test_evaluate_topk_takes_an_int_and_refuses_empty_or_text() -> None:
    data = small_data()
    model = small_cnn()
    assert evaluate(model, data, topk=2) == evaluate(model, data, topk=(2,))
    assert set(evaluate(model, data, topk=2)) == {"loss", "top2", "n"}
    with pytest.raises(ValueError, match=r"topk is empty: give at least one k"):
        evaluate(model, data, topk=())
    with pytest.raises(TypeError, match=r"topk must be an int k or a sequence of ks"):
        evaluate(model, data, topk="15")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="topk must be an integer >= 1, got 0"):
        evaluate(model, data, topk=(1, 0))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got function"):
        evaluate(lambda x: x, data)  # type: ignore[arg-type]


def test_callbacks_none_means_none_and_a_non_callback_is_refused() -> None:
    data = small_data()
    assert len(fit(small_cnn(), data, callbacks=None, progress=False)) == 1
    assert Trainer(small_cnn(), callbacks=None).callbacks == []
    with pytest.raises(
        TypeError,
        match=r"callbacks must be a list of callback objects, got "
        r"GradNormRecorder; pass \[callback\] for a single one",
    ):
        fit(small_cnn(), data, callbacks=GradNormRecorder(), progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"callbacks\[0\] \(function\) has none of the hook"):
        fit(small_cnn(), data, callbacks=[lambda t: None], progress=False)
    with pytest.raises(TypeError, match="callbacks must be a list of callback objects, got int"):
        Trainer(small_cnn(), callbacks=3)  # type: ignore[arg-type]


def test_images_of_another_dtype_name_it_and_the_fix() -> None:
    x, y = small_data()
    with pytest.raises(
        TypeError,
        match=r"train_data images are torch.float64 but the model's "
        r"weights are torch.float32: .*images.float\(\)",
    ):
        fit(small_cnn(), (x.double(), y), progress=False)
    with pytest.raises(TypeError, match=r"data images are torch.float64 .*images.float\(\)"):
        evaluate(small_cnn(), (x.double(), y))
    with pytest.raises(ValueError, match=r"got torch.uint8 .*convert with images.float\(\)"):
        fit(small_cnn(), ((x * 255).to(torch.uint8), y), progress=False)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.uint8, torch.int64])
def test_a_registered_model_names_a_wrong_input_dtype(dtype: torch.dtype) -> None:
    model = create_model("lenet5_modern")
    x = torch.rand(2, 1, 32, 32).mul(255).to(dtype)
    fix = r"x.float\(\)" if dtype.is_floating_point else r"x.float\(\) / 255"
    with pytest.raises(TypeError, match=rf"layer 'conv1' \(Conv2d 1->6 5×5/1\) .*{dtype}.*{fix}"):
        model(x)
    assert model(x.float()).shape == (2, 10)  # the fix works


def test_load_pretrained_is_exported_with_the_registry() -> None:
    import cnnlab.models
    from cnnlab.models.pretrained import load_pretrained

    assert cnnlab.models.load_pretrained is load_pretrained
    assert "load_pretrained" in cnnlab.models.__all__


# The largest square input each model cannot take (found on the meta device for every size up
# to the design size): it must fail with a ValueError naming the layer, never torch's
# RuntimeError, and one pixel more must work. ResNets (padding everywhere, adaptive pooling)
# take even a 1×1 image.
@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("lenet5", 31, r"layer 'C5' \(Conv2d 16->120 5×5/1\) needs at least 5×5 input, got 4×4"),
        ("lenet5_modern", 31, r"layer 'fc1' \(Linear 400->120\) expects 400 input features"),
        ("alexnet", 226, r"layer 'classifier.fc6' \(Linear 9216->4096\) expects 9216 input"),
        ("vgg16", 31, r"layer 'features.30' \(MaxPool2d 2×2/2\) needs at least 2×2 input, got 1×1"),
        ("googlenet", 46, r"needs at least"),
        ("inception_v3", 74, r"needs at least"),
        ("densenet121", 28, r"needs at least"),
    ],
)
def test_an_input_too_small_for_a_registered_model_names_the_layer(
    name: str, size: int, message: str
) -> None:
    from cnnlab.models import model_info

    channels = model_info(name).input_size[0]
    with torch.device("meta"):  # no memory, no compute: only shapes
        model = create_model(name).eval()
    with pytest.raises(ValueError, match=message) as info:
        model(torch.empty(2, channels, size, size, device="meta"))
    assert "the input image" in str(info.value) and "designed for input" in str(info.value)
    assert model(torch.empty(2, channels, size + 1, size + 1, device="meta")).shape[0] == 2


def test_small_inputs_of_lenet5_and_bn_inception_are_value_errors() -> None:
    """LeNet-5's own layers (subsampling, partial convolution) and BN-Inception's stride-2
    modules on an odd map size used to fail inside torch."""
    with torch.device("meta"):
        lenet5 = create_model("lenet5").eval()
        bn_inception = create_model("bn_inception").eval()
    with pytest.raises(ValueError, match=r"layer 'C3' \(PartialConv2d 5×5/1\) needs at least 5×5"):
        lenet5(torch.empty(2, 1, 6, 6, device="meta"))
    with pytest.raises(ValueError, match=r"layer 'S2' \(Subsampling 2×2/2\) needs at least 2×2"):
        lenet5(torch.empty(2, 1, 5, 5, device="meta"))
    with pytest.raises(
        ValueError,
        match=r"branches of InceptionBN give feature maps of different "
        r"sizes \(1×1, 2×2\)",
    ):
        bn_inception(torch.empty(2, 3, 23, 23, device="meta"))


def test_cost_summary_of_an_impossible_input_is_a_value_error() -> None:
    from cnnlab import cost
    from cnnlab.train import InputShapeError

    plain = nn.Sequential(nn.Conv2d(1, 2, 5), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    with pytest.raises(
        InputShapeError,
        match=r"Layer '0' \(Conv2d\) failed on input of shape "
        r"\(1, 1, 3, 3\)",
    ):
        cost.summary(plain, (1, 3, 3))
    with pytest.raises(InputShapeError, match=r"Layer '2' \(Linear\)"):
        cost.summary(plain, (1, 9, 9))
    with pytest.raises(ValueError, match=r"layer 'conv1' .* needs at least 5×5 input, got 2×2"):
        cost.summary(create_model("lenet5_modern"), (1, 2, 2))
    with pytest.raises(ValueError, match=r"device must be 'cpu', 'cuda', .* got 'gpu'"):
        cost.summary(plain, (1, 8, 8), device="gpu")
    with pytest.raises(TypeError, match=r"dtype must be a floating torch.dtype .* got 'float'"):
        cost.summary(plain, (1, 8, 8), dtype="float")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"dtype must be a floating .* got torch.int64"):
        cost.summary(plain, (1, 8, 8), dtype=torch.int64)


def test_bench_checks_every_argument_before_running() -> None:
    from cnnlab.bench import format_table, run_bench

    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        run_bench(["lenet5_modern"], steps=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got -1"):
        run_bench(["lenet5_modern"], batch_size=-1)
    with pytest.raises(ValueError, match="lr must be a positive number, got -1.0"):
        run_bench(["lenet5_modern"], lr=-1)
    with pytest.raises(ValueError, match="models is empty"):
        run_bench([])
    with pytest.raises(ValueError, match="unknown model 'nope'"):  # the last name, checked first
        run_bench(["lenet5_modern", "nope"])
    with pytest.raises(ValueError, match="threads must be an integer >= 1, got 0"):
        run_bench(["lenet5_modern"], threads=0)
    with pytest.raises(TypeError, match="result must be the dict run_bench returns"):
        format_table({})


def test_bench_takes_one_model_name_as_a_string() -> None:
    from cnnlab.bench import run_bench

    result = run_bench("lenet5_modern", steps=1, warmup=0, batch_size=2, peak=False,
                       compile=False)  # fmt: skip
    assert list(result["models"]) == ["lenet5_modern"]


def test_experiment_typos_are_named() -> None:
    from cnnlab.experiments import Band, check_band, run_experiment, summarise

    with pytest.raises(ValueError, match=r"unknown experiment 'filter_visualization'"):
        run_experiment("filter_visualization")
    with pytest.raises(ValueError, match=r"has no config 'simple_cn'; configs: simple_cnn"):
        run_experiment("filter_visualisation", configs="simple_cn")  # one name, not letters
    with pytest.raises(ValueError, match="configs is empty"):
        run_experiment("filter_visualisation", configs=[])
    with pytest.raises(TypeError, match=r"seeds must be an integer, got 2.5"):
        run_experiment("filter_visualisation", seeds=2.5)
    with pytest.raises(ValueError, match="threads must be an integer >= 1, got 0"):
        run_experiment("filter_visualisation", threads=0)
    with pytest.raises(ValueError, match=r"has no metric 'val_accc': \['train_acc', 'val_acc'"):
        check_band("filter_visualisation", "simple_cnn", {"val_accc": 0.5})
    with pytest.raises(ValueError, match=r"has no config 'simple_cn'"):
        check_band("filter_visualisation", "simple_cn", {"val_acc": 0.5})
    with pytest.raises(TypeError, match=r"values must be a dict \{metric: value\}"):
        check_band("filter_visualisation", "simple_cnn", [0.5])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be a band file"):
        Band.from_file({}, "simple_cnn", "val_acc", "x", "quick")
    with pytest.raises(TypeError, match="a band's values must be numbers"):
        summarise(["a"])  # type: ignore[list-item]


def test_plots_name_empty_and_wrong_input() -> None:
    from cnnlab import plots
    from cnnlab.experiments import load_band

    with pytest.raises(ValueError, match=r"weight holds no filters to show \(shape \(0, 1, 3, 3\)"):
        plots.show_filters(torch.zeros(0, 1, 3, 3))
    with pytest.raises(ValueError, match=r"images is empty \(shape \(0, 1, 4, 4\)\)"):
        plots.show_image_grid(torch.zeros(0, 1, 4, 4))
    with pytest.raises(TypeError, match="history must be a cnnlab.train.History or a dict"):
        plots.plot_history(None)
    with pytest.raises(TypeError, match="history's train_loss must be a list of numbers"):
        plots.plot_history({"train_loss": "high"})
    band = load_band("filter_visualisation")
    with pytest.raises(ValueError, match=r"no 'val_accc' for config 'simple_cnn'; metrics: "):
        plots.plot_band(band, "val_accc")
    with pytest.raises(ValueError, match=r"the band has no config 'x'; configs: simple_cnn"):
        plots.plot_band(band, "val_acc_curve", configs=["x"])


def test_viz_names_bad_layers_channels_and_targets() -> None:
    model, x = small_cnn(), small_data(4)[0]
    with pytest.raises(ValueError, match=r"unknown layer '9'.*Valid: 0, 1, 2, 3, 4"):
        viz.activations(model, x, "9")
    with pytest.raises(ValueError, match=r"channel must be in 0..3 for layer '0'"):
        viz.top_activating(model, "0", 7, x, k=1)
    with pytest.raises(ValueError, match=r"k must be <= the number of images \(4\), got 9"):
        viz.top_activating(model, "0", 0, x)
    with pytest.raises(ValueError, match=r"target must be in 0..2, got 5"):
        viz.saliency(model, x[0], 5)
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got dtype torch.uint8"):
        viz.activations(model, x.to(torch.uint8))


# -- topics 10, 11, 14, 15: gradients, residuals, latency, transfer, their widgets, ops BN -----
# Each attack used to end in a traceback from deep inside (AttributeError, KeyError, torch's
# RuntimeError, a libgomp abort), a huge allocation or a silently wrong result.
def _tiny_resnet() -> nn.Module:
    from cnnlab.experiments.degradation import degradation_model

    torch.manual_seed(0)
    return degradation_model(8, residual=True, width=2, in_channels=1)


def _deep_plain() -> nn.Module:
    from cnnlab.models.deep_plain import build_deep_plain

    torch.manual_seed(0)
    return build_deep_plain(depth=2, width=4)


def _recorder() -> object:
    from cnnlab.train import GradNormRecorder

    return GradNormRecorder()


def _lab() -> object:
    from cnnlab.course.manifest import get_topic
    from cnnlab.transfer import TransferLab

    return TransferLab(get_topic(15).profile_sizes("quick"))


def _shapes() -> object:
    return load_dataset("shapes", "test", n=20, size=16)


def _imagenet() -> object:
    from cnnlab.published.comparing import IMAGENET

    return IMAGENET


def _rows() -> tuple:
    from cnnlab.widgets.model_comparison import comparison_rows

    return comparison_rows(_imagenet(), {"resnet50": (25.6e6, 4.1e9), "vgg16": (138e6, 15.5e9)})


_X8 = (4, 1, 8, 8)
_Y4 = torch.tensor([0, 1, 2, 3])
_VG_SIZES = {"dataset": "digits", "image_size": 8, "n_train": 16, "depth": 2, "width": 4,
             "probe_batch": 4, "epochs": 1, "batch_size": 8, "lr": 0.1, "sweep_depth": 2,
             "sweep_epochs": 1}  # fmt: skip


def _latency(**kw: object) -> object:
    from cnnlab.latency import measure_latency

    return measure_latency(kw.pop("model", nn.Conv2d(3, 2, 3)), kw.pop("size", (3, 8, 8)), **kw)


def _call(module: str, name: str, *args: object, **kw: object) -> object:
    import importlib

    return getattr(importlib.import_module(module), name)(*args, **kw)


L, T, G = "cnnlab.latency", "cnnlab.transfer", "cnnlab.gradients"
VG, DG = "cnnlab.experiments.vanishing_gradients", "cnnlab.experiments.degradation"
GF, DE = "cnnlab.widgets.gradient_flow", "cnnlab.widgets.degradation_explorer"
MC, TE = "cnnlab.widgets.model_comparison", "cnnlab.widgets.transfer_explorer"

_ATTACKS = [
    # cnnlab.latency
    ("measure_latency model None", lambda: _latency(model=None), TypeError, "model must be"),
    ("measure_latency size int", lambda: _latency(size=8), TypeError, r"input_size must be \(C, H"),
    ("measure_latency size 8.5", lambda: _latency(size=(3, 8, 8.5)), TypeError, r"input_size\[2\]"),
    ("measure_latency size 0", lambda: _latency(size=(0, 8, 8)), ValueError, r"input_size\[0\]"),
    ("measure_latency size -8", lambda: _latency(size=(3, -8, 8)), ValueError, r"input_size\[1\]"),
    ("measure_latency size bool", lambda: _latency(size=(3, True, 8)), TypeError, "input_size"),
    ("measure_latency size huge", lambda: _latency(size=(3, 10**6, 10**6)), ValueError,
     r"an input of size \(3, 1000000, 1000000\) would need about"),
    ("measure_latency channels", lambda: _latency(size=(1, 8, 8)), ValueError,
     r"cannot take input of shape \(1, 1, 8, 8\)"),
    ("measure_latency repeats str", lambda: _latency(repeats="5"), TypeError, "repeats must be"),
    ("measure_latency repeats bool", lambda: _latency(repeats=True), TypeError, "repeats must be"),
    ("measure_latency warmup 0.5", lambda: _latency(warmup=0.5), TypeError, "warmup must be"),
    ("measure_latency threads 1.5", lambda: _latency(threads=1.5), TypeError, "threads must be"),
    ("measure_latency threads 1e9", lambda: _latency(threads=10**9), ValueError,
     r"threads must be in 1\.\.\d+"),
    ("measure_latency device gpu", lambda: _latency(device="gpu"), ValueError, "device must be"),
    ("fit_latency None", lambda: _call(L, "fit_latency", None, {}), TypeError, "gmac must be"),
    ("fit_latency nan", lambda: _call(L, "fit_latency", {"a": math.nan}, {"a": 1.0}),
     ValueError, r"gmac\['a'\] must be a finite"),
    ("fit_latency inf", lambda: _call(L, "fit_latency", {"a": 1.0}, {"a": math.inf}),
     ValueError, r"ms\['a'\] must be a finite"),
    ("fit_latency str", lambda: _call(L, "fit_latency", {"a": "1"}, {"a": 1.0}), TypeError,
     r"gmac\['a'\] must be a number"),
    ("fit_latency bool", lambda: _call(L, "fit_latency", {"a": True}, {"a": 1.0}), TypeError,
     r"gmac\['a'\] must be a number"),
    ("LatencyFit.predict -1", lambda: _call(L, "LatencyFit", 2.0, {}).predict(-1), ValueError,
     "gmac must be a number >= 0"),
    ("pareto_front None", lambda: _call(L, "pareto_front", None), TypeError, "rows must be"),
    ("pareto_front str", lambda: _call(L, "pareto_front", "abc"), TypeError, "rows must be"),
    ("pareto_front short row", lambda: _call(L, "pareto_front", [("a", 1)]), ValueError,
     r"rows\[0\] must be \(name, cost, error\)"),
    ("pareto_front nan", lambda: _call(L, "pareto_front", [("a", math.nan, 1), ("b", 1, 1)]),
     ValueError, r"rows\[0\] cost must be a finite"),
    ("pareto_front twice", lambda: _call(L, "pareto_front", [("a", 1, 2), ("a", 2, 1)]),
     ValueError, "rows name 'a' twice"),
    ("course_results typo", lambda: _call(L, "course_results", "val_accc"), ValueError,
     r"single-number metric 'val_accc'; metrics: .*val_acc"),
    ("course_results curve", lambda: _call(L, "course_results", "val_acc_curve"), ValueError,
     "single-number metric 'val_acc_curve'"),
    ("course_results metric None", lambda: _call(L, "course_results", None), TypeError,
     "metric must be"),
    ("course_results skip typo", lambda: _call(L, "course_results", skip=["latncy"]), ValueError,
     "unknown experiment 'latncy'"),
    # cnnlab.transfer
    ("parse_treatment newline", lambda: _call(T, "parse_treatment", "AnB3\n"), ValueError,
     "is not a treatment"),
    ("parse_treatment 03", lambda: _call(T, "parse_treatment", "AnB03"), ValueError,
     "is not a treatment"),
    ("yosinski_net huge", lambda: _call(T, "yosinski_net", 10**10), ValueError,
     r"yosinski_net\(10000000000, .* would need about"),
    ("layer_names bool", lambda: _call(T, "layer_names", True), TypeError, "n must be an integer"),
    ("layer_names str", lambda: _call(T, "layer_names", "2"), TypeError, "n must be an integer"),
    ("layer_names 2.5", lambda: _call(T, "layer_names", 2.5), TypeError, "n must be an integer"),
    ("copy_layers None", lambda: _call(T, "copy_layers", None, nn.Linear(1, 1), 1), TypeError,
     "source must be a torch.nn.Module"),
    ("copy_layers other net", lambda: _call(T, "copy_layers", nn.Sequential(), nn.Sequential(), 1),
     ValueError, "source has no layer 'conv1'"),
    ("copy_layers widths", lambda: _call(
        T, "copy_layers", _call(T, "yosinski_net", channels=(8, 16, 32, 32)),
        _call(T, "yosinski_net"), 1), ValueError, r"target's conv1.weight \(shape"),
    ("class_split unknown", lambda: _call(T, "class_split", _shapes(), ["disk", "blob"]),
     ValueError, "unknown class 'blob'"),
    ("class_split str", lambda: _call(T, "class_split", _shapes(), "disk"), TypeError,
     "classes must be a non-empty list"),
    ("class_split empty", lambda: _call(T, "class_split", _shapes(), []), TypeError,
     "classes must be a non-empty list"),
    ("class_split twice", lambda: _call(T, "class_split", _shapes(), ["disk", "disk"]),
     ValueError, "classes names a class twice"),
    ("class_split per_class -1", lambda: _call(T, "class_split", _shapes(), ["disk"], -1),
     ValueError, "per_class must be an integer >= 1"),
    ("class_split per_class bool", lambda: _call(T, "class_split", _shapes(), ["disk"], True),
     TypeError, "per_class must be an integer"),
    ("class_split tuple", lambda: _call(T, "class_split", (torch.zeros(1), _Y4), ["disk"]),
     TypeError, "data must be a cnnlab.data.Dataset"),
    ("split_data part C", lambda: _call(T, "split_data", "similar", "C", _shapes()), ValueError,
     "part must be 'A' or 'B'"),
    ("split_data split list", lambda: _call(T, "split_data", ["similar"], "A", _shapes()),
     ValueError, "split must be one of"),
    ("trainable_counts str", lambda: _call(T, "trainable_counts", _call(T, "yosinski_net"),
     "conv1"), TypeError, "frozen must be a list"),
    ("trainable_counts typo", lambda: _call(T, "trainable_counts", _call(T, "yosinski_net"),
     ["conv9"]), ValueError, "unknown module 'conv9'"),
    ("finetune_options nan", lambda: _call(T, "finetune_options", math.nan), ValueError,
     "scale must be a finite"),
    ("finetune_options -1", lambda: _call(T, "finetune_options", -1), ValueError,
     "scale must be a positive"),
    ("finetune_options str", lambda: _call(T, "finetune_options", "0.1"), TypeError,
     "scale must be a number"),
    ("TransferLab sizes {}", lambda: _call(T, "TransferLab", {}), ValueError,
     "sizes lacks 'image_size'.*profile_sizes"),
    ("TransferLab sizes None", lambda: _call(T, "TransferLab", None), TypeError, "sizes must be"),
    ("TransferLab seed str", lambda: _call(T, "TransferLab", _lab().sizes, seed="a"), TypeError,
     "seed must be an integer"),
    ("TransferLab seed huge", lambda: _call(T, "TransferLab", _lab().sizes, seed=2**70),
     ValueError, r"seed must be in 0\.\."),
    ("TransferLab.data kind", lambda: _lab().data("similar", "B", "val"), ValueError,
     "unknown kind 'val'"),
    ("TransferLab.data part", lambda: _lab().data("similar", "C", "test"), ValueError,
     "part must be 'A' or 'B'"),
    ("TransferLab.train kind", lambda: _lab().train(nn.Linear(1, 1), "similar", "test"),
     ValueError, "unknown kind 'test'"),
    ("TransferLab.base part", lambda: _lab().base("similar", "C"), ValueError,
     "part must be 'A' or 'B'"),
    ("TransferLab.fresh salt", lambda: _lab().fresh("a"), TypeError, "salt must be an integer"),
    ("TransferLab.regime method", lambda: _lab().regime("similar-little-bogus"), ValueError,
     "unknown regime 'similar-little-bogus'"),
    ("TransferLab.regime None", lambda: _lab().regime(None), ValueError, "unknown regime None"),
    # cnnlab.residuals
    ("residual_blocks None", lambda: _call("cnnlab.residuals", "residual_blocks", None),
     TypeError, "model must be a torch.nn.Module"),
    ("branch_ratios int", lambda: _call("cnnlab.residuals", "branch_ratios", _tiny_resnet(),
     torch.ones(*_X8, dtype=torch.long)), TypeError, "images are torch.int64"),
    ("branch_ratios empty", lambda: _call("cnnlab.residuals", "branch_ratios", _tiny_resnet(),
     torch.zeros(0, 1, 8, 8)), ValueError, "images is empty"),
    ("branch_ratios nan", lambda: _call("cnnlab.residuals", "branch_ratios", _tiny_resnet(),
     torch.full(_X8, math.nan)), ValueError, "images contain NaN or inf"),
    ("branch_ratios device", lambda: _call("cnnlab.residuals", "branch_ratios", _tiny_resnet(),
     torch.empty(*_X8, device="meta")), ValueError, "cannot take input of shape"),
    # cnnlab.gradients
    ("sigmoid_derivative float", lambda: _call(G, "sigmoid_derivative", 0.5), TypeError,
     "x must be a torch.Tensor"),
    ("chain_product bool", lambda: _call(G, "chain_product", True, 3), TypeError,
     "factors must be a number"),
    ("chain_product nan", lambda: _call(G, "chain_product", math.nan, 3), ValueError,
     "factors must be a finite"),
    ("chain_product str", lambda: _call(G, "chain_product", "0.25", 3), TypeError,
     "factors must be a number or a list"),
    ("chain_product list nan", lambda: _call(G, "chain_product", [0.5, math.nan]), ValueError,
     r"factors\[1\] must be a finite"),
    ("chain_product list+depth", lambda: _call(G, "chain_product", [0.5], 10), ValueError,
     "depth is for a single factor"),
    ("is_layer_weight None", lambda: _call(G, "is_layer_weight", None, None), TypeError,
     r"is_layer_weight takes \(name, parameter\)"),
    ("grad_norm_profile model", lambda: _call(G, "grad_norm_profile", None, torch.rand(_X8), _Y4),
     TypeError, "model must be"),
    ("grad_norm_profile int", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.ones(*_X8, dtype=torch.long), _Y4), ValueError, "images must be a float tensor"),
    ("grad_norm_profile channels", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.rand(4, 3, 8, 8), _Y4), ValueError, "Layer 'block1.conv'"),
    ("grad_norm_profile labels float", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.rand(_X8), _Y4.float()), ValueError, "labels must be an integer tensor"),
    ("grad_norm_profile labels short", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.rand(_X8), _Y4[:2]), ValueError, "4 images but 2 labels"),
    ("grad_norm_profile label 10", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.rand(_X8), torch.full((4,), 10)), ValueError, r"labels range over 10\.\.10"),
    ("grad_norm_profile label -100", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.rand(_X8), torch.full((4,), -100)), ValueError, "class indices start at 0"),
    ("grad_norm_profile empty", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.rand(0, 1, 8, 8), _Y4[:0]), ValueError, "grad_norm_profile is empty"),
    ("grad_norm_profile nan", lambda: _call(G, "grad_norm_profile", _deep_plain(),
     torch.full(_X8, math.nan), _Y4), ValueError, "images contain NaN or inf"),
    ("grad_norm_profile no conv", lambda: _call(G, "grad_norm_profile", nn.Sequential(
        nn.Flatten(), nn.Linear(64, 10)), torch.rand(_X8), _Y4), ValueError,
     "no trainable convolution weight"),
    ("grad_norm_profile frozen", lambda: _call(G, "grad_norm_profile",
     _deep_plain().requires_grad_(False), torch.rand(_X8), _Y4), ValueError,
     "no trainable convolution weight"),
    ("recorded_profile dict", lambda: _call(G, "recorded_profile", {"a": [1.0]}), TypeError,
     "recorder must be a cnnlab.train.GradNormRecorder"),
    ("profile_in_band None", lambda: _call(G, "profile_in_band", None, "c", "m", [1.0]),
     TypeError, "band must be a band file"),
    ("profile_in_band config", lambda: _call(G, "profile_in_band", {"results": {"c": {}}}, "x",
     "m", [1.0]), ValueError, "the band has no config 'x'; configs: c"),
    ("profile_in_band metric", lambda: _call(G, "profile_in_band", {"results": {"c": {"m": {}}}},
     "c", "x", [1.0]), ValueError, "no 'x' for config 'c'; metrics: m"),
    ("profile_in_band scalar", lambda: _call(G, "profile_in_band",
     {"results": {"c": {"m": {"min": 1.0, "max": 2.0}}}}, "c", "m", [1.5]), ValueError,
     "'m' is one number per run, not a per-layer profile"),
    ("profile_in_band values", lambda: _call(G, "profile_in_band",
     {"results": {"c": {"m": {"min": [1.0], "max": [2.0]}}}}, "c", "m", ["a"]), TypeError,
     r"values\[0\] must be a number"),
    # cnnlab.models.deep_plain
    ("build_deep_plain depth huge", lambda: _call("cnnlab.models.deep_plain", "build_deep_plain",
     depth=10**6), ValueError, r"build_deep_plain\(depth=1000000, .* would need about"),
    ("build_deep_plain width huge", lambda: _call("cnnlab.models.deep_plain", "build_deep_plain",
     depth=2, width=10**6), ValueError, "width=1000000.* would need about"),
    ("build_deep_plain classes huge", lambda: _call("cnnlab.models.deep_plain",
     "build_deep_plain", num_classes=10**10), ValueError, "num_classes=10000000000.* would need"),
    ("build_deep_plain norm_layer", lambda: _call("cnnlab.models.deep_plain", "build_deep_plain",
     batch_norm=True, norm_layer="bn"), TypeError, "norm_layer must be a class"),
    ("init_weights None", lambda: _call("cnnlab.models.deep_plain", "init_weights", None, "he"),
     TypeError, "model must be a torch.nn.Module"),
    # cnnlab.experiments.degradation
    ("parse_config None", lambda: _call(DG, "parse_config", None), ValueError,
     "config must be plain<depth> or resnet<depth>, got None"),
    ("parse_config 020", lambda: _call(DG, "parse_config", "plain020"), ValueError,
     "config must be plain<depth>"),
    ("parse_config arabic", lambda: _call(DG, "parse_config", "plain\u0662\u0660"), ValueError,
     "config must be plain<depth>"),
    ("degradation_model str", lambda: _call(DG, "degradation_model", "20", residual=True),
     TypeError, "depth must be an integer"),
    ("degradation_model bool", lambda: _call(DG, "degradation_model", True, residual=True),
     TypeError, "depth must be an integer"),
    ("degradation_model huge", lambda: _call(DG, "degradation_model", 6 * 10**6 + 2,
     residual=True), ValueError, r"degradation_model\(6000002, width=16\) would need about"),
    ("degradation_model width", lambda: _call(DG, "degradation_model", 8, residual=True, width=0),
     ValueError, "width must be an integer >= 1"),
    # cnnlab.experiments.vanishing_gradients
    ("Spec.depth str", lambda: _call(VG, "spec_of", "relu_he").depth({"depth": "3"}), TypeError,
     r"sizes\['depth'\] must be an integer"),
    ("Spec.epochs 0", lambda: _call(VG, "spec_of", "relu_he").epochs({"epochs": 0}), ValueError,
     r"sizes\['epochs'\] must be an integer >= 1"),
    ("Spec.depth missing", lambda: _call(VG, "spec_of", "relu_he").depth({}), ValueError,
     "sizes lacks 'depth'"),
    ("accuracy no parameters", lambda: _call(VG, "accuracy", nn.Flatten(), torch.rand(_X8),
     torch.tensor([0, 1])), ValueError, "4 images but 2 labels"),
    ("accuracy labels 2-D", lambda: _call(VG, "accuracy", _deep_plain(), torch.rand(_X8),
     _Y4[:, None]), ValueError, "labels must be an integer tensor"),
    ("accuracy empty", lambda: _call(VG, "accuracy", _deep_plain(), torch.rand(0, 1, 8, 8),
     _Y4[:0]), ValueError, "accuracy is empty"),
    ("start_loss batch -1", lambda: _call(VG, "start_loss", _deep_plain(), (torch.rand(_X8), _Y4),
     -1), ValueError, "batch_size must be an integer >= 1"),
    ("start_loss None", lambda: _call(VG, "start_loss", _deep_plain(), None, 8), TypeError,
     "train must be a cnnlab.data.Dataset"),
    ("start_loss labels", lambda: _call(VG, "start_loss", _deep_plain(), (torch.rand(_X8),
     _Y4 + 10), 8), ValueError, r"train labels range over 10\.\.13"),
    ("load_data sizes {}", lambda: _call(VG, "load_data", {}, 0), ValueError, "sizes lacks"),
    ("probe_config seed str", lambda: _call(VG, "probe_config", "relu_he", "a", _VG_SIZES,
     (torch.rand(_X8), _Y4)), TypeError, "seed must be an integer"),
    ("probe_config probe 0", lambda: _call(VG, "probe_config", "relu_he", 0,
     {**_VG_SIZES, "probe_batch": 0}, (torch.rand(_X8), _Y4)), ValueError,
     r"sizes\['probe_batch'\] must be an integer >= 1"),
    ("run_config data", lambda: _call(VG, "run_config", "relu_he", 0, _VG_SIZES, _shapes()),
     TypeError, r"data must be the \(train, val\) pair"),
    # widgets
    ("gradient_flow_state bn str", lambda: _call(GF, "gradient_flow_state", 3, "relu", "he",
     "no"), TypeError, "batch_norm must be True or False, got 'no'"),
    ("gradient_flow_state seed", lambda: _call(GF, "gradient_flow_state", 3, seed="a"),
     TypeError, "seed must be an integer"),
    ("draw_gradient_flow None", lambda: _call(GF, "draw_gradient_flow", None), TypeError,
     "state must be a GradientFlowState"),
    ("band_depths int key", lambda: _call(DE, "band_depths", {"results": {5: {}}}), TypeError,
     "config names must be strings"),
    ("degradation_state metric", lambda: _call(DE, "degradation_state",
     {"results": {"plain8": {}, "resnet8": {}}}, 8), ValueError,
     "no 'train_error_curve' for plain8"),
    ("degradation_explorer 200", lambda: _call(DE, "degradation_explorer", 200), ValueError,
     "no stored band for depth 200"),
    ("degradation_explorer str", lambda: _call(DE, "degradation_explorer", "20"), TypeError,
     "depth must be an integer"),
    ("draw_degradation None", lambda: _call(DE, "draw_degradation", None), TypeError,
     "state must be a DegradationState"),
    ("comparison_rows table", lambda: _call(MC, "comparison_rows", None, {}), TypeError,
     "table must be a cnnlab.published.Table"),
    ("comparison_rows nan", lambda: _call(MC, "comparison_rows", _imagenet(),
     {"resnet50": (math.nan, 4e9)}), ValueError, r"costs\['resnet50'\] parameters must be"),
    ("comparison_rows latency", lambda: _call(MC, "comparison_rows", _imagenet(),
     {"resnet50": (25e6, 4e9)}, {"resnet50": -3.0}), ValueError,
     r"latency_ms\['resnet50'\] must be a positive"),
    ("comparison_rows none", lambda: _call(MC, "comparison_rows", _imagenet(), {}), ValueError,
     "costs names none of the table's models"),
    ("comparison_state rows", lambda: _call(MC, "comparison_state", ["resnet50"], "resnet50",
     "latency"), TypeError, r"rows\[0\] must be a ModelRow"),
    ("comparison_state empty", lambda: _call(MC, "comparison_state", [], "resnet50", "latency"),
     ValueError, "rows is empty"),
    ("ModelRow.value axis", lambda: _rows()[0].value("flops"), ValueError, "unknown axis 'flops'"),
    ("row_html None", lambda: _call(MC, "row_html", None), TypeError, "row must be a ModelRow"),
    ("draw_comparison None", lambda: _call(MC, "draw_comparison", None), TypeError,
     "state must be a ComparisonState"),
    ("transfer_state treatments None", lambda: _call(TE, "transfer_state", treatments=None),
     TypeError, "treatments must be a list"),
    ("transfer_state twice", lambda: _call(TE, "transfer_state", treatments=("BnB", "BnB")),
     ValueError, "treatments names one twice"),
    ("transfer_state split list", lambda: _call(TE, "transfer_state", ["similar"]), ValueError,
     "split must be one of"),
    ("transfer_state band {}", lambda: _call(TE, "transfer_state", band={}), TypeError,
     "band must be a 'transfer' band file"),
    ("transfer_state other band", lambda: _call(TE, "transfer_state", band={"results": {"x": {}}}),
     ValueError, "the band holds no transfer results"),
    ("draw_transfer None", lambda: _call(TE, "draw_transfer", None), TypeError,
     "state must be a TransferState"),
    # cnnlab.ops: BatchNorm2d and batch_statistics
    ("BatchNorm2d huge", lambda: ops.BatchNorm2d(10**11), ValueError,
     r"BatchNorm2d\(100000000000\) would need about"),
    ("BatchNorm2d eps nan", lambda: ops.BatchNorm2d(3, eps=math.nan), ValueError,
     "eps must be a finite"),
    ("BatchNorm2d eps str", lambda: ops.BatchNorm2d(3, eps="1e-5"), TypeError,
     "eps must be a number"),
    ("BatchNorm2d momentum 2", lambda: ops.BatchNorm2d(3, momentum=2), ValueError,
     r"momentum must be in \[0, 1\] or None, got 2"),
    ("BatchNorm2d momentum nan", lambda: ops.BatchNorm2d(3, momentum=math.nan), ValueError,
     "momentum must be a finite"),
    ("BatchNorm2d affine str", lambda: ops.BatchNorm2d(3, affine="no"), TypeError,
     "affine must be True or False, got 'no'"),
    ("BatchNorm2d bias None", lambda: ops.BatchNorm2d(3, bias=None), TypeError,
     "bias must be True or False"),
    ("BatchNorm2d device gpu", lambda: ops.BatchNorm2d(3, device="gpu"), ValueError,
     "device must be"),
    ("BatchNorm2d dtype int", lambda: ops.BatchNorm2d(3, dtype=torch.int64), TypeError,
     "dtype must be a floating torch.dtype"),
    ("BatchNorm2d device input", lambda: ops.BatchNorm2d(3)(torch.empty(2, 3, 4, 4,
     device="meta")), ValueError, "x is on meta but BatchNorm2d's parameters are on cpu"),
    ("batch_statistics 3-D", lambda: ops.batch_statistics(torch.rand(3, 4, 4)), ValueError,
     "x must be 4-D"),
    ("batch_statistics int", lambda: ops.batch_statistics(torch.ones(2, 3, 2, 2,
     dtype=torch.long)), TypeError, "x must be a floating-point tensor"),
    ("batch_statistics empty", lambda: ops.batch_statistics(torch.rand(0, 3, 2, 2)), ValueError,
     "x is empty"),
    ("batch_statistics list", lambda: ops.batch_statistics([[1.0]]), TypeError,
     "x must be a torch.Tensor"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("attack", "error", "message"),
    [pytest.param(fn, err, msg, id=name) for name, fn, err, msg in _ATTACKS],
)
def test_topics_10_to_15_name_bad_input(attack: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        attack()  # type: ignore[operator]


def test_their_valid_input_still_works() -> None:
    from cnnlab.gradients import chain_product
    from cnnlab.latency import measure_latency, pareto_front
    from cnnlab.transfer import TransferLab, layer_names

    assert chain_product(2.0, 10**6) == math.inf  # an overflow is the limit, not an error
    assert chain_product(torch.tensor(0.5), 2) == 0.25 and chain_product([]) == 1.0
    assert pareto_front((("a", 1, 2), ("b", 2, 1))) == {"a", "b"}  # any iterable of rows
    assert layer_names(2.0) == ("conv1", "bn1", "conv2", "bn2")
    # a float64 model is timed on a float64 input (it failed on float32 zeros)
    assert measure_latency(nn.Conv2d(3, 2, 3).double(), (3, 8, 8), repeats=1).median_ms > 0
    lab = _lab()
    assert isinstance(lab, TransferLab)
    assert len(lab.data("similar", "B", "lots")) == lab.sizes["n_train"]  # "lots" is "train"


def test_batch_norm_of_an_empty_batch_leaves_the_statistics_as_torch_does() -> None:
    ours, theirs = ops.BatchNorm2d(3), nn.BatchNorm2d(3)
    for bn in (ours, theirs):
        assert bn(torch.randn(0, 3, 4, 4)).shape == (0, 3, 4, 4)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(ours, name), getattr(theirs, name))


def test_every_thread_count_is_bounded_by_the_machine() -> None:
    """torch starts as many OpenMP threads as asked: 10**9 would abort the process, not raise."""
    from cnnlab.bench import run_bench
    from cnnlab.experiments.runner import run_experiment
    from cnnlab.latency import measure_latency
    from cnnlab.session import seed_everything

    before = torch.get_num_threads()
    calls = {
        "seed_everything": lambda: seed_everything(0, threads=10**9),
        "run_bench": lambda: run_bench(["lenet5_modern"], threads=10**9),
        "run_experiment": lambda: run_experiment("filter_visualisation", threads=10**9),
        "measure_latency": lambda: measure_latency(torch.nn.Identity(), (1, 2, 2), threads=10**9),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=r"threads must be in 1\.\.\d+ .*got 1000000000"):
            call()
        assert torch.get_num_threads() == before, name


def test_a_seed_beyond_64_bits_is_a_clear_error() -> None:
    from cnnlab.session import seed_everything

    with pytest.raises(ValueError, match=r"seed must be below 2\*\*64, got 18446744073709551616"):
        seed_everything(2**64)
    state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):  # leave the other tests' random state alone
        assert seed_everything(2**64 - 1, threads=None) == 2**64 - 1
    random.setstate(state[0])
    np.random.set_state(state[1])
