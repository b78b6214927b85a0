"""Building blocks shared by the model families, and the input checks ``create_model`` installs.

- ``ConvBNAct``: convolution -> optional batch norm -> optional activation, with "same" padding by
  default. Its children are named ``conv``, ``bn`` and ``act`` so that its state-dict keys
  (``conv.weight``, ``bn.running_mean``, ...) match torchvision's ``BasicConv2d``.
- ``BNActConv``: the pre-activation order (batch norm -> activation -> convolution).
- ``LRN``: local response normalisation written with the constants of Krizhevsky et al. (2012).
- ``make_activation`` and ``make_classifier``: an activation from its name; the FC head of
  AlexNet/VGG-style networks.
- ``init_weights`` and ``check_dropout``: the He-normal/BN initialisation and the dropout-rate
  check the families share.
- ``install_input_checks``: forward pre-hooks on every leaf convolution, pooling and linear layer
  that turn a wrong channel count or a too-small input into a ``ValueError`` and a wrong dtype
  (8-bit pixels, float64) into a ``TypeError``, each naming the layer.

Activations are never in-place: a forward hook that keeps a convolution's output (to plot an
activation map) would otherwise see it overwritten by the ReLU that follows.
"""

from __future__ import annotations

import functools
import numbers
from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from cnnlab._validate import as_int, as_pair, check_choice

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "hardswish": nn.Hardswish,
    "identity": nn.Identity,
}


def make_activation(act: str | None) -> nn.Module | None:
    """An activation module from its name (``"relu"``, ``"relu6"``, ``"tanh"``, ...) or None."""
    if act is None or act == "none":
        return None
    if not isinstance(act, str):
        raise TypeError(f"act must be a string or None, got {type(act).__name__}")
    return _ACTIVATIONS[check_choice(act, "act", [*_ACTIVATIONS, "none"])]()


def init_weights(
    model: nn.Module,
    *,
    conv_mode: str = "fan_out",
    linear_std: float | None = None,
    zero_bias: bool = False,
) -> None:
    """Initialise ``model`` in place, module by module (the order torchvision's models use).

    Conv2d: He normal (``conv_mode`` "fan_out" or "fan_in", ReLU gain); BatchNorm2d: γ=1,
    β=0; Linear: N(0, ``linear_std``²) weights when ``linear_std`` is given. ``zero_bias``
    also zeroes the conv and linear biases; otherwise they keep PyTorch's default init.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode=conv_mode, nonlinearity="relu")
            if zero_bias and m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            if linear_std is not None:
                nn.init.normal_(m.weight, 0.0, linear_std)
            if zero_bias and m.bias is not None:
                nn.init.zeros_(m.bias)


def check_dropout(value: object, name: str = "dropout") -> float:
    """``value`` as a float dropout probability in [0, 1); TypeError/ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be a float in [0, 1), got {value!r}")
    return float(value)


def same_padding(kernel_size: int | Sequence[int], dilation: int = 1) -> tuple[int, int]:
    """Padding that keeps H×W at stride 1 for an odd kernel: ``dilation * (k - 1) // 2``."""
    kh, kw = as_pair(kernel_size, "kernel_size", minimum=1)
    return dilation * (kh - 1) // 2, dilation * (kw - 1) // 2


def _checked_conv(
    in_ch: int,
    out_ch: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int] | None,
    groups: int,
    *,
    bias: bool,
    dilation: int = 1,
) -> nn.Conv2d:
    """The Conv2d of ``ConvBNAct``/``BNActConv``, its arguments checked; ``padding=None``: same."""
    in_ch = as_int(in_ch, "in_ch", minimum=1)
    out_ch = as_int(out_ch, "out_ch", minimum=1)
    groups = as_int(groups, "groups", minimum=1)
    if in_ch % groups or out_ch % groups:
        raise ValueError(f"groups={groups} must divide in_ch={in_ch} and out_ch={out_ch}")
    kernel = as_pair(kernel_size, "kernel_size", minimum=1)
    pad = (
        same_padding(kernel, dilation)
        if padding is None
        else as_pair(padding, "padding", minimum=0)
    )
    return nn.Conv2d(
        in_ch,
        out_ch,
        kernel,
        stride=as_pair(stride, "stride", minimum=1),
        padding=pad,
        dilation=dilation,
        groups=groups,
        bias=bias,
    )


class ConvBNAct(nn.Sequential):
    """Conv2d -> BatchNorm2d (if ``bn``) -> activation; (N, C, H, W) -> (N, C_out, H', W').

    ``padding=None`` means "same" padding ``(k - 1) // 2``; ``bias=None`` means a bias only when
    there is no batch norm (a bias before BN is cancelled by BN's mean subtraction).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | None = None,
        groups: int = 1,
        bias: bool | None = None,
        bn: bool = True,
        act: str | None = "relu",
        *,
        dilation: int = 1,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        conv = _checked_conv(
            in_ch,
            out_ch,
            kernel_size,
            stride,
            padding,
            groups,
            bias=(not bn) if bias is None else bool(bias),
            dilation=dilation,
        )
        layers: OrderedDict[str, nn.Module] = OrderedDict(conv=conv)
        if bn:
            layers["bn"] = nn.BatchNorm2d(conv.out_channels, eps=bn_eps, momentum=bn_momentum)
        activation = make_activation(act)
        if activation is not None:
            layers["act"] = activation
        super().__init__(layers)
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels


class BNActConv(nn.Sequential):
    """Pre-activation order: BatchNorm2d -> activation -> Conv2d (bias-free by default)."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | None = None,
        groups: int = 1,
        bias: bool = False,
        act: str | None = "relu",
    ) -> None:
        conv = _checked_conv(in_ch, out_ch, kernel_size, stride, padding, groups, bias=bias)
        layers: OrderedDict[str, nn.Module] = OrderedDict(bn=nn.BatchNorm2d(conv.in_channels))
        activation = make_activation(act)
        if activation is not None:
            layers["act"] = activation
        layers["conv"] = conv
        super().__init__(layers)
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels


class LRN(nn.Module):
    """Local response normalisation across channels, in the notation of Krizhevsky et al. (2012).

    ``b[c] = a[c] / (k + alpha * sum_{c' within size/2 of c} a[c']**2) ** beta``; the paper's
    AlexNet uses ``k=2, size=5, alpha=1e-4, beta=0.75``. Note ``nn.LocalResponseNorm`` (and
    Caffe) divide ``alpha`` by ``size``; this module does not, so ``LRN(alpha=a)`` equals
    ``nn.LocalResponseNorm(size, alpha=a * size)``. ``groups > 1`` normalises each channel group
    on its own, as the two GPUs of the original AlexNet did. (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(
        self,
        size: int = 5,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 2.0,
        *,
        groups: int = 1,
    ) -> None:
        super().__init__()
        self.size = as_int(size, "size", minimum=1)
        self.groups = as_int(groups, "groups", minimum=1)
        self.alpha, self.beta, self.k = float(alpha), float(beta), float(k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch_alpha = self.alpha * self.size
        if self.groups == 1:
            return F.local_response_norm(x, self.size, torch_alpha, self.beta, self.k)
        n, c, h, w = x.shape
        y = x.reshape(n * self.groups, c // self.groups, h, w)
        y = F.local_response_norm(y, self.size, torch_alpha, self.beta, self.k)
        return y.reshape(n, c, h, w)

    def extra_repr(self) -> str:
        g = f", groups={self.groups}" if self.groups > 1 else ""
        return f"size={self.size}, alpha={self.alpha:g}, beta={self.beta:g}, k={self.k:g}{g}"


def make_classifier(
    in_features: int,
    hidden: Sequence[int],
    num_classes: int,
    *,
    dropout: float = 0.5,
    act: str = "relu",
) -> nn.Sequential:
    """The FC head ``[Linear -> act -> Dropout] * len(hidden) -> Linear``; (N, F) -> (N, classes).

    With ``hidden=(4096, 4096)`` and ``dropout=0.5`` its indices (0, 3, 6 for the Linear layers)
    match torchvision's VGG classifier, so its state-dict keys do too.
    """
    layers: list[nn.Module] = []
    width = as_int(in_features, "in_features", minimum=1)
    for h in hidden:
        h = as_int(h, "hidden width", minimum=1)
        activation = make_activation(act)
        layers += [nn.Linear(width, h), *([activation] if activation else []), nn.Dropout(dropout)]
        width = h
    layers.append(nn.Linear(width, as_int(num_classes, "num_classes", minimum=1)))
    return nn.Sequential(*layers)


# ----------------------------------------------------------------------------------------------
# Input checks: a forward pre-hook per leaf layer, installed once by ``create_model``.


def _hint(input_size: tuple[int, ...] | None) -> str:
    return f"; the model was designed for input {tuple(input_size)}" if input_size else ""


def _describe(module: nn.Module) -> str:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        s = module.stride[0]
        return f"Conv2d {module.in_channels}->{module.out_channels} {kh}×{kw}/{s}"
    if isinstance(module, nn.Linear):
        return f"Linear {module.in_features}->{module.out_features}"
    kh, kw = as_pair(module.kernel_size, "kernel_size")
    sh, _ = as_pair(module.stride, "stride")
    return f"{type(module).__name__} {kh}×{kw}/{sh}"


def _min_extent(module: nn.Module) -> tuple[int, int]:
    """The smallest input H, W a conv/pool layer accepts (output at least 1×1)."""
    kh, kw = as_pair(module.kernel_size, "kernel_size")
    dh, dw = as_pair(getattr(module, "dilation", 1), "dilation")
    padding = module.padding
    if isinstance(padding, str):  # Conv2d(padding="same"/"valid")
        ph = pw = 10**9 if padding == "same" else 0
    else:
        ph, pw = as_pair(padding, "padding")
    return dh * (kh - 1) + 1 - 2 * ph, dw * (kw - 1) + 1 - 2 * pw


def _autocasting(device: torch.device) -> bool:
    try:
        return torch.is_autocast_enabled(device.type)
    except RuntimeError:  # a device type autocast does not know ("meta"): no autocast there
        return False


def _check_dtype(module: nn.Module, x: torch.Tensor, where: str) -> None:
    """Integer images and float64/float16 batches name the dtype and the fix, not torch's
    "Input type (double) and bias type (float) should be the same"."""
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor):
        weight = getattr(module, "bias", None)
    if not isinstance(weight, torch.Tensor):
        return
    if not x.is_floating_point():
        raise TypeError(
            f"{where} expects floating-point input, got {x.dtype}: convert the images with "
            "x.float() (and scale them, e.g. x.float() / 255 for 8-bit pixels)"
        )
    # Under autocast a layer's input may be bf16/fp16 beside fp32 weights: that is intended.
    if x.dtype != weight.dtype and not _autocasting(x.device):
        raise TypeError(
            f"{where} has {weight.dtype} weights but got {x.dtype} input: convert the input "
            f"with x.to({weight.dtype}) (x.float() for float32), or the model with "
            f"model.to({x.dtype})"
        )


def _input_check(
    module: nn.Module,
    args: tuple[object, ...],
    *,
    name: str,
    input_size: tuple[int, ...] | None,
) -> None:
    x = args[0] if args else None
    where = f"layer '{name}' ({_describe(module)})"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where} expects a torch.Tensor, got {type(x).__name__}")
    _check_dtype(module, x, where)
    if isinstance(module, nn.Linear):
        if x.dim() < 1 or x.shape[-1] != module.in_features:
            raise ValueError(
                f"{where} expects {module.in_features} input features, got shape "
                f"{tuple(x.shape)}: the input image size does not match this network"
                f"{_hint(input_size)}"
            )
        return
    if x.dim() != 4:
        raise ValueError(
            f"{where} expects a 4-D (N, C, H, W) batch, got shape {tuple(x.shape)}"
            f"{_hint(input_size)}"
        )
    in_channels = getattr(module, "in_channels", None)
    if isinstance(in_channels, int) and x.shape[1] != in_channels:
        raise ValueError(
            f"{where} expects {in_channels} input channels, got {x.shape[1]} "
            f"(input shape {tuple(x.shape)}){_hint(input_size)}"
        )
    min_h, min_w = _min_extent(module)
    h, w = x.shape[-2], x.shape[-1]
    if h < min_h or w < min_w:
        raise ValueError(
            f"{where} needs at least {max(min_h, 1)}×{max(min_w, 1)} input, got {h}×{w}: the "
            f"input image is too small for this network{_hint(input_size)}"
        )


_CHECKED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.Linear)


def _is_checked(module: nn.Module) -> bool:
    """torch's conv, pool and linear layers, and cnnlab's own windowed layers (LeNet-5's
    subsampling and partial convolution), which declare ``kernel_size``, ``stride``, ``padding``."""
    if isinstance(module, _CHECKED):
        return True
    own = type(module).__module__.startswith("cnnlab.")
    return own and all(hasattr(module, a) for a in ("kernel_size", "stride", "padding"))


def concat_branches(outs: Sequence[torch.Tensor], module: nn.Module) -> torch.Tensor:
    """``torch.cat(outs, dim=1)`` of a multi-branch module, or a ``ValueError`` naming the map
    sizes when the branches disagree (an odd map size entering a stride-2 module)."""
    sizes = {tuple(t.shape[-2:]) for t in outs}
    if len(sizes) > 1:
        shown = ", ".join(f"{h}×{w}" for h, w in sorted(sizes))
        raise ValueError(
            f"the branches of {type(module).__name__} give feature maps of different sizes "
            f"({shown}): the input image size does not fit this network (a stride-2 module "
            "needs an even map size); use the size it was designed for, or one that halves "
            "evenly down the network"
        )
    return torch.cat(list(outs), dim=1)


def install_input_checks(
    model: nn.Module, *, input_size: tuple[int, ...] | None = None
) -> nn.Module:
    """Add a shape check before every leaf Conv2d, MaxPool2d, AvgPool2d and Linear of ``model``.

    A wrong channel count, a non-4-D input, an input too small for a kernel or a flattened size
    that does not fit a Linear layer then raises ``ValueError("layer 'features.3' (MaxPool2d
    3×3/2) needs at least 3×3 input, got 1×1 ...")`` instead of an error deep inside torch; a
    wrong dtype (8-bit pixels, float64) raises a ``TypeError`` naming it and ``x.float()``.
    cnnlab's own windowed layers (LeNet-5's ``Subsampling``, ``PartialConv2d``) are checked too.
    ``input_size`` (C, H, W), the design input, is quoted in the message. Installing twice is a
    no-op. The hooks cost a few microseconds per layer and survive ``copy.deepcopy`` and pickling.
    """
    if getattr(model, "_cnnlab_input_checks", False):
        return model
    for name, module in model.named_modules():
        if _is_checked(module):
            hook = functools.partial(
                _input_check, name=name, input_size=tuple(input_size) if input_size else None
            )
            module.register_forward_pre_hook(hook)
    model._cnnlab_input_checks = True
    return model
