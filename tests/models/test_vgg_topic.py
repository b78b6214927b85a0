"""Topic 7 additions to the VGG family: FC -> convolution conversion (exact at the design size,
a score map on larger inputs), and the course-scale tools of cnnlab.scales."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.experiments.vgg import course_vgg
from cnnlab.models import create_model
from cnnlab.models.vgg import build_vgg, fully_convolutional, linear_as_conv, to_fully_convolutional
from cnnlab.scales import ScaleJitter, class_posteriors, mosaic, scale_accuracies


def test_imagenet_vgg_dense_is_exact_at_224_and_maps_larger_images() -> None:
    torch.manual_seed(0)
    m = build_vgg("D", width_mult=1 / 16).eval()
    dense = to_fully_convolutional(m)
    assert not dense.training and fully_convolutional is to_fully_convolutional
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(dense(x).flatten(1), m(x), rtol=1e-4, atol=1e-6)
        assert dense(torch.randn(1, 3, 320, 384)).shape == (1, 1000, 4, 6)
    assert isinstance(dense.classifier[0], nn.Conv2d) and dense.classifier[0].kernel_size == (7, 7)


def test_course_vgg_dense_uses_1x1_convolutions() -> None:
    m = course_vgg("vgg11_bn_course", 0.125, seed=0).eval()
    dense = to_fully_convolutional(m)
    kernels = [c.kernel_size for c in dense.classifier if isinstance(c, nn.Conv2d)]
    assert kernels == [(1, 1)] * 3
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(dense(x).flatten(1), m(x), rtol=1e-5, atol=1e-6)
        assert dense(torch.rand(1, 3, 96, 64)).shape == (1, 10, 3, 2)


def test_conversion_errors() -> None:
    with pytest.raises(TypeError, match="VGG"):
        to_fully_convolutional(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="C·H·W"):
        linear_as_conv(nn.Linear(10, 3), (2, 2, 2))


def test_linear_as_conv_matches_on_non_square_maps_and_dtype() -> None:
    fc = nn.Linear(3 * 2 * 5, 4).double()
    conv = linear_as_conv(fc, (3, 2, 5))
    x = torch.rand(2, 3, 2, 5, dtype=torch.float64)
    torch.testing.assert_close(conv(x).flatten(1), fc(x.flatten(1)))
    assert conv.weight.dtype == torch.float64


def test_course_vgg_is_seeded_and_has_no_dropout() -> None:
    a, b = course_vgg("vgg16_bn_course", 0.125, 3), course_vgg("vgg16_bn_course", 0.125, 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert all(m.p == 0 for m in a.modules() if isinstance(m, nn.Dropout))
    assert a.features[0].out_channels == 8


def test_scale_jitter_shapes_and_determinism() -> None:
    jitter = ScaleJitter(32, 48)
    x = torch.rand(5, 3, 32, 32)
    a = jitter(x, torch.Generator().manual_seed(1))
    b = jitter(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b)
    assert torch.equal(ScaleJitter(32, 32)(x, torch.Generator()), x)  # no zoom, one crop
    with pytest.raises(ValueError, match="crop"):
        ScaleJitter(16, 48)(x, torch.Generator())
    with pytest.raises(ValueError):
        ScaleJitter(48, 32)


def test_posteriors_and_scale_accuracies() -> None:
    m = course_vgg("vgg11_bn_course", 0.125, seed=0).eval()
    dense = to_fully_convolutional(m)
    x, y = torch.rand(6, 3, 32, 32), torch.arange(6)
    p = class_posteriors(dense, x, 48)
    torch.testing.assert_close(p.sum(1), torch.ones(6))
    accs = scale_accuracies(dense, x, y, (32, 64))
    assert list(accs) == ["Q=32", "Q=64", "multi-scale"]
    with torch.no_grad():
        assert accs["Q=32"] == float((m(x).argmax(1) == y).float().mean())
    with pytest.raises(TypeError, match="to_fully_convolutional"):
        class_posteriors(m, x, 32)


def test_mosaic_places_tiles_row_by_row() -> None:
    images = torch.arange(6.0).reshape(6, 1, 1, 1).expand(6, 1, 2, 2)
    grid = mosaic(images, 2, 3)
    assert grid.shape == (1, 4, 6)
    assert grid[0, ::2, ::2].tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="at least 6"):
        mosaic(images[:4], 2, 3)


def test_registry_course_models_exist() -> None:
    assert create_model("vgg16_bn_course", width_mult=0.125)(torch.rand(1, 3, 32, 32)).shape == (
        1,
        10,
    )
