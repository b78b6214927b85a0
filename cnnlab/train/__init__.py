"""The one training loop of the course: ``fit(model, train_data, val_data, ...) -> History``.

Model-agnostic and fast on a laptop CPU (see ``cnnlab.train.loop``). Every option lives in
``TrainConfig``; ``fit`` and ``Trainer`` take one and/or its fields as keywords. No plotting
here: ``History.as_dict()`` feeds ``cnnlab.viz``. Modules, by concern: ``config`` (the
options), ``loop`` (Trainer, fit), ``augment``, ``callbacks`` (History and hooks),
``evaluate``, ``checkpoint``, ``devices`` (device, compile, AMP, random streams), ``params``
(freezing, parameter groups, optimiser) and ``inputs`` (data checks and shape errors).
"""

from __future__ import annotations

from cnnlab.session import seed_everything
from cnnlab.train.augment import Augment, RandomCrop, RandomFlip, make_augment, shift_crop
from cnnlab.train.callbacks import BatchInfo, Callback, GradNormRecorder, History
from cnnlab.train.checkpoint import (
    CARD_FILE,
    CHECKPOINT_FILE,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from cnnlab.train.config import OPTIMIZERS, SCHEDULES, TrainConfig
from cnnlab.train.devices import AMP_MODES, compile_unavailable, pick_device
from cnnlab.train.evaluate import evaluate
from cnnlab.train.inputs import ChannelsLastError, InputShapeError
from cnnlab.train.loop import Trainer, fit

__all__ = [
    "AMP_MODES",
    "CARD_FILE",
    "CHECKPOINT_FILE",
    "OPTIMIZERS",
    "SCHEDULES",
    "Augment",
    "BatchInfo",
    "Callback",
    "ChannelsLastError",
    "CheckpointError",
    "GradNormRecorder",
    "History",
    "InputShapeError",
    "RandomCrop",
    "RandomFlip",
    "TrainConfig",
    "Trainer",
    "compile_unavailable",
    "evaluate",
    "fit",
    "load_checkpoint",
    "make_augment",
    "pick_device",
    "save_checkpoint",
    "seed_everything",
    "shift_crop",
]
