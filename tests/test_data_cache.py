"""Class 7 (a cache shared by processes and users) and class 3 (offline, unwritable cache) of
``cnnlab.data.official.fetch``, without network: a fake dataset file with a known checksum is
served from a local ``file://`` URL, and network failures are raised by a monkeypatched fetch.
"""

from __future__ import annotations

import errno
import hashlib
import multiprocessing
import os
import socket
import stat
import time
import urllib.error
from pathlib import Path

import pytest
import requests

from cnnlab.cli import EXIT_ENVIRONMENT, EXIT_USAGE, exit_code, one_line
from cnnlab.data import DataUnavailableError, official
from cnnlab.data.official import CacheNotWritableError, RemoteFile

PAYLOAD = bytes(range(256)) * 400  # ~100 kB: the "dataset file"
FNAME = "fake-images.bin"


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path | RemoteFile]:
    """A registry with one dataset "fake" whose single file lies in a local mirror."""
    src = tmp_path / "mirror" / FNAME
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    remote = RemoteFile(FNAME, (f"file://{src}",), f"md5:{_md5(PAYLOAD)}")
    monkeypatch.setattr(official, "REGISTRY", {"fake": {"file": remote}})
    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    return {"src": src, "cache": tmp_path / "cache", "remote": remote}


def _fetch(cache: Path, **kwargs: object) -> Path:
    return official.fetch("fake", "file", path=cache, **kwargs)


# --- two processes repairing one corrupt file ------------------------------------------------


def _repair_worker(cache: str, remote: RemoteFile, barrier: object, results: object) -> None:
    """Child process: point the registry at the fake file, wait for the other, then fetch."""
    from cnnlab.data import official as child_official

    child_official.REGISTRY = {"fake": {"file": remote}}
    plain_copy = child_official._file_downloader

    def slow_copy(url: str, output_file: str, pooch: object, check_only: bool = False) -> bool:
        time.sleep(0.3)  # a slow network: both processes are inside fetch at the same time
        return plain_copy(url, output_file, pooch, check_only)

    plain_check = child_official._hash_matches

    def slow_check(path: Path, known_hash: str) -> bool:
        time.sleep(0.2)  # both see the corrupt file before either moves it aside
        return plain_check(path, known_hash)

    child_official._file_downloader = slow_copy
    child_official._hash_matches = slow_check
    barrier.wait(timeout=60)
    try:
        path = child_official.fetch("fake", "file", path=cache)
        results.put(("ok", hashlib.md5(Path(path).read_bytes()).hexdigest()))
    except BaseException as exc:  # report anything: the parent asserts
        results.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_two_processes_repair_the_same_corrupt_file(fake: dict, damage: str) -> None:
    target = fake["cache"] / "fake" / FNAME
    target.parent.mkdir(parents=True)
    bad = PAYLOAD[: len(PAYLOAD) // 2] if damage == "truncated" else b"garbage"
    target.write_bytes(bad)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, as two notebooks are
    barrier, results = ctx.Barrier(2), ctx.Queue()
    args = (str(fake["cache"]), fake["remote"], barrier, results)
    procs = [ctx.Process(target=_repair_worker, args=args) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert outcomes == [("ok", _md5(PAYLOAD))] * 2, outcomes
    assert target.read_bytes() == PAYLOAD
    assert target.with_name(FNAME + ".corrupt").read_bytes() == bad
    leftovers = {p.name for p in target.parent.iterdir()} - {FNAME, FNAME + ".corrupt"}
    assert leftovers == {official.LOCK_NAME}  # no temporary download left behind


def test_file_verified_by_another_process_meanwhile_is_accepted(
    fake: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the other process finished while this one waited for the lock: no second download
    target = fake["cache"] / "fake" / FNAME
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    real_locked = official._locked

    def locked_after_repair(*args: object):  # type: ignore[no-untyped-def]
        target.write_bytes(PAYLOAD)  # what the other process did
        return real_locked(*args)

    monkeypatch.setattr(official, "_locked", locked_after_repair)
    monkeypatch.setattr(official, "_file_downloader", None)  # a download would fail
    assert _fetch(fake["cache"]).read_bytes() == PAYLOAD
    assert not target.with_name(FNAME + ".corrupt").exists()


def test_file_that_vanished_while_moving_aside_is_no_error(tmp_path: Path) -> None:
    assert official._move_aside(tmp_path / "gone") == tmp_path / "gone.corrupt"


def test_lock_held_too_long_times_out_clearly(fake: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    folder = fake["cache"] / "fake"
    folder.mkdir(parents=True)
    monkeypatch.setattr(official, "LOCK_TIMEOUT_S", 0.3)
    with open(folder / official.LOCK_NAME, "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another process fetching (a second open file)
        with pytest.raises(DataUnavailableError, match=r"another process has been fetching"):
            _fetch(fake["cache"])
    assert _fetch(fake["cache"]).read_bytes() == PAYLOAD  # released: it goes through


# --- modes of a shared cache ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o640, 0o750)]
)
def test_cached_files_are_group_readable(
    fake: dict, umask: int, file_mode: int, dir_mode: int
) -> None:
    old = os.umask(umask)
    try:
        path = _fetch(fake["cache"])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == file_mode  # pooch's tempfile made it 0600
    assert stat.S_IMODE(path.parent.stat().st_mode) == dir_mode
    assert stat.S_IMODE(fake["cache"].stat().st_mode) == dir_mode


def test_a_private_cached_file_is_shared_when_repaired(fake: dict) -> None:
    target = fake["cache"] / "fake" / FNAME
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOAD)
    target.chmod(0o600)
    path = _fetch(fake["cache"])  # verified, read-only use: modes left alone
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    target.write_bytes(b"bad")
    assert stat.S_IMODE(_fetch(fake["cache"]).stat().st_mode) & 0o040


def test_read_only_cache_with_a_good_file_needs_no_write(
    fake: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fetch(fake["cache"])

    def no_writes(*args: object, **kwargs: object) -> None:
        raise AssertionError("a verified file must be used without writing to the cache")

    monkeypatch.setattr(official, "_check_writable", no_writes)
    monkeypatch.setattr(official, "_locked", no_writes)
    assert _fetch(fake["cache"]).read_bytes() == PAYLOAD


# --- offline: one clear OSError -------------------------------------------------------------

OFFLINE = {
    "requests ConnectionError": requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='example.org', port=443): Max retries exceeded with url: /f "
        "(Caused by NameResolutionError(\"<urllib3.connection.HTTPSConnection>: Failed to "
        "resolve 'example.org' ([Errno -3] Temporary failure in name resolution)\"))"
    ),
    "requests Timeout": requests.exceptions.ConnectTimeout("Connection to example.org timed out"),
    "urllib URLError": urllib.error.URLError(
        socket.gaierror(-3, "Temporary failure in name resolution")
    ),
    "socket gaierror": socket.gaierror(-2, "Name or service not known"),
    "ConnectionRefused": ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    "TimeoutError": TimeoutError("timed out"),
    "OSError network unreachable": OSError(errno.ENETUNREACH, "Network is unreachable"),
}  # fmt: skip
WHY = {
    "requests ConnectionError": "no connection (offline, DNS failure or firewall)",
    "requests Timeout": "timed out",
    "urllib URLError": "no connection ([Errno -3] Temporary failure in name resolution)",
    "socket gaierror": "no connection (Name or service not known)",
    "ConnectionRefused": "no connection (Connection refused)",
    "TimeoutError": "timed out",
    "OSError network unreachable": "no connection (Network is unreachable)",
}


@pytest.mark.parametrize("name", OFFLINE)
def test_offline_download_is_one_clear_oserror(
    fake: dict, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import pooch

    remote = RemoteFile(
        FNAME,
        (
            "https://ossci-datasets.s3.amazonaws.com/fake/" + FNAME,
            "http://yann.lecun.com/x/" + FNAME,
        ),
        fake["remote"].known_hash,
    )
    monkeypatch.setitem(official.REGISTRY["fake"], "file", remote)

    def offline(*args: object, **kwargs: object) -> str:
        raise OFFLINE[name]

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DataUnavailableError) as err:
        _fetch(fake["cache"])
    msg = str(err.value)
    target = fake["cache"] / "fake" / FNAME
    assert msg.startswith("fake: could not download fake-images.bin from ")
    assert "ossci-datasets.s3.amazonaws.com, yann.lecun.com" in msg  # the hosts
    assert f"ossci-datasets.s3.amazonaws.com: {WHY[name]}" in msg  # why, in a few words
    assert f"copy it to {target}" in msg and "CNNLAB_DATA" in msg  # what to do
    assert remote.known_hash in msg and "\n" not in msg and len(msg) < 900
    assert isinstance(err.value, OSError) and exit_code(err.value) == EXIT_ENVIRONMENT
    assert one_line(err.value) == "error: " + msg


def test_http_error_names_the_status(fake: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import pooch

    response = requests.Response()
    response.status_code = 404

    def not_found(*args: object, **kwargs: object) -> str:
        raise requests.exceptions.HTTPError("404 Client Error", response=response)

    monkeypatch.setattr(pooch, "retrieve", not_found)
    with pytest.raises(DataUnavailableError, match=r"fake-images.bin: HTTP error 404"):
        _fetch(fake["cache"])


def test_full_disk_while_downloading_says_so(fake: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import pooch

    def disk_full(*args: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pooch, "retrieve", disk_full)
    with pytest.raises(
        DataUnavailableError, match=r"no space left on device .* CNNLAB_DATA"
    ) as err:
        _fetch(fake["cache"])
    assert err.value.errno == errno.ENOSPC and exit_code(err.value) == EXIT_ENVIRONMENT


def test_offline_with_download_false_touches_nothing(fake: dict) -> None:
    with pytest.raises(DataUnavailableError, match=r"fake: fake-images.bin is not in the cache"):
        _fetch(fake["cache"], download=False)
    assert not fake["cache"].exists()


# --- unwritable cache: one clear PermissionError --------------------------------------------


def test_unwritable_cache_names_dataset_host_path_and_remedy(fake: dict, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CacheNotWritableError) as err:
        official.fetch("fake", "file", path=blocker / "cache")
    msg = str(err.value)
    assert msg.startswith("fake: the data cache directory")
    assert str(blocker / "cache" / "fake") in msg and "cannot be written" in msg
    assert f"from {fake['remote'].urls[0]}" in msg  # the URL's host (file:// has none)
    assert "Set the CNNLAB_DATA environment variable" in msg
    assert isinstance(err.value, PermissionError) and exit_code(err.value) == EXIT_USAGE
    assert one_line(err.value) == "error: " + msg


def test_unwritable_cache_message_names_the_url_host(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    remote = official.REGISTRY["mnist"]["test_labels"]
    with pytest.raises(CacheNotWritableError, match=r"Permission denied.*from ossci-datasets"):
        official._check_writable(Path("/nowhere/mnist"), "mnist", remote)
