"""Where training runs: device choice, ``torch.compile`` availability, AMP, random streams."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator

import torch
from torch import nn

from cnnlab._validate import check_choice

AMP_MODES = ("bf16", "fp16")


def parse_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device``; a clear ``ValueError`` for a malformed name."""
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}"
        ) from exc


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given (checked), else CUDA, then Apple MPS, then CPU."""
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = parse_device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available here")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} requested but Apple MPS is not available here")
    return dev


def compile_unavailable(device: torch.device) -> str | None:
    """Why ``torch.compile`` cannot train on ``device`` here, or None if it can.

    Inductor writes C++ for the CPU (a compiler must be on PATH) and Triton kernels for CUDA.
    Checking first turns a long traceback at the first training step into one sentence.
    """
    if device.type == "cpu":
        try:
            from torch._inductor.cpp_builder import get_cpp_compiler

            get_cpp_compiler()
        except ImportError:  # a torch without this helper: look for a compiler ourselves
            if not any(shutil.which(c) for c in ("g++", "clang++", "c++", "cl")):
                return "torch.compile on the CPU needs a C++ compiler (g++ or clang++) on PATH"
        except Exception:
            return "torch.compile on the CPU needs a C++ compiler (g++ or clang++) on PATH"
        return None
    if device.type == "cuda":
        from torch.utils._triton import has_triton

        return None if has_triton() else "torch.compile on CUDA needs the triton package"
    return f"torch.compile is not supported for training on {device.type!r} by cnnlab"


def check_amp(amp: object) -> bool | str | None:
    """``amp`` if it is None, True, False, "bf16" or "fp16" (device-independent check)."""
    if amp is None or isinstance(amp, bool):
        return amp
    if isinstance(amp, str):
        return check_choice(amp, "amp", AMP_MODES)
    raise TypeError(f"amp must be None, True, False, 'bf16' or 'fp16', got {amp!r}")


def resolve_amp(amp: object, device: torch.device) -> torch.dtype | None:
    """None -> bf16 (or fp16) on CUDA and off elsewhere; explicit AMP needs CUDA."""
    amp = check_amp(amp)
    if amp is None:
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp is False:
        return None
    if amp is True:
        mode = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp16"
    else:
        mode = amp
    if device.type != "cuda":
        raise ValueError(
            f"amp={amp!r} needs a CUDA device (got {device}); use amp=None to enable it only "
            "where it helps"
        )
    return torch.bfloat16 if mode == "bf16" else torch.float16


def fused_ok(params: list[nn.Parameter], device: torch.device) -> bool:
    """Fused SGD/Adam/AdamW exist for floating CUDA tensors and, from torch 2.4, CPU ones."""
    if device.type == "cpu":
        major, minor = (int(v) for v in torch.__version__.split(".")[:2])
        if (major, minor) < (2, 4):
            return False
    elif device.type != "cuda":
        return False
    return all(p.is_floating_point() and p.device.type == device.type for p in params)


def device_generator(device: torch.device, seed: int) -> torch.Generator:
    """A generator on ``device`` seeded with ``seed`` (a CPU one where the backend has none)."""
    try:
        return torch.Generator(device=device).manual_seed(seed)
    except RuntimeError:  # a backend without device generators
        return torch.Generator().manual_seed(seed)


def seed_rngs(device: torch.device, seed: int) -> None:
    """Seed torch's global CPU generator and ``device``'s (not other devices'), as
    ``torch.manual_seed(seed)`` does for these two."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)
    elif device.type == "mps":
        torch.mps.manual_seed(seed)


@contextlib.contextmanager
def seeded_rng(device: torch.device, seed: int) -> Iterator[None]:
    """Run the block with torch's global CPU (and ``device``'s) generator seeded with ``seed``,
    then restore both: the caller's random state is the same after the block as before.

    In-model randomness (dropout) draws from these global generators.
    """
    accel = [] if device.type == "cpu" else [device]
    with torch.random.fork_rng(devices=accel, device_type=device.type):
        seed_rngs(device, seed)
        yield
