"""MNIST, Fashion-MNIST and CIFAR-10 from their official files, checksummed and cached.

Files are fetched with pooch, which downloads to a temporary file in the cache folder, checks the
published checksum and only then moves it into place, so a broken download never becomes a
cached file. A file already in the cache with the right checksum is used without any network
access, which is also how to install the data by hand behind a firewall. CIFAR-10 is read from
its *binary* release (fixed-size records), never from the pickled Python release.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import shutil
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ENV_VAR = "CNNLAB_DATA"
LOCK_NAME = ".cnnlab.lock"
LOCK_TIMEOUT_S = 900.0  # longest wait for another process fetching the same file (CIFAR: 160 MB)


@dataclass(frozen=True)
class RemoteFile:
    """One official file: its name, where to get it, and its published checksum."""

    fname: str
    urls: tuple[str, ...]
    known_hash: str  # "md5:<hex>" or "sha256:<hex>", as pooch expects


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_BASE = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


def _idx_files(mirrors: tuple[str, ...], md5s: dict[str, str]) -> dict[str, RemoteFile]:
    return {
        key: RemoteFile(fname, tuple(m + fname for m in mirrors), f"md5:{md5}")
        for key, (fname, md5) in zip(
            ("train_images", "train_labels", "test_images", "test_labels"),
            md5s.items(),
            strict=True,
        )
    }


# Checksums as published by the datasets' authors (MNIST's are the ones torchvision pins).
REGISTRY: dict[str, dict[str, RemoteFile]] = {
    "mnist": _idx_files(
        _MNIST_MIRRORS,
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion-mnist": _idx_files(
        _FASHION_BASE,
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    "cifar10": {
        "archive": RemoteFile(
            "cifar-10-binary.tar.gz",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
            "md5:c32a1d4ab5d03f1284b67883e8d87530",
        )
    },
}

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class DataUnavailableError(OSError):
    """An official data file is not in the cache and could not be downloaded (no network, a
    firewall, a full disk, another process holding the file): the machine's problem, not the
    input's, so an ``OSError`` (the CLI's exit code 3)."""


class CacheNotWritableError(PermissionError):
    """The data cache folder cannot be created or written (a ``PermissionError``: exit code 2)."""


class DataCorruptError(ValueError):
    """A data file has the wrong checksum or is not in the expected format."""


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``path``, else ``$CNNLAB_DATA``, else the user cache dir of cnnlab."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs  # imported here: only the official datasets need it

    return Path(platformdirs.user_cache_dir("cnnlab")) / "data"


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (threads share it)."""
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _share(path: Path, directory: bool = False) -> None:
    """Make a cached file (folder) readable by the group: others on a shared classroom cache.

    The umask is respected but made at least group-readable (g+r, g+rx for folders): pooch
    writes through ``tempfile``, whose files are 0600, unreadable to everyone else.
    """
    base, extra = (0o777, 0o050) if directory else (0o666, 0o040)
    with contextlib.suppress(OSError):  # not ours (another user's cache): leave it as it is
        mode = path.stat().st_mode & 0o7777
        wanted = mode | ((base & ~_umask()) | extra)
        if wanted != mode:
            os.chmod(path, wanted)


def _check_writable(folder: Path, dataset: str, remote: RemoteFile) -> None:
    """Create ``folder`` and make sure a file can be written in it, or fail clearly."""
    try:
        created = not folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if created:
            _share(folder, directory=True)
            _share(folder.parent, directory=True)
        probe = folder / f".cnnlab-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CacheNotWritableError(
            f"{dataset}: the data cache directory {str(folder)!r} cannot be written "
            f"({exc.strerror or exc}), so {remote.fname} cannot be fetched from "
            f"{_host(remote.urls[0])}. Set the {ENV_VAR} environment variable (or pass "
            "data_dir=) to a writable folder, or ask the owner of the shared cache to put "
            f"{remote.fname} into {folder}."
        ) from exc


def _hash_matches(path: Path, known_hash: str) -> bool:
    import pooch

    alg, _, expected = known_hash.partition(":")
    try:
        return pooch.file_hash(str(path), alg=alg) == expected.lower()
    except FileNotFoundError:  # another process moved it aside meanwhile
        return False


def _move_aside(path: Path) -> Path:
    bad = path.with_name(path.name + ".corrupt")
    with contextlib.suppress(FileNotFoundError):  # another process moved it first: fine
        os.replace(path, bad)
    return bad


@contextlib.contextmanager
def _locked(folder: Path, fname: str, dataset: str) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.cnnlab.lock`` while one process repairs/downloads.

    Two processes (two notebooks, a class on one server) fixing the same corrupt file would
    otherwise race: one renames the file the other just verified. ``flock`` locks vanish with
    their process, so a crash never leaves a stale lock. Without ``fcntl`` (Windows) there is no
    lock and the race is tolerated instead (a vanished file is not an error).
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    # one lock file per dataset folder, never deleted: unlinking a lock file lets two
    # processes lock two different files of the same name
    lock = folder / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:  # another user's lock file: a read-only handle locks as well
        fd = os.open(lock, os.O_RDONLY)
    try:
        _share(lock)
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DataUnavailableError(
                        f"{dataset}: another process has been fetching {fname} into {folder} "
                        f"for more than {LOCK_TIMEOUT_S:.0f} s (it holds {lock}); wait for it "
                        "to finish and try again, or stop it"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _why(exc: BaseException) -> str:
    """A failed download in a few words (urllib/requests messages run to several lines)."""
    try:
        import requests.exceptions as rex
    except ImportError:  # pragma: no cover (pooch depends on requests)
        rex = None
    if rex is not None and isinstance(exc, rex.HTTPError) and exc.response is not None:
        return f"HTTP error {exc.response.status_code}"
    if rex is not None and isinstance(exc, rex.Timeout):
        return "timed out"
    if rex is not None and isinstance(exc, rex.ConnectionError):
        return "no connection (offline, DNS failure or firewall)"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, (ConnectionError, OSError)) and not isinstance(exc, PermissionError):
        reason = getattr(exc, "reason", None)  # urllib.error.URLError wraps the socket error
        text = str(reason or exc.strerror or exc)
        return f"no connection ({' '.join(text.split())[:120]})"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"


def _file_downloader(url: str, output_file: str, pooch: object, check_only: bool = False) -> bool:
    """A pooch downloader for ``file://`` URLs (local mirrors and tests)."""
    source = Path(url.removeprefix("file://"))
    if check_only:
        return source.is_file()
    if not source.is_file():
        raise FileNotFoundError(f"no file at {url}")
    shutil.copyfile(source, output_file)
    return True


def _downloader_for(url: str) -> Callable[..., object] | None:
    return _file_downloader if url.startswith("file://") else None  # None: pooch picks HTTP


def fetch(
    dataset: str,
    key: str,
    *,
    path: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = False,
) -> Path:
    """Return the local path of one official file, downloading it if needed.

    A cached file with the right checksum is used without network (a read-only shared cache
    works). A cached file with the wrong checksum (truncated, corrupted) is renamed to
    ``<name>.corrupt`` and fetched again, under a lock so that two processes repairing it do
    not race. Without network (or with ``download=False``) a missing file raises
    ``DataUnavailableError`` (an ``OSError``) naming the file, its checksum, its URL's host and
    the folder to put it in by hand; an unwritable cache raises ``CacheNotWritableError``.
    Fetched files are group-readable (a class may share one cache).
    """
    import pooch

    remote = REGISTRY[dataset][key]
    folder = data_dir(path) / dataset
    target = folder / remote.fname
    if target.is_file() and _hash_matches(target, remote.known_hash):
        return target
    how_to = (
        f"Download {remote.urls[0]} (checksum {remote.known_hash}) on a machine with network "
        f"and copy it to {target} (or set {ENV_VAR} to the folder that holds "
        f"{dataset}/{remote.fname})."
    )
    if not download and not target.exists():
        raise DataUnavailableError(f"{dataset}: {remote.fname} is not in the cache. {how_to}")
    _check_writable(folder, dataset, remote)
    with _locked(folder, remote.fname, dataset):
        note = ""
        if target.is_file():
            if _hash_matches(target, remote.known_hash):  # another process fixed it meanwhile
                _share(target)
                return target
            bad = _move_aside(target)
            note = (
                f"The cached {remote.fname} had the wrong checksum (truncated or corrupted); it "
                f"was moved aside to {bad} and not used. "
            )
        if not download:
            raise DataUnavailableError(
                f"{note}{dataset}: {remote.fname} is not in the cache. {how_to}"
            )
        errors: list[str] = []
        for url in remote.urls:
            try:
                fetched = Path(
                    pooch.retrieve(
                        url,
                        known_hash=remote.known_hash,
                        fname=remote.fname,
                        path=folder,
                        downloader=_downloader_for(url),
                        progressbar=progress,
                    )
                )
            except ValueError as exc:  # pooch: the download's checksum does not match
                if "hash" not in str(exc):
                    raise
                errors.append(f"{url}: downloaded file has the wrong checksum, discarded")
            except OSError as exc:
                if exc.errno == errno.ENOSPC:  # the disk, not the network: say so
                    raise DataUnavailableError(
                        errno.ENOSPC,
                        f"{dataset}: no space left on device while downloading {remote.fname} "
                        f"from {_host(url)} into {folder}; free some space or set {ENV_VAR} to "
                        "a folder on another disk",
                    ) from exc
                errors.append(f"{_host(url)}: {_why(exc)}")
            except Exception as exc:  # pooch/requests/urllib raise many kinds; report, go on
                errors.append(f"{_host(url)}: {_why(exc)}")
            else:
                _share(fetched)
                return fetched
    hosts = ", ".join(dict.fromkeys(_host(u) for u in remote.urls))
    raise DataUnavailableError(
        f"{note}{dataset}: could not download {remote.fname} from {hosts} "
        f"({'; '.join(errors)}). {how_to}"
    )


# --------------------------------------------------------------------------- file formats

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) as in the MNIST distribution.

    Header: two zero bytes, a type byte (0x08 = uint8), the number of dimensions, then each size
    as a big-endian uint32. Labels (magic 2049) give shape (N,), images (magic 2051) (N, 28, 28).
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataCorruptError(f"{path.name}: cannot be read as IDX ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataCorruptError(f"{path.name}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataCorruptError(f"{path.name}: IDX header truncated")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataCorruptError(
            f"{path.name}: IDX header says shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(raw) - header} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


CIFAR_RECORD = 1 + 3 * 32 * 32  # one label byte, then 1024 red, 1024 green, 1024 blue bytes
CIFAR_DIR = "cifar-10-batches-bin"
CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST = ("test_batch.bin",)


def read_cifar_binary(
    archive: str | os.PathLike[str], members: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read CIFAR-10 binary batches from ``cifar-10-binary.tar.gz``.

    Returns uint8 images (N, 3, 32, 32), int64 labels (N,) and the class names from
    ``batches.meta.txt``.
    """
    archive = Path(archive)
    images, labels = [], []
    try:
        with tarfile.open(archive, "r:gz") as tar:
            names = _read_member(tar, "batches.meta.txt", archive).decode("ascii").split()
            for member in members:
                raw = _read_member(tar, member, archive)
                if len(raw) % CIFAR_RECORD:
                    raise DataCorruptError(
                        f"{archive.name}:{member} has {len(raw)} bytes, not a multiple of the "
                        f"{CIFAR_RECORD}-byte record"
                    )
                rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
                labels.append(rec[:, 0].astype(np.int64))
                images.append(rec[:, 1:].reshape(-1, 3, 32, 32))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataCorruptError(f"{archive.name}: cannot be read as a tar.gz ({exc})") from exc
    classes = tuple(names)
    y = np.concatenate(labels)
    if len(classes) != 10 or y.max(initial=0) >= len(classes):
        raise DataCorruptError(f"{archive.name}: labels do not match batches.meta.txt {classes}")
    return np.concatenate(images), y, classes


def _read_member(tar: tarfile.TarFile, name: str, archive: Path) -> bytes:
    try:
        fh = tar.extractfile(f"{CIFAR_DIR}/{name}")
    except KeyError:
        fh = None
    if fh is None:
        raise DataCorruptError(f"{archive.name}: no member {CIFAR_DIR}/{name}")
    return fh.read()


# --------------------------------------------------------------------------- loaders


def load_idx_dataset(
    dataset: str,
    train: bool,
    *,
    path: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST as uint8 images (N, 1, 28, 28) and int64 labels (N,)."""
    part = "train" if train else "test"
    files = {
        kind: fetch(dataset, f"{part}_{kind}", path=path, download=download, progress=progress)
        for kind in ("images", "labels")
    }
    images = _parsed(files["images"], read_idx)
    labels = _parsed(files["labels"], read_idx)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataCorruptError(
            f"{dataset}: images {images.shape} and labels {labels.shape} do not match"
        )
    return images[:, None].copy(), labels.astype(np.int64)


def load_cifar10(
    train: bool,
    *,
    path: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """CIFAR-10 as uint8 images (N, 3, 32, 32), int64 labels (N,) and class names."""
    archive = fetch("cifar10", "archive", path=path, download=download, progress=progress)
    return _parsed(archive, lambda p: read_cifar_binary(p, CIFAR_TRAIN if train else CIFAR_TEST))


def _parsed(path: Path, reader: Callable[[Path], object]) -> object:
    """Parse a checksummed file; if it still cannot be parsed, move it aside and say so."""
    try:
        return reader(path)
    except DataCorruptError as exc:
        bad = _move_aside(path)
        raise DataCorruptError(f"{exc}; the file was moved aside to {bad}") from exc
