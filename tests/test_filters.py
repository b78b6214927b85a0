"""cnnlab.filters: kernels behave as named, apply_filter equals torch, kernels can be learned."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data
from skimage import filters as skfilters
from torch.testing import assert_close

from cnnlab import filters
from cnnlab.filters import (
    KERNELS,
    apply_filter,
    gaussian_kernel,
    get_kernel,
    learn_kernel,
    sobel_magnitude,
    step_edge_example,
)
from cnnlab.ops import conv2d

F64 = torch.float64
# PyTorch's own padding="same" (the reference) warns about even kernels; ours does not.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def _step_image(size: int = 8, vertical: bool = True) -> torch.Tensor:
    """Dark left half, bright right half (or top/bottom when vertical=False)."""
    img = torch.zeros(size, size, dtype=F64)
    img[:, size // 2 :] = 1.0
    return img if vertical else img.T.contiguous()


@pytest.fixture(scope="module")
def camera() -> torch.Tensor:
    return torch.from_numpy(data.camera()[::4, ::4].astype(np.float64) / 255)  # 128×128


def test_kernels_are_float_tensors_with_expected_shapes() -> None:
    assert {"identity", "edge_vertical", "edge_horizontal", "edge", "sobel_x", "sobel_y",
            "box_blur", "gaussian_blur", "sharpen"} <= set(KERNELS)  # fmt: skip
    for name in KERNELS:
        k = KERNELS[name]
        assert k.dtype == torch.float32 and k.dim() == 2, name
        assert_close(get_kernel(name), k)
    assert KERNELS["gaussian_blur_5x5"].shape == (5, 5)
    assert get_kernel("sobel_x", dtype=F64).dtype == F64


def test_kernels_cannot_be_corrupted_in_place() -> None:
    KERNELS["sharpen"][1, 1] = 100.0
    get_kernel("sharpen")[1, 1] = 100.0
    assert KERNELS["sharpen"][1, 1] == 5.0


def test_identity_returns_the_image(camera: torch.Tensor) -> None:
    assert_close(apply_filter(camera, "identity"), camera)


def test_sobel_and_edge_kernels_on_a_step_edge() -> None:
    img = _step_image()
    gx = apply_filter(img, "sobel_x", padding="valid")
    gy = apply_filter(img, "sobel_y", padding="valid")
    # Valid windows centred on columns 1..6; the step lies between columns 3 and 4.
    expected_columns = torch.tensor([0.0, 0, 4, 4, 0, 0], dtype=F64)
    assert_close(gx, expected_columns.expand(6, 6))
    assert_close(gy, torch.zeros(6, 6, dtype=F64))
    assert_close(apply_filter(img.T, "sobel_y", padding="valid"), gx.T)
    assert_close(
        apply_filter(img, "edge_vertical", padding="valid"), (expected_columns * 3 / 4).expand(6, 6)
    )
    assert_close(
        apply_filter(img, "edge_horizontal", padding="valid"), torch.zeros(6, 6, dtype=F64)
    )
    # Edge/Laplacian kernels sum to 0: flat regions give 0, only the step responds.
    for name in ("edge", "laplacian"):
        out = apply_filter(img, name, padding="valid")
        assert_close(out[:, [0, 1, 4, 5]], torch.zeros(6, 4, dtype=F64))
        assert out[:, 2:4].abs().min() > 0


@pytest.mark.parametrize(
    "name", ["box_blur", "gaussian_blur", "gaussian_blur_5x5", "sharpen", "identity"]
)
def test_kernels_summing_to_one_keep_flat_images_and_mass(name: str) -> None:
    k = get_kernel(name, dtype=F64)
    assert k.sum().item() == pytest.approx(1.0)
    flat = torch.full((9, 9), 0.7, dtype=F64)
    assert_close(
        apply_filter(flat, k, padding="valid"),
        torch.full_like(flat[: 10 - k.shape[0], : 10 - k.shape[1]], 0.7),
    )
    # An image that is zero near its border keeps its total under zero-padded "same" filtering.
    blob = torch.zeros(12, 12, dtype=F64)
    blob[3:9, 4:8] = torch.rand(6, 4, dtype=F64)
    assert apply_filter(blob, k).sum().item() == pytest.approx(blob.sum().item())


def test_blur_reduces_noise_and_sharpen_increases_it() -> None:
    noise = torch.randn(32, 32, dtype=F64)
    assert apply_filter(noise, "box_blur").std() < 0.5 * noise.std()
    assert apply_filter(noise, "sharpen", padding="valid").std() > 2 * noise.std()


def test_gaussian_kernel() -> None:
    k = gaussian_kernel(5, 1.0, dtype=F64)
    assert k.shape == (5, 5) and k.sum().item() == pytest.approx(1.0)
    assert_close(k, k.T)
    assert_close(k, k.flip(0, 1))
    assert k.argmax().item() == 12  # the centre
    # Ratio of the centre to its neighbour is exp(1/(2σ²)) for a sampled Gaussian.
    assert (k[2, 2] / k[2, 3]).item() == pytest.approx(np.exp(0.5))
    assert gaussian_kernel(5, 3.0).std() < gaussian_kernel(5, 0.8).std()  # wider σ is flatter
    assert_close(gaussian_kernel(1, 2.0), torch.ones(1, 1))


@pytest.mark.parametrize("seed", range(25))
def test_apply_filter_equals_torch_conv2d(seed: int) -> None:
    rng = random.Random(seed)
    shape = (rng.randint(5, 12), rng.randint(5, 12))
    if rng.random() < 0.5:
        shape = (rng.randint(1, 3), *shape)
    g = torch.Generator().manual_seed(seed)
    img = torch.randn(shape, generator=g, dtype=F64)
    k = torch.randn(rng.randint(1, 5), rng.randint(1, 5), generator=g, dtype=F64)
    batch = img.reshape(-1, 1, *img.shape[-2:])
    for padding in ("same", "valid", rng.randint(0, 2)):
        ref = F.conv2d(batch, k[None, None], padding=padding)
        assert_close(
            apply_filter(img, k, padding=padding), ref.reshape(*shape[:-2], *ref.shape[-2:])
        )
    th, tw = k.shape[0] - 1, k.shape[1] - 1
    pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    for mode in ("reflect", "replicate"):
        ref = F.conv2d(F.pad(batch, pads, mode=mode), k[None, None]).reshape(shape)
        assert_close(apply_filter(img, k, padding_mode=mode), ref)


def test_apply_filter_accepts_uint8_photo_and_numpy() -> None:
    photo = data.camera()[:64, :64]
    out = apply_filter(photo, "box_blur")
    assert out.dtype == torch.float32 and out.shape == (64, 64)
    ref = F.conv2d(
        torch.from_numpy(photo).float()[None, None], get_kernel("box_blur")[None, None], padding=1
    )
    assert_close(out, ref[0, 0])
    assert_close(apply_filter(photo, np.ones((3, 3)) / 9), out)


def test_sobel_magnitude_matches_skimage(camera: torch.Tensor) -> None:
    ours = sobel_magnitude(camera)
    assert ours.shape == camera.shape
    # skimage scales each Sobel kernel by 1/4 and averages the squares over the 2 axes.
    theirs = torch.from_numpy(skfilters.sobel(camera.numpy())) * 4 * np.sqrt(2)
    assert_close(ours[1:-1, 1:-1], theirs[1:-1, 1:-1])  # borders: different reflect rules
    rgb = camera.expand(3, *camera.shape)
    assert_close(sobel_magnitude(rgb), ours.expand(3, *ours.shape))


def test_step_edge_example() -> None:
    X, K, Y = step_edge_example()
    assert X.shape == (6, 8) and K.tolist() == [[1.0, -1.0]]
    assert Y[0].tolist() == [0, 1, 0, 0, 0, -1, 0]
    # Vertical-edge kernel cannot see horizontal edges: the transposed image gives all zeros.
    assert_close(conv2d(X.T[None, None].contiguous(), K[None, None])[0, 0], torch.zeros(8, 5))


def test_learn_kernel_recovers_the_edge_detector() -> None:
    X, K, Y = step_edge_example()
    learned, losses = learn_kernel(X, Y, (1, 2), steps=300, lr=0.5)
    assert learned.shape == (1, 2)
    assert_close(learned, K, atol=1e-2, rtol=0)
    assert losses[-1] < 1e-4 * losses[0]


def test_learn_kernel_recovers_sobel_quickly_and_deterministically() -> None:
    g = torch.Generator().manual_seed(3)
    X = torch.randn(4, 16, 16, generator=g)
    target = get_kernel("sobel_x")
    Y = conv2d(X[:, None], target[None, None])[:, 0]
    start = time.perf_counter()
    learned, losses = learn_kernel(X, Y, 3, steps=300, lr=0.2, seed=0)
    assert time.perf_counter() - start < 2.0
    assert_close(learned, target, atol=1e-2, rtol=0)
    assert len(losses) == 300 and losses[-1] < losses[0]
    again, losses_again = learn_kernel(X, Y, 3, steps=300, lr=0.2, seed=0)
    assert torch.equal(again, learned) and losses_again == losses
    _, other = learn_kernel(X, Y, 3, steps=5, lr=0.2, seed=1)
    assert other[0] != losses[0]


# --- bad input -------------------------------------------------------------------------------


def test_unknown_kernel_lists_valid_names() -> None:
    with pytest.raises(
        ValueError, match=r"unknown kernel name 'sobelx'.*'sobel_x'.*Valid: identity"
    ):
        get_kernel("sobelx")
    with pytest.raises(ValueError, match="Valid:"):
        apply_filter(torch.zeros(5, 5), "blurry")
    with pytest.raises(KeyError, match="valid: identity"):
        KERNELS["nope"]  # noqa: B018


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: apply_filter(torch.zeros(1, 1, 5, 5), "edge"),
            ValueError,
            r"image must be 2-D or 3-D",
        ),
        (lambda: apply_filter([[0.0]], "edge"), TypeError, r"image must be a torch.Tensor"),
        (
            lambda: apply_filter(torch.zeros(5, 5), torch.zeros(1, 3, 3)),
            ValueError,
            r"kernel must be 2-D",
        ),
        (
            lambda: apply_filter(torch.zeros(5, 5), "edge", padding="full"),
            ValueError,
            r"unknown padding",
        ),
        (
            lambda: apply_filter(torch.zeros(5, 5), "edge", padding=-1),
            ValueError,
            r"padding must be",
        ),
        (
            lambda: apply_filter(torch.zeros(5, 5), "edge", padding_mode="wrap"),
            ValueError,
            r"padding_mode",
        ),
        (
            lambda: apply_filter(torch.zeros(2, 2), "gaussian_blur_5x5", padding_mode="reflect"),
            ValueError,
            r"reflect",
        ),
        (
            lambda: apply_filter(torch.zeros(2, 2), "sharpen", padding="valid"),
            ValueError,
            r"does not fit",
        ),
        (lambda: gaussian_kernel(0, 1.0), ValueError, r"size must be an integer >= 1"),
        (lambda: gaussian_kernel(3, 0.0), ValueError, r"sigma must be a positive number"),
        (lambda: gaussian_kernel(3, "1"), TypeError, r"sigma must be a positive number"),
        (
            lambda: learn_kernel(torch.zeros(5, 5), torch.zeros(4, 4), 3),
            ValueError,
            r"Y must have shape 3×3",
        ),
        (
            lambda: learn_kernel(torch.zeros(2, 2), torch.zeros(1, 1), 3),
            ValueError,
            r"kernel 3×3 does not fit",
        ),
        (
            lambda: learn_kernel(torch.zeros(5, 5), torch.zeros(3, 3), 3, lr=0),
            ValueError,
            r"lr must be",
        ),
        (
            lambda: learn_kernel(torch.zeros(5, 5), torch.zeros(3, 3), 3, steps=0),
            ValueError,
            r"steps must be",
        ),
        (
            lambda: learn_kernel(torch.randn(8, 8), torch.randn(6, 6), 3, lr=50.0),
            ValueError,
            r"diverged",
        ),
    ],
)
def test_bad_input_raises_clear_error(
    call: Callable[[], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()


def test_public_names() -> None:
    for name in filters.__all__:
        assert hasattr(filters, name)


# -- weight sharing: shifting the input shifts the output ----------------------------------------
def test_shift_image_moves_pixels_without_wrapping() -> None:
    x = torch.arange(1.0, 17.0).reshape(4, 4)
    y = filters.shift_image(x, 1, -2)
    assert y[1, 0] == x[0, 2] and y[3, 1] == x[2, 3]
    assert (y[0] == 0).all() and (y[:, 2:] == 0).all()  # the vacated edges are zero, not wrapped
    assert torch.equal(filters.shift_image(x, 0, 0), x)
    assert (filters.shift_image(x, 4, 0) == 0).all()


@pytest.mark.parametrize("kernel", ["sobel_x", "gaussian_blur_5x5", "laplacian"])
@pytest.mark.parametrize(("dy", "dx"), [(3, 5), (-2, 4), (0, -6)])
def test_correlation_is_shift_equivariant_away_from_borders(kernel: str, dy: int, dx: int) -> None:
    x = torch.rand(2, 40, 48, generator=torch.Generator().manual_seed(0), dtype=F64)
    assert filters.shift_equivariance_error(x, kernel, dy, dx) < 1e-12
    # the same map, checked by hand: shifting the output map by (dy, dx) matches at one pixel
    y, y_shifted = apply_filter(x, kernel), apply_filter(filters.shift_image(x, dy, dx), kernel)
    assert_close(y_shifted[:, 20 + dy, 24 + dx], y[:, 20, 24])


def test_a_position_dependent_filter_is_not_shift_equivariant() -> None:
    # the check can fail: a "filter" that weights positions differently breaks equivariance
    x = torch.rand(40, 40, generator=torch.Generator().manual_seed(1), dtype=F64)
    ramp = torch.linspace(0, 1, 40, dtype=F64)
    shifted = filters.shift_image(x, 3, 3)
    gap = (
        apply_filter(shifted, "sobel_x") * ramp
        - filters.shift_image(apply_filter(x, "sobel_x") * ramp, 3, 3)
    )[6:-6, 6:-6]
    assert float(gap.abs().max()) > 0.01


def test_shift_equivariance_rejects_a_shift_that_leaves_no_interior() -> None:
    with pytest.raises(ValueError, match="leaves no interior"):
        filters.shift_equivariance_error(torch.rand(8, 8), "sobel_x", 3, 0)
