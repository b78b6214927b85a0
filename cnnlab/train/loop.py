"""The training loop: ``Trainer`` (model, optimiser, random streams) and ``fit`` driving it.

The whole dataset sits on the device as two tensors and batches are drawn by indexing them with
a shuffled index tensor (no per-sample DataLoader, no collate); augmentations run batched on the
device; losses and accuracies accumulate as device tensors and are read back once per epoch (no
per-step ``.item()`` sync); models and data are channels_last (NHWC) and the optimiser step is
fused. On CUDA it also uses mixed precision, and ``compile=True`` trains through
``torch.compile``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.train import devices
from cnnlab.train.augment import make_augment
from cnnlab.train.callbacks import BatchInfo, History, check_callbacks
from cnnlab.train.config import TrainConfig, make_config
from cnnlab.train.evaluate import evaluate
from cnnlab.train.inputs import (
    ChannelsLastError,
    as_tensors,
    check_image_dtype,
    check_label_range,
    check_logits,
    describe_forward_failure,
    is_view_error,
)
from cnnlab.train.params import freeze, make_optimizer


class Trainer:
    """Holds the model, optimiser and random state of one training run; ``fit`` drives it.

    ``Trainer(model, config=None, **options)``: options are ``TrainConfig`` fields (those about
    one step: lr, optimizer, schedule, augment, seed, device, amp, channels_last, compile,
    freeze, param_groups, ...). ``total_steps`` is the length of the cosine schedule.
    Callbacks see the trainer: ``model``, ``optimizer``, ``device``, ``config``, ``epoch``,
    ``step``, ``history`` and ``stop`` (set it to end training after the current epoch).
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig | Mapping[str, Any] | None = None,
        *,
        total_steps: int | None = None,
        callbacks: Iterable[object] | None = (),
        model_name: str | None = None,
        **options: Any,
    ) -> None:
        cfg = make_config(config, options, "Trainer()")
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.config = cfg
        self.device = devices.pick_device(cfg.device)
        self.amp_dtype = devices.resolve_amp(cfg.amp, self.device)
        channels_last = cfg.channels_last
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
        if cfg.compile:
            reason = devices.compile_unavailable(self.device)
            if reason:
                raise ValueError(f"compile=True cannot work here: {reason}")
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=self.memory_format)
        # The compiled callable shares the model's parameters; ``self.model`` stays the plain
        # module, so state_dict and evaluation see the model the user built. Forward hooks are
        # traced into the compiled graph: register them before training starts.
        self.forward = torch.compile(self.model) if cfg.compile else self.model
        self.model_name = model_name or type(model).__name__
        self.lr = cfg.lr
        self.schedule = cfg.schedule
        self.total_steps = total_steps
        self.label_smoothing = cfg.label_smoothing
        self.frozen_norms = freeze(model, cfg.freeze)  # kept in eval mode while training
        self.optimizer = make_optimizer(
            model,
            cfg.optimizer,
            cfg.lr,
            cfg.weight_decay,
            cfg.momentum,
            self.device,
            cfg.param_groups,
        )
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.augment = make_augment(cfg.augment)
        self.callbacks = check_callbacks(callbacks)
        self.seed = cfg.seed
        self._seed_generators()
        self.history = History()
        self.epoch = 0
        self.step = 0
        self.current_lr = self.lr  # the base lr at the latest step (per-group: optimizer)
        self.stop = False
        self.num_outputs: int | None = None  # known after the first forward
        self._checked = False

    def _seed_generators(self) -> None:
        # Batch order comes from a CPU generator (the same on every device); augmentation
        # draws on the device so that no random numbers cross the bus.
        self.order_rng = torch.Generator().manual_seed(self.seed)
        self.device_rng = devices.device_generator(self.device, self.seed)

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

    def _lr_at(self, step: int, base: float) -> float:
        """The scheduled lr of a group whose unscheduled lr is ``base``, at ``step``."""
        if self.schedule == "cosine" and self.total_steps:
            progress = min(step, self.total_steps) / self.total_steps
            return 0.5 * base * (1.0 + math.cos(math.pi * progress))
        return base

    def _first_forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        try:
            out = self.model(x)
        except (RuntimeError, ValueError, IndexError) as exc:
            if is_view_error(exc) and self.memory_format == torch.channels_last:
                raise ChannelsLastError(
                    f"model {self.model_name!r} reshapes a channels_last feature map with "
                    ".view(), which needs NCHW memory: use x.flatten(1) or x.reshape(...) in "
                    "its forward (and keep the faster layout), or channels_last=False"
                ) from exc
            raise describe_forward_failure(self.model, x, exc, self.model_name) from exc
        return check_logits(out, x.shape[0], self.model_name)

    def _check_labels(self, labels: torch.Tensor, num_outputs: int, what: str) -> None:
        check_label_range(labels, num_outputs, what, self.model_name)

    def train_epoch(
        self, images: torch.Tensor, labels: torch.Tensor, batch_size: int
    ) -> tuple[float, float]:
        """One pass over (images (N, C, H, W), labels (N,)) on the device: (mean loss, acc)."""
        model, opt = self.model, self.optimizer
        model.train()
        for norm in self.frozen_norms:  # frozen batch norm keeps its running statistics
            norm.eval()
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
            for group in opt.param_groups:  # each group keeps its ratio to the base lr
                group["lr"] = self._lr_at(self.step, group["initial_lr"])
            self.current_lr = self._lr_at(self.step, self.lr)
            with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=autocast):
                if not self._checked:
                    out = self._first_forward(x, y)
                    self.num_outputs = out.shape[1]
                    self._check_labels(labels, self.num_outputs, "train_data")
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
        for norm in self.frozen_norms:  # leave the model in train mode, as model.train() does
            norm.train()
        return float(loss_sum) / seen, int(correct) / seen

    def evaluate(
        self, images: torch.Tensor, labels: torch.Tensor, batch_size: int
    ) -> tuple[float, float]:
        """(mean loss, top-1 accuracy) of data already on the device."""
        if self.num_outputs is not None:
            self._check_labels(labels, self.num_outputs, "val_data")
        result = evaluate(
            self.model,
            (images, labels),
            topk=(1,),
            batch_size=batch_size,
            device=self.device,
            amp=self.amp_dtype,
        )
        return result["loss"], result["top1"]


def fit(
    model: nn.Module,
    train_data: object,
    val_data: object | None = None,
    config: TrainConfig | Mapping[str, Any] | None = None,
    *,
    callbacks: Iterable[object] | None = (),
    model_name: str | None = None,
    **options: Any,
) -> History:
    """Train ``model`` in place on ``train_data`` and return its per-epoch ``History``.

    ``train_data``/``val_data``: a ``cnnlab.data.Dataset`` or a pair (images (N, C, H, W) float,
    labels (N,) int). The options are ``config`` (a ``TrainConfig`` or its ``to_dict()``) with
    keyword ``options`` applied on top, e.g. ``fit(model, train, val, epochs=3, lr=0.01,
    optimizer="adam", schedule="cosine")``; see ``TrainConfig`` for each (an unknown name is a
    ``TypeError`` naming the closest one).

    Seeding: ``seed`` fixes the batch order and augmentation (own generators) and in-model
    randomness such as dropout: training runs with torch's global CPU generator (and the
    device's) seeded with ``seed`` inside ``torch.random.fork_rng``, so the same seed gives the
    same run and the caller's random state (torch, NumPy, Python) is unchanged afterwards. The
    model's initial weights are the caller's: seed them with ``cnnlab.session.seed_everything``.

    ``channels_last=None`` falls back to NCHW with a warning if the model's forward uses
    ``.view`` on a feature map. ``compile=True`` trains through ``torch.compile(model)``
    (register forward hooks before ``fit``). ``freeze`` patterns stop parameters from training
    (their batch-norm layers run in eval mode); ``param_groups`` give patterns their own lr,
    and the cosine schedule scales every group alike. The model is left on the device.
    ``callbacks``: a list of objects with hook methods (see ``Callback``); None for none.
    Raises ``ValueError`` if the images hold NaN/inf or the labels do not index the model's
    outputs, ``TypeError`` if the images' dtype differs from the weights' or the model does not
    return one logits tensor, and ``FloatingPointError`` if an epoch's mean training loss is
    not finite (training diverged: ``lr`` too high).
    """
    cfg = make_config(config, options, "fit()")
    x_train, y_train = as_tensors(train_data, "train_data")
    val = None if val_data is None else as_tensors(val_data, "val_data")
    steps_per_epoch = math.ceil(x_train.shape[0] / cfg.batch_size)
    trainer = Trainer(
        model,
        cfg,
        total_steps=cfg.epochs * steps_per_epoch,
        callbacks=callbacks,
        model_name=model_name,
    )
    with devices.seeded_rng(trainer.device, cfg.seed):
        return _fit_epochs(trainer, (x_train, y_train), val)


def _fit_epochs(
    trainer: Trainer,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor] | None,
) -> History:
    cfg = trainer.config
    check_image_dtype(trainer.model, train[0], "train_data")
    if val is not None:
        check_image_dtype(trainer.model, val[0], "val_data")
    x_train, y_train = trainer.to_device(*train)
    if val is not None:
        val = trainer.to_device(*val)  # type: ignore[assignment]
    # one pass over the data, once per fit: NaN/inf inputs would only show up as a NaN loss
    for what, data in (("train_data", x_train), ("val_data", None if val is None else val[0])):
        if data is not None and not bool(torch.isfinite(data).all()):
            bad = int((~torch.isfinite(data)).flatten(1).any(1).sum())
            raise ValueError(
                f"{what} images contain NaN or inf values ({bad} of {data.shape[0]} images); "
                "clean or re-normalise the data first"
            )
    bar = _progress_bar(cfg.epochs, trainer.model_name) if cfg.progress else None
    trainer._call("on_fit_start", trainer)
    try:
        for epoch in range(cfg.epochs):
            trainer.epoch = epoch
            trainer._call("on_epoch_start", trainer)
            start = time.perf_counter()
            try:
                train_loss, train_acc = trainer.train_epoch(x_train, y_train, cfg.batch_size)
            except ChannelsLastError as exc:
                if not trainer.auto_layout or trainer.step:
                    raise
                # The layout was our choice, not the user's: fall back to NCHW and say why.
                warnings.warn(f"{exc}. Training in NCHW instead (slower).", stacklevel=3)
                trainer.use_memory_format(torch.contiguous_format)
                devices.seed_rngs(trainer.device, cfg.seed)  # as if NCHW had been asked for
                nchw = torch.contiguous_format  # clone: see Trainer.use_memory_format
                x_train = x_train.clone(memory_format=nchw)
                if val is not None:
                    val = (val[0].clone(memory_format=nchw), val[1])
                train_loss, train_acc = trainer.train_epoch(x_train, y_train, cfg.batch_size)
            if not math.isfinite(train_loss):  # already a float: checking it costs nothing
                raise FloatingPointError(
                    f"the training loss of model {trainer.model_name!r} became {train_loss} in "
                    f"epoch {epoch + 1}: training diverged. lr={trainer.lr:g} may be too high "
                    "(try lr/10), or the model produces NaN/inf"
                )
            val_loss, val_acc = math.nan, math.nan
            if val is not None:
                val_loss, val_acc = trainer.evaluate(*val, cfg.eval_batch_size)
            h = trainer.history
            h.epoch.append(epoch + 1)
            h.train_loss.append(train_loss)
            h.train_acc.append(train_acc)
            h.val_loss.append(val_loss)
            h.val_acc.append(val_acc)
            h.lr.append(trainer.current_lr)
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
