"""Transfer learning on course data: class splits, the Yosinski et al. (2014) treatments.

The ten ``shapes`` classes are split into halves A and B (five classes each). A small L-layer
CNN (``yosinski_net``) is trained on each half (baseA, baseB). A treatment copies the first
``n`` conv layers (conv + batch norm) of a trained base net into a fresh net and trains the rest
on B: ``AnB``/``BnB`` keep the copied layers frozen, ``AnB+``/``BnB+`` fine-tune them too.
Freezing and per-layer learning rates are ``TrainConfig`` options (``freeze``,
``param_groups``): this module only names the layers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnlab._limits import check_memory
from cnnlab._validate import as_float, as_int, check_choice
from cnnlab.data import Dataset
from cnnlab.models.simple import _channels, build_simple_cnn
from cnnlab.profiles import require_sizes

# One row per layer (kernel, 2×2 max-pool after it): 16 -> 16 -> 8 -> 4 -> 4, then gap -> fc.
TABLE: tuple[tuple[int, bool], ...] = ((3, False), (3, True), (3, True), (3, False))
CHANNELS: tuple[int, ...] = (16, 16, 32, 32)
DEPTH = len(TABLE)  # L: the transfer depths are n = 1..L

# "similar": a random split (``np.random.default_rng(0).permutation(10)``), so A and B
# mix figures and textures, like Yosinski's random halves of ImageNet. "dissimilar": split by
# kind — A holds the closed figures (told apart by contour and fill), B the patterns built from
# straight strokes (told apart by line orientation and period), like man-made vs natural.
SPLITS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "similar": (
        ("square", "frame", "triangle", "cross", "h-stripes"),
        ("disk", "ring", "plus", "v-stripes", "checker"),
    ),
    "dissimilar": (
        ("disk", "ring", "square", "frame", "triangle"),
        ("plus", "cross", "h-stripes", "v-stripes", "checker"),
    ),
}
TREATMENTS = ("BnB", "AnB", "BnB+", "AnB+")
_CONFIG = re.compile(r"(AnB|BnB)(\+?)([1-9][0-9]*)")


@dataclass(frozen=True)
class Treatment:
    """A parsed config name: ``AnB+3`` -> source "A", n 3, fine_tune True."""

    source: str
    n: int
    fine_tune: bool

    @property
    def name(self) -> str:
        return f"{self.source}nB{'+' if self.fine_tune else ''}{self.n}"


def parse_treatment(name: str) -> Treatment:
    """``"AnB3"``, ``"BnB+2"`` ... -> ``Treatment``; a ``ValueError`` for anything else."""
    m = _CONFIG.fullmatch(name) if isinstance(name, str) else None
    if not m or not 1 <= int(m.group(3)) <= DEPTH:
        raise ValueError(f"{name!r} is not a treatment like 'AnB3' or 'BnB+2' with n in 1..{DEPTH}")
    return Treatment(m.group(1)[0], int(m.group(3)), m.group(2) == "+")


def treatment_configs() -> tuple[str, ...]:
    """baseA, baseB, then BnB1..L, AnB1..L, BnB+1..L, AnB+1..L (the paper's treatments)."""
    return ("baseA", "baseB") + tuple(f"{t}{n}" for t in TREATMENTS for n in range(1, DEPTH + 1))


def yosinski_net(num_classes: int = 5, channels: Sequence[int] = CHANNELS) -> nn.Sequential:
    """The L = 4 layer CNN of the experiment: (N, 3, 16, 16) -> (N, num_classes).

    Layer k is ``conv{k}`` -> ``bn{k}`` -> ``relu{k}`` [-> ``pool{k}``]; then gap -> fc.
    """
    widths = _channels(channels, DEPTH)
    classes = as_int(num_classes, "num_classes", minimum=1)
    params = sum(k * k * a * b for (k, _), a, b in zip(TABLE, (3, *widths), widths, strict=False))
    check_memory(4 * (params + widths[-1] * classes), f"yosinski_net({classes}, {widths})")
    return build_simple_cnn(TABLE, widths, num_classes=classes, head="gap")


def layer_names(n: int) -> tuple[str, ...]:
    """The module names of the first ``n`` layers: ("conv1", "bn1", ..., f"bn{n}")."""
    n = as_int(n, "n", minimum=0)
    if n > DEPTH:
        raise ValueError(f"n must be in 0..{DEPTH}, got {n}")
    return tuple(f"{kind}{k}" for k in range(1, n + 1) for kind in ("conv", "bn"))


def copy_layers(source: nn.Module, target: nn.Module, n: int) -> nn.Module:
    """Copy the first ``n`` layers' weights and BN running statistics of ``source`` into
    ``target`` (cloned tensors: the two nets share nothing); return ``target``."""
    names = layer_names(n)
    for what, net in (("source", source), ("target", target)):
        if not isinstance(net, nn.Module):
            raise TypeError(f"{what} must be a torch.nn.Module, got {type(net).__name__}")
    own = target.state_dict()
    for name in names:
        try:
            layer = source.get_submodule(name)
        except AttributeError:
            raise ValueError(
                f"source has no layer {name!r}: copy_layers copies between yosinski_net()s"
            ) from None
        for key, value in layer.state_dict().items():
            wanted = own.get(f"{name}.{key}")
            if wanted is None or wanted.shape != value.shape:
                got = "no such tensor" if wanted is None else f"shape {tuple(wanted.shape)}"
                raise ValueError(
                    f"target's {name}.{key} ({got}) cannot take source's of shape "
                    f"{tuple(value.shape)}: both nets must be yosinski_net()s of the same channels"
                )
            own[f"{name}.{key}"] = value.detach().clone()
    target.load_state_dict(own)
    return target


def class_split(data: Dataset, classes: Sequence[str], per_class: int | None = None) -> Dataset:
    """The images of ``classes`` (names), relabelled 0..len(classes)-1 in that order.

    ``per_class`` keeps the first that many images of each class ("little data").
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a cnnlab.data.Dataset, got {type(data).__name__}")
    if isinstance(classes, str) or not isinstance(classes, Sequence) or not classes:
        raise TypeError(f"classes must be a non-empty list of class names, got {classes!r}")
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes names a class twice: {list(classes)}")
    index = [data.classes.index(check_choice(c, "class", data.classes)) for c in classes]
    if per_class is not None:
        per_class = as_int(per_class, "per_class", minimum=1)
    keep = torch.zeros(len(data), dtype=torch.bool)
    labels = torch.full_like(data.labels, -1)
    for new, old in enumerate(index):
        hits = torch.nonzero(data.labels == old).flatten()
        if per_class is not None:
            hits = hits[:per_class]
        keep[hits] = True
        labels[hits] = new
    return Dataset(data.images[keep], labels[keep], tuple(classes), f"{data.name}[{len(index)}]")


def split_data(split: str, part: str, data: Dataset) -> Dataset:
    """Half ``part`` ("A" or "B") of ``split`` ("similar"/"dissimilar") of ``data``."""
    a, b = SPLITS[_split(split)]
    return class_split(data, a if _part(part) == "A" else b)


def _split(split: object) -> str:
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return split


def _part(part: object) -> str:
    if part not in ("A", "B"):
        raise ValueError(f"part must be 'A' or 'B' (a half of the split), got {part!r}")
    return part  # type: ignore[return-value]


def trainable_counts(model: nn.Module, frozen: Sequence[str]) -> dict[str, int]:
    """{"trainable": ..., "frozen": ...} parameter counts when the modules ``frozen`` are."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(frozen, str) or not isinstance(frozen, Sequence):
        raise TypeError(f"frozen must be a list of module names such as ['conv1'], got {frozen!r}")
    names = [m for m, _ in model.named_modules() if m] + [p for p, _ in model.named_parameters()]
    for f in frozen:
        check_choice(f, "module", names)
    out = {"trainable": 0, "frozen": 0}
    for name, p in model.named_parameters():
        hit = any(name == f or name.startswith(f + ".") for f in frozen)
        out["frozen" if hit else "trainable"] += p.numel()
    return out


REGIME_DATA = ("little", "lots")
TRAIN_KINDS = ("train", "lots", "little")  # "lots" (a regime's amount) is "train"
REGIME_METHODS = ("frozen", "finetune", "scratch")
# the seed's table: "very similar" / "very different" dataset -> our two splits
REGIME_SPLITS = {"similar": "similar", "different": "dissimilar"}


def regime_configs() -> tuple[str, ...]:
    """``similar-little-frozen``, ... : dataset × amount of data × method (12 configs)."""
    return tuple(f"{s}-{d}-{m}" for s in REGIME_SPLITS for d in REGIME_DATA for m in REGIME_METHODS)


SIZE_KEYS = ("image_size", "n_train", "epochs", "batch_size", "lr", "little_per_class",
             "finetune_lr_scale")  # fmt: skip
MAX_SEED = (2**63 - 1 - 999) // 1000


class TransferLab:
    """Trains and scores the experiment's nets for one seed, caching the base nets.

    ``sizes``: the topic's profile sizes (``image_size``, ``n_train`` per half, ``epochs``,
    ``batch_size``, ``lr``, ``little_per_class``, ``finetune_lr_scale``). Every score is the
    top-1 accuracy on the test images of half B (or A for baseA).
    """

    def __init__(self, sizes: Mapping[str, Any], seed: int = 0, device: object = None) -> None:
        from cnnlab.train import pick_device

        self.sizes = dict(require_sizes(sizes, SIZE_KEYS, "get_topic(15).profile_sizes(profile)"))
        for key in ("n_train", "little_per_class"):
            as_int(self.sizes[key], f"sizes[{key!r}]", minimum=1)
        self.seed = as_int(seed, "seed", minimum=0)
        if self.seed > MAX_SEED:  # fresh() seeds torch with seed·1000 + salt, at most 2**63 - 1
            raise ValueError(f"seed must be in 0..{MAX_SEED}, got {self.seed}")
        self.device = pick_device(device)
        self._data: dict[tuple[str, str, str], Dataset] = {}
        self._full: dict[str, Dataset] = {}
        self._base: dict[tuple[str, str], nn.Module] = {}

    def data(self, split: str, part: str, kind: str) -> Dataset:
        """Half ``part`` of ``split``: kind "train" (``n_train`` images), "little" or "test"."""
        key = (_split(split), _part(part), check_choice(kind, "kind", (*TRAIN_KINDS, "test")))
        if key not in self._data:
            from cnnlab.data import load_dataset

            size = self.sizes["image_size"]
            source = "test" if kind == "test" else "train"
            if source not in self._full:  # generate each split of all ten classes once
                self._full[source] = load_dataset("shapes", source, size=size, seed=self.seed)
            full = self._full[source]
            if kind == "test":
                self._data[key] = split_data(split, part, full)
            else:
                half = split_data(split, part, full)
                if kind == "little":
                    a, b = SPLITS[split]
                    half = class_split(
                        full, a if part == "A" else b, per_class=self.sizes["little_per_class"]
                    )
                else:
                    n = self.sizes["n_train"]
                    half = Dataset(half.images[:n], half.labels[:n], half.classes, half.name)
                self._data[key] = half
        return self._data[key]

    def train(self, model: nn.Module, split: str, kind: str = "train", **options: object) -> float:
        """Fit ``model`` on half B (``kind`` "train" or "little"); its test accuracy on B."""
        return self._fit(model, split, "B", check_choice(kind, "kind", TRAIN_KINDS), **options)

    def _fit(self, model: nn.Module, split: str, part: str, kind: str, **options: object) -> float:
        from cnnlab.train import evaluate, fit

        s = self.sizes
        fit(
            model,
            self.data(split, part, kind),
            epochs=s["epochs"],
            batch_size=s["batch_size"],
            lr=s["lr"],
            optimizer="adam",
            schedule="cosine",
            seed=self.seed,
            device=self.device,
            progress=False,
            **options,
        )
        score = evaluate(model, self.data(split, part, "test"), topk=(1,), device=self.device)
        return float(score["top1"])

    def fresh(self, salt: int = 0) -> nn.Module:
        """A newly initialised net (seeded by the lab's seed and ``salt``, 0..999)."""
        salt = as_int(salt, "salt", minimum=0)
        if salt > 999:
            raise ValueError(f"salt must be in 0..999, got {salt}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1000 + salt)
            return yosinski_net()

    def base(self, split: str, part: str) -> nn.Module:
        """baseA or baseB of ``split``, trained once per lab (eval mode; do not train it)."""
        key = (_split(split), _part(part))
        if key not in self._base:
            model = self.fresh(salt=0 if part == "A" else 1)
            self._fit(model, split, part, "train")
            self._base[key] = model.eval()
        return self._base[key]

    def base_accuracy(self, split: str, part: str) -> float:
        from cnnlab.train import evaluate

        data = self.data(split, part, "test")
        return float(evaluate(self.base(split, part), data, topk=(1,))["top1"])

    def treatment(self, split: str, name: str) -> float:
        """Test accuracy on B of ``name`` ("baseA", "baseB", "AnB3", "BnB+2", ...)."""
        if name in ("baseA", "baseB"):
            return self.base_accuracy(split, name[-1])
        t = parse_treatment(name)
        model = copy_layers(self.base(split, t.source), self.fresh(salt=10 + t.n), t.n)
        frozen = () if t.fine_tune else layer_names(t.n)
        return self.train(model, split, freeze=frozen)

    def regime(self, name: str) -> float:
        """Test accuracy on B of a regime config such as ``"different-little-finetune"``."""
        dataset, amount, method = check_choice(name, "regime", regime_configs()).split("-")
        split = REGIME_SPLITS[dataset]
        if method == "scratch":
            return self.train(self.fresh(salt=2), split, amount)
        model = copy_layers(self.base(split, "A"), self.fresh(salt=3), DEPTH)
        if method == "frozen":  # a linear classifier on the top layer's features
            return self.train(model, split, amount, freeze=layer_names(DEPTH))
        return self.train(model, split, amount, **finetune_options(self.sizes["finetune_lr_scale"]))


def finetune_options(scale: float, frozen: int = 1) -> dict[str, object]:
    """The fine-tuning recipe as ``TrainConfig`` options: the first ``frozen`` layers frozen
    (the most generic), the other copied layers at ``scale`` × lr, the new head at lr."""
    scale = as_float(scale, "scale", minimum=0, exclusive=True)
    return {
        "freeze": layer_names(frozen),
        "param_groups": {name: scale for name in layer_names(DEPTH)[2 * frozen :]},
    }
