"""MNIST, Fashion-MNIST and CIFAR-10 from their official files, checksummed and cached.

Files are fetched with pooch, which downloads to a temporary file in the cache folder, checks the
published checksum and only then moves it into place, so a broken download never becomes a
cached file. A file already in the cache with the right checksum is used without any network
access, which is also how to install the data by hand behind a firewall. CIFAR-10 is read from
its *binary* release (fixed-size records), never from the pickled Python release.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "CNNLAB_DATA"


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


class DataUnavailableError(RuntimeError):
    """An official data file is not in the cache and could not be downloaded."""


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


def _check_writable(folder: Path) -> None:
    """Create ``folder`` and make sure a file can be written in it, or fail clearly."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".cnnlab-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PermissionError(
            f"the data cache directory {str(folder)!r} cannot be written ({exc.strerror or exc}). "
            f"Set the {ENV_VAR} environment variable (or pass data_dir=) to a writable folder."
        ) from exc


def _hash_matches(path: Path, known_hash: str) -> bool:
    import pooch

    alg, _, expected = known_hash.partition(":")
    return pooch.file_hash(str(path), alg=alg) == expected.lower()


def _move_aside(path: Path) -> Path:
    bad = path.with_name(path.name + ".corrupt")
    os.replace(path, bad)
    return bad


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

    A cached file with the right checksum is used without network. A cached file with the wrong
    checksum (truncated, corrupted) is renamed to ``<name>.corrupt`` and fetched again. Without
    network (or with ``download=False``) a missing file raises ``DataUnavailableError`` naming the
    file, its checksum, its URL and the folder to put it in by hand.
    """
    import pooch

    remote = REGISTRY[dataset][key]
    folder = data_dir(path) / dataset
    target = folder / remote.fname
    note = ""
    if target.is_file():
        if _hash_matches(target, remote.known_hash):
            return target
        _check_writable(folder)
        bad = _move_aside(target)
        note = (
            f"The cached {remote.fname} had the wrong checksum (truncated or corrupted); it was "
            f"moved aside to {bad} and not used. "
        )
    how_to = (
        f"Download {remote.urls[0]} (checksum {remote.known_hash}) and put it at {target} "
        f"(or set {ENV_VAR} to the folder that holds {dataset}/{remote.fname})."
    )
    if not download:
        raise DataUnavailableError(f"{note}{dataset}: {remote.fname} is not in the cache. {how_to}")
    _check_writable(folder)
    errors: list[str] = []
    for url in remote.urls:
        try:
            fetched = pooch.retrieve(
                url,
                known_hash=remote.known_hash,
                fname=remote.fname,
                path=folder,
                downloader=_downloader_for(url),
                progressbar=progress,
            )
            return Path(fetched)
        except ValueError as exc:  # pooch: the download's checksum does not match
            if "hash" not in str(exc):
                raise
            errors.append(f"{url}: downloaded file has the wrong checksum, discarded")
        except Exception as exc:  # no network, HTTP error, firewall, DNS ...
            errors.append(f"{url}: {type(exc).__name__}: {exc}")
    raise DataUnavailableError(
        f"{note}{dataset}: could not download {remote.fname} ({'; '.join(errors)}). {how_to}"
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
