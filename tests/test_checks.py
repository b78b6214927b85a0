"""The exercise checks accept correct answers and reject classic wrong ones with a clear message.

Correct implementations come from the package (``cnnlab.ops`` / ``cnnlab.shapes``, themselves
tested against PyTorch) and from short loop versions like a student would write; wrong ones
are the mistakes the checks are meant to diagnose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from cnnlab import checks, ops, shapes
from cnnlab.checks import CheckFailed

# --------------------------------------------------------------------------------------------
# correct answers


def loop_corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The textbook loop (float32 output, as ``torch.zeros`` gives): must be accepted."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return sum(ops.corr2d(x, k) for x, k in zip(X, K, strict=True))


def multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return torch.stack([multi_in(X, k) for k in K])


def matmul_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)).reshape(c_o, h, w)


def output_size(n: int, f: int, stride: int = 1, padding: int = 0) -> int:
    return shapes.conv_output_size(n, f, stride, padding)


def params(in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> int:
    return shapes.conv_params(in_channels, out_channels, kernel_size, bias)


def field(kernel_sizes: list[int], strides: list[int] | None = None) -> int:
    strides = strides or [1] * len(kernel_sizes)
    return shapes.receptive_field(list(zip(kernel_sizes, strides, strict=True)))


def pool(X: torch.Tensor, pool_size: int, stride: int | None = None, mode: str = "max"):
    fn = ops.max_pool2d if mode == "max" else ops.avg_pool2d
    return fn(X[None], pool_size, stride)[0]


def loop_pool(X: torch.Tensor, p: int, stride: int | None = None, mode: str = "max"):
    s = p if stride is None else stride
    Y = torch.zeros(((X.shape[0] - p) // s + 1, (X.shape[1] - p) // s + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * s : i * s + p, j * s : j * s + p]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def gap(X: torch.Tensor) -> torch.Tensor:
    return ops.global_avg_pool2d(X).flatten(1)


CORRECT: dict[str, Callable[..., Any]] = {
    "corr2d": ops.corr2d,
    "corr2d_multi_in": multi_in,
    "corr2d_multi_in_out": multi_in_out,
    "conv1x1": matmul_1x1,
    "conv_output_size": output_size,
    "conv_params": params,
    "receptive_field": field,
    "pool2d": pool,
    "global_avg_pool": gap,
}
SUCCESS = {
    "corr2d": "✔ corr2d: 60 random cases match torch.nn.functional.conv2d\n",
    "corr2d_multi_in": "✔ corr2d_multi_in: 40 random cases match torch.nn.functional.conv2d\n",
    "corr2d_multi_in_out": (
        "✔ corr2d_multi_in_out: 30 random cases match torch.nn.functional.conv2d\n"
    ),
    "conv1x1": "✔ conv1x1: 30 random cases match torch.nn.functional.conv2d\n",
    "conv_output_size": (
        "✔ conv_output_size: 66 cases match the output size of torch.nn.functional.conv2d "
        "(6 of them raise ValueError)\n"
    ),
    "conv_params": "✔ conv_params: 40 random layers match the parameter count of torch.nn.Conv2d\n",
    "receptive_field": (
        "✔ receptive_field: 40 random stacks match the input footprint found by autograd\n"
    ),
    "pool2d": (
        "✔ pool2d: 60 random cases (max and avg) match torch.nn.functional.max_pool2d / "
        "avg_pool2d\n"
    ),
    "global_avg_pool": (
        "✔ global_avg_pool: 20 random cases match torch.nn.functional.adaptive_avg_pool2d\n"
    ),
}
NAMES = sorted(CORRECT)


def run_check(name: str, fn: Callable[..., Any]) -> None:
    getattr(checks, name)(fn)


def failure(name: str, fn: Callable[..., Any]) -> str:
    with pytest.raises(CheckFailed) as info:
        run_check(name, fn)
    return str(info.value)


# --------------------------------------------------------------------------------------------
# every check: correct passes with one line, stubs and non-answers fail clearly


def test_public_names() -> None:
    # notebook 4's checks live in cnnlab._checks_features and are re-exported
    assert set(checks.__all__) == {*NAMES, "CheckFailed", "capture_activations", "saliency"}
    assert all(callable(getattr(checks, name)) for name in checks.__all__)
    assert issubclass(CheckFailed, AssertionError)


@pytest.mark.parametrize("name", NAMES)
def test_correct_implementation_passes_with_one_line(name: str, capsys) -> None:
    run_check(name, CORRECT[name])
    assert capsys.readouterr().out == SUCCESS[name]


@pytest.mark.parametrize("name", NAMES)
def test_check_is_deterministic_and_keeps_global_rng(name: str, capsys) -> None:
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    run_check(name, CORRECT[name])
    run_check(name, CORRECT[name])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0] == out[1]
    assert torch.equal(state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])


@pytest.mark.parametrize("name", NAMES)
def test_blank_stub_is_reported_as_not_implemented(name: str) -> None:
    def stub(*args: object) -> None:
        # YOUR CODE HERE
        raise NotImplementedError()

    message = failure(name, stub)
    assert message.startswith(f"{name} is not implemented yet")
    assert "raise NotImplementedError()" in message


@pytest.mark.parametrize("name", NAMES)
def test_missing_return_is_reported(name: str) -> None:
    assert "did you forget the `return` statement?" in failure(name, lambda *args: None)


@pytest.mark.parametrize("name", NAMES)
def test_not_a_function_is_a_type_error(name: str) -> None:
    with pytest.raises(TypeError, match=rf"checks\.{name}\({name}\)"):
        run_check(name, 42)


def test_crash_in_student_code_names_the_input_and_chains_the_error() -> None:
    def crashing(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return X[10, 10]

    with pytest.raises(CheckFailed) as info:
        checks.corr2d(crashing)
    assert "corr2d raised IndexError for X of shape (3, 3) and K of shape (2, 2)" in str(info.value)
    assert isinstance(info.value.__cause__, IndexError)


def test_numpy_results_are_accepted(capsys) -> None:
    checks.corr2d(lambda X, K: ops.corr2d(X, K).numpy())
    checks.pool2d(lambda *a: pool(*a).numpy())
    checks.conv_output_size(lambda *a: np.int64(output_size(*a)))
    assert capsys.readouterr().out.count("✔") == 3


def test_student_style_loops_in_float32_are_accepted(capsys) -> None:
    checks.corr2d(loop_corr2d)
    checks.pool2d(loop_pool)
    assert capsys.readouterr().out.count("✔") == 2


def test_changing_the_input_in_place_is_reported() -> None:
    def sloppy(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        X -= 0  # harmless
        X[0, 0] = 100
        return ops.corr2d(X, K)

    assert "changed its input (argument 1) in place" in failure("corr2d", sloppy)


def test_a_list_of_lists_is_rejected_clearly() -> None:
    message = failure("corr2d", lambda X, K: "19 25 37 43")
    assert "returned a str" in message and "return a torch.Tensor" in message


# --------------------------------------------------------------------------------------------
# notebook 1


def test_corr2d_detects_true_convolution() -> None:
    message = failure("corr2d", lambda X, K: ops.convolve2d(X, K))
    assert "*flipped-kernel* (true) convolution" in message
    assert "cross-correlation does not flip K" in message
    # the lecture's example is tested first, and shown
    assert "X of shape (3, 3) and K of shape (2, 2)" in message
    assert "expected 19, got 5" in message
    assert "[[19, 25],\n [37, 43]]" in message


def test_corr2d_detects_an_off_by_one_loop() -> None:
    def short(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return ops.corr2d(X, K)[:-1, :-1]

    message = failure("corr2d", short)
    assert "expected output shape (2, 2), got (1, 1)" in message
    assert "one row and one column short" in message and "(N − F)/S + 1" in message


def test_corr2d_detects_a_transposed_output() -> None:
    message = failure("corr2d", lambda X, K: ops.corr2d(X, K).T)
    assert "transposed" in message


def test_corr2d_reports_the_first_wrong_position() -> None:
    def almost(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        Y = ops.corr2d(X, K).clone()
        Y[1, 0] += 1
        return Y

    message = failure("corr2d", almost)
    assert "wrong value at output[1, 0]: expected 37, got 38 (1 of 4 values differ)" in message


def test_corr2d_multi_in_detects_per_channel_maps_and_first_channel_only() -> None:
    message = failure(
        "corr2d_multi_in",
        lambda X, K: torch.stack([ops.corr2d(x, k) for x, k in zip(X, K, strict=True)]),
    )
    assert "expected output shape (2, 2), got (2, 2, 2)" in message
    assert "one map per input channel" in message
    message = failure("corr2d_multi_in", lambda X, K: ops.corr2d(X[0], K[0]))
    assert "only the first channel" in message


def test_corr2d_multi_in_detects_flipped_kernels() -> None:
    def flipped(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return sum(ops.convolve2d(x, k) for x, k in zip(X, K, strict=True))

    assert "*flipped-kernel*" in failure("corr2d_multi_in", flipped)


def test_corr2d_multi_in_out_detects_summed_outputs() -> None:
    message = failure("corr2d_multi_in_out", lambda X, K: multi_in_out(X, K).sum(0))
    assert "you returned a single map" in message or "added the output channels" in message


def test_corr2d_multi_in_out_detects_flipped_kernels() -> None:
    def flipped(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return multi_in_out(X, K.flip(-2, -1))

    assert "*flipped-kernel*" in failure("corr2d_multi_in_out", flipped)


def test_conv1x1_detects_pixel_major_result() -> None:
    def pixel_major(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        c_i, h, w = X.shape
        return X.reshape(c_i, h * w).T @ K.reshape(K.shape[0], c_i).T

    message = failure("conv1x1", pixel_major)
    assert "(H·W)×C_out" in message


# --------------------------------------------------------------------------------------------
# notebook 2


def test_conv_output_size_detects_missing_floor() -> None:
    def no_floor(n: int, f: int, stride: int = 1, padding: int = 0) -> float:
        size = (n - f + 2 * padding) / stride + 1
        return int(size) if size.is_integer() else size

    message = failure("conv_output_size", no_floor)
    assert "conv_output_size(7, 3, stride=3, padding=0)" in message
    assert "expected 2, got 2.333" in message and "PyTorch floors" in message and "2.33" in message


def test_conv_output_size_detects_float_results() -> None:
    message = failure("conv_output_size", lambda n, f, s=1, p=0: (n - f + 2 * p) / s + 1)
    assert "returned the float 5.0" in message and "return an int" in message


def test_conv_output_size_detects_off_by_one() -> None:
    message = failure("conv_output_size", lambda n, f, s=1, p=0: (n - f + 2 * p) // s)
    assert "expected 5, got 4" in message
    assert "(7 − 3 + 2·0)/1 + 1" in message and "forgot the + 1" in message


def test_conv_output_size_detects_ceil_and_single_padding() -> None:
    def ceil(n: int, f: int, s: int = 1, p: int = 0) -> int:
        return -(-(n - f + 2 * p) // s) + 1

    assert "PyTorch *floors*" in failure("conv_output_size", ceil)
    message = failure("conv_output_size", lambda n, f, s=1, p=0: (n - f + p) // s + 1)
    assert "expected 7, got 6" in message and "*both* sides" in message


def test_conv_output_size_requires_value_error_when_the_filter_does_not_fit() -> None:
    def never_raises(n: int, f: int, s: int = 1, p: int = 0) -> int:
        return (n - f + 2 * p) // s + 1

    message = failure("conv_output_size", never_raises)
    assert "returned -1 for conv_output_size(3, 5, stride=1, padding=0)" in message
    assert "raise ValueError" in message

    def wrong_error(n: int, f: int, s: int = 1, p: int = 0) -> int:
        if f > n + 2 * p:
            raise IndexError("too big")
        return (n - f + 2 * p) // s + 1

    assert "should raise ValueError" in failure("conv_output_size", wrong_error)


def test_conv_output_size_reports_a_value_error_on_valid_input() -> None:
    def too_strict(n: int, f: int, s: int = 1, p: int = 0) -> int:
        if (n - f + 2 * p) % s:
            raise ValueError("does not fit")
        return (n - f + 2 * p) // s + 1

    message = failure("conv_output_size", too_strict)
    assert "raised ValueError for conv_output_size(7, 3, stride=3, padding=0)" in message


def test_conv_params_detects_missing_bias_and_depth() -> None:
    message = failure("conv_params", lambda d, k, f, b=True: f * f * d * k)
    assert "expected 760" in message and "got 750" in message
    assert "F·F·D1·K + K" in message
    message = failure("conv_params", lambda d, k, f, b=True: f * f * k + (k if b else 0))
    assert "got 260" in message and "full input depth" in message
    message = failure("conv_params", lambda d, k, f, b=True: f * f * d * k + k)
    assert "bias=False" in message


def test_receptive_field_detects_summed_kernels_and_ignored_strides() -> None:
    message = failure("receptive_field", lambda ks, ss=None: sum(ks))
    assert "receptive_field([3, 3])" in message and "expected 5" in message
    assert "got 6" in message and "F − 1" in message
    message = failure("receptive_field", lambda ks, ss=None: 1 + sum(k - 1 for k in ks))
    assert "receptive_field([2, 2], [2, 2])" in message and "stride" in message


# --------------------------------------------------------------------------------------------
# notebook 3


def test_pool2d_detects_max_instead_of_avg() -> None:
    message = failure("pool2d", lambda X, p, s=None, mode="max": pool(X, p, s, "max"))
    assert "mode='avg'" in message and "your output is max pooling" in message


def test_pool2d_detects_window_sum() -> None:
    def summed(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        out = pool(X, p, s, mode)
        return out * p * p if mode == "avg" else out

    assert "window *sum*" in failure("pool2d", summed)


def test_pool2d_detects_ignored_stride() -> None:
    message = failure("pool2d", lambda X, p, s=None, mode="max": pool(X, p, 1, mode))
    assert "stride=None means stride = pool_size" in message
    assert "expected output shape (2, 2), got (3, 3)" in message

    def stride_one_default(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        return pool(X, p, 1 if s is None else 1, mode)

    message = failure("pool2d", stride_one_default)
    assert "shape of stride 1" in message


def test_pool2d_detects_unscaled_window_start() -> None:
    def unscaled(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        s = p if s is None else s
        full = pool(X, p, 1, mode)
        oh, ow = (X.shape[0] - p) // s + 1, (X.shape[1] - p) // s + 1
        return full[:oh, :ow]

    assert "X[i*s : i*s+p, j*s : j*s+p]" in failure("pool2d", unscaled)


def test_pool2d_detects_off_by_one() -> None:
    def short(X: torch.Tensor, p: int, s: int | None = None, mode: str = "max"):
        return pool(X, p, s, mode)[:-1, :-1]

    message = failure("pool2d", short)
    assert "one row and one column short" in message and "(W − F)/S + 1" in message


def test_global_avg_pool_detects_keepdim_max_and_channel_mean() -> None:
    message = failure("global_avg_pool", lambda X: X.mean(dim=(2, 3), keepdim=True))
    assert "drop the trailing 1×1" in message
    assert "global *max* pooling" in failure("global_avg_pool", lambda X: X.amax(dim=(2, 3)))
    assert "averaged over the channels" in failure("global_avg_pool", lambda X: X.mean(dim=1))
