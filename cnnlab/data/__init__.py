"""Datasets of the course behind one entry point, ``load_dataset(name, split)``.

Offline by default: "digits" (scikit-learn), "shapes" (generated here), "photos" (scikit-image).
"mnist", "fashion-mnist" and "cifar10" are read from their official files, fetched once into a
checksummed cache (``$CNNLAB_DATA``). Every dataset comes back as float images (N, C, H, W) in
[0, 1] and int64 labels (N,), with a seeded, stable train/val/test split.

Errors: a file that cannot be downloaded (offline) raises ``DataUnavailableError`` (an
``OSError``), a cache folder that cannot be written ``CacheNotWritableError`` (a
``PermissionError``), a corrupt file ``DataCorruptError`` and a request too large for the
memory ``cnnlab._limits.ResourceLimitError`` (both ``ValueError``s); each message says what to do.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cnnlab._validate import as_int, as_pair, check_choice
from cnnlab.data.bundled import PHOTOS, load_digits_array, load_photo, load_photos_array, resize
from cnnlab.data.official import (
    FASHION_CLASSES,
    MNIST_CLASSES,
    CacheNotWritableError,
    DataCorruptError,
    DataUnavailableError,
    data_dir,
    load_cifar10,
    load_idx_dataset,
)
from cnnlab.data.synthetic import CLASSES as SHAPE_CLASSES
from cnnlab.data.synthetic import DIFFICULTIES, make_shapes

__all__ = [
    "DATASETS",
    "PHOTOS",
    "SPLITS",
    "CacheNotWritableError",
    "DataCorruptError",
    "DataUnavailableError",
    "Dataset",
    "data_dir",
    "load_dataset",
    "load_photo",
    "make_shapes",
]

# name -> (channels, native size, needs a download)
DATASETS: dict[str, tuple[int, int, bool]] = {
    "digits": (1, 8, False),
    "shapes": (3, 32, False),
    "photos": (3, 128, False),
    "mnist": (1, 28, True),
    "fashion-mnist": (1, 28, True),
    "cifar10": (3, 32, True),
}
SPLITS: tuple[str, ...] = ("train", "val", "test")
SHAPES_TRAIN_POOL = 6000  # generated images that train and val are carved from
SHAPES_TEST = 2000  # default size of the (separately generated) shapes test split
_TEST_SEED = 20240101  # fixed: the digits test set must not move when ``seed`` changes
_DIGITS_TEST_FRACTION = 0.2


@dataclass(eq=False, repr=False)
class Dataset:
    """Images (N, C, H, W) float32 in [0, 1], labels (N,) int64, class names and a name."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.images, torch.Tensor) or self.images.dim() != 4:
            raise ValueError("images must be a 4-D tensor (N, C, H, W)")
        if not isinstance(self.labels, torch.Tensor) or self.labels.shape != self.images.shape[:1]:
            raise ValueError(
                f"labels must be a 1-D tensor with one label per image, got labels of shape "
                f"{tuple(getattr(self.labels, 'shape', ()))} for images {tuple(self.images.shape)}"
            )
        self.classes = tuple(self.classes)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return (
            f"Dataset({self.name!r}, n={len(self)}, image=({c}, {h}, {w}), "
            f"classes={len(self.classes)})"
        )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, index: torch.Tensor | Sequence[int] | slice) -> Dataset:
        """A new Dataset of the selected samples (a slice, index list or boolean mask)."""
        if not isinstance(index, slice):
            index = torch.as_tensor(index)
        return Dataset(self.images[index], self.labels[index], self.classes, self.name)

    def to(self, device: torch.device | str) -> Dataset:
        """The same data on another device."""
        return Dataset(self.images.to(device), self.labels.to(device), self.classes, self.name)


def load_dataset(
    name: str,
    split: str = "train",
    *,
    n: int | None = None,
    size: int | tuple[int, int] | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    difficulty: str = "medium",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = False,
) -> Dataset:
    """Load one split of a dataset as a ``Dataset`` (images (N, C, H, W) float32 in [0, 1]).

    ``split``: "train", "val" (a ``val_fraction`` of the training pool, chosen by a permutation
    seeded with ``seed``) or "test" (the official test set; for "digits" a fixed 20 %; for
    "shapes" a separately generated set). "photos" has only "train" (all photos).
    ``n`` keeps the first ``n`` samples of the split; ``size`` (int or (h, w)) resizes with
    bilinear interpolation ("shapes" is generated at that size instead, so it must be square:
    an int or (s, s), at least 8). ``difficulty`` ("easy", "medium", "hard") applies only to
    "shapes" (a ``ValueError`` for other datasets), whose images are always those of
    ``make_shapes(seed=0)`` (``seed`` only picks the val split; call ``make_shapes`` for other
    draws). ``data_dir``/``download``/``progress`` apply to the downloaded datasets.
    """
    name = check_choice(name, "dataset", DATASETS)
    valid_splits = ("train",) if name == "photos" else SPLITS
    if split not in valid_splits:
        raise ValueError(
            f"dataset {name!r} has no split {split!r}; valid splits: {', '.join(valid_splits)}"
        )
    if n is not None:
        n = as_int(n, "n", minimum=1)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise TypeError(f"val_fraction must be a number in [0, 1), got {val_fraction!r}")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    seed = as_int(seed, "seed", minimum=0)
    if name == "shapes":
        check_choice(difficulty, "difficulty", DIFFICULTIES)
    elif difficulty != "medium":
        raise ValueError(
            f"difficulty only applies to dataset 'shapes', not {name!r}; leave it out "
            f"(got difficulty={difficulty!r})"
        )
    if size is not None:
        size = as_pair(size, "size", minimum=1)

    if name == "shapes":
        side = DATASETS["shapes"][1]
        if size is not None:
            h, w = size
            if h != w or h < 8:
                raise ValueError(
                    "size for 'shapes' must be square (its images are generated square) and at "
                    f"least 8: an int or (s, s) with s >= 8, got {h}×{w}"
                )
            side = h
        if split == "test":
            count = SHAPES_TEST if n is None else n
            images, labels = _shapes_pool(count, side, difficulty, stream=1)
            return _make(images, labels, SHAPE_CLASSES, name)
        images, labels = _shapes_pool(SHAPES_TRAIN_POOL, side, difficulty, stream=0)
        classes: tuple[str, ...] = SHAPE_CLASSES
        size = None
    elif name == "digits":
        images, labels = _digits_pool()
        test = _permutation(len(labels), _TEST_SEED)[: round(_DIGITS_TEST_FRACTION * len(labels))]
        in_test = np.zeros(len(labels), dtype=bool)
        in_test[test] = True
        keep = in_test if split == "test" else ~in_test
        images, labels = images[keep], labels[keep]
        classes = tuple(str(d) for d in range(10))
    elif name == "photos":
        photos, classes = load_photos_array(DATASETS["photos"][1] if size is None else size)
        data = Dataset(photos, torch.arange(len(classes)), classes, name)
        return _first(data, n, split)
    elif name == "cifar10":
        images, labels, classes = load_cifar10(
            split != "test", path=data_dir, download=download, progress=progress
        )
    else:
        images, labels = load_idx_dataset(
            name, split != "test", path=data_dir, download=download, progress=progress
        )
        classes = MNIST_CLASSES if name == "mnist" else FASHION_CLASSES

    if split != "test":
        perm = _permutation(len(labels), seed)
        n_val = round(val_fraction * len(labels))
        if split == "val" and n_val == 0:
            raise ValueError(
                f"the val split of {name!r} is empty (val_fraction={val_fraction}); "
                "use a val_fraction > 0"
            )
        pick = perm[:n_val] if split == "val" else perm[n_val:]
        if n is not None:
            pick = pick[: _check_n(n, len(pick), name, split)]
        images, labels = images[pick], labels[pick]
        n = None
    data = _make(images, labels, classes, name)
    if size is not None:
        data.images = resize(data.images, size)
    return _first(data, n, split)


def _check_n(n: int, available: int, name: str, split: str) -> int:
    if n > available:
        raise ValueError(f"n={n} but the {split} split of {name!r} has only {available} samples")
    return n


def _first(data: Dataset, n: int | None, split: str) -> Dataset:
    if n is None:
        return data
    return data.subset(slice(0, _check_n(n, len(data), data.name, split)))


def _make(images: np.ndarray, labels: np.ndarray, classes: Sequence[str], name: str) -> Dataset:
    x = torch.from_numpy(np.require(images, requirements=["C", "W"]))  # copies read-only input
    x = x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
    return Dataset(x, torch.tensor(np.asarray(labels), dtype=torch.int64), tuple(classes), name)


def _permutation(n: int, seed: int) -> np.ndarray:
    """A seeded permutation from numpy's PCG64 stream (stable across machines and versions)."""
    return np.random.Generator(np.random.PCG64(seed)).permutation(n)


@functools.lru_cache(maxsize=1)
def _digits_pool() -> tuple[np.ndarray, np.ndarray]:
    return load_digits_array()


@functools.lru_cache(maxsize=4)
def _shapes_pool(n: int, size: int, difficulty: str, stream: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = make_shapes(n, seed=0, size=size, difficulty=difficulty, stream=stream)
    images.setflags(write=False)  # cached: callers get copies through torch.from_numpy(...).float()
    labels.setflags(write=False)
    return images, labels


def __dir__() -> list[str]:
    return sorted(__all__)
