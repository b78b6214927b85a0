"""``train --out``: checked before any data loads; a failed write never loses the model."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch
from torch import nn

import cnnlab.data
from cnnlab.__main__ import main
from cnnlab.cli import train as train_cli
from cnnlab.train import load_checkpoint
from cnnlab.train.checkpoint import save_checkpoint

FAST = ["--model", "lenet5_modern", "--data", "digits", "--epochs", "1", "--n-train", "64"]
FAST += ["--batch-size", "32", "--quiet"]


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading data fails the test: these runs must stop before it."""

    def load(*args: object, **kwargs: object) -> None:
        raise AssertionError("data loaded before --out was checked")

    monkeypatch.setattr(cnnlab.data, "load_dataset", load)


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_out_that_is_a_file_is_refused_first(
    tmp_path: Path, no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f").write_text("x")
    assert main(["train", *FAST, "--out", str(tmp_path / "f")]) == 2
    assert "is a file, not a folder" in _one_line(capsys)
    assert main(["train", *FAST, "--out", str(tmp_path / "f" / "sub")]) == 2
    line = _one_line(capsys)
    assert "cannot create --out" in line and "is a file" in line


def test_out_not_writable_is_refused_first_and_leaves_no_folder(
    tmp_path: Path,
    no_data: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Tests run as root (chmod stops no one): the probe write is made to fail instead."""
    write = Path.write_bytes

    def refuse(self: Path, data: bytes) -> int:
        if self.name.startswith(".cnnlab-probe-"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return write(self, data)

    monkeypatch.setattr(Path, "write_bytes", refuse)
    out = tmp_path / "new" / "run"
    assert main(["train", *FAST, "--out", str(out)]) == 2
    assert "is not writable" in _one_line(capsys)
    assert not (tmp_path / "new").exists()  # the folders it made for the check are gone


def test_out_on_a_full_disk_is_refused_first(
    tmp_path: Path,
    no_data: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    assert main(["train", *FAST, "--out", str(tmp_path / "run")]) == 3
    assert "no space left on device" in _one_line(capsys)


def test_existing_checkpoint_needs_overwrite(
    tmp_path: Path, no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    save_checkpoint(tmp_path, nn.Linear(2, 2), {"model": "x"})
    assert main(["train", *FAST, "--out", str(tmp_path)]) == 2
    line = _one_line(capsys)
    assert "holds a checkpoint already" in line and "--overwrite" in line
    (tmp_path / "card.json").unlink()
    (tmp_path / "model.pt").write_bytes(b"")  # the first layout counts too
    assert main(["train", *FAST, "--out", str(tmp_path)]) == 2


def test_photos_is_not_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as err:
        main(["train", "--model", "lenet5_modern", "--data", "photos", "--out", "x"])
    assert err.value.code == 2 and "invalid choice: 'photos'" in capsys.readouterr().err


def test_full_disk_after_training_rescues_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch.save on a full disk raises RuntimeError('... unexpected pos ...'): named, rescued."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "run"
    real_save = torch.save

    def save(obj: object, f: object, *args: object, **kwargs: object) -> None:
        if Path(str(f)).parent == out:
            raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64")
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    assert main(["train", *FAST, "--out", str(out), "--overwrite"]) == 3
    line = _one_line(capsys)
    assert "no space left on device" in line and f"could not write the checkpoint to {out}" in line
    rescued = sorted((tmp_path / "cache" / "cnnlab" / "unsaved").iterdir())
    assert len(rescued) == 1 and f"saved to {rescued[0]} instead" in line
    model, card = load_checkpoint(rescued[0], "lenet5_modern")
    assert card["data"]["n_train"] == 64 and card["metrics"]["test_top1"] >= 0


def _tiny_card() -> tuple[nn.Module, dict]:
    return nn.Linear(3, 2), {"model": "tiny", "options": {}}


def test_out_made_read_only_meanwhile_rescues_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cnnlab.cli import exit_code, one_line

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "run"
    real_save = torch.save

    def save(obj: object, f: object, *args: object, **kwargs: object) -> None:
        if Path(str(f)).parent == out:
            raise PermissionError(errno.EACCES, "Permission denied", str(f))
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(PermissionError) as err:
        train_cli.save_or_rescue(out, *_tiny_card())
    assert exit_code(err.value) == 2
    line = one_line(err.value)
    assert "(Permission denied); the trained model was saved to" in line
    load_checkpoint(line.split("saved to ")[1].split(" instead")[0], model=nn.Linear(3, 2))


def test_nowhere_to_save_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnlab.cli import exit_code, one_line

    def full(obj: object, f: object, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(f))

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(train_cli.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError) as err:
        train_cli.save_or_rescue(tmp_path / "run", *_tiny_card())
    assert exit_code(err.value) == 3
    line = one_line(err.value)
    assert "no space left on device" in line and "nor to" in line and "cache" in line
    assert not list((tmp_path / "tmp").iterdir())  # no empty fallback folders left behind
