"""The one training loop of the course: ``fit(model, train_data, val_data, ...) -> History``.

Model-agnostic and fast on a laptop CPU: the whole dataset sits on the device as two tensors and
batches are drawn by indexing them with a shuffled index tensor (no per-sample DataLoader, no
collate); augmentations run batched on the device; losses and accuracies accumulate as device
tensors and are read back once per epoch (no per-step ``.item()`` sync); models and data are
channels_last (NHWC) and the optimiser step is fused. On CUDA it also uses mixed precision, and
``compile=True`` trains through ``torch.compile``. No plotting here: ``History.as_dict()``
feeds ``cnnlab.viz``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_float, as_int, check_choice

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine")
AMP_MODES = ("bf16", "fp16")
CHECKPOINT_FILE = "model.pt"
CARD_FILE = "card.json"

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


# --------------------------------------------------------------------------- device and seeds


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given (checked), else CUDA, then Apple MPS, then CPU."""
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}"
        ) from exc
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


def seed_everything(seed: int, threads: int | None = 1) -> None:
    """Seed Python, numpy and torch (all devices) and fix the CPU thread count.

    Same seed and same thread count give bit-identical CPU training; a different thread count
    changes the order of float reductions and so the last bits. ``threads=None`` leaves it.
    """
    seed = as_int(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if threads is not None:
        torch.set_num_threads(as_int(threads, "threads", minimum=1))


# --------------------------------------------------------------------------- augmentation


class RandomFlip:
    """Flip each image of a batch left-right with probability ``p`` (batched, on device)."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        flip = torch.rand(x.shape[0], device=x.device, generator=generator) < self.p
        return torch.where(flip[:, None, None, None], x.flip(-1), x)

    def __repr__(self) -> str:
        return f"RandomFlip(p={self.p})"


class RandomCrop:
    """Zero-pad each image by ``padding`` and crop it back at a random offset (batched)."""

    def __init__(self, padding: int = 4) -> None:
        self.padding = as_int(padding, "padding", minimum=0)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W), each image shifted by up to ``padding`` pixels."""
        span = 2 * self.padding + 1
        top = torch.randint(0, span, (x.shape[0],), device=x.device, generator=generator)
        left = torch.randint(0, span, (x.shape[0],), device=x.device, generator=generator)
        return shift_crop(x, top, left, self.padding)

    def __repr__(self) -> str:
        return f"RandomCrop(padding={self.padding})"


def shift_crop(
    x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, padding: int
) -> torch.Tensor:
    """Crop ``x`` (B, C, H, W), zero-padded by ``padding``, at per-image offsets (B,) each.

    One gather for the whole batch: rows ``top[b] + i`` and columns ``left[b] + j`` of image b.
    """
    b, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    rows = top[:, None] + torch.arange(h, device=x.device)  # (B, H)
    cols = left[:, None] + torch.arange(w, device=x.device)  # (B, W)
    batch = torch.arange(b, device=x.device)[:, None, None]
    out = padded[batch, :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2)  # NCHW view with channels_last strides


_AUGMENT_NAMES: dict[str, Callable[[], Augment]] = {"flip": RandomFlip, "crop": RandomCrop}


def make_augment(spec: Iterable[str | Augment] | str | None) -> list[Augment]:
    """Turn ``("flip", "crop")`` (names or callables ``f(x, generator) -> x``) into callables."""
    if spec is None:
        return []
    if isinstance(spec, str) or callable(spec):
        spec = (spec,)
    out: list[Augment] = []
    for item in spec:
        if isinstance(item, str):
            out.append(_AUGMENT_NAMES[check_choice(item, "augment", _AUGMENT_NAMES)]())
        elif callable(item):
            out.append(item)
        else:
            raise TypeError(
                f"augment items must be 'flip', 'crop' or callables f(x, generator), got {item!r}"
            )
    return out


# --------------------------------------------------------------------------- history, callbacks


@dataclass
class History:
    """Per-epoch metrics of one fit; ``val_*`` are NaN when there is no validation data."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # the learning rate of each epoch's last step
    seconds: list[float] = field(default_factory=list, compare=False)  # wall time, not compared

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self, timing: bool = False) -> dict[str, list[float]]:
        """The metrics as a dict of lists (wall times only with ``timing=True``)."""
        keys = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]
        if timing:
            keys.append("seconds")
        return {k: list(getattr(self, k)) for k in keys}

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's metrics."""
        if not self.epoch:
            return {}
        return {k: v[-1] for k, v in self.as_dict().items()}


@dataclass
class BatchInfo:
    """What ``on_batch_end`` gets. ``loss`` and ``correct`` are device tensors (no sync)."""

    epoch: int
    step: int  # global optimiser step, from 0
    batch: int  # index within the epoch
    size: int
    loss: torch.Tensor
    correct: torch.Tensor


class Callback:
    """Base class with every hook a no-op; any object with some of these methods also works.

    Hooks: ``on_fit_start(trainer)``, ``on_epoch_start(trainer)``, ``on_after_backward(model)``
    (gradients are ready, unscaled), ``on_batch_end(trainer, info)``, ``on_epoch_end(trainer)``
    (``trainer.history`` holds the epoch's metrics), ``on_fit_end(trainer)``. Set
    ``trainer.stop = True`` to end training after the current epoch.
    """

    def on_fit_start(self, trainer: Trainer) -> None: ...
    def on_epoch_start(self, trainer: Trainer) -> None: ...
    def on_after_backward(self, model: nn.Module) -> None: ...
    def on_batch_end(self, trainer: Trainer, info: BatchInfo) -> None: ...
    def on_epoch_end(self, trainer: Trainer) -> None: ...
    def on_fit_end(self, trainer: Trainer) -> None: ...


class GradNormRecorder(Callback):
    """Record the L2 norm of each weight's gradient every ``every`` optimiser steps.

    By default only weights with at least 2 dimensions (conv and linear layers) are recorded.
    The norms stay on the device until read, so recording adds no per-step sync.
    ``norms`` maps parameter name -> list of norms; ``steps`` holds the recorded step numbers.
    """

    def __init__(self, every: int = 1, include: Callable[[str, nn.Parameter], bool] | None = None):
        self.every = as_int(every, "every", minimum=1)
        self.include = include or (lambda name, p: p.dim() > 1)
        self.steps: list[int] = []
        self._names: list[str] | None = None
        self._params: list[nn.Parameter] = []
        self._pending: list[torch.Tensor] = []
        self._norms: dict[str, list[float]] = {}
        self._count = 0

    def on_after_backward(self, model: nn.Module) -> None:
        step, self._count = self._count, self._count + 1
        if step % self.every:
            return
        if self._names is None:
            chosen = [
                (n, p)
                for n, p in model.named_parameters()
                if p.requires_grad and self.include(n, p)
            ]
            self._names = [n for n, _ in chosen]
            self._params = [p for _, p in chosen]
            self._norms = {n: [] for n in self._names}
        norms = [
            torch.linalg.vector_norm(p.grad.detach().float())
            if p.grad is not None
            else torch.zeros((), device=p.device)
            for p in self._params
        ]
        if norms:
            self._pending.append(torch.stack(norms))
        self.steps.append(step)

    def on_epoch_end(self, trainer: Trainer) -> None:
        self._flush()

    def _flush(self) -> None:
        if self._pending and self._names is not None:
            table = torch.stack(self._pending).cpu().tolist()  # one sync for all pending steps
            for row in table:
                for name, value in zip(self._names, row, strict=True):
                    self._norms[name].append(value)
            self._pending.clear()

    @property
    def norms(self) -> dict[str, list[float]]:
        """Parameter name -> gradient norm at each recorded step."""
        self._flush()
        return {k: list(v) for k, v in self._norms.items()}


# --------------------------------------------------------------------------- the trainer


class InputShapeError(ValueError):
    """The model cannot take the data's image size or channels; says which layer fails."""


class ChannelsLastError(ValueError):
    """The model's forward uses ``.view`` on a feature map, which channels_last cannot take."""


def _is_view_error(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) and "view size is not compatible" in str(exc)


def _as_tensors(data: object, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Accept a ``cnnlab.data.Dataset`` (or anything with .images/.labels) or (images, labels)."""
    if hasattr(data, "images") and hasattr(data, "labels"):
        images, labels = data.images, data.labels  # type: ignore[attr-defined]
    elif isinstance(data, Sequence) and len(data) == 2:
        images, labels = data
    else:
        raise TypeError(
            f"{what} must be a cnnlab.data.Dataset or a pair (images, labels), "
            f"got {type(data).__name__}"
        )
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        raise ValueError(
            f"{what} images must be a float tensor (N, C, H, W), got "
            f"{getattr(images, 'dtype', type(images).__name__)} of shape "
            f"{tuple(getattr(images, 'shape', ()))}"
        )
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.is_floating_point():
        raise ValueError(f"{what} labels must be an integer tensor (N,) of class indices")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"{what} has {images.shape[0]} images but {labels.shape[0]} labels")
    if images.shape[0] == 0:
        raise ValueError(f"{what} is empty")
    return images, labels.long()


def _resolve_amp(amp: object, device: torch.device) -> torch.dtype | None:
    """None/"auto" -> bf16 (or fp16) on CUDA and off elsewhere; explicit AMP needs CUDA."""
    if amp is None:
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp is False:
        return None
    if amp is True:
        mode = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp16"
    elif isinstance(amp, str):
        mode = check_choice(amp, "amp", AMP_MODES)
    else:
        raise TypeError(f"amp must be None, True, False, 'bf16' or 'fp16', got {amp!r}")
    if device.type != "cuda":
        raise ValueError(
            f"amp={amp!r} needs a CUDA device (got {device}); use amp=None to enable it only "
            "where it helps"
        )
    return torch.bfloat16 if mode == "bf16" else torch.float16


def _describe_forward_failure(
    model: nn.Module, x: torch.Tensor, exc: BaseException, name: str
) -> InputShapeError:
    """Run the failing forward again with hooks to find the innermost module that failed."""
    stack: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    names = {m: n for n, m in model.named_modules()}

    def pre(module: nn.Module, args: tuple[Any, ...]) -> None:
        shape = tuple(args[0].shape) if args and isinstance(args[0], torch.Tensor) else ()
        stack.append((names.get(module, "?"), module, shape))

    def post(module: nn.Module, args: tuple[Any, ...], out: Any) -> None:
        if stack:
            stack.pop()

    handles = [m.register_forward_pre_hook(pre) for m in model.modules()]
    handles += [m.register_forward_hook(post) for m in model.modules()]
    try:
        with torch.no_grad():
            model(x)
    except Exception:  # the same failure again: the stack now ends at the failing module
        pass
    finally:
        for h in handles:
            h.remove()
    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = ""
    if stack and "layer '" not in cause:  # cnnlab models name the layer themselves
        layer, module, shape = stack[-1]
        layer = layer or "(the model itself)"
        where = f" Layer {layer!r} ({type(module).__name__}) failed on input of shape {shape}."
    return InputShapeError(
        f"model {name!r} cannot take input of shape {tuple(x.shape)}.{where} Cause: {cause}"
    )


class Trainer:
    """Holds the model, optimiser and random state of one training run; ``fit`` drives it.

    Callbacks see the trainer: ``model``, ``optimizer``, ``device``, ``epoch``, ``step``,
    ``history`` and ``stop`` (set it to end training after the current epoch).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        lr: float = 0.05,
        optimizer: str = "sgd",
        weight_decay: float = 0.0,
        momentum: float = 0.9,
        schedule: str = "constant",
        total_steps: int | None = None,
        label_smoothing: float = 0.0,
        augment: Iterable[str | Augment] | str | None = (),
        seed: int = 0,
        device: str | torch.device | None = None,
        amp: bool | str | None = None,
        channels_last: bool | None = None,
        compile: bool = False,
        callbacks: Iterable[object] = (),
        model_name: str | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.device = pick_device(device)
        self.amp_dtype = _resolve_amp(amp, self.device)
        if channels_last not in (None, True, False):
            raise TypeError(f"channels_last must be None, True or False, got {channels_last!r}")
        has_5d = any(p.dim() == 5 for p in model.parameters())  # Conv3d: NHWC is for 4-D
        # ``auto_layout``: channels_last was our choice, so fit may undo it (see fit).
        self.auto_layout = channels_last is None
        if channels_last is None:
            # oneDNN (CPU) and cuDNN's tensor cores both prefer NHWC: 1.1-1.5x per training
            # step on a laptop CPU for the course's models (``python -m cnnlab bench``).
            channels_last = self.device.type in ("cpu", "cuda") and not has_5d
        elif channels_last and has_5d:
            raise ValueError(
                "channels_last=True needs 4-D convolution weights, but the model has 5-D "
                "parameters (Conv3d?); use channels_last=False"
            )
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=self.memory_format)
        if not isinstance(compile, bool):
            raise TypeError(f"compile must be True or False, got {compile!r}")
        if compile:
            reason = compile_unavailable(self.device)
            if reason:
                raise ValueError(f"compile=True cannot work here: {reason}")
        # The compiled callable shares the model's parameters; ``self.model`` stays the plain
        # module, so state_dict and evaluation see the model the user built. Forward hooks are
        # traced into the compiled graph: register them before training starts.
        self.forward = torch.compile(self.model) if compile else self.model
        self.model_name = model_name or type(model).__name__
        self.lr = as_float(lr, "lr", minimum=0, exclusive=True)
        self.schedule = check_choice(schedule, "schedule", SCHEDULES)
        self.total_steps = total_steps
        self.label_smoothing = _fraction(label_smoothing, "label_smoothing")
        self.optimizer = _make_optimizer(
            model,
            check_choice(optimizer, "optimizer", OPTIMIZERS),
            self.lr,
            _fraction(weight_decay, "weight_decay"),
            _fraction(momentum, "momentum"),
            self.device,
        )
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.augment = make_augment(augment)
        self.callbacks = list(callbacks)
        self.seed = as_int(seed, "seed", minimum=0)
        self._seed_generators()
        self.history = History()
        self.epoch = 0
        self.step = 0
        self.stop = False
        self.num_outputs: int | None = None  # known after the first forward
        self._checked = False

    def _seed_generators(self) -> None:
        # Batch order comes from a CPU generator (the same on every device); augmentation
        # draws on the device so that no random numbers cross the bus.
        self.order_rng = torch.Generator().manual_seed(self.seed)
        self.device_rng = _device_generator(self.device, self.seed)

    def use_memory_format(self, memory_format: torch.memory_format) -> None:
        """Switch the model's layout before training starts (the random streams restart)."""
        if self.step:
            raise RuntimeError("the memory format can only change before the first step")
        self.memory_format = memory_format
        # Not ``model.to(memory_format=...)``: a weight with one input channel counts as
        # contiguous in both layouts, so ``to`` would keep its NHWC strides, and a convolution
        # with an NHWC weight returns NHWC output.
        with torch.no_grad():
            for t in (*self.model.parameters(), *self.model.buffers()):
                if t.dim() == 4:
                    t.data = t.data.clone(memory_format=memory_format)
        self._seed_generators()

    # -- hooks
    def _call(self, hook: str, *args: object) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None:
                fn(*args)

    def to_device(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Move a whole dataset to the device once, in the trainer's memory format."""
        return (
            images.to(self.device, memory_format=self.memory_format),
            labels.to(self.device),
        )

    def _lr_at(self, step: int) -> float:
        if self.schedule == "cosine" and self.total_steps:
            progress = min(step, self.total_steps) / self.total_steps
            return 0.5 * self.lr * (1.0 + math.cos(math.pi * progress))
        return self.lr

    def _first_forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        try:
            out = self.model(x)
        except (RuntimeError, ValueError, IndexError) as exc:
            if _is_view_error(exc) and self.memory_format == torch.channels_last:
                raise ChannelsLastError(
                    f"model {self.model_name!r} reshapes a channels_last feature map with "
                    ".view(), which needs NCHW memory: use x.flatten(1) or x.reshape(...) in "
                    "its forward (and keep the faster layout), or channels_last=False"
                ) from exc
            raise _describe_forward_failure(self.model, x, exc, self.model_name) from exc
        if out.dim() != 2:
            raise ValueError(
                f"model {self.model_name!r} must return logits (N, classes), got {tuple(out.shape)}"
            )
        return out

    def _check_labels(self, labels: torch.Tensor, num_outputs: int) -> None:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_outputs:
            raise ValueError(
                f"labels range over {lo}..{hi} but model {self.model_name!r} has {num_outputs} "
                f"outputs; build it with num_classes={hi + 1}"
            )

    def train_epoch(
        self, images: torch.Tensor, labels: torch.Tensor, batch_size: int
    ) -> tuple[float, float]:
        """One pass over (images, labels) already on the device; returns (mean loss, accuracy)."""
        model, opt = self.model, self.optimizer
        model.train()
        n = images.shape[0]
        order = torch.randperm(n, generator=self.order_rng).to(self.device)
        batches = list(order.split(batch_size))
        if len(batches) > 1 and batches[-1].numel() < 2:
            batches.pop()  # a single-sample batch breaks batch norm; it rejoins next epoch
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        autocast = self.amp_dtype is not None
        for i, idx in enumerate(batches):
            x, y = images[idx], labels[idx]  # advanced indexing keeps channels_last
            for aug in self.augment:
                x = aug(x, self.device_rng)
            for group in opt.param_groups:
                group["lr"] = self._lr_at(self.step)
            with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=autocast):
                if not self._checked:
                    out = self._first_forward(x, y)
                    self.num_outputs = out.shape[1]
                    self._check_labels(labels, self.num_outputs)
                    self._checked = True
                elif y.shape[0] == batch_size:
                    out = self.forward(x)
                else:  # a ragged last batch would make torch.compile build a second graph
                    out = model(x)
                loss = F.cross_entropy(out, y, label_smoothing=self.label_smoothing)
            opt.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.unscale_(opt)  # callbacks and clipping see true gradients
                self._call("on_after_backward", model)
                self.scaler.step(opt)
                self.scaler.update()
            else:
                loss.backward()
                self._call("on_after_backward", model)
                opt.step()
            loss = loss.detach()
            hits = (out.detach().argmax(1) == y).sum()
            loss_sum += loss * y.shape[0]
            correct += hits
            seen += y.shape[0]
            if self.callbacks:
                self._call(
                    "on_batch_end",
                    self,
                    BatchInfo(self.epoch, self.step, i, y.shape[0], loss, hits),
                )
            self.step += 1
        return float(loss_sum) / seen, int(correct) / seen

    def evaluate(
        self, images: torch.Tensor, labels: torch.Tensor, batch_size: int
    ) -> tuple[float, float]:
        """(mean loss, top-1 accuracy) of data already on the device."""
        if self.num_outputs is not None:
            self._check_labels(labels, self.num_outputs)
        result = evaluate(
            self.model,
            (images, labels),
            topk=(1,),
            batch_size=batch_size,
            device=self.device,
            amp=self.amp_dtype,
        )
        return result["loss"], result["top1"]


def _fraction(value: object, name: str) -> float:
    """A number in [0, 1) (momentum, weight decay, label smoothing)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _make_optimizer(
    model: nn.Module,
    name: str,
    lr: float,
    weight_decay: float,
    momentum: float,
    device: torch.device,
) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    # The fused kernels update every parameter in one pass instead of a few ops per tensor.
    options: dict[str, Any] = {"fused": True} if _fused_ok(params, device) else {}
    if name == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=momentum, weight_decay=weight_decay, **options
        )
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return cls(params, lr=lr, weight_decay=weight_decay, **options)


def _fused_ok(params: list[nn.Parameter], device: torch.device) -> bool:
    """Fused SGD/Adam/AdamW exist for floating CUDA tensors and, from torch 2.4, CPU ones."""
    if device.type == "cpu":
        major, minor = (int(v) for v in torch.__version__.split(".")[:2])
        if (major, minor) < (2, 4):
            return False
    elif device.type != "cuda":
        return False
    return all(p.is_floating_point() and p.device.type == device.type for p in params)


def _device_generator(device: torch.device, seed: int) -> torch.Generator:
    try:
        return torch.Generator(device=device).manual_seed(seed)
    except RuntimeError:  # a backend without device generators
        return torch.Generator().manual_seed(seed)


def fit(
    model: nn.Module,
    train_data: object,
    val_data: object | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 0.05,
    optimizer: str = "sgd",
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    schedule: str = "constant",
    label_smoothing: float = 0.0,
    augment: Iterable[str | Augment] | str | None = (),
    seed: int = 0,
    device: str | torch.device | None = None,
    amp: bool | str | None = None,
    channels_last: bool | None = None,
    compile: bool = False,
    callbacks: Iterable[object] = (),
    progress: bool = True,
    model_name: str | None = None,
    eval_batch_size: int = 512,
) -> History:
    """Train ``model`` in place on ``train_data`` and return its per-epoch ``History``.

    ``train_data``/``val_data``: a ``cnnlab.data.Dataset`` or a pair (images (N, C, H, W) float,
    labels (N,) int). ``optimizer``: "sgd" (with ``momentum``), "adam" or "adamw"; ``schedule``:
    "constant" or "cosine" (per step, to zero at the end). ``augment``: names "flip", "crop" or
    callables ``f(x, generator) -> x`` applied to each batch on the device. ``seed`` fixes the
    batch order, augmentation and dropout (seed the model's initialisation yourself with
    ``seed_everything``). ``amp``: None turns mixed precision on for CUDA only.
    ``channels_last``: None turns it on for CPU and CUDA, and falls back to NCHW with a warning
    if the model's forward uses ``.view`` on a feature map. ``compile``: train through
    ``torch.compile(model)`` (needs a C++ compiler on CPU, Triton on CUDA; the first steps pay
    the compilation, tens of seconds on a laptop CPU; register forward hooks before ``fit``).
    ``progress``: one tqdm bar for the fit, updated each epoch. The model is left on the device.
    Raises ``ValueError`` if the images hold NaN/inf and ``FloatingPointError`` if an epoch's
    mean training loss is not finite (training diverged: ``lr`` too high).
    """
    epochs = as_int(epochs, "epochs", minimum=1)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    eval_batch_size = as_int(eval_batch_size, "eval_batch_size", minimum=1)
    x_train, y_train = _as_tensors(train_data, "train_data")
    val = None if val_data is None else _as_tensors(val_data, "val_data")
    steps_per_epoch = math.ceil(x_train.shape[0] / batch_size)
    trainer = Trainer(
        model,
        lr=lr,
        optimizer=optimizer,
        weight_decay=weight_decay,
        momentum=momentum,
        schedule=schedule,
        total_steps=epochs * steps_per_epoch,
        label_smoothing=label_smoothing,
        augment=augment,
        seed=seed,
        device=device,
        amp=amp,
        channels_last=channels_last,
        compile=compile,
        callbacks=callbacks,
        model_name=model_name,
    )
    torch.manual_seed(as_int(seed, "seed", minimum=0))  # dropout and other in-model randomness
    x_train, y_train = trainer.to_device(x_train, y_train)
    if val is not None:
        val = trainer.to_device(*val)
    # one pass over the data, once per fit: NaN/inf inputs would only show up as a NaN loss
    for what, data in (("train_data", x_train), ("val_data", None if val is None else val[0])):
        if data is not None and not bool(torch.isfinite(data).all()):
            bad = int((~torch.isfinite(data)).flatten(1).any(1).sum())
            raise ValueError(
                f"{what} images contain NaN or inf values ({bad} of {data.shape[0]} images); "
                "clean or re-normalise the data first"
            )
    bar = _progress_bar(epochs, trainer.model_name) if progress else None
    trainer._call("on_fit_start", trainer)
    try:
        for epoch in range(epochs):
            trainer.epoch = epoch
            trainer._call("on_epoch_start", trainer)
            start = time.perf_counter()
            try:
                train_loss, train_acc = trainer.train_epoch(x_train, y_train, batch_size)
            except ChannelsLastError as exc:
                if not trainer.auto_layout or trainer.step:
                    raise
                # The layout was our choice, not the user's: fall back to NCHW and say why.
                warnings.warn(f"{exc}. Training in NCHW instead (slower).", stacklevel=2)
                trainer.use_memory_format(torch.contiguous_format)
                nchw = torch.contiguous_format  # clone: see Trainer.use_memory_format
                x_train = x_train.clone(memory_format=nchw)
                if val is not None:
                    val = (val[0].clone(memory_format=nchw), val[1])
                train_loss, train_acc = trainer.train_epoch(x_train, y_train, batch_size)
            if not math.isfinite(train_loss):  # already a float: checking it costs nothing
                raise FloatingPointError(
                    f"the training loss of model {trainer.model_name!r} became {train_loss} in "
                    f"epoch {epoch + 1}: training diverged. lr={trainer.lr:g} may be too high "
                    "(try lr/10), or the model produces NaN/inf"
                )
            val_loss, val_acc = math.nan, math.nan
            if val is not None:
                val_loss, val_acc = trainer.evaluate(*val, eval_batch_size)
            h = trainer.history
            h.epoch.append(epoch + 1)
            h.train_loss.append(train_loss)
            h.train_acc.append(train_acc)
            h.val_loss.append(val_loss)
            h.val_acc.append(val_acc)
            h.lr.append(trainer.optimizer.param_groups[0]["lr"])
            h.seconds.append(time.perf_counter() - start)
            if bar is not None:
                post = {"loss": f"{train_loss:.3f}", "acc": f"{train_acc:.3f}"}
                if val is not None:
                    post["val_acc"] = f"{val_acc:.3f}"
                bar.set_postfix(post, refresh=False)
                bar.update(1)
            trainer._call("on_epoch_end", trainer)
            if trainer.stop:
                break
    finally:
        if bar is not None:
            bar.close()
    trainer._call("on_fit_end", trainer)
    return trainer.history


def _progress_bar(epochs: int, name: str) -> Any:
    from tqdm.auto import tqdm  # imported here: tqdm.auto probes for Jupyter

    return tqdm(total=epochs, desc=f"{name}", unit="epoch", leave=True)


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: object,
    *,
    topk: Sequence[int] = (1, 5),
    batch_size: int = 512,
    device: str | torch.device | None = None,
    amp: bool | str | torch.dtype | None = False,
) -> dict[str, float]:
    """Mean cross-entropy and top-k accuracies of ``model`` on ``data``.

    Returns ``{"loss": ..., "top1": ..., "top5": ..., "n": N}``; top-k is the fraction of images
    whose label is among the k highest logits (k above the number of classes counts every
    image). Runs in eval mode and restores the model's mode. ``device`` defaults to the model's.
    """
    images, labels = _as_tensors(data, "data")
    ks = [as_int(k, "topk", minimum=1) for k in topk]
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    if device is None:
        first = next(iter(model.parameters()), None)
        dev = first.device if first is not None else torch.device("cpu")
    else:
        dev = pick_device(device)
    dtype = amp if isinstance(amp, torch.dtype) else _resolve_amp(amp, dev)
    was_training = model.training
    model.eval()
    acc_dtype = torch.float32 if dev.type == "mps" else torch.float64  # MPS has no float64
    loss_sum = torch.zeros((), device=dev, dtype=acc_dtype)
    hits = torch.zeros(len(ks), device=dev, dtype=torch.long)
    try:
        for start in range(0, images.shape[0], batch_size):
            x = images[start : start + batch_size].to(dev)
            y = labels[start : start + batch_size].to(dev)
            with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                out = model(x)
            out = out.float()
            loss_sum += F.cross_entropy(out, y, reduction="sum").to(acc_dtype)
            kmax = min(max(ks), out.shape[1])
            top = out.topk(kmax, dim=1).indices == y[:, None]  # (B, kmax) one-hot of the hit
            cum = top.cumsum(1).clamp_(max=1).sum(0)  # images with a hit within the first k
            hits += torch.stack([cum[min(k, kmax) - 1] for k in ks])
    finally:
        model.train(was_training)
    n = images.shape[0]
    result: dict[str, float] = {"loss": float(loss_sum) / n}
    for k, h in zip(ks, hits.tolist(), strict=True):
        result[f"top{k}"] = h / n
    result["n"] = n
    return result


# --------------------------------------------------------------------------- checkpoints


class CheckpointError(ValueError):
    """A checkpoint that is damaged or belongs to another model."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
    finally:
        if tmp.exists():
            tmp.unlink()


def save_checkpoint(
    path_dir: str | os.PathLike[str], model: nn.Module, card: Mapping[str, Any]
) -> Path:
    """Write ``model.pt`` (the state_dict) and ``card.json`` into ``path_dir``; return the dir.

    ``card`` should hold the model's registry name (``"model"``), its ``"options"``, the data,
    profile, seed and metrics; the card written adds the sha256 of model.pt and the torch and
    cnnlab versions. Both files are written atomically.
    """
    from cnnlab import __version__

    if not isinstance(card, Mapping):
        raise TypeError(f"card must be a dict, got {type(card).__name__}")
    folder = Path(path_dir)
    folder.mkdir(parents=True, exist_ok=True)
    full = {"model": type(model).__name__, "options": {}, **card}
    try:
        json.dumps(full)
    except TypeError as exc:
        raise TypeError(
            f"card must hold only JSON values (str, numbers, lists, dicts): {exc}"
        ) from exc
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    weights = folder / CHECKPOINT_FILE
    _atomic_write(weights, lambda p: torch.save(state, p))
    full.update(
        file=CHECKPOINT_FILE,
        sha256=_sha256(weights),
        torch_version=torch.__version__,
        cnnlab_version=__version__,
    )
    text = json.dumps(full, indent=2, sort_keys=True) + "\n"
    _atomic_write(folder / CARD_FILE, lambda p: p.write_text(text, encoding="utf-8"))
    return folder


def _canonical(name: str) -> str:
    from cnnlab.models import model_info

    try:
        return model_info(name).name
    except (ValueError, TypeError):
        return str(name).lower().replace("-", "_")


def load_checkpoint(
    path_dir: str | os.PathLike[str],
    model_name: str | None = None,
    *,
    model: nn.Module | None = None,
    map_location: str | torch.device = "cpu",
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a checkpoint written by ``save_checkpoint``: returns ``(model, card)``.

    Verifies model.pt against the sha256 in the card. ``model_name`` (if given) must match the
    card's model. Without ``model`` the model is rebuilt with
    ``cnnlab.models.create_model(card["model"], **card["options"])``.
    """
    folder = Path(path_dir)
    card_path, weights = folder / CARD_FILE, folder / CHECKPOINT_FILE
    for path in (card_path, weights):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: {folder} is not a cnnlab checkpoint")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{card_path} is not valid JSON: {exc}") from exc
    actual = _sha256(weights)
    if actual != card.get("sha256"):
        raise CheckpointError(
            f"{weights} does not match its card: sha256 {actual}, card says "
            f"{card.get('sha256')}. The file is damaged or was replaced."
        )
    saved = str(card.get("model"))
    if model_name is not None and _canonical(model_name) != _canonical(saved):
        raise CheckpointError(f"checkpoint {folder} is for model {saved!r}, not {model_name!r}")
    if model is None:
        from cnnlab.models import create_model

        model = create_model(saved, **card.get("options", {}))
    state = torch.load(weights, map_location=map_location, weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        detail = str(exc).splitlines()
        raise CheckpointError(
            f"checkpoint {folder} (model {saved!r}, options {card.get('options', {})}) does not "
            f"fit this {type(model).__name__}: {' '.join(s.strip() for s in detail[1:3])}"
        ) from exc
    return model, card
