"""Topic 2 checks (conv_output_size, conv_params, receptive_field) accept correct formulas and
name the classic formula mistake behind a wrong one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from check_helpers import failure, stub

from cnnlab import checks, shapes


def output_size(n: int, f: int, stride: int = 1, padding: int = 0) -> int:
    return shapes.conv_output_size(n, f, stride, padding)


def params(in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> int:
    return shapes.conv_params(in_channels, out_channels, kernel_size, bias)


def field(kernel_sizes: list[int], strides: list[int] | None = None) -> int:
    strides = strides or [1] * len(kernel_sizes)
    return shapes.receptive_field(list(zip(kernel_sizes, strides, strict=True)))


CORRECT: dict[str, Callable[..., Any]] = {
    "conv_output_size": output_size,
    "conv_params": params,
    "receptive_field": field,
}
SUCCESS = {
    "conv_output_size": (
        "✔ conv_output_size: 66 cases match the output size of torch.nn.functional.conv2d "
        "(6 of them raise ValueError)\n"
    ),
    "conv_params": "✔ conv_params: 40 random layers match the parameter count of torch.nn.Conv2d\n",
    "receptive_field": (
        "✔ receptive_field: 40 random stacks match the input footprint found by autograd\n"
    ),
}
NAMES = sorted(CORRECT)


@pytest.mark.parametrize("name", NAMES)
def test_correct_implementation_passes_with_one_line(name: str, capsys) -> None:
    state = torch.get_rng_state()
    getattr(checks, name)(CORRECT[name])
    getattr(checks, name)(CORRECT[name])
    assert capsys.readouterr().out == SUCCESS[name] * 2
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("name", NAMES)
def test_numpy_integers_are_ints(name: str, capsys) -> None:
    getattr(checks, name)(lambda *a: np.int64(CORRECT[name](*a)))
    assert capsys.readouterr().out == SUCCESS[name]


@pytest.mark.parametrize("name", NAMES)
def test_blank_stub_is_reported_as_not_implemented(name: str) -> None:
    message = failure(name, stub)
    assert message.startswith(f"{name} is not implemented yet")


@pytest.mark.parametrize("name", NAMES)
def test_missing_return_and_non_functions(name: str) -> None:
    assert "did you forget the `return` statement?" in failure(name, lambda *args: None)
    with pytest.raises(TypeError, match=rf"checks\.{name}\({name}\)"):
        getattr(checks, name)(42)


@pytest.mark.parametrize("name", NAMES)
def test_a_tensor_answer_is_a_failure_with_a_hint(name: str) -> None:
    message = failure(name, lambda *a: torch.tensor(CORRECT[name](*a)))
    assert "returned a torch.Tensor (torch.int64, shape ())" in message
    assert "return a Python int (int(...) or .item())" in message


@pytest.mark.parametrize("name", NAMES)
def test_a_tuple_answer_is_a_failure(name: str) -> None:
    message = failure(name, lambda *a: (CORRECT[name](*a), CORRECT[name](*a)))
    assert "returned a tuple" in message and "return one int" in message


def test_bool_answers_are_rejected() -> None:
    assert "returned the bool True" in failure("conv_params", lambda *a: True)


# --------------------------------------------------------------------------------------------
# conv_output_size


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
    message = failure("conv_output_size", lambda n, f, s=1, p=0: (n + 2 * p - f + 1) // s)
    assert "the + 1 comes after the division" in message and "forgot" not in message


def test_conv_output_size_detects_ceil_and_single_padding() -> None:
    def ceil(n: int, f: int, s: int = 1, p: int = 0) -> int:
        return -(-(n - f + 2 * p) // s) + 1

    assert "PyTorch *floors*" in failure("conv_output_size", ceil)
    message = failure("conv_output_size", lambda n, f, s=1, p=0: (n - f + p) // s + 1)
    assert "expected 7, got 6" in message and "*both* sides" in message


def test_conv_output_size_detects_ignored_stride_and_padding() -> None:
    message = failure("conv_output_size", lambda n, f, s=1, p=0: n - f + 2 * p + 1)
    assert "expected 3, got 5" in message and "you ignored the stride" in message
    message = failure("conv_output_size", lambda n, f, s=1, p=0: (n - f) // s + 1)
    assert "you ignored the padding" in message and "stride" not in message.split("Hint:")[1]


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


def test_the_invalid_cases_are_refused_by_pytorch() -> None:
    import torch.nn.functional as F

    for n, f, s, p in [(3, 5, 1, 0), (4, 7, 1, 1), (1, 2, 1, 0), (5, 11, 2, 2), (2, 6, 3, 1)]:
        with pytest.raises(RuntimeError):
            F.conv2d(
                torch.zeros(1, 1, n, 1), torch.zeros(1, 1, f, 1), stride=(s, 1), padding=(p, 0)
            )


# --------------------------------------------------------------------------------------------
# conv_params and receptive_field


def test_conv_params_detects_missing_bias_and_depth() -> None:
    message = failure("conv_params", lambda d, k, f, b=True: f * f * d * k)
    assert "expected 760" in message and "got 750" in message
    assert "k·k·C_in·C_out + C_out" in message
    message = failure("conv_params", lambda d, k, f, b=True: f * f * k + (k if b else 0))
    assert "got 260" in message and "full input depth" in message
    message = failure("conv_params", lambda d, k, f, b=True: f * f * d * k + k)
    assert "bias=False" in message


def test_conv_params_detects_one_filter_and_one_bias() -> None:
    message = failure("conv_params", lambda d, k, f, b=True: f * f * d + (1 if b else 0))
    assert "that is one filter" in message
    message = failure("conv_params", lambda d, k, f, b=True: f * f * d * k + (1 if b else 0))
    assert "one bias per filter: + C_out, not + 1" in message
    message = failure("conv_params", lambda d, k, f, b=True: f * d * k + (k if b else 0))
    assert "k·k·C_in weights each" in message


def test_receptive_field_detects_summed_kernels_and_ignored_strides() -> None:
    message = failure("receptive_field", lambda ks, ss=None: sum(ks))
    assert "receptive_field([3, 3])" in message and "expected 5" in message
    assert "got 6" in message and "F − 1" in message
    message = failure("receptive_field", lambda ks, ss=None: 1 + sum(k - 1 for k in ks))
    assert "receptive_field([2, 2], [2, 2])" in message and "stride" in message
    message = failure("receptive_field", lambda ks, ss=None: int(np.prod(ks)))
    assert "receptive fields do not multiply" in message


def test_receptive_field_detects_own_stride_in_the_jump() -> None:
    def own_stride(kernel_sizes: list[int], strides: list[int] | None = None) -> int:
        strides = strides or [1] * len(kernel_sizes)
        r, jump = 1, 1
        for f, s in zip(kernel_sizes, strides, strict=True):
            jump *= s
            r += (f - 1) * jump
        return r

    assert "not including its own" in failure("receptive_field", own_stride)


def test_receptive_field_reports_a_changed_input_list() -> None:
    def mutating(kernel_sizes: list[int], strides: list[int] | None = None) -> int:
        result = field(kernel_sizes, strides)
        kernel_sizes.append(1)
        return result

    message = failure("receptive_field", mutating)
    assert "changed its input list (argument 1) in place" in message and "list(...)" in message
