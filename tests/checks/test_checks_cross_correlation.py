"""Topic 1 checks (corr2d, its multi-channel forms, conv1x1) accept correct answers and reject
classic wrong ones with a hint that names the actual cause (and no wrong one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from check_helpers import failure, hints, stub
from torch import nn

from cnnlab import checks, ops
from cnnlab.checks import CheckFailed

# --------------------------------------------------------------------------------------------
# correct answers


def loop_corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The textbook loop, with the output in X's dtype (as the solution notebook builds it)."""
    kh, kw = K.shape
    Y = torch.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y


def unfold_corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Vectorised with unfold (allowed: it only cuts out the windows)."""
    kh, kw = K.shape
    cols = F.unfold(X[None, None], (kh, kw))[0]  # (kh·kw, positions)
    return (K.reshape(1, -1) @ cols).reshape(X.shape[0] - kh + 1, X.shape[1] - kw + 1)


def multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return sum(ops.corr2d(x, k) for x, k in zip(X, K, strict=True))


def multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return torch.stack([multi_in(X, k) for k in K])


def matmul_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)).reshape(c_o, h, w)


def einsum_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return torch.einsum("oc,chw->ohw", K[:, :, 0, 0], X)


CORRECT: dict[str, list[Callable[..., Any]]] = {
    "corr2d": [loop_corr2d, unfold_corr2d],
    "corr2d_multi_in": [multi_in],
    "corr2d_multi_in_out": [multi_in_out],
    "conv1x1": [matmul_1x1, einsum_1x1],
}
SUCCESS = {
    "corr2d": "✔ corr2d: 60 random cases match torch.nn.functional.conv2d\n",
    "corr2d_multi_in": "✔ corr2d_multi_in: 40 random cases match torch.nn.functional.conv2d\n",
    "corr2d_multi_in_out": (
        "✔ corr2d_multi_in_out: 30 random cases match torch.nn.functional.conv2d\n"
    ),
    "conv1x1": "✔ conv1x1: 30 random cases match torch.nn.functional.conv2d\n",
}
NAMES = sorted(CORRECT)
# a correct answer of each check, wrapped by a mistake that applies to all of them
ANY = [(name, CORRECT[name][0]) for name in NAMES]


# --------------------------------------------------------------------------------------------
# correct answers pass with one line; the checks are deterministic and keep the global RNG


@pytest.mark.parametrize("name", NAMES)
def test_correct_implementations_pass_with_one_line(name: str, capsys) -> None:
    for fn in CORRECT[name]:
        getattr(checks, name)(fn)
        assert capsys.readouterr().out == SUCCESS[name]


@pytest.mark.parametrize("name", NAMES)
def test_check_is_deterministic_and_keeps_global_rng(name: str, capsys) -> None:
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    seen: list[tuple[torch.Tensor, ...]] = []

    def spy(*args: torch.Tensor) -> torch.Tensor:
        seen.append(args)
        return CORRECT[name][0](*args)

    getattr(checks, name)(spy)
    first = list(seen)
    seen.clear()
    getattr(checks, name)(spy)
    pairs = zip(first, seen, strict=True)
    assert all(torch.equal(a, b) for x, y in pairs for a, b in zip(x, y, strict=True))
    assert torch.equal(state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])


@pytest.mark.parametrize("name", NAMES)
def test_cases_are_real_valued_float64_and_non_degenerate_first(name: str) -> None:
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def spy(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        seen.append((X, K))
        return CORRECT[name][0](X, K)

    getattr(checks, name)(spy)
    assert all(X.dtype == K.dtype == torch.float64 for X, K in seen)
    start = 0 if name == "conv1x1" else 1  # after the lecture's worked example
    X, K = seen[start]
    assert not torch.equal(X, X.round()), "the first random case has fractions"
    h, w = X.shape[-2:]
    assert h != w and min(h, w) >= 3
    if name != "conv1x1":
        kh, kw = K.shape[-2:]
        assert 2 <= kh < h and 2 <= kw < w
    # small integer cases come later, for readable messages
    assert any(torch.equal(X, X.round()) for X, _ in seen[start + 1 :])


# --------------------------------------------------------------------------------------------
# non-answers


@pytest.mark.parametrize("name", NAMES)
def test_blank_stub_is_reported_as_not_implemented(name: str) -> None:
    message = failure(name, stub)
    assert message.startswith(f"{name} is not implemented yet")
    assert "raise NotImplementedError()" in message


@pytest.mark.parametrize("name", NAMES)
def test_missing_return_is_reported(name: str) -> None:
    assert "did you forget the `return` statement?" in failure(name, lambda *args: None)


@pytest.mark.parametrize("name", NAMES)
def test_not_a_function_is_a_type_error(name: str) -> None:
    with pytest.raises(TypeError, match=rf"checks\.{name}\({name}\)"):
        getattr(checks, name)(42)


@pytest.mark.parametrize(("name", "fn"), ANY)
def test_a_numpy_array_is_a_failure_with_a_hint(name: str, fn: Callable[..., Any]) -> None:
    message = failure(name, lambda *a: fn(*a).numpy())
    assert "returned a NumPy array (numpy.ndarray of float64)" in message
    assert "asks for a torch.Tensor" in message and "torch.from_numpy" in message


@pytest.mark.parametrize(("name", "fn"), ANY)
def test_a_tuple_is_a_failure_with_a_hint(name: str, fn: Callable[..., Any]) -> None:
    message = failure(name, lambda X, K: (fn(X, K), K))
    assert "returned a tuple of 2 item(s)" in message
    assert "it holds a tensor: return that tensor alone" in message


def test_a_string_is_rejected_clearly() -> None:
    message = failure("corr2d", lambda X, K: "19 25 37 43")
    assert "returned a str" in message and "return a torch.Tensor" in message


def test_crash_in_student_code_names_the_input_and_chains_the_error() -> None:
    def crashing(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return X[10, 10]

    with pytest.raises(CheckFailed) as info:
        checks.corr2d(crashing)
    assert "corr2d raised IndexError for X of shape (3, 3) and K of shape (2, 2)" in str(info.value)
    assert isinstance(info.value.__cause__, IndexError)


def test_changing_the_input_in_place_is_reported() -> None:
    def sloppy(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        X -= 0  # harmless
        X[0, 0] = 100
        return loop_corr2d(X, K)

    message = failure("corr2d", sloppy)
    assert "changed its input tensor (argument 1) in place" in message and ".clone()" in message


# --------------------------------------------------------------------------------------------
# dtype and precision: float32, integers, truncation


def float32_loop(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The textbook loop with torch.zeros' default dtype (float32)."""
    kh, kw = K.shape
    Y = torch.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y


def test_float32_output_fails_with_a_dtype_hint() -> None:
    message = failure("corr2d", float32_loop)
    # at once, on the worked example (whose values are right)
    assert "X of shape (3, 3) and K of shape (2, 2)" in message
    assert "expected dtype torch.float64 (the input's dtype), got torch.float32." in message
    assert "torch.zeros(..., dtype=X.dtype)" in message
    assert len(hints(message)) == 1 and "flipped" not in message


def test_float32_accumulation_converted_back_fails_with_a_round_off_hint() -> None:
    message = failure("corr2d", lambda X, K: float32_loop(X, K).to(X.dtype))
    assert "float32 round-off" in message and "keep the input's dtype throughout" in message
    assert "dtype torch.float32" not in message and "flipped" not in message
    # the values differ in late digits: shown with enough digits to tell them apart
    line = next(line for line in message.splitlines() if "wrong value at output" in line)
    expected, got = line.split("expected ")[1].split(" (")[0].split(", got ")
    assert expected != got


def test_integer_output_fails_with_a_dtype_hint() -> None:
    def int_output(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        kh, kw = K.shape
        Y = torch.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1), dtype=torch.int64)
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
        return Y

    message = failure("corr2d", int_output)
    assert "got torch.int64" in message and "whole numbers only" in message
    assert "torch.zeros(..., dtype=X.dtype)" in message
    message = failure("corr2d", lambda X, K: loop_corr2d(X, K).int())
    assert "got torch.int32" in message and ".int()" in message


def test_truncation_to_int_in_a_float_output_fails_with_a_hint() -> None:
    def truncating(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        kh, kw = K.shape
        Y = torch.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1), dtype=X.dtype)
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = int((X[i : i + kh, j : j + kw] * K).sum())
        return Y

    message = failure("corr2d", truncating)
    assert "whole numbers only, but the answer has fractions" in message
    assert "int(...)" in message and "dtype torch" not in message
    assert len(hints(message)) == 1


@pytest.mark.parametrize("name", ["corr2d_multi_in", "corr2d_multi_in_out", "conv1x1"])
def test_float32_fails_in_every_check(name: str) -> None:
    fn = CORRECT[name][0]
    message = failure(name, lambda X, K: fn(X.float(), K.float()))
    assert "got torch.float32" in message and "avoid .float()" in message


# --------------------------------------------------------------------------------------------
# forbidden library calls


def test_calling_conv2d_is_reported_by_its_name() -> None:
    def via_conv2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return F.conv2d(X[None, None], K[None, None])[0, 0]

    message = failure("corr2d", via_conv2d)
    assert message.startswith(
        "corr2d calls torch.nn.functional.conv2d, the library function this exercise "
        "replaces: compute it yourself with loops and slicing"
    )
    assert F.conv2d is torch.conv2d  # restored (F.conv2d and torch.conv2d are one object)
    assert F.conv2d.__name__ == "conv2d" and "blocked" not in repr(F.conv2d)

    message = failure("corr2d", lambda X, K: torch.conv2d(X[None, None], K[None, None])[0, 0])
    assert message.startswith("corr2d calls torch.conv2d, the library function")


def test_an_imported_alias_and_a_layer_are_reported() -> None:
    namespace: dict[str, Any] = {}
    exec(
        "from torch.nn.functional import conv2d\n"
        "def corr2d(X, K):\n"
        "    return conv2d(X[None, None], K[None, None])[0, 0]\n",
        namespace,
    )
    message = failure("corr2d", namespace["corr2d"])
    assert "corr2d calls torch.nn.functional.conv2d" in message
    assert namespace["conv2d"] is F.conv2d  # the student's global is restored

    def via_layer(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        layer = nn.Conv2d(1, 1, K.shape, bias=False).double()
        layer.weight.data = K[None, None]
        return layer(X[None, None])[0, 0].detach()

    message = failure("corr2d", via_layer)
    assert message.startswith("corr2d uses torch.nn.Conv2d, the library layer this exercise")
    assert "forward" not in vars(nn.LazyConv2d)  # the inherited method was not copied


def test_a_swallowed_forbidden_call_is_still_reported() -> None:
    def sneaky(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        try:
            return F.conv2d(X[None, None], K[None, None])[0, 0]
        except Exception:
            return loop_corr2d(X, K)

    assert "corr2d calls torch.nn.functional.conv2d" in failure("corr2d", sneaky)


def test_the_course_ops_are_forbidden_where_they_give_the_answer() -> None:
    assert "corr2d calls cnnlab.ops.corr2d" in failure("corr2d", lambda X, K: ops.corr2d(X, K))
    message = failure("conv1x1", lambda X, K: ops.conv2d(X[None], K)[0])
    assert message.startswith("conv1x1 calls cnnlab.ops.conv2d")
    assert "one matrix product" in message
    message = failure("corr2d_multi_in_out", lambda X, K: F.conv2d(X[None], K)[0])
    assert "corr2d_multi_in_out calls torch.nn.functional.conv2d" in message
    assert "apply your corr2d_multi_in to each filter" in message
    message = failure("corr2d_multi_in", lambda X, K: F.conv2d(X[None], K[None])[0, 0])
    assert "cross-correlate each channel with your corr2d" in message


# --------------------------------------------------------------------------------------------
# corr2d: classic mistakes


def test_corr2d_detects_true_convolution() -> None:
    message = failure("corr2d", lambda X, K: ops.convolve2d(X, K))
    assert "*flipped-kernel* (true) convolution" in message
    assert "cross-correlation does not flip K" in message
    # the lecture's example is tested first, and shown
    assert "X of shape (3, 3) and K of shape (2, 2)" in message
    assert "expected 19, got 5" in message
    assert "[[19, 25],\n [37, 43]]" in message
    assert len(hints(message)) == 1 and "dtype" not in message


def test_corr2d_detects_an_off_by_one_loop() -> None:
    message = failure("corr2d", lambda X, K: loop_corr2d(X, K)[:-1, :-1])
    assert "expected output of shape (2, 2), got (1, 1)" in message
    assert "one row and one column short" in message and "(n − k)/s + 1" in message
    message = failure("corr2d", lambda X, K: F.pad(loop_corr2d(X, K), (0, 1, 0, 1)))
    assert "one row and one column too big" in message


def test_corr2d_detects_a_transposed_output_and_swapped_sizes() -> None:
    message = failure("corr2d", lambda X, K: loop_corr2d(X, K).T)
    assert "transposed" in message and "swapped" not in message

    def square_ok(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        Y = loop_corr2d(X, K)
        return Y if Y.shape[0] == Y.shape[1] else Y.T.contiguous()

    message = failure("corr2d", square_ok)
    assert "rows and columns are swapped" in message


def test_corr2d_detects_a_transposed_kernel() -> None:
    message = failure("corr2d", lambda X, K: loop_corr2d(X, K.T))
    assert "you used K transposed" in message and "flipped" not in message


def test_corr2d_reports_the_first_wrong_position() -> None:
    def almost(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        Y = loop_corr2d(X, K)
        Y[1, 0] += 1
        return Y

    message = failure("corr2d", almost)
    assert "wrong value at output[1, 0]: expected 37, got 38 (1 of 4 values differ)" in message
    assert not hints(message)


def test_corr2d_shows_real_values_readably() -> None:
    def almost(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        Y = loop_corr2d(X, K)
        if not torch.equal(X, X.round()):
            Y[0, 0] += 0.5
        return Y

    message = failure("corr2d", almost)
    x_block = message.split("X =\n")[1].split("\nK =")[0]
    assert "." in x_block and "e-" not in x_block  # two-decimal values such as -1.37


# --------------------------------------------------------------------------------------------
# corr2d_multi_in / corr2d_multi_in_out / conv1x1: classic mistakes


def test_corr2d_multi_in_detects_per_channel_maps_and_single_channels() -> None:
    message = failure(
        "corr2d_multi_in",
        lambda X, K: torch.stack([ops.corr2d(x, k) for x, k in zip(X, K, strict=True)]),
    )
    assert "expected output of shape (2, 2), got (2, 2, 2)" in message
    assert "one map per input channel" in message
    message = failure("corr2d_multi_in", lambda X, K: ops.corr2d(X[0], K[0]))
    assert "only the first channel" in message

    def overwrite(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        for x, k in zip(X, K, strict=True):
            Y = ops.corr2d(x, k)
        return Y

    assert "the last channel's alone" in failure("corr2d_multi_in", overwrite)


def test_corr2d_multi_in_detects_mean_and_repeated_sum() -> None:
    message = failure("corr2d_multi_in", lambda X, K: multi_in(X, K) / X.shape[0])
    assert "you averaged the per-channel results" in message
    message = failure("corr2d_multi_in", lambda X, K: multi_in(X, K) * X.shape[0])
    assert "C times too large" in message


def test_corr2d_multi_in_detects_flipped_kernels() -> None:
    def flipped(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return sum(ops.convolve2d(x, k) for x, k in zip(X, K, strict=True))

    assert "*flipped-kernel*" in failure("corr2d_multi_in", flipped)


def test_corr2d_multi_in_out_detects_summed_outputs_and_one_filter() -> None:
    message = failure("corr2d_multi_in_out", lambda X, K: multi_in_out(X, K).sum(0))
    assert "you returned a single map" in message
    message = failure(
        "corr2d_multi_in_out", lambda X, K: torch.stack([multi_in(X, K[0]) for k in K])
    )
    assert "the map of the first filter K[0]" in message


def test_corr2d_multi_in_out_detects_channel_mix_ups() -> None:
    message = failure("corr2d_multi_in_out", lambda X, K: multi_in_out(X, K.flip(-2, -1)))
    assert "*flipped-kernel*" in message

    def pairs(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        return torch.stack(
            [torch.stack([ops.corr2d(x, kc) for x, kc in zip(X, k, strict=True)]) for k in K]
        )

    assert "one map per (output, input) channel pair" in failure("corr2d_multi_in_out", pairs)


def test_conv1x1_detects_pixel_major_result_and_wrong_reshape() -> None:
    def pixel_major(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        c_i, h, w = X.shape
        return X.reshape(c_i, h * w).T @ K.reshape(K.shape[0], c_i).T

    assert "(H·W)×C_out" in failure("conv1x1", pixel_major)

    def memory_order(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        c_i, h, w = X.shape
        return (K.reshape(K.shape[0], c_i) @ X.reshape(h * w, c_i).T).reshape(-1, h, w)

    message = failure("conv1x1", memory_order)
    assert "X.reshape(h * w, c_in) does not put the channels last" in message

    def no_reshape(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        c_i, h, w = X.shape
        return K.reshape(K.shape[0], c_i) @ X.reshape(c_i, h * w)

    assert "reshape the C_out×(H·W) product back" in failure("conv1x1", no_reshape)
