"""LeNet-5 as published (LeCun et al. 1998) and the "modern" LeNet-5 of today's tutorials.

Paper
    Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning Applied to Document
    Recognition", Proc. IEEE 86(11), 1998 — Section II.B, Table I and Appendix A.

Both models are course-scale (the paper's own scale): a 1×32×32 input.

``lenet5`` keeps every detail of the paper that changes the architecture or its parameter count:

==========  =========================================================  ======
layer       what it computes                                           params
==========  =========================================================  ======
C1          6 maps, 5×5 convolution, 32×32 -> 28×28                      156
S2          2×2 sum × trainable coefficient + trainable bias, per map      12
C3          16 maps, 5×5, each on a subset of S2's maps (Table I)        1,516
S4          as S2, 16 maps, 10×10 -> 5×5                                    32
C5          120 maps, 5×5 convolution on all of S4 (5×5 -> 1×1)         48,120
F6          84 units, fully connected                                  10,164
==========  =========================================================  ======

That is 60,000 trainable parameters up to F6. Every layer up to F6 is followed by the paper's
squashing function ``1.7159 tanh(2/3 · a)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cnnlab._validate import as_int, check_choice
from cnnlab.models.registry import register

LECUN1998 = (
    "LeCun, Bottou, Bengio, Haffner, Gradient-Based Learning Applied to Document Recognition, "
    "Proc. IEEE 1998"
)

# Table I of the paper: the S2 maps (0-5) each C3 map (0-15) is connected to. Maps 0-5 see three
# neighbouring maps, 6-11 four neighbours, 12-14 four non-neighbours, 15 all six: 60 connections.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class ScaledTanh(nn.Module):
    """The paper's squashing function ``f(a) = A tanh(S a)`` with A = 1.7159, S = 2/3.

    A and S are chosen so that f(±1) = ±1 and the gain is largest around ±1 (Appendix A).
    """

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0) -> None:
        super().__init__()
        self.amplitude, self.slope = float(amplitude), float(slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude:g}, slope={self.slope:.4g}"


class Subsampling(nn.Module):
    """LeNet's S layers: the sum of each 2×2 block times a trainable coefficient plus a bias.

    One coefficient and one bias per map (2·C parameters); (N, C, H, W) -> (N, C, H/2, W/2).
    The squashing function is a separate module that follows it.
    """

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.channels = as_int(channels, "channels", minimum=1)
        self.kernel_size = as_int(kernel_size, "kernel_size", minimum=1)
        self.stride, self.padding = self.kernel_size, 0  # read by the input checks
        self.weight = nn.Parameter(torch.empty(self.channels))
        self.bias = nn.Parameter(torch.empty(self.channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # LeCun's rule: uniform in ±2.4 / fan-in, the fan-in being the k×k inputs summed.
        bound = 2.4 / self.kernel_size**2
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        summed = F.avg_pool2d(x, k) * (k * k)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"


class PartialConv2d(nn.Module):
    """A convolution whose output maps each see only some input maps (LeNet-5's C3).

    ``table[j]`` lists the input maps of output map ``j``. Only the connected kernels are
    parameters: C3 has 60 kernels of 5×5 plus 16 biases = 1,516 parameters, not the 2,416 of
    a full 6->16 convolution. The maps with the same fan-in are computed together as one grouped
    convolution, so the work done (and counted) is that of the 60 kernels only.
    (N, C_in, H, W) -> (N, len(table), H - k + 1, W - k + 1).
    """

    def __init__(
        self, in_channels: int, table: Sequence[Sequence[int]], kernel_size: int = 5
    ) -> None:
        super().__init__()
        self.in_channels = as_int(in_channels, "in_channels", minimum=1)
        self.kernel_size = (as_int(kernel_size, "kernel_size", minimum=1),) * 2
        self.stride, self.padding, self.dilation = (1, 1), (0, 0), (1, 1)
        self.table = tuple(tuple(int(c) for c in row) for row in table)
        if not self.table or any(not row for row in self.table):
            raise ValueError("table must list at least one input map for every output map")
        for row in self.table:
            if len(set(row)) != len(row) or not all(0 <= c < self.in_channels for c in row):
                raise ValueError(
                    f"table row {row} must hold distinct input maps in 0..{self.in_channels - 1}"
                )
        self.out_channels = len(self.table)
        k = self.kernel_size[0]
        self.fan_ins = tuple(sorted({len(row) for row in self.table}))
        order: list[int] = []
        for n in self.fan_ins:
            maps = [j for j, row in enumerate(self.table) if len(row) == n]
            order += maps
            gather = torch.tensor([c for j in maps for c in self.table[j]], dtype=torch.long)
            self.register_buffer(f"gather_{n}", gather, persistent=False)
            self.register_parameter(f"weight_{n}", nn.Parameter(torch.empty(len(maps), n, k, k)))
        # Position of each output map in the concatenation of the groups.
        inverse = torch.empty(self.out_channels, dtype=torch.long)
        inverse[torch.tensor(order)] = torch.arange(self.out_channels)
        self.register_buffer("unpermute", inverse, persistent=False)
        self.identity_order = order == sorted(order)
        self.bias = nn.Parameter(torch.empty(self.out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # LeCun's rule: uniform in ±2.4 / fan-in (fan-in = connected maps × k × k).
        k2 = self.kernel_size[0] ** 2
        for n in self.fan_ins:
            bound = 2.4 / (n * k2)
            nn.init.uniform_(getattr(self, f"weight_{n}"), -bound, bound)
        with torch.no_grad():
            for j, row in enumerate(self.table):
                bound = 2.4 / (len(row) * k2)
                self.bias[j].uniform_(-bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for n in self.fan_ins:
            w = getattr(self, f"weight_{n}")
            outs.append(F.conv2d(x[:, getattr(self, f"gather_{n}")], w, groups=w.shape[0]))
        y = torch.cat(outs, dim=1)
        if not self.identity_order:
            y = y[:, self.unpermute]
        return y + self.bias.view(1, -1, 1, 1)

    def dense_weight(self) -> torch.Tensor:
        """The equivalent full (C_out, C_in, k, k) kernel, zero where there is no connection."""
        k = self.kernel_size[0]
        dense = self.bias.new_zeros(self.out_channels, self.in_channels, k, k)
        for n in self.fan_ins:
            w = getattr(self, f"weight_{n}")
            maps = [j for j, row in enumerate(self.table) if len(row) == n]
            for i, j in enumerate(maps):
                dense[j, list(self.table[j])] = w[i]
        return dense

    def mult_adds(self, x: torch.Tensor, y: torch.Tensor) -> int:
        """Multiply-adds of one forward pass: output positions × connected kernel weights."""
        k2 = self.kernel_size[0] ** 2
        connections = sum(len(row) for row in self.table)
        return y.shape[0] * y.shape[2] * y.shape[3] * connections * k2

    def extra_repr(self) -> str:
        k = self.kernel_size[0]
        n = sum(len(row) for row in self.table)
        return f"{self.in_channels}, {self.out_channels}, kernel_size={k}, connections={n}"


def rbf_codes(num_classes: int = 10, features: int = 84, seed: int = 1998) -> torch.Tensor:
    """Fixed ±1 target codes (num_classes, features) for :class:`EuclideanRBF`.

    The paper drew each code as a 7×12 bitmap of its character (so that confusable characters
    get similar codes); we draw them at random with a fixed seed — the paper notes random
    codes would do for classes that are not confusable. Deterministic: same arguments, same codes.
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    features = as_int(features, "features", minimum=1)
    g = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))
    return torch.randint(0, 2, (num_classes, features), generator=g).float() * 2 - 1


class EuclideanRBF(nn.Module):
    """LeNet-5's output layer: one Euclidean RBF unit per class, (N, F) -> (N, classes).

    Unit i computes the squared distance ``y_i = sum_j (x_j - c_ij)^2`` between F6's output and
    its fixed code ``c_i`` (a buffer: no trainable parameters). ``forward`` returns ``-y``, so the
    nearest code gets the highest score and cross-entropy on ``-y`` is the paper's MAP criterion
    without its constant ``j`` term.
    """

    def __init__(self, codes: torch.Tensor) -> None:
        super().__init__()
        if not isinstance(codes, torch.Tensor) or codes.dim() != 2:
            raise ValueError("codes must be a 2-D tensor (num_classes, features)")
        self.register_buffer("codes", codes.detach().clone().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes = self.codes.to(x.dtype)
        return -((x[:, None, :] - codes[None]) ** 2).sum(-1)

    def mult_adds(self, x: torch.Tensor, y: torch.Tensor) -> int:
        """One (squared) difference per code entry and image: N × classes × features."""
        return int(y.numel() * self.codes.shape[1])

    def extra_repr(self) -> str:
        n, f = self.codes.shape
        return f"{f}, {n}, fixed codes"


def _lecun_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        fan_in = module.weight[0].numel()
        bound = 2.4 / fan_in
        nn.init.uniform_(module.weight, -bound, bound)
        nn.init.uniform_(module.bias, -bound, bound)


@register("lenet5", input_size=(1, 32, 32), scale="course", paper=LECUN1998, tags=("lenet",))
def lenet5(*, num_classes: int = 10, in_channels: int = 1, output: str = "linear") -> nn.Module:
    """LeNet-5 of LeCun et al. (1998), Section II.B: (N, 1, 32, 32) -> (N, num_classes).

    Faithful to the paper: C1/C3/C5 convolutions, C3's partial connection table (``C3_TABLE``,
    Table I), trainable subsampling S2/S4 (coefficient and bias per map), the scaled tanh
    ``1.7159 tanh(2/3 a)`` after every layer up to F6, F6 of 84 units, and the paper's
    initialisation (uniform in ±2.4 / fan-in). Parameters up to F6: exactly 60,000.

    Deviations from the paper
        * The output layer is ``nn.Linear(84, num_classes)`` (850 parameters for 10 classes, so
          60,850 in all) in place of the paper's Euclidean RBF units with fixed 7×12 bitmap
          targets; train it with cross-entropy instead of the paper's MAP criterion.
          ``output="rbf"`` gives the paper's RBF layer (:class:`EuclideanRBF`, no trainable
          parameters, so exactly the paper's count) with random ±1 codes (:func:`rbf_codes`)
          in place of the bitmaps.
        * ``in_channels`` other than 1 widens C1 (the paper has one grey-level input).
        * The input is 32×32 only: the paper pads 28×28 MNIST digits into a 32×32 field, and
          C5 needs S4's 5×5 maps (a 28×28 input gives 4×4 and a clear error at C5).
    torchvision has no LeNet.
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    output = check_choice(output, "output", ("linear", "rbf"))
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        [
            ("C1", nn.Conv2d(in_channels, 6, 5)),
            ("f1", ScaledTanh()),
            ("S2", Subsampling(6)),
            ("f2", ScaledTanh()),
            ("C3", PartialConv2d(6, C3_TABLE, 5)),
            ("f3", ScaledTanh()),
            ("S4", Subsampling(16)),
            ("f4", ScaledTanh()),
            ("C5", nn.Conv2d(16, 120, 5)),
            ("f5", ScaledTanh()),
            ("flatten", nn.Flatten(1)),
            ("F6", nn.Linear(120, 84)),
            ("f6", ScaledTanh()),
        ]
    )
    for name in ("C1", "C5", "F6"):
        _lecun_init(layers[name])
    if output == "rbf":
        layers["output"] = EuclideanRBF(rbf_codes(num_classes, 84))
    else:
        layers["output"] = nn.Linear(84, num_classes)
    return nn.Sequential(layers)


@register(
    "lenet5_modern",
    input_size=(1, 32, 32),
    scale="course",
    paper=LECUN1998,
    tags=("lenet",),
)
def lenet5_modern(
    *, num_classes: int = 10, in_channels: int = 1, pool: str = "max", image_size: int = 32
) -> nn.Module:
    """The LeNet-5 of today's tutorials: (N, 1, 32, 32) -> (N, num_classes); 61,706 parameters.

    conv 5×5 (6) -> ReLU -> pool 2×2 -> conv 5×5 (16) -> ReLU -> pool 2×2 -> Linear 400-120-84-
    num_classes with ReLU between. Same layer sizes as LeCun et al. (1998), modernised:

    Deviations from the paper
        * ReLU instead of the scaled tanh; ``pool="max"`` (default) or ``"avg"`` instead of the
          trainable subsampling layers (which have 12 + 32 parameters).
        * C3 is a full 6->16 convolution (2,416 parameters, not the paper's 1,516); C5 is a
          ``Linear(400, 120)``, equivalent to the paper's 5×5 convolution on 5×5 maps.
        * A plain linear output layer instead of the RBF units; PyTorch's default init.
        * ``image_size=28`` pads the first convolution by 2 so that 28×28 MNIST-style images
          give the same 5×5×16 maps (and the same 61,706 parameters) as 32×32 ones.
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    in_channels = as_int(in_channels, "in_channels", minimum=1)
    pool = check_choice(pool, "pool", ("max", "avg"))
    image_size = as_int(image_size, "image_size")
    if image_size not in (28, 32):
        raise ValueError(f"image_size must be 28 or 32, got {image_size}")
    pool_cls = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(in_channels, 6, 5, padding=(32 - image_size) // 2)),
                ("relu1", nn.ReLU()),
                ("pool1", pool_cls(2)),
                ("conv2", nn.Conv2d(6, 16, 5)),
                ("relu2", nn.ReLU()),
                ("pool2", pool_cls(2)),
                ("flatten", nn.Flatten(1)),
                ("fc1", nn.Linear(16 * 5 * 5, 120)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(120, 84)),
                ("relu4", nn.ReLU()),
                ("fc3", nn.Linear(84, num_classes)),
            ]
        )
    )


def partial_conv_params(table: Sequence[Sequence[int]], kernel_size: int = 5) -> int:
    """Trainable parameters of a partially connected convolution: one k×k kernel per
    connection in ``table`` plus one bias per output map (C3: 60 · 25 + 16 = 1,516)."""
    k = as_int(kernel_size, "kernel_size", minimum=1)
    return sum(len(row) for row in table) * k * k + len(table)


@dataclass(frozen=True)
class LayerCount:
    """One layer as the paper counts it: ``connections`` are the inputs of every output unit,
    bias included (the paper's "connections"); ``mult_adds`` our cost table's count."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    connections: int
    mult_adds: int


def _inputs_per_unit(module: nn.Module) -> int:
    """Inputs of one output unit of ``module``, its bias counted as one input."""
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1]
        return module.in_channels // module.groups * k + (module.bias is not None)
    if isinstance(module, Subsampling):
        return module.kernel_size**2 + 1
    if isinstance(module, nn.Linear):
        return module.in_features + (module.bias is not None)
    if isinstance(module, EuclideanRBF):
        return int(module.codes.shape[1])
    raise TypeError(f"no connection count for {type(module).__name__}")


def layer_counts(model: nn.Module, input_size: Sequence[int] = (1, 32, 32)) -> list[LayerCount]:
    """The trainable layers of a LeNet-5 (``lenet5``) with the paper's "connections" column.

    A partially connected layer (C3) has a different fan-in per map: its connections are
    output positions × (connected kernel weights + one bias per map). Shapes without the batch.
    """
    from cnnlab.cost import summary  # the cost table does the forward pass and the hooks

    modules = dict(model.named_modules())
    kinds = (nn.Conv2d, PartialConv2d, Subsampling, nn.Linear, EuclideanRBF)
    rows = []
    for r in summary(model, input_size).rows:
        module = modules[r.name]
        if not isinstance(module, kinds) or r.output_shape is None:
            continue
        shape = tuple(r.output_shape[1:])
        positions = shape[1] * shape[2] if len(shape) == 3 else 1
        if isinstance(module, PartialConv2d):
            k2 = module.kernel_size[0] ** 2
            connections = positions * sum(len(row) * k2 + 1 for row in module.table)
        else:
            connections = r.activations * _inputs_per_unit(module)
        rows.append(LayerCount(r.name, r.type, shape, r.params, connections, r.mult_adds))
    return rows


def _paper_parameter_count() -> int:
    """Parameters up to F6 by the paper's arithmetic (a cross-check used in the tests)."""
    c1 = 6 * (5 * 5 + 1)
    s2 = 6 * 2
    c3 = sum(len(row) for row in C3_TABLE) * 25 + 16
    s4 = 16 * 2
    c5 = 120 * (16 * 25 + 1)
    f6 = 84 * (120 + 1)
    return c1 + s2 + c3 + s4 + c5 + f6


__all__ = [
    "C3_TABLE",
    "EuclideanRBF",
    "LayerCount",
    "PartialConv2d",
    "ScaledTanh",
    "Subsampling",
    "layer_counts",
    "lenet5",
    "lenet5_modern",
    "partial_conv_params",
    "rbf_codes",
]
