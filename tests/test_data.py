"""cnnlab.data: the bundled and generated datasets, splits, and the official-file readers.

The official datasets are tested offline: small files are written here in exactly the official
formats (gzipped IDX; CIFAR-10 binary records in a tar.gz), the registry is pointed at them with
file:// URLs and their computed md5s, and the checksum, corruption and offline paths are driven
through pooch without any network access.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import (
    DataCorruptError,
    Dataset,
    DataUnavailableError,
    data_dir,
    load_dataset,
    load_photo,
    make_shapes,
    official,
)
from cnnlab.data.official import CIFAR_RECORD, RemoteFile, read_idx
from cnnlab.data.synthetic import CLASSES

# ----------------------------------------------------------------------------- shapes


def _sha(images: np.ndarray, labels: np.ndarray) -> str:
    return hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()


def test_shapes_bytes_are_pinned() -> None:
    # Pinned: any change to the generator (draw order, arithmetic) changes the dataset.
    x, y = make_shapes(600, seed=7)
    assert x.shape == (600, 3, 32, 32) and x.dtype == np.uint8
    assert y.shape == (600,) and y.dtype == np.int64
    assert _sha(x, y) == "b3cd96571808da83d85dfac94625d7b42d712c48cf67abc970a09ee7a6accb85"
    x, y = make_shapes(100, seed=7, size=16, stream=1)
    assert _sha(x, y) == "78b0d658e2878611526a116cbf46d910c8f2c2d0cf2c95cfc2a0984c3dfd30fa"


def test_shapes_seeded_prefix_stable_and_balanced() -> None:
    x1, y1 = make_shapes(700, seed=1)
    x2, y2 = make_shapes(120, seed=1)
    np.testing.assert_array_equal(x1[:120], x2)  # the first n do not depend on how many
    np.testing.assert_array_equal(y1[:120], y2)
    x3, _ = make_shapes(120, seed=2)
    assert not np.array_equal(x2, x3)
    counts = np.bincount(y1[:500], minlength=len(CLASSES))
    assert (counts == 50).all()  # each chunk of 500 is balanced
    assert x1.min() == 0 or x1.max() == 255  # uses the full range somewhere


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_shapes_difficulties_and_bad_args(difficulty: str) -> None:
    x, y = make_shapes(20, difficulty=difficulty, size=24)
    assert x.shape == (20, 3, 24, 24)
    with pytest.raises(ValueError, match="difficulty.*Valid: easy, medium, hard"):
        make_shapes(10, difficulty="extreme")
    with pytest.raises(TypeError, match="n must be an integer"):
        make_shapes(2.5)


def test_shapes_linear_model_clearly_worse_than_small_cnn() -> None:
    torch.manual_seed(0)
    x, y = make_shapes(1500, seed=0)
    xt, yt = make_shapes(500, seed=0, stream=1)
    train = Dataset(torch.from_numpy(x).float() / 255, torch.from_numpy(y), CLASSES, "shapes")
    test = Dataset(torch.from_numpy(xt).float() / 255, torch.from_numpy(yt), CLASSES, "shapes")

    def accuracy(model: nn.Module, epochs: int, lr: float) -> float:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            for idx in torch.randperm(len(train), generator=g).split(50):
                loss = F.cross_entropy(model(train.images[idx]), train.labels[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            return (model(test.images).argmax(1) == test.labels).float().mean().item()

    linear = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    cnn = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )  # fmt: skip
    lin_acc = accuracy(linear, 3, 1e-3)
    cnn_acc = accuracy(cnn, 3, 5e-3)
    assert lin_acc < 0.3  # near chance (0.1): position and colour vary
    print(f"linear {lin_acc:.3f}, cnn {cnn_acc:.3f}")
    assert cnn_acc > lin_acc + 0.3, (lin_acc, cnn_acc)


def test_shapes_loader_splits_and_size() -> None:
    train = load_dataset("shapes", "train", n=50, size=16)
    assert train.images.shape == (50, 3, 16, 16) and train.classes == CLASSES
    assert float(train.images.min()) >= 0.0 and float(train.images.max()) <= 1.0
    test = load_dataset("shapes", "test", n=30)
    x, y = make_shapes(30, seed=0, stream=1)  # the test split is its own stream
    torch.testing.assert_close(test.images, torch.from_numpy(x).float() / 255)
    torch.testing.assert_close(test.labels, torch.from_numpy(y))


# ----------------------------------------------------------------------------- digits


def _rows(d: Dataset) -> list[bytes]:
    return sorted(
        row.numpy().tobytes() + bytes([int(lab)])
        for row, lab in zip(d.images, d.labels, strict=True)
    )


def test_digits_splits_are_disjoint_seeded_and_complete() -> None:
    from sklearn.datasets import load_digits

    train = load_dataset("digits", "train", seed=3)
    val = load_dataset("digits", "val", seed=3)
    test = load_dataset("digits", "test", seed=3)
    assert len(train) + len(val) + len(test) == 1797
    assert len(test) == round(0.2 * 1797)
    assert len(val) == round(0.1 * (1797 - len(test)))
    assert train.images.shape[1:] == (1, 8, 8) and train.labels.dtype == torch.int64
    assert train.classes == tuple("0123456789")
    bunch = load_digits()
    everything = Dataset(
        torch.tensor(bunch.images / 16.0, dtype=torch.float32)[:, None],
        torch.tensor(bunch.target),
        train.classes,
        "digits",
    )
    union = Dataset(
        torch.cat([train.images, val.images, test.images]),
        torch.cat([train.labels, val.labels, test.labels]),
        train.classes,
        "digits",
    )
    assert _rows(union) == _rows(everything)  # a partition of the real data
    # the same seed gives the same split; another seed another val set but the same test set
    torch.testing.assert_close(load_dataset("digits", "val", seed=3).images, val.images)
    other_val = load_dataset("digits", "val", seed=4)
    assert not torch.equal(other_val.images, val.images)
    torch.testing.assert_close(load_dataset("digits", "test", seed=4).images, test.images)


def test_digits_resize_and_n() -> None:
    d = load_dataset("digits", "train", size=28, n=10)
    assert d.images.shape == (10, 1, 28, 28) and len(d) == 10
    small = load_dataset("digits", "train", n=10)
    expected = F.interpolate(small.images, size=(28, 28), mode="bilinear", align_corners=False)
    torch.testing.assert_close(d.images, expected.clamp(0, 1))
    assert "n=10" in repr(d)


def test_load_dataset_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'.*Did you mean 'mnist'.*Valid"):
        load_dataset("mnsit")
    with pytest.raises(ValueError, match="no split 'valid'; valid splits: train, val, test"):
        load_dataset("digits", "valid")
    with pytest.raises(ValueError, match="'photos' has no split 'test'; valid splits: train"):
        load_dataset("photos", "test")
    with pytest.raises(ValueError, match="val_fraction must be in"):
        load_dataset("digits", val_fraction=1.5)
    with pytest.raises(ValueError, match="val split of 'digits' is empty"):
        load_dataset("digits", "val", val_fraction=0.0)
    with pytest.raises(ValueError, match="n=5000 but the train split of 'digits' has only"):
        load_dataset("digits", n=5000)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        load_dataset("digits", n=0)
    with pytest.raises(ValueError, match="labels must be a 1-D tensor"):
        Dataset(torch.zeros(3, 1, 2, 2), torch.zeros(2), ("a",), "x")


# ----------------------------------------------------------------------------- photos


def test_photos() -> None:
    cam = load_photo()
    assert cam.shape == (1, 512, 512) and cam.dtype == torch.float32
    assert float(cam.min()) >= 0.0 and float(cam.max()) == 1.0
    astro = load_photo("astronaut", size=64)
    assert astro.shape == (3, 64, 64)
    gray = load_photo("astronaut", size=(32, 48), gray=True)
    assert gray.shape == (1, 32, 48)
    full = load_photo("astronaut")
    lum = (full * torch.tensor([0.2125, 0.7154, 0.0721])[:, None, None]).sum(0)
    torch.testing.assert_close(load_photo("astronaut", gray=True)[0], lum)
    with pytest.raises(ValueError, match="unknown photo 'cameraman'.*Did you mean 'camera'"):
        load_photo("cameraman")
    photos = load_dataset("photos", size=24)
    assert photos.images.shape == (16, 3, 24, 24) and "camera" in photos.classes


# ----------------------------------------------------------------------------- official files


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Official-format MNIST/Fashion/CIFAR files in a local 'mirror', registered by md5."""
    src = tmp_path / "mirror"
    src.mkdir()
    rng = np.random.default_rng(0)
    content: dict[str, object] = {"src": src, "cache": tmp_path / "cache"}
    registry: dict[str, dict[str, RemoteFile]] = {}
    for name in ("mnist", "fashion-mnist"):
        arrays = {
            "train_images": rng.integers(0, 256, (40, 28, 28)),
            "train_labels": rng.integers(0, 10, 40),
            "test_images": rng.integers(0, 256, (12, 28, 28)),
            "test_labels": rng.integers(0, 10, 12),
        }
        registry[name] = {}
        for key, arr in arrays.items():
            data = _idx_bytes(arr)
            fname = official.REGISTRY[name][key].fname
            (src / name).mkdir(exist_ok=True)
            (src / name / fname).write_bytes(data)
            url = f"file://{src / name / fname}"
            registry[name][key] = RemoteFile(fname, (url,), f"md5:{_md5(data)}")
        content[name] = arrays
    # CIFAR-10 binary: records of 1 label byte + 1024 R + 1024 G + 1024 B bytes.
    batches = {f"data_batch_{i}.bin": rng.integers(0, 256, (3, CIFAR_RECORD)) for i in range(1, 6)}
    batches["test_batch.bin"] = rng.integers(0, 256, (4, CIFAR_RECORD))
    for recs in batches.values():
        recs[:, 0] %= 10
    meta = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for member, payload in [("batches.meta.txt", meta)] + [
            (k, v.astype(np.uint8).tobytes()) for k, v in batches.items()
        ]:
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{member}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    archive = buf.getvalue()
    (src / "cifar-10-binary.tar.gz").write_bytes(archive)
    registry["cifar10"] = {
        "archive": RemoteFile(
            "cifar-10-binary.tar.gz",
            (f"file://{src / 'cifar-10-binary.tar.gz'}",),
            f"md5:{_md5(archive)}",
        )
    }
    content["cifar10"] = batches
    monkeypatch.setattr(official, "REGISTRY", registry)
    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    return content


def _offline(monkeypatch: pytest.MonkeyPatch, name: str, key: str) -> RemoteFile:
    """Point one file's URL at nowhere, as on a machine without network."""
    old = official.REGISTRY[name][key]
    new = RemoteFile(old.fname, ("file:///nonexistent/offline/" + old.fname,), old.known_hash)
    monkeypatch.setitem(official.REGISTRY[name], key, new)
    return new


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_datasets_parse(mirror: dict, name: str) -> None:
    arrays = mirror[name]
    train = load_dataset(name, "train", data_dir=mirror["cache"], val_fraction=0.0)
    assert train.images.shape == (40, 1, 28, 28)
    perm = np.random.Generator(np.random.PCG64(0)).permutation(40)  # the seeded split order
    expected = torch.from_numpy(arrays["train_images"][perm]).float()[:, None] / 255
    torch.testing.assert_close(train.images, expected)
    torch.testing.assert_close(train.labels, torch.from_numpy(arrays["train_labels"][perm]))
    test = load_dataset(name, "test", data_dir=mirror["cache"])
    torch.testing.assert_close(test.labels, torch.from_numpy(arrays["test_labels"]))
    assert len(load_dataset(name, "val", data_dir=mirror["cache"], val_fraction=0.25)) == 10
    assert test.classes[0] == ("0" if name == "mnist" else "T-shirt/top")
    assert (Path(mirror["cache"]) / name / "t10k-images-idx3-ubyte.gz").is_file()


def test_cifar10_binary_parse(mirror: dict) -> None:
    test = load_dataset("cifar10", "test", data_dir=mirror["cache"], size=16)
    assert test.images.shape == (4, 3, 16, 16)
    test = load_dataset("cifar10", "test", data_dir=mirror["cache"])
    recs = mirror["cifar10"]["test_batch.bin"]
    assert test.classes == (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    )  # fmt: skip
    torch.testing.assert_close(test.labels, torch.from_numpy(recs[:, 0]))
    b, c, i, j = 2, 1, 5, 7  # green plane, row 5, column 7 of image 2
    assert round(float(test.images[b, c, i, j]) * 255) == recs[b, 1 + c * 1024 + i * 32 + j]
    train = load_dataset("cifar10", "train", data_dir=mirror["cache"], val_fraction=0.0)
    assert len(train) == 15  # five batches of three records


def test_file_placed_by_hand_is_used_offline(mirror: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = _offline(monkeypatch, "cifar10", "archive")
    target = Path(mirror["cache"]) / "cifar10" / remote.fname
    target.parent.mkdir(parents=True)
    target.write_bytes((Path(mirror["src"]) / remote.fname).read_bytes())
    assert len(load_dataset("cifar10", "test", data_dir=mirror["cache"])) == 4


def test_offline_missing_file_names_file_checksum_and_place(
    mirror: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = _offline(monkeypatch, "mnist", "test_images")
    with pytest.raises(DataUnavailableError) as err:
        load_dataset("mnist", "test", data_dir=mirror["cache"])
    msg = str(err.value)
    assert remote.fname in msg and remote.known_hash in msg
    assert str(Path(mirror["cache"]) / "mnist" / remote.fname) in msg
    assert not (Path(mirror["cache"]) / "mnist" / remote.fname).exists()
    with pytest.raises(DataUnavailableError, match="not in the cache"):
        load_dataset("fashion-mnist", "test", data_dir=mirror["cache"], download=False)


def test_truncated_cached_file_is_moved_aside(
    mirror: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = (Path(mirror["src"]) / "cifar-10-binary.tar.gz").read_bytes()
    target = Path(mirror["cache"]) / "cifar10" / "cifar-10-binary.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(good[: len(good) // 2])
    remote = _offline(monkeypatch, "cifar10", "archive")
    with pytest.raises(DataUnavailableError, match="wrong checksum.*moved aside") as err:
        load_dataset("cifar10", "test", data_dir=mirror["cache"])
    assert remote.known_hash in str(err.value)
    assert not target.exists()
    assert target.with_name(target.name + ".corrupt").read_bytes() == good[: len(good) // 2]


def test_corrupted_cached_file_is_fetched_again(mirror: dict) -> None:
    target = Path(mirror["cache"]) / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    test = load_dataset("mnist", "test", data_dir=mirror["cache"])
    torch.testing.assert_close(test.labels, torch.from_numpy(mirror["mnist"]["test_labels"]))
    assert target.with_name(target.name + ".corrupt").read_bytes() == b"garbage"


def test_download_with_wrong_checksum_is_discarded(
    mirror: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = official.REGISTRY["mnist"]["test_labels"]
    monkeypatch.setitem(
        official.REGISTRY["mnist"],
        "test_labels",
        RemoteFile(old.fname, old.urls, "md5:" + "0" * 32),
    )
    with pytest.raises(DataUnavailableError, match="wrong checksum, discarded"):
        load_dataset("mnist", "test", data_dir=mirror["cache"])
    folder = Path(mirror["cache"]) / "mnist"
    assert not (folder / old.fname).exists()
    assert [p.name for p in folder.iterdir() if "labels" in p.name] == []  # no partial files


def test_unwritable_cache_dir(mirror: dict, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(PermissionError, match="cannot be written.*CNNLAB_DATA"):
        load_dataset("mnist", "test", data_dir=blocker / "cache")


def test_file_with_right_checksum_but_bad_format(mirror: dict, monkeypatch) -> None:
    data = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 99) + b"\x01\x02")  # says 99
    fname = official.REGISTRY["mnist"]["test_labels"].fname
    target = Path(mirror["cache"]) / "mnist" / fname
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    monkeypatch.setitem(
        official.REGISTRY["mnist"],
        "test_labels",
        RemoteFile(fname, ("file:///x",), f"md5:{_md5(data)}"),
    )
    with pytest.raises(DataCorruptError, match="shape \\(99,\\).*moved aside"):
        load_dataset("mnist", "test", data_dir=mirror["cache"])
    assert not target.exists()


def test_read_idx_checks_magic(tmp_path: Path) -> None:
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 2) + b"\x01\x02")
    with pytest.raises(DataCorruptError, match="bad magic"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + bytes(range(6)))
    np.testing.assert_array_equal(read_idx(path), np.arange(6).reshape(2, 3))
    gz = tmp_path / "bad.gz"
    gz.write_bytes(b"not gzip at all")
    with pytest.raises(DataCorruptError, match="cannot be read"):
        read_idx(gz)


def test_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "here"))
    assert data_dir() == tmp_path / "here"
    assert data_dir(tmp_path / "there") == tmp_path / "there"
    monkeypatch.delenv("CNNLAB_DATA")
    assert data_dir().name == "data" and "cnnlab" in str(data_dir())
