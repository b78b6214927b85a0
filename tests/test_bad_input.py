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
from cnnlab.models import list_models
from cnnlab.train import fit


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
