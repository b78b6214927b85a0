"""A deep plain CNN to watch gradients vanish (topic 10): ``depth`` 3×3 convolutions, one head.

No pooling, no shortcut: every block is ``conv 3×3 (width maps, padding 1) [-> batch norm] ->
activation``, so the only thing that changes from layer to layer is the chain-rule factor each
block multiplies into the gradient. Then global average pooling and one linear layer.

=================  =========  ============================================  ========
name               input      blocks                                        params
=================  =========  ============================================  ========
deep_plain         1×8×8      20 × (conv 3×3, 16 maps, ReLU), He init        44,410
deep_plain_bn      1×8×8      20 × (conv 3×3, 16 maps, BN, ReLU), He init    44,730
=================  =========  ============================================  ========

(parameters with 10 classes; with batch norm a convolution has no bias, BN's β replaces it.)

Sources: batch normalisation from S. Ioffe and C. Szegedy, "Batch Normalization: Accelerating
Deep Network Training by Reducing Internal Covariate Shift", ICML 2015 (BN between the
convolution and the nonlinearity, conv bias dropped); ``init="glorot"`` is X. Glorot and Y.
Bengio, "Understanding the difficulty of training deep feedforward neural networks", AISTATS
2010 (uniform, variance 2 / (fan_in + fan_out), their "normalized initialization");
``init="he"`` is K. He et al., "Delving Deep into Rectifiers", ICCV 2015 (normal, variance
2 / fan_in). ``init="default"`` keeps PyTorch's own (uniform, variance 1 / (3·fan_in)).
Deviations: no network of these papers has this shape; it is the course's probe (Glorot and
Bengio used fully connected layers), and biases are set to zero under "glorot" and "he".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from torch import nn

from cnnlab._limits import check_memory
from cnnlab._validate import as_int, check_choice
from cnnlab.models.registry import register

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}
INITS = ("default", "glorot", "he")
PAPER = (
    "Ioffe & Szegedy, Batch Normalization, ICML 2015; Glorot & Bengio, AISTATS 2010; "
    "He et al., Delving Deep into Rectifiers, ICCV 2015"
)


def init_weights(model: nn.Module, init: str) -> nn.Module:
    """Re-initialise every conv and linear layer of ``model`` in place ("default": untouched)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    init = check_choice(init, "init", INITS)
    if init == "default":
        return model
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if init == "glorot":
                nn.init.xavier_uniform_(m.weight)
            else:
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def build_deep_plain(
    *,
    depth: int = 20,
    width: int = 16,
    activation: str = "relu",
    init: str = "he",
    batch_norm: bool = False,
    norm_layer: Callable[[int], nn.Module] | None = None,
    num_classes: int = 10,
    in_channels: int = 1,
) -> nn.Sequential:
    """``depth`` blocks ``block1 ... blockD`` of (``conv`` [, ``bn``], ``act``), then ``pool``,
    ``flatten``, ``fc``: (N, in_channels, H, W) -> (N, num_classes), any H, W ≥ 1.

    ``norm_layer(num_features)`` builds each BN (default ``torch.nn.BatchNorm2d``; pass
    ``cnnlab.ops.BatchNorm2d`` for the course's own); it is used only with ``batch_norm=True``.
    """
    depth = as_int(depth, "depth", minimum=1)
    width = as_int(width, "width", minimum=1)
    activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
    init = check_choice(init, "init", INITS)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    if norm_layer is not None and not callable(norm_layer):
        raise TypeError(f"norm_layer must be a class such as nn.BatchNorm2d, got {norm_layer!r}")
    make_norm = norm_layer or nn.BatchNorm2d
    blocks: OrderedDict[str, nn.Module] = OrderedDict()
    cin = as_int(in_channels, "in_channels", minimum=1)
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    # float32 weights, and about 4 kB of Python objects per block
    params = 9 * width * (cin + (depth - 1) * width) + width * num_classes
    check_memory(
        4 * params + 4096 * depth,
        f"build_deep_plain(depth={depth}, width={width}, num_classes={num_classes})",
        "use a smaller depth or width",
    )  # fmt: skip
    for i in range(1, depth + 1):
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv"] = nn.Conv2d(cin, width, 3, padding=1, bias=not batch_norm)
        if batch_norm:
            layers["bn"] = make_norm(width)
        layers["act"] = ACTIVATIONS[activation]()
        blocks[f"block{i}"] = nn.Sequential(layers)
        cin = width
    blocks["pool"] = nn.AdaptiveAvgPool2d(1)
    blocks["flatten"] = nn.Flatten()
    blocks["fc"] = nn.Linear(width, num_classes)
    return init_weights(nn.Sequential(blocks), init)  # type: ignore[return-value]


@register("deep_plain", input_size=(1, 8, 8), scale="course", paper=PAPER, tags=("deep_plain",))
def deep_plain(**options: object) -> nn.Module:
    """20 plain conv layers (16 maps, ReLU, He init) on 8×8 digits; options as
    :func:`build_deep_plain`."""
    return build_deep_plain(**options)  # type: ignore[arg-type]


@register("deep_plain_bn", input_size=(1, 8, 8), scale="course", paper=PAPER, tags=("deep_plain",))
def deep_plain_bn(**options: object) -> nn.Module:
    """:func:`deep_plain` with batch norm after every convolution."""
    options.setdefault("batch_norm", True)
    return build_deep_plain(**options)  # type: ignore[arg-type]
