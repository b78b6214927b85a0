"""Checkpoints under faults: saves killed at random points, hostile cards and weights files."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnlab.train.checkpoint import (
    CARD_FILE,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    weights_path,
)

# The victim server: started once (torch imported once), it forks one saver per trial, so a
# trial costs a fork rather than a Python start. Each saver saves generations g0, g0+1, ...
# of a small model (every weight equal to the generation) until a signal stops it, writing
# "b <k>" before and "d <k>" after each save; the server then reports the saver's exit code.
_SERVER = r"""
import os, signal, sys
import torch
from torch import nn
from cnnlab.cli import Terminated
from cnnlab.train.checkpoint import save_checkpoint

def net():
    return nn.Sequential(*[nn.Linear(128, 128) for _ in range(4)])

def raise_terminated(signum, frame):
    raise Terminated

folder = sys.argv[1]
model = net()
save_checkpoint(sys.argv[2], model, {"model": "net"})  # first-use imports, before any fork
os.write(1, b"ready\n")
for line in sys.stdin:
    g0 = int(line)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            torch.set_num_threads(1)
            signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited ignored
            signal.signal(signal.SIGTERM, raise_terminated)  # as the CLI does
            k = g0
            while True:
                with torch.no_grad():
                    for p in model.parameters():
                        p.fill_(k)
                os.write(1, b"b %d\n" % k)
                save_checkpoint(folder, model, {"model": "net", "generation": k})
                os.write(1, b"d %d\n" % k)
                k += 1
        except KeyboardInterrupt:
            code = 130
        except Terminated:
            code = 143
        except BaseException as exc:
            os.write(1, b"x %d %s\n" % (k, repr(exc).replace("\n", " ").encode()))
            code = 99
        finally:
            os._exit(code)
    os.write(1, b"pid %d\n" % pid)
    _, status = os.waitpid(pid, 0)
    os.write(1, b"exit %d\n" % os.waitstatus_to_exitcode(status))
"""
_SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
_EXPECTED_EXIT = {signal.SIGKILL: -signal.SIGKILL, signal.SIGTERM: 143, signal.SIGINT: 130}
TRIALS = 240  # interrupted saves, 80 per signal


def _net() -> nn.Module:
    return nn.Sequential(*[nn.Linear(128, 128) for _ in range(4)])


def _generation(folder: Path) -> int:
    """The generation in ``folder``, checking the card and every weight agree on it."""
    model, card = load_checkpoint(folder, model=_net())
    k = card["generation"]
    for name, value in model.state_dict().items():
        assert torch.all(value == k), f"{name} is not generation {k}: a mixed checkpoint"
    return k


def test_saves_killed_at_random_points_leave_the_old_or_the_new_checkpoint(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "ckpt"
    model = _net()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0)
    save_checkpoint(folder, model, {"model": "net", "generation": 0})
    rng = random.Random(20260)
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(folder), str(tmp_path / "warm")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
    )
    assert server.stdin is not None and server.stdout is not None
    # How each trial ended: the save under way kept the old pair ("old") or had committed the
    # new one ("new"), or the kill fell between two saves ("between").
    outcomes = {"old": 0, "new": 0, "between": 0}
    exits: dict[int, set[int]] = {s: set() for s in _SIGNALS}
    lost = 0  # signals that never ended their saver (see below)
    try:
        assert server.stdout.readline() == b"ready\n"
        current = 0
        start = time.perf_counter()
        for trial in range(TRIALS):
            sig = _SIGNALS[trial % 3]
            server.stdin.write(b"%d\n" % ((trial + 1) * 100_000))
            pid, begun, done, child, killed_at, lost_here = 0, [], [], 0, 0.0, False
            while True:
                kind, value = server.stdout.readline().split(maxsplit=1)
                assert kind != b"x", f"the saver failed: {value.decode()}"
                if kind == b"exit":
                    if not lost_here:
                        exits[sig].add(int(value))
                    break
                {b"pid": [], b"b": begun, b"d": done}[kind].append(int(value))
                if kind == b"pid":
                    pid = int(value)
                if pid and begun and pid > 0:  # the saver runs: kill it a random moment later
                    time.sleep(rng.uniform(0, 0.03))
                    os.kill(pid, sig)
                    child, pid, killed_at = pid, -1, time.monotonic()
                elif pid == -1 and not lost_here and time.monotonic() - killed_at > 10:
                    # Rare (measured: about 1 SIGINT in 2,000): the kernel delivered the signal
                    # to a handler that was installed and not blocked, yet no KeyboardInterrupt
                    # surfaced in the saver, which went on saving. Not torch's doing: a loop of
                    # plain Python file writes loses SIGINT as often. End the saver; the
                    # checkpoint must still be the old or the new one; losses must stay rare.
                    os.kill(child, signal.SIGKILL)
                    lost_here = True
                    lost += 1
            new = begun[-1]
            got = _generation(folder)
            if done and done[-1] == new:  # killed after a save returned: that save holds
                allowed, outcome = {new}, "between"
            else:  # killed inside save `new`: the old pair or the new one, nothing else
                old = done[-1] if done else current
                allowed, outcome = {old, new}, "new" if got == new else "old"
            assert got in allowed, f"trial {trial} ({sig.name}): {got}, not one of {allowed}"
            outcomes[outcome] += 1
            current = got
            leftovers = [p.name for p in folder.iterdir() if p.name != CARD_FILE]
            assert len(leftovers) <= 3, f"stale files pile up: {leftovers}"
        elapsed = time.perf_counter() - start
    finally:
        server.stdin.close()
        server.kill()
        server.wait()
    print(f"{TRIALS} interrupted saves in {elapsed:.1f} s: {outcomes}, {lost} signals lost")
    assert lost <= TRIALS // 40, f"{lost} of {TRIALS} signals never ended their saver"
    assert exits == {s: {_EXPECTED_EXIT[s]} for s in _SIGNALS}  # every signal hit a saver
    assert outcomes["old"] > 10 and outcomes["new"] > 10, outcomes  # kills landed mid-save
    # A clean save afterwards removes what interrupted ones left: the card and one weights file.
    save_checkpoint(folder, model, {"model": "net", "generation": 0})
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [CARD_FILE, weights_path(folder).name]
    )
    assert elapsed < 60, f"{TRIALS} trials took {elapsed:.0f} s"


# ----------------------------------------------------------------------------- hostile files


def _tiny() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 3))


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    return save_checkpoint(tmp_path / "c", _tiny(), {"model": "tiny", "options": {}})


def _rewrite_card(folder: Path, **changes: object) -> None:
    card = json.loads((folder / CARD_FILE).read_text())
    card.update(changes)
    (folder / CARD_FILE).write_text(json.dumps(card))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", "holds a JSON list, not an object"),
        (b'"card"', "holds a JSON str, not an object"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b"{not json", "is not valid JSON"),
        (b"{}", "lacks 'model', 'file', 'sha256'"),
        (b'{"model": "tiny", "file": "model.pt"}', "lacks 'sha256'"),
    ],
)
def test_a_card_that_is_not_a_card_is_one_checkpoint_error(
    ckpt: Path, content: bytes, message: str
) -> None:
    (ckpt / CARD_FILE).write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(ckpt, model=_tiny())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"file": "../../etc/passwd"}, "invalid file='../../etc/passwd'"),
        ({"file": "card.json"}, "invalid file="),
        ({"sha256": 12}, "invalid sha256='12'"),
        ({"model": ["x"]}, "invalid model="),
        ({"options": [1]}, "invalid options="),
    ],
)
def test_a_card_with_bad_fields_is_refused(ckpt: Path, changes: dict, message: str) -> None:
    _rewrite_card(ckpt, **changes)
    with pytest.raises(CheckpointError, match=re_escape(message)):
        load_checkpoint(ckpt, model=_tiny())


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def _plant(folder: Path, content: bytes | object) -> None:
    """Replace the weights by ``content`` (bytes, or an object torch.save writes), card updated."""
    import hashlib
    import io

    if not isinstance(content, bytes):
        buffer = io.BytesIO()
        torch.save(content, buffer)
        content = buffer.getvalue()
    weights_path(folder).write_bytes(content)
    _rewrite_card(folder, sha256=hashlib.sha256(content).hexdigest())  # the card is "right"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([torch.zeros(3)], "holds a list, not a state_dict"),
        (torch.zeros(3), "holds a Tensor, not a state_dict"),
        ({"0.weight": "weights"}, "entry '0.weight' is a str, not a tensor"),
        ({1: torch.zeros(1)}, "is not a state_dict: entry '1'"),
        (b"garbage, not a zip archive", "is not a PyTorch weights file"),
        (b"", "is not a PyTorch weights file"),
    ],
)
def test_weights_that_are_not_a_state_dict_are_one_checkpoint_error(
    ckpt: Path, content: object, message: str
) -> None:
    _plant(ckpt, content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(ckpt, model=_tiny())


def test_pickled_code_is_not_run(ckpt: Path, tmp_path: Path) -> None:
    """weights_only=True: a pickle that would call a function is refused, not executed."""
    import pickle

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple:
            return (Path.touch, (marker,))

    _plant(ckpt, pickle.dumps({"0.weight": Evil()}, protocol=2))
    with pytest.raises(CheckpointError, match="is not a PyTorch weights file"):
        load_checkpoint(ckpt, model=_tiny())
    assert not marker.exists()


def test_the_checksum_detects_damage_not_a_rewritten_card(ckpt: Path) -> None:
    """Trust: a flipped byte is caught; a consistent forgery (weights + card) is not."""
    weights = weights_path(ckpt)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its card"):
        load_checkpoint(ckpt, model=_tiny())
    other = _tiny()
    with torch.no_grad():
        other[0].weight.fill_(7)
    _plant(ckpt, other.state_dict())  # a forger rewrites the card's sha256 too
    loaded, _ = load_checkpoint(ckpt, model=_tiny())
    assert torch.all(loaded[0].weight == 7)  # documented: the sha256 is no signature


def test_a_card_asking_for_a_huge_model_is_refused_before_building(tmp_path: Path) -> None:
    from cnnlab.models import create_model

    options = {"num_classes": 10, "image_size": 28}
    folder = save_checkpoint(
        tmp_path / "l",
        create_model("lenet5_modern", **options),
        {"model": "lenet5_modern", "options": options},
    )
    _rewrite_card(folder, options={"num_classes": 10**9, "image_size": 28})
    with pytest.raises(
        CheckpointError, match=r"of [\d,]+ parameters .*refusing more than 2,000,000,000"
    ):
        load_checkpoint(folder)
    _rewrite_card(folder, options={"num_classes": 10**6, "image_size": 28})  # < 2e9, > the file
    with pytest.raises(
        CheckpointError, match=r"refusing more than [\d,]+ \(what its [\d,]+-byte weights file"
    ):
        load_checkpoint(folder)
    _rewrite_card(folder, options={"num_classes": -3})
    with pytest.raises(CheckpointError, match="cannot be built with options"):
        load_checkpoint(folder)
    _rewrite_card(folder, options=options)
    model, _ = load_checkpoint(folder)  # the honest card still loads
    assert sum(p.numel() for p in model.parameters()) > 0


def test_the_first_layout_still_loads_and_a_new_save_replaces_it(tmp_path: Path) -> None:
    import hashlib

    model = _tiny()
    folder = tmp_path / "old"
    folder.mkdir()
    torch.save(model.state_dict(), folder / "model.pt")  # model.pt + card.json naming it
    sha = hashlib.sha256((folder / "model.pt").read_bytes()).hexdigest()
    card = {"model": "tiny", "options": {}, "file": "model.pt", "sha256": sha}
    (folder / CARD_FILE).write_text(json.dumps(card))
    loaded, _ = load_checkpoint(folder, model=_tiny())
    assert torch.equal(loaded[0].weight, model[0].weight)
    save_checkpoint(folder, model, {"model": "tiny"})
    assert not (folder / "model.pt").exists() and weights_path(folder).name.startswith("model-")
    load_checkpoint(folder, model=_tiny())


def test_a_full_disk_during_save_is_enospc_and_keeps_the_old_checkpoint(
    ckpt: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (ckpt / CARD_FILE).read_bytes()

    def full(*args: object, **kwargs: object) -> None:
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError, match="no space left on device") as err:
        save_checkpoint(ckpt, _tiny(), {"model": "tiny"})
    assert err.value.errno == errno.ENOSPC
    assert (ckpt / CARD_FILE).read_bytes() == before
    assert sorted(p.name for p in ckpt.iterdir()) == sorted([CARD_FILE, weights_path(ckpt).name])
    monkeypatch.undo()
    load_checkpoint(ckpt, model=_tiny())


def test_missing_folder_file_and_weights_are_named(ckpt: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist: not a cnnlab checkpoint"):
        load_checkpoint(tmp_path / "nowhere")
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        load_checkpoint(tmp_path / "f")
    with pytest.raises(FileNotFoundError, match="not a cnnlab checkpoint"):
        load_checkpoint(tmp_path)
    weights_path(ckpt).unlink()
    with pytest.raises(FileNotFoundError, match="though .*card.json names it"):
        load_checkpoint(ckpt, model=_tiny())
