"""Checkpoints: a folder holding ``card.json`` (what the model is) and the weights it names.

Layout: ``card.json`` names its weights file (``"file": "model-<sha16>.pt"``, a state_dict of
tensors) and holds that file's sha256. Saving is one transaction whose only commit point is
the atomic replacement of ``card.json``: the new weights are first written, flushed and
fsynced under their own new name, the old weights stay until the new card is in place, and
stale files are removed afterwards. So whenever a save is interrupted (Ctrl-C, SIGTERM,
SIGKILL, a full disk), the folder's card and the weights it names are the old pair or the new
pair, never a mix. Folders of the first layout (``model.pt`` beside a card naming it) load too.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import torch
from torch import nn

CHECKPOINT_FILE = "model.pt"  # the weights' name in the first layout (still loaded)
CARD_FILE = "card.json"
# What a card may ask the model builder to allocate: more is refused before building.
MAX_PARAMETERS = 2_000_000_000
MAX_CARD_BYTES = 16 << 20  # a card is a few KB; a huge one is not ours
# The weights files a card may name: no folders, no other files (a card must not point away).
_WEIGHTS_NAME = re.compile(r"model(-[0-9a-f]{16})?\.pt")
_TEMP_NAME = re.compile(r"\.(model|card)\.\d+\.tmp")
_REQUIRED = ("model", "file", "sha256")


class CheckpointError(ValueError):
    """A checkpoint that is damaged, hostile or belongs to another model."""


def weights_path(path_dir: str | os.PathLike[str]) -> Path:
    """The weights file the card of ``path_dir`` names (``model-<sha16>.pt`` or ``model.pt``)."""
    folder = Path(path_dir)
    return folder / _parse_card(_read_card(folder / CARD_FILE), folder / CARD_FILE)["file"]


def _hash(fh: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (a power cut, not just a kill); best effort."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` so two savers never clean up each other's files.

    ``flock`` on the folder itself (no lock file left behind); the kernel drops it when the
    process dies, even by SIGKILL. Readers take no lock: they need none (see module doc).
    """
    try:
        import fcntl
    except ImportError:  # Windows: one saver per folder is then the caller's business
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_durably(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    with open(path, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def _write_failure(exc: RuntimeError, path: Path) -> OSError | None:
    """torch.save's RuntimeError on a failed write as the OSError it is (ENOSPC when full);
    None if it is not a write failure."""
    text = str(exc)
    if "unexpected pos" not in text and "write failed" not in text:
        return None
    full = "unexpected pos" in text  # the zip writer's symptom of a short write: a full disk
    with contextlib.suppress(OSError):
        full = full or shutil.disk_usage(path.parent).free < (1 << 20)
    if full:
        return OSError(errno.ENOSPC, f"no space left on device writing {path.parent}")
    return OSError(errno.EIO, f"could not write {path}: {text.splitlines()[-1].strip()[:200]}")


def save_checkpoint(
    path_dir: str | os.PathLike[str], model: nn.Module, card: Mapping[str, Any]
) -> Path:
    """Write the model's weights and ``card.json`` into ``path_dir`` as one transaction.

    ``card`` should hold the model's registry name (``"model"``), its ``"options"``, the data,
    profile, seed and metrics; the card written adds the weights file's name and sha256 and
    the torch and cnnlab versions. Interrupted at any point (even by SIGKILL), the folder keeps
    the previous checkpoint or holds the new one, never a mix; leftovers of an interrupted save
    are removed by the next one. The folder belongs to the checkpoint: other weights files
    (``model*.pt``) in it are removed. The sha256 detects damage (a truncated copy, a bad
    disk), not tampering: whoever can replace the weights can rewrite the card too.
    A full disk raises ``OSError`` (ENOSPC); the previous checkpoint is then intact.
    """
    from cnnlab import __version__

    if not isinstance(card, Mapping):
        raise TypeError(f"card must be a dict, got {type(card).__name__}")
    folder = Path(path_dir)
    full = {"model": type(model).__name__, "options": {}, **card}
    try:
        json.dumps(full)
    except TypeError as exc:
        raise TypeError(
            f"card must hold only JSON values (str, numbers, lists, dicts): {exc}"
        ) from exc
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    tmp_weights, tmp_card = folder / f".model.{pid}.tmp", folder / f".card.{pid}.tmp"
    with _locked(folder):
        _remove_stale(folder, keep=_current_file(folder))  # what killed savers left
        try:
            try:
                # To a path, not a Python file: a signal arriving while torch writes through a
                # Python file object becomes a RuntimeError inside torch's zip writer.
                torch.save(state, tmp_weights)
            except RuntimeError as exc:
                failure = _write_failure(exc, tmp_weights)
                if failure is None:
                    raise
                raise failure from exc
            with open(tmp_weights, "rb") as fh:
                sha = _hash(fh)
                os.fsync(fh.fileno())  # on disk before any card names it
            name = f"model-{sha[:16]}.pt"
            # A new name: the current card still names the old file, which stays untouched.
            os.replace(tmp_weights, folder / name)
            full.update(
                file=name, sha256=sha, torch_version=torch.__version__, cnnlab_version=__version__
            )
            text = (json.dumps(full, indent=2, sort_keys=True) + "\n").encode("utf-8")
            _write_durably(tmp_card, lambda fh: fh.write(text))
            _fsync_dir(folder)  # the new weights' name is on disk before the card naming it
            os.replace(tmp_card, folder / CARD_FILE)  # the commit: old pair -> new pair
            _fsync_dir(folder)
        finally:
            for tmp in (tmp_weights, tmp_card):
                with contextlib.suppress(OSError):
                    tmp.unlink()
        _remove_stale(folder, keep=name)
    return folder


def _current_file(folder: Path) -> str | None:
    """The weights file the folder's card names; None without a readable card."""
    try:
        return weights_path(folder).name
    except (OSError, ValueError):
        return None


def _remove_stale(folder: Path, keep: str | None) -> None:
    """Delete temporary files of interrupted saves and, if ``keep`` is the weights file the
    card names, every other weights file (call with the lock held)."""
    for path in folder.iterdir():
        stale = keep is not None and _WEIGHTS_NAME.fullmatch(path.name) and path.name != keep
        if (stale or _TEMP_NAME.fullmatch(path.name)) and path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()


def _canonical(name: str) -> str:
    from cnnlab.models import model_info

    try:
        return model_info(name).name
    except (ValueError, TypeError):
        return str(name).lower().replace("-", "_")


def _read_card(card_path: Path) -> bytes:
    if not card_path.parent.is_dir():
        if card_path.parent.exists():
            raise NotADirectoryError(f"{card_path.parent} is a file, not a checkpoint folder")
        raise FileNotFoundError(f"{card_path.parent} does not exist: not a cnnlab checkpoint")
    if not card_path.is_file():
        raise FileNotFoundError(
            f"{card_path} not found: {card_path.parent} is not a cnnlab checkpoint"
        )
    with open(card_path, "rb") as fh:
        data = fh.read(MAX_CARD_BYTES + 1)
    if len(data) > MAX_CARD_BYTES:
        raise CheckpointError(f"{card_path} is larger than {MAX_CARD_BYTES:,} bytes: not a card")
    return data


def _parse_card(data: bytes, card_path: Path) -> dict[str, Any]:
    """The card as a dict, checked: every key the loader relies on, with the right type."""
    try:
        card = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CheckpointError(
            f"{card_path} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{card_path} is not valid JSON: {exc}") from None
    if not isinstance(card, dict):
        raise CheckpointError(f"{card_path} holds a JSON {type(card).__name__}, not an object")
    missing = [key for key in _REQUIRED if key not in card]
    if missing:
        raise CheckpointError(f"{card_path} lacks {', '.join(map(repr, missing))}: not a card")
    checks = {
        "model": isinstance(card["model"], str),
        "file": isinstance(card["file"], str) and bool(_WEIGHTS_NAME.fullmatch(card["file"])),
        "sha256": isinstance(card["sha256"], str)
        and bool(re.fullmatch(r"[0-9a-f]{64}", card["sha256"])),
        "options": isinstance(card.setdefault("options", {}), dict),
    }
    bad = [key for key, ok in checks.items() if not ok]
    if bad:
        shown = ", ".join(f"{k}={str(card[k])[:80]!r}" for k in bad)
        raise CheckpointError(f"{card_path} has invalid {shown}")
    return card


def _open_weights(folder: Path) -> tuple[dict[str, Any], IO[bytes]]:
    """The card and an open handle on the weights it names.

    A save running meanwhile may replace the card and delete the weights the old card named
    between our two reads; then the card has changed, and reading it again gives the new pair.
    An open file stays readable after it is deleted, so the pair stays consistent once open.
    """
    card_path = folder / CARD_FILE
    for attempt in range(5):
        data = _read_card(card_path)
        card = _parse_card(data, card_path)
        weights = folder / card["file"]
        try:
            return card, open(weights, "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError:
            if attempt < 4 and _read_card(card_path) != data:
                continue
            raise FileNotFoundError(f"{weights} not found, though {card_path} names it") from None
    raise AssertionError("unreachable")


def _check_size(folder: Path, name: str, options: dict[str, Any], file_bytes: int) -> None:
    """Refuse a card whose options would build a model bigger than its weights could fill.

    The model is built on the meta device (shapes, no memory), so ``num_classes=10**9`` costs
    nothing to find out. Each stored element takes at least a byte, so a model with more
    parameters than the file has bytes cannot be what was saved.
    """
    from cnnlab.models import create_model

    try:
        with torch.device("meta"):
            skeleton = create_model(name, **options)
    except Exception as exc:  # any failure of a builder on these options is the card's fault
        raise CheckpointError(
            f"card of {folder}: model {name!r} cannot be built with options {options}: {exc}"
        ) from None
    count = sum(t.numel() for t in skeleton.state_dict().values())
    if count > MAX_PARAMETERS or count > file_bytes:
        limit, why = MAX_PARAMETERS, "the limit for a card"
        if count <= MAX_PARAMETERS:
            limit, why = file_bytes, f"what its {file_bytes:,}-byte weights file can hold"
        raise CheckpointError(
            f"card of {folder} asks for a {name!r} of {count:,} parameters (options {options}); "
            f"refusing more than {limit:,} ({why})"
        )


def _check_state(state: object, weights: Path) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{weights} holds a {type(state).__name__}, not a state_dict (a dict of tensors)"
        )
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{weights} is not a state_dict: entry {str(key)[:60]!r} is a "
                f"{type(value).__name__}, not a tensor"
            )
    return state


def load_checkpoint(
    path_dir: str | os.PathLike[str],
    model_name: str | None = None,
    *,
    model: nn.Module | None = None,
    map_location: str | torch.device = "cpu",
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a checkpoint written by ``save_checkpoint``: returns ``(model, card)``.

    Verifies the weights against the sha256 in the card: this detects damage (a truncated or
    corrupted file, a card and weights that do not belong together), not tampering, since
    whoever can change the weights can change the card. Weights are read with
    ``weights_only=True`` (tensors only, no code). ``model_name`` (if given) must match the
    card's model. Without ``model`` the model is rebuilt with
    ``cnnlab.models.create_model(card["model"], **card["options"])``, after checking on the
    meta device that those options ask for at most ``MAX_PARAMETERS`` parameters and no more
    than the weights file could hold. Anything wrong raises one ``CheckpointError``.
    """
    folder = Path(path_dir)
    card, fh = _open_weights(folder)
    weights = folder / card["file"]
    with fh:
        actual = _hash(fh)
        if actual != card["sha256"]:
            raise CheckpointError(
                f"{weights} does not match its card: sha256 {actual}, card says "
                f"{card['sha256']}. The file is damaged or was replaced."
            )
        saved = card["model"]
        if model_name is not None and _canonical(model_name) != _canonical(saved):
            raise CheckpointError(f"checkpoint {folder} is for model {saved!r}, not {model_name!r}")
        if model is None:
            from cnnlab.models import create_model

            _check_size(folder, saved, card["options"], os.fstat(fh.fileno()).st_size)
            model = create_model(saved, **card["options"])
        fh.seek(0)
        try:
            state = torch.load(fh, map_location=map_location, weights_only=True)
        except Exception as exc:  # garbage bytes, a pickle of code: unreadable either way
            detail = " ".join(str(exc).split())[:200]
            raise CheckpointError(
                f"{weights} is not a PyTorch weights file ({type(exc).__name__}: {detail})"
            ) from None
    try:
        model.load_state_dict(_check_state(state, weights))
    except RuntimeError as exc:
        detail = str(exc).splitlines()
        raise CheckpointError(
            f"checkpoint {folder} (model {saved!r}, options {card['options']}) does not "
            f"fit this {type(model).__name__}: {' '.join(s.strip() for s in detail[1:3])}"
        ) from exc
    return model, card
