"""Bad input gives a clear TypeError/ValueError naming the parameter, never a silent wrong
result or a crash deep inside torch."""

from __future__ import annotations

import math

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
