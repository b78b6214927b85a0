"""Checkpoints: ``model.pt`` (the state_dict) beside ``card.json`` (what it is, its sha256).

Each file is written atomically (a temporary file, then ``os.replace``); the card holds the
weights' checksum, so a card and weights that do not belong together are detected on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

CHECKPOINT_FILE = "model.pt"
CARD_FILE = "card.json"


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
