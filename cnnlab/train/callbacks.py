"""Per-epoch ``History`` and the callback hooks ``fit`` calls (``Callback``, ``BatchInfo``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnlab._validate import as_int

if TYPE_CHECKING:
    from cnnlab.train.loop import Trainer


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


HOOKS = (
    "on_fit_start",
    "on_epoch_start",
    "on_after_backward",
    "on_batch_end",
    "on_epoch_end",
    "on_fit_end",
)


def check_callbacks(callbacks: Iterable[object] | None) -> list[object]:
    """``callbacks`` as a list (None: none); each must have at least one hook method.

    A callback without any hook would be silently ignored (a function passed instead of an
    object, a misspelt method name), so it is refused with the hook names.
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, Iterable):
        raise TypeError(
            f"callbacks must be a list of callback objects, got {type(callbacks).__name__}; "
            "pass [callback] for a single one"
        )
    out = list(callbacks)
    for i, cb in enumerate(out):
        if not any(callable(getattr(cb, hook, None)) for hook in HOOKS):
            raise TypeError(
                f"callbacks[{i}] ({type(cb).__name__}) has none of the hook methods "
                f"{', '.join(HOOKS)}; subclass cnnlab.train.Callback and override some"
            )
    return out


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
