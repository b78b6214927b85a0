"""Every user error of every command: one line on stderr, no traceback, the documented exit code.

Most cases run in-process through ``cnnlab.cli.main`` (fast); Ctrl-C and SIGTERM need a real
process, started with ``subprocess.Popen`` and SIGINT's default disposition (a background shell
job ignores SIGINT, and its children inherit that: see tests/process_helpers.py). Exit codes
(``cnnlab.cli``): 2 bad input, 3 the machine failed, 4 training diverged, 130 Ctrl-C, 143
SIGTERM; argparse's own errors exit 2 with its usage lines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from process_helpers import sigint_as_in_a_terminal

from cnnlab.cli import main

ROOT = Path(__file__).resolve().parents[1]
# A tiny, fast training run: one epoch over 64 digits images.
TINY = ["--epochs", "1", "--n-train", "64", "--batch-size", "32", "--quiet"]


def _fails(argv: list[str], code: int, capsys: pytest.CaptureFixture, match: str = "") -> str:
    """Run ``argv`` in-process; assert exit ``code`` and exactly one error line; return it."""
    assert main(argv) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"python -m cnnlab {argv[0]}: error: "), err
    assert match in lines[0], err
    return lines[0]


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands with default folders (notebooks/, solutions/) resolve them in the checkout."""
    monkeypatch.chdir(ROOT)


# -- argparse's errors: exit 2, one line, never a traceback -----------------------------------
@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["course", "--profile", "huge"], "course"),
        (["notebooks", "--timeout", "soon"], "notebooks"),
        (["experiment"], "experiment"),
        (["experiment", "run", "filter_visualisation", "--profile", "huge"], "experiment run"),
        (["train", "--model", "lenet5_modern"], "train"),  # --out is required
        (["train", "--model", "lenet5_modern", "--out", "x", "--profile", "medium"], "train"),
        (["bench", "--steps", "many"], "bench"),
        (["models", "--scale", "huge"], "models"),
        (["topics", "--nonsense"], "topics"),
        (["exercises", "--check", "extra"], "exercises"),
    ],
)
def test_argparse_errors_exit_2_in_one_line(
    argv: list[str], prefix: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"python -m cnnlab {prefix}: error: "), err


# -- exit 2: bad input a user can fix ---------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["topics", "--root", "nowhere"], "nowhere is not a cnnlab checkout"),
        (["course", "--notebooks", "nowhere"], "notebook folder nowhere does not exist"),
        (["course", "--only", "no-such-notebook"], "no notebook matches 'no-such-notebook'"),
        (["notebooks", "nowhere"], "notebook folder nowhere does not exist"),
        (["notebooks", "--only", "no-such-notebook"], "no notebook matches 'no-such-notebook'"),
        (["exercises", "--solutions", "nowhere"], "solutions folder nowhere does not exist"),
        (["experiment", "run", "nope"], "unknown experiment 'nope'; experiments: "),
        (["experiment", "run", "filter_visualisation", "--config", "x"], "has no config 'x'"),
        (
            ["experiment", "run", "filter_visualisation", "--seeds", "0"],
            "seeds must be between 1 and 1000",
        ),
        (["experiment", "run", "filter_visualisation", "--threads", "0"], "threads must be an "),
        (["experiment", "show", "nope"], "unknown experiment 'nope'"),
        (["bench", "--steps", "0"], "steps must be an integer >= 1, got 0"),
        (["bench", "--batch-size", "-1"], "batch_size must be an integer >= 1, got -1"),
        (["bench", "--warmup", "-1"], "warmup must be an integer >= 0, got -1"),
        (["bench", "--threads", "0"], "threads must be an integer >= 1, got 0"),
        (["bench", "--models", ","], "--models names no model"),
        (["bench", "--models", "lenet5_modern,nope"], "unknown model 'nope'"),
        (["bench", "--device", "tpu"], "device must be 'cpu', 'cuda', 'cuda:N' or 'mps'"),
        (["models", "nope"], "unknown model 'nope'"),
        (
            ["models", "lenet5_modern", "--input", "1", "2", "2"],
            "layer 'conv1' (Conv2d 1->6 5×5/1) needs at least 5×5 input, got 2×2",
        ),
        (
            ["models", "vgg16", "--input", "3", "31", "31"],
            "layer 'features.30' (MaxPool2d 2×2/2) needs at least 2×2 input, got 1×1",
        ),
        (["models", "googlenet", "--input", "3", "46", "46"], "needs at least"),
        (["models", "lenet5", "--input", "1", "6", "6"], "layer 'C3' (PartialConv2d 5×5/1)"),
        (
            ["models", "lenet5_modern", "--input", "3", "32", "32"],
            "expects 1 input channels, got 3",
        ),
        (["models", "lenet5_modern", "--input", "0", "32", "32"], "must be an integer >= 1, got 0"),
        (["models", "lenet5_modern", "--batch-size", "0"], "batch_size must be an integer >= 1"),
        (["models", "--num-classes", "0"], "num_classes must be an integer >= 1, got 0"),
        (["train", "--model", "nope", "--out", "OUT"], "unknown model 'nope'"),
        (["train", "--model", "lenet5_modern", "--epochs", "0", "--out", "OUT"], "epochs must be"),
        (
            ["train", "--model", "lenet5_modern", "--lr", "-1", "--out", "OUT"],
            "lr must be a positive",
        ),
        (
            ["train", "--model", "lenet5_modern", "--val-fraction", "2", "--out", "OUT"],
            "val_fraction must be in [0, 1), got 2.0",
        ),
    ],
)
def test_user_errors_exit_2(
    argv: list[str], match: str, capsys: pytest.CaptureFixture, in_root: None, tmp_path: Path
) -> None:
    argv = [str(tmp_path / "run") if a == "OUT" else a for a in argv]  # not in the checkout
    _fails(argv, 2, capsys, match)


def test_experiment_show_without_a_stored_band_exits_2(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cnnlab.experiments import bands

    monkeypatch.setattr(bands, "RESULTS", tmp_path)  # no band stored there
    _fails(["experiment", "show", "filter_visualisation"], 2, capsys,
           "no stored band for experiment 'filter_visualisation' on the quick profile")  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--size", "4"], "layer 'conv1' (Conv2d 1->6 5×5/1) needs at least 5×5 input, got 4×4"),
        (["--size", "0"], "size must be an integer >= 1, got 0"),
        (["--threads", "0"], "threads must be an integer >= 1, got 0"),
        (["--n-train", "99999"], "n=99999 but the train split of 'digits' has only"),
    ],
)
def test_train_user_errors_exit_2(
    extra: list[str], match: str, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    _fails(
        ["train", "--model", "lenet5_modern", *TINY, *extra, "--out", str(out)], 2, capsys, match
    )
    assert not out.exists()  # a failed run leaves no folder behind


def test_train_out_is_a_file_exits_2(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    _fails(["train", "--model", "lenet5_modern", *TINY, "--out", str(file)], 2, capsys,
           "is a file, not a folder")  # fmt: skip
    assert file.read_text() == "mine"


def test_train_onto_an_existing_checkpoint_exits_2(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    from cnnlab.train import CARD_FILE

    out = tmp_path / "run"
    out.mkdir()
    (out / CARD_FILE).write_text("{}")  # someone's earlier run
    _fails(["train", "--model", "lenet5_modern", *TINY, "--out", str(out)], 2, capsys,
           "holds a checkpoint already")  # fmt: skip
    assert (out / CARD_FILE).read_text() == "{}"


# -- exit 3: the machine failed ---------------------------------------------------------------
def test_train_with_the_data_offline_exits_3(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pooch
    import requests

    def offline(*args: object, **kwargs: object) -> str:
        raise requests.exceptions.ConnectionError("Failed to resolve host (simulated offline)")

    monkeypatch.setattr(pooch, "retrieve", offline)
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "cache"))  # an empty cache
    out = tmp_path / "run"
    argv = ["train", "--model", "lenet5_modern", "--data", "mnist", *TINY, "--out", str(out)]
    line = _fails(argv, 3, capsys, "could not download")
    assert "no connection" in line
    assert not out.exists()


def test_a_full_disk_while_saving_exits_3(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import errno

    import torch

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    _fails(["train", "--model", "lenet5_modern", *TINY, "--out", str(tmp_path / "run")], 3,
           capsys, "o space left on device")  # fmt: skip


# -- exit 4: training diverged ----------------------------------------------------------------
def test_train_with_an_absurd_lr_diverges_and_exits_4(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    argv = ["train", "--model", "lenet5_modern", *TINY, "--batch-size", "8", "--lr", "1e6",
            "--out", str(out)]  # fmt: skip
    line = _fails(argv, 4, capsys, "the training loss of model 'lenet5_modern' became nan")
    assert "training diverged" in line and "lr=1e+06 may be too high" in line
    assert not out.exists()


# -- 130 and 143: signals in a real process ---------------------------------------------------
def _start(argv: list[str], marker: str, wait: float) -> tuple[subprocess.Popen, list[str]]:
    """Start ``python -m cnnlab argv``; return once stderr shows ``marker`` (or after ``wait``
    seconds when ``marker`` is empty): the command is then inside its work, past the imports."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnlab", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=sigint_as_in_a_terminal,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    chunks: list[str] = []

    def read() -> None:  # tqdm writes "\r" without newlines: read raw chunks, not lines
        assert proc.stderr is not None
        while data := os.read(proc.stderr.fileno(), 4096):
            chunks.append(data.decode(errors="replace"))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + (60 if marker else wait)
    while time.monotonic() < deadline and proc.poll() is None:
        if marker and marker in "".join(chunks):
            break
        time.sleep(0.1)
    assert proc.poll() is None, "".join(chunks)  # still running: the signal lands mid-work
    return proc, chunks


def _stopped(proc: subprocess.Popen, chunks: list[str], sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    code = proc.wait(timeout=60)
    time.sleep(0.2)  # the reader thread takes the last bytes
    return code, "".join(chunks)


@pytest.mark.parametrize(("sig", "code", "word"), [
    (signal.SIGINT, 130, "interrupted"),
    (signal.SIGTERM, 143, "terminated"),
])  # fmt: skip
def test_train_stopped_by_a_signal(sig: int, code: int, word: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["train", "--model", "lenet5_modern", "--epochs", "200", "--n-train", "0",
            "--out", str(out)]  # fmt: skip
    proc, chunks = _start(argv, marker="lenet5_modern", wait=0)  # the progress bar: in fit
    returncode, err = _stopped(proc, chunks, sig)
    assert returncode == code, err
    assert "Traceback" not in err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert last == f"python -m cnnlab train: {word}"
    assert err.count(f"python -m cnnlab train: {word}") == 1
    assert not (out / "card.json").exists()  # nothing half-written claims to be a checkpoint


@pytest.mark.parametrize(("sig", "code", "word"), [
    (signal.SIGINT, 130, "interrupted"),
    (signal.SIGTERM, 143, "terminated"),
])  # fmt: skip
def test_experiment_run_stopped_by_a_signal(sig: int, code: int, word: str) -> None:
    # --dry-run: the stored band is never touched; the first seed takes several seconds.
    argv = ["experiment", "run", "filter_visualisation", "--seeds", "1", "--dry-run"]
    proc, chunks = _start(argv, marker="", wait=5)
    returncode, err = _stopped(proc, chunks, sig)
    assert returncode == code, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [f"python -m cnnlab experiment: {word}"]
