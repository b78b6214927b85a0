"""Class 6, resource exhaustion: valid but huge requests are refused before they allocate (a
``ResourceLimitError``, a ValueError naming the estimate and the limit) or computed in tiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

from cnnlab import _limits, filters, ops, shapes
from cnnlab._limits import GiB, ResourceLimitError, check_memory, format_bytes, memory_limit
from cnnlab.cli import EXIT_USAGE, exit_code
from cnnlab.data import load_dataset, load_photo, make_shapes
from cnnlab.widgets import arithmetic_explorer, arithmetic_state, draw_arithmetic

F64 = torch.float64

# --- the limit itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1024", 1024), ("2GiB", 2 * GiB), ("1.5 MiB", 1536 * 1024), ("3gb", 3 * 10**9), ("7k", 7000)],
)
def test_limit_from_environment(monkeypatch: pytest.MonkeyPatch, text: str, expected: int) -> None:
    monkeypatch.setenv(_limits.ENV_VAR, text)
    assert memory_limit() == expected


def test_bad_limit_in_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_limits.ENV_VAR, "lots")
    with pytest.raises(ValueError, match=r"CNNLAB_MEMORY_LIMIT='lots' is not a size"):
        memory_limit()


def test_default_limit_is_min_of_8gib_and_half_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_limits.ENV_VAR, raising=False)
    monkeypatch.setattr(_limits, "_available_bytes", lambda: 6 * GiB)
    assert memory_limit() == 3 * GiB
    monkeypatch.setattr(_limits, "_available_bytes", lambda: 64 * GiB)
    assert memory_limit() == 8 * GiB
    monkeypatch.setattr(_limits, "_available_bytes", lambda: None)  # no /proc, no sysconf
    assert memory_limit() == _limits.FALLBACK_LIMIT


def test_available_memory_is_read_on_this_machine() -> None:
    available = _limits._available_bytes()
    assert available is None or available > 0


def test_refusal_names_estimate_limit_and_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_limits.ENV_VAR, "1GiB")
    with pytest.raises(ResourceLimitError) as err:
        check_memory(3 * GiB, "a thing", "ask for less")
    msg = str(err.value)
    assert "a thing would need about 3.0 GiB" in msg and "limit of 1.0 GiB" in msg
    assert msg.endswith("; ask for less") and "CNNLAB_MEMORY_LIMIT" in msg
    assert isinstance(err.value, ValueError) and exit_code(err.value) == EXIT_USAGE
    check_memory(GiB, "fits")  # at the limit: fine
    assert format_bytes(512) == "512 bytes" and format_bytes(40 * 1024**4) == "40.0 TiB"


# --- ops: tiles instead of one huge copy ----------------------------------------------------


def test_300x300_kernel_is_tiled_within_the_chunk_budget() -> None:
    # 600×600 input, 300×300 kernel: the window copy is 301²·90000·4 bytes ≈ 30 GiB at once
    cell = 300 * 300 * 4
    tiles = ops._tiles((301, 301), cell)
    assert all(
        (r.stop - r.start) * (c.stop - c.start) * cell <= ops.CHUNK_BYTES for band in tiles
        for r, c in band
    )  # fmt: skip
    covered = sum((r.stop - r.start) * (c.stop - c.start) for band in tiles for r, c in band)
    assert covered == 301 * 301
    # a kernel so large that one output row does not fit: tiles split the row too
    wide = ops._tiles((3, 5000), ops.CHUNK_BYTES // 100)
    assert len(wide[0]) > 1 and sum(c.stop - c.start for _, c in wide[0]) == 5000


CONV_CASES = [
    dict(x=(2, 4, 11, 9), w=(6, 2, 4, 3), stride=(2, 1), padding=(2, 1), dilation=1, groups=2),
    dict(x=(1, 3, 10, 12), w=(2, 3, 3, 3), stride=1, padding=0, dilation=2, groups=1),
    dict(x=(1, 1, 20, 20), w=(1, 1, 9, 9), stride=1, padding=4, dilation=1, groups=1),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("chunk", [1, 3000])
def test_tiled_conv2d_and_max_pool_equal_torch_with_grads(
    monkeypatch: pytest.MonkeyPatch, case: dict, chunk: int
) -> None:
    monkeypatch.setattr(ops, "CHUNK_BYTES", chunk)  # one output cell per tile, or a few
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*case["x"], generator=g, dtype=F64, requires_grad=True)
    w = torch.randn(*case["w"], generator=g, dtype=F64, requires_grad=True)
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    ours, ref = ops.conv2d(x, w, **kw), F.conv2d(x, w, **kw)
    torch.testing.assert_close(ours, ref)
    for a, b in zip(
        torch.autograd.grad(ours.square().sum(), (x, w)),
        torch.autograd.grad(ref.square().sum(), (x, w)),
        strict=True,
    ):
        torch.testing.assert_close(a, b)
    ours, ref = ops.max_pool2d(x, 3, 1, 1), F.max_pool2d(x, 3, 1, 1)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(
        torch.autograd.grad(ours.sum(), x)[0], torch.autograd.grad(ref.sum(), x)[0]
    )


def test_conv2d_with_gradients_too_large_is_refused_without_grad_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(_limits.ENV_VAR, "2MiB")
    monkeypatch.setattr(ops, "CHUNK_BYTES", 256 * 1024)
    x = torch.randn(1, 1, 60, 60, requires_grad=True)
    w = torch.randn(1, 1, 20, 20)  # 41²·400·4 bytes ≈ 2.6 MiB of window copies
    with pytest.raises(ResourceLimitError, match=r"with gradients.*torch.no_grad\(\)"):
        ops.conv2d(x, w)
    with torch.no_grad():
        torch.testing.assert_close(ops.conv2d(x, w), F.conv2d(x, w), rtol=1e-4, atol=1e-3)


X3 = torch.zeros(1, 1, 3, 3)
HUGE_OPS = {
    "conv2d padding": lambda: ops.conv2d(X3, torch.zeros(1, 1, 1, 1), None, 1, 10**5),
    "conv2d output": lambda: ops.conv2d(torch.zeros(1, 1, 1000, 1000), torch.zeros(10**4, 1, 1, 1)),
    "convolve2d padding": lambda: ops.convolve2d(X3[0, 0], torch.ones(1, 1), padding=10**5),
    "corr2d loop": lambda: ops.corr2d(torch.zeros(5000, 5000), torch.zeros(1, 1)),
    "gaussian_kernel": lambda: filters.gaussian_kernel(10**6, 1.0),
    "apply_filter padding": lambda: filters.apply_filter(torch.zeros(3, 3), "edge", padding=10**5),
    "step_edge_example": lambda: filters.step_edge_example(10**6, 10**6),
    "learn_kernel steps": lambda: filters.learn_kernel(X3[0, 0], X3[0, 0, :2, :2], 2, steps=10**12),
    "measured_receptive_field": lambda: shapes.measured_receptive_field([(3, 1000)] * 5),
    "arithmetic_state": lambda: arithmetic_state(10**10, 3),
    "make_shapes n": lambda: make_shapes(10**9),
    "make_shapes size": lambda: make_shapes(10, size=4096),
    "load_dataset shapes size": lambda: load_dataset("shapes", size=4096),
    "load_dataset shapes test n": lambda: load_dataset("shapes", "test", n=10**9),
    "load_dataset photos size": lambda: load_dataset("photos", size=10**5),
    "load_photo size": lambda: load_photo("camera", size=10**5),
}  # fmt: skip


@pytest.mark.parametrize("call", HUGE_OPS.values(), ids=HUGE_OPS.keys())
def test_huge_requests_are_refused_at_once(call: Callable[[], object]) -> None:
    start = time.perf_counter()
    with pytest.raises(ResourceLimitError, match=r"would need about [0-9.]+ [KMGTP]iB .* limit of"):
        call()
    assert time.perf_counter() - start < 5  # refused before any work, not after


def test_shapes_limit_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_limits.ENV_VAR, "64MiB")
    with pytest.raises(ResourceLimitError, match=r"'shapes' images of 3×64×64"):
        make_shapes(10, size=64)  # 500·64²·8·21 bytes of working planes ≈ 330 MiB
    assert make_shapes(10, size=16)[0].shape == (10, 3, 16, 16)


# --- arithmetic that used to loop for ever --------------------------------------------------


def _old_misfit_hints(n: int, kernel: int, stride: int, padding: int, dilation: int) -> str:
    """The hint of the old brute-force search, for small sizes."""
    room = n + 2 * padding - (dilation * (kernel - 1) + 1)
    span = dilation * (kernel - 1) + 1
    strides = [t for t in range(1, min(room, span) + 1) if room % t == 0] if room else [1]
    fits = [
        q
        for q in range(padding + 1, padding + stride + 1)
        if (room + 2 * (q - padding)) % stride == 0
    ]
    shown = [str(t) for t in strides[:6]]
    hints = "try stride " + (
        ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]
    )
    return hints + (f", or padding {fits[0]}" if fits else "")  # fmt: skip


def test_misfit_hints_equal_the_old_search_on_small_sizes() -> None:
    checked = 0
    for n in range(1, 30):
        for k in range(1, 8):
            for s in range(2, 7):
                for p in range(0, 3):
                    room = n + 2 * p - k
                    if room < 0 or room % s == 0:
                        continue
                    msg = shapes._misfit_message(n, k, s, p, 1)
                    assert msg.endswith(f"({_old_misfit_hints(n, k, s, p, 1)})"), (n, k, s, p)
                    checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    "call",
    [
        lambda: shapes.conv_output_size(10**12, 10**11 + 1, stride=10**9 + 7, exact=True),
        lambda: shapes.pool_output_size(10**12, 10**11, 10**9 + 7, padding=10, exact=True),
        lambda: shapes.conv_output_size(10**15 + 37, 10**14, stride=2 * 10**13 + 1, exact=True),
    ],
)
def test_misfit_message_for_huge_sizes_is_instant(call: Callable[[], object]) -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"the filter does not fit.*try stride 1"):
        call()
    assert time.perf_counter() - start < 1


# --- widgets --------------------------------------------------------------------------------


def test_arithmetic_explorer_refuses_a_grid_too_large_to_draw() -> None:
    with pytest.raises(ValueError, match=r"padded input 1000000×1000000 .* too large to draw"):
        arithmetic_explorer(n=10**6)
    state = arithmetic_state(10**6, 3)  # the arithmetic itself is fine
    assert state.floor_size == 10**6 - 2
    with pytest.raises(ValueError, match="too large to draw: at most 256×256"):
        draw_arithmetic(state)


def test_arithmetic_explorer_slider_beyond_the_limit_shows_the_banner() -> None:
    ex = arithmetic_explorer()
    ex.n.max = 1000
    ex.n.value = 1000  # the drawing refuses: banner, last good state kept
    assert ex.error is not None and "too large to draw" in ex.error
    assert ex.state is not None and ex.state.n == 7
    ex.n.value = 9
    assert ex.error is None and ex.state.n == 9
