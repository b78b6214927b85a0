"""Looking inside a trained CNN: filters (and their likeness to hand-made kernels), activation
maps, top inputs, saliency, and activation maximisation.

Every function works on *any* ``nn.Module``, not only the course's models: layers are named
as in ``model.named_modules()`` (``"features.0"``, ``"layer1.0.conv1"``...) and outputs are
captured with forward hooks, which are always removed again, even when the forward raises.
Functions run the model in eval mode (batch norm uses its running statistics, dropout is off)
and restore every submodule's train/eval flag afterwards. Results come back detached on the CPU.
Drawing lives in :mod:`cnnlab.plots`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_float, as_int, check_choice, check_tensor

_CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


class _StopForward(BaseException):  # noqa: N818 - a signal, not an error
    """Raised by a hook once every requested output is captured, to skip the rest of the model.

    A ``BaseException`` so that a model's own ``except Exception`` cannot swallow it.
    """


# -- layer names ---------------------------------------------------------------------------
def layer_names(model: nn.Module) -> list[str]:
    """Names of every submodule of ``model`` in ``named_modules()`` order (the root excluded)."""
    _check_model(model)
    return [name for name, _ in model.named_modules() if name]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the convolution modules of ``model`` (``nn.Conv1d/2d/3d``), in definition order."""
    _check_model(model)
    return [name for name, m in model.named_modules() if name and isinstance(m, _CONV_TYPES)]


def first_layer_filters(model: nn.Module) -> torch.Tensor:
    """Weights of the first ``nn.Conv2d`` of ``model``: a copy of shape (C_out, C_in, kh, kw).

    "First" is the first in ``named_modules()`` order, which is the input layer for models that
    define their layers in the order they are applied (all of the course's, and most others).
    """
    _check_model(model)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.weight.detach().cpu().clone()
    raise ValueError(f"{type(model).__name__} has no nn.Conv2d layer: no filters to show")


def kernel_similarity(
    kernels: torch.Tensor | Sequence[torch.Tensor],
    filters: torch.Tensor,
    *,
    signed: bool = False,
) -> torch.Tensor:
    """Cosine similarity of 2-D hand-made ``kernels`` with learned ``filters``: (K, C_out).

    ``kernels``: a (K, kh, kw) tensor or a sequence of K 2-D tensors (sizes may differ), each no
    larger than the filters; each is centred in a frame of zeros of the filter size (an odd size
    difference puts the extra zero row/column at the bottom/right). ``filters``: (C_out, fh, fw)
    or (C_out, C_in, fh, fw), the latter summed over C_in first — the filter's response to a grey
    image. Entry [k, j] is |cos| between kernel k and filter j, in [0, 1]: scale and sign are
    ignored, since a filter and its negative detect the same pattern with opposite polarity.
    ``signed=True`` keeps the sign (values in [-1, 1]). An all-zero kernel or filter gives 0.
    """
    filters = check_tensor(filters, "filters", (3, 4), "(C_out, fh, fw) or (C_out, C_in, fh, fw)")
    if filters.dim() == 4:
        filters = filters.sum(dim=1)
    fh, fw = filters.shape[-2:]
    if isinstance(kernels, torch.Tensor):
        kernels = check_tensor(kernels, "kernels", (3,), "(K, kh, kw)").unbind(0)
    elif not isinstance(kernels, Sequence) or isinstance(kernels, (str, bytes)):
        raise TypeError(
            f"kernels must be a (K, kh, kw) tensor or a sequence of 2-D tensors, "
            f"got {type(kernels).__name__}"
        )
    if len(kernels) == 0:
        raise ValueError("kernels must hold at least one kernel")
    padded = []
    for i, kernel in enumerate(kernels):
        kernel = check_tensor(kernel, f"kernels[{i}]", (2,), "(kh, kw)")
        kh, kw = kernel.shape
        if kh > fh or kw > fw:
            raise ValueError(
                f"kernels[{i}] is {kh}×{kw}, larger than the {fh}×{fw} filters: compare kernels "
                "no larger than the filters"
            )
        top, left = (fh - kh) // 2, (fw - kw) // 2
        pad = (left, fw - kw - left, top, fh - kh - top)  # F.pad order: last dim first
        padded.append(F.pad(kernel.detach().to(filters.device, torch.float32), pad))
    a = F.normalize(torch.stack(padded).flatten(1), dim=1)
    b = F.normalize(filters.detach().float().flatten(1), dim=1)
    cos = (a @ b.T).clamp(-1.0, 1.0).cpu()
    return cos if signed else cos.abs()


def _check_model(model: object) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _resolve(model: nn.Module, layers: str | Iterable[str]) -> dict[str, nn.Module]:
    """Map each requested layer name to its module; unknown names list the valid ones."""
    modules = dict(model.named_modules())
    valid = [name for name in modules if name]
    if not valid:
        raise ValueError(f"{type(model).__name__} has no submodules to look into")
    if isinstance(layers, str):
        layers = [layers]
    elif not isinstance(layers, Iterable):
        raise TypeError(
            f"layers must be a layer name or a list of names, got {layers!r} "
            f"({type(layers).__name__}); see viz.layer_names(model)"
        )
    resolved: dict[str, nn.Module] = {}
    for name in layers:
        if not isinstance(name, str):
            raise TypeError(f"layer names must be strings, got {name!r} ({type(name).__name__})")
        check_choice(name, "layer", valid)
        resolved[name] = modules[name]
    if not resolved:
        raise ValueError("layers is empty: give at least one layer name, or None for all")
    return resolved


def _leaf_layers(model: nn.Module) -> dict[str, nn.Module]:
    return {name: m for name, m in model.named_modules() if name and not any(m.children())}


# -- running the model ---------------------------------------------------------------------
def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    for p in model.parameters():
        return p.device, p.dtype
    for b in model.buffers():
        return b.device, (b.dtype if b.is_floating_point() else torch.get_default_dtype())
    return torch.device("cpu"), torch.get_default_dtype()


def _check_batch(x: object, name: str = "x") -> torch.Tensor:
    x = check_tensor(x, name, 4, "a batch N×C×H×W")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)})")
    return x


def _to_model(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    device, dtype = _model_device_dtype(model)
    return x.to(device=device, dtype=dtype)


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Context manager: ``model.eval()`` inside, every submodule's previous flag restored after."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, flag in flags:
            m.training = flag


def _input_hint(model: nn.Module) -> str:
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            return f" (its first convolution, {name!r}, expects {m.in_channels} input channels)"
    return ""


@contextmanager
def _hooks(modules: dict[str, nn.Module], store: dict[str, object], stop: bool) -> Iterator[None]:
    """Register forward hooks that keep each module's *first* output of the forward pass.

    With ``stop``, the last missing capture raises :class:`_StopForward` to end the forward
    early. The hooks are removed on exit whatever happened.
    """
    handles = []

    def make_hook(name: str) -> Callable[[nn.Module, object, object], None]:
        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            if name not in store:
                store[name] = output
                if stop and len(store) == len(modules):
                    raise _StopForward

        return hook

    try:
        for name, module in modules.items():
            handles.append(module.register_forward_hook(make_hook(name)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _run(
    model: nn.Module, x: torch.Tensor, modules: dict[str, nn.Module], *, stop: bool, strict: bool
) -> dict[str, torch.Tensor]:
    """Forward ``x`` through ``model`` and return the hooked outputs (tensors, on x's device)."""
    store: dict[str, object] = {}
    with _hooks(modules, store, stop):
        try:
            model(x)
        except _StopForward:
            pass
        except NotImplementedError:
            raise
        except RuntimeError as err:  # torch's shape errors: add the input shape and a hint
            raise ValueError(
                f"{type(model).__name__} failed on an input of shape {tuple(x.shape)}"
                f"{_input_hint(model)}: {err}"
            ) from err
    out: dict[str, torch.Tensor] = {}
    for name in modules:  # keep the order of the request / of named_modules()
        if name not in store:
            if strict:
                raise ValueError(f"layer {name!r} was not called during the forward pass")
            continue
        value = store[name]
        if not isinstance(value, torch.Tensor):
            if strict:
                raise TypeError(
                    f"layer {name!r} returned a {type(value).__name__}, not a tensor: "
                    "pick one of its submodules instead"
                )
            continue
        out[name] = value
    return out


# -- activations ---------------------------------------------------------------------------
def activations(
    model: nn.Module, x: torch.Tensor, layers: str | Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """Outputs of ``layers`` of ``model`` for the batch ``x`` (N, C, H, W).

    ``layers``: one name, several names, or ``None`` for every leaf module (those without
    children) that returns a tensor. Returns ``{name: output}`` in the order asked (for ``None``,
    ``named_modules()`` order); a conv layer's output is (N, C_out, H_out, W_out). A module called
    several times in one forward pass reports its first call. Unknown names raise a
    ``ValueError`` listing the valid ones.
    """
    _check_model(model)
    x = _check_batch(x)
    modules = _leaf_layers(model) if layers is None else _resolve(model, layers)
    with eval_mode(model), torch.no_grad():
        acts = _run(model, _to_model(model, x), modules, stop=True, strict=layers is not None)
    return {name: a.detach().cpu() for name, a in acts.items()}


def _channel_score(output: torch.Tensor, channel: int, layer: str) -> torch.Tensor:
    """Mean activation of ``channel`` (dim 1) per sample: shape (N,)."""
    if output.dim() < 2:
        raise ValueError(f"layer {layer!r} output has shape {tuple(output.shape)}: no channels")
    n_channels = output.shape[1]
    if not 0 <= channel < n_channels:
        raise ValueError(
            f"channel must be in 0..{n_channels - 1} for layer {layer!r} "
            f"(output shape {tuple(output.shape)}), got {channel}"
        )
    return output[:, channel].reshape(output.shape[0], -1).mean(dim=1)


def top_activating(
    model: nn.Module,
    layer: str,
    channel: int,
    images: torch.Tensor,
    k: int = 9,
    batch_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` images (N, C, H, W) that most activate ``channel`` of ``layer``.

    A channel's score for one image is its mean activation over all positions. Returns
    ``(indices, scores)``, both of shape (k,), highest score first (ties keep image order).
    """
    _check_model(model)
    modules = _resolve(model, layer)
    images = _check_batch(images, "images")
    channel = as_int(channel, "channel", minimum=0)
    k = as_int(k, "k", minimum=1)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    if k > images.shape[0]:
        raise ValueError(f"k must be <= the number of images ({images.shape[0]}), got {k}")
    name = next(iter(modules))
    scores = []
    with eval_mode(model), torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            batch = _to_model(model, images[start : start + batch_size])
            out = _run(model, batch, modules, stop=True, strict=True)[name]
            scores.append(_channel_score(out, channel, name).float().cpu())
    all_scores = torch.cat(scores)
    order = torch.sort(all_scores, descending=True, stable=True).indices[:k]
    return order, all_scores[order]


# -- gradients with respect to the input ---------------------------------------------------
def _single_image(x: object, name: str = "x") -> torch.Tensor:
    x = check_tensor(x, name, (3, 4), "one image C×H×W or a batch of one 1×C×H×W")
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"{name} must hold one image, got a batch of {x.shape[0]}")
        x = x[0]
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def saliency(
    model: nn.Module,
    x: torch.Tensor,
    target: int | None = None,
    *,
    layer: str | None = None,
    channel: int | None = None,
) -> torch.Tensor:
    """Gradient saliency map (H, W) of one image ``x`` (C, H, W) or (1, C, H, W).

    The score is the class logit ``target`` (default: the predicted class), or, with ``layer``
    and ``channel``, that channel's mean activation. The map is ``|∂score/∂x|`` maximised over
    the colour channels (Simonyan et al., 2014). The model runs in eval mode, which is restored
    afterwards; parameter gradients (``.grad``) are left untouched.
    """
    _check_model(model)
    image = _single_image(x)
    if (layer is None) != (channel is None):
        raise ValueError("give both layer and channel (a unit's saliency), or neither (a class's)")
    if layer is not None and target is not None:
        raise ValueError("give either target (a class) or layer and channel (a unit), not both")
    inp = _to_model(model, image[None]).detach().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        if layer is not None:
            channel = as_int(channel, "channel", minimum=0)
            modules = _resolve(model, layer)
            name = next(iter(modules))
            out = _run(model, inp, modules, stop=True, strict=True)[name]
            score = _channel_score(out, channel, name)[0]
        else:
            try:
                logits = model(inp)
            except RuntimeError as err:
                raise ValueError(
                    f"{type(model).__name__} failed on an input of shape {tuple(inp.shape)}"
                    f"{_input_hint(model)}: {err}"
                ) from err
            if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
                shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits)
                raise ValueError(
                    f"saliency needs a model that returns class scores (1, num_classes), got "
                    f"{shape}; use layer= and channel= for an inner unit"
                )
            n_classes = logits.shape[1]
            if target is None:
                target = int(logits[0].argmax())
            target = as_int(target, "target", minimum=0)
            if target >= n_classes:
                raise ValueError(f"target must be in 0..{n_classes - 1}, got {target}")
            score = logits[0, target]
        (grad,) = torch.autograd.grad(score, inp)
    return grad[0].abs().amax(dim=0).detach().cpu()


def _blur(x: torch.Tensor) -> torch.Tensor:
    """3×3 binomial blur of each channel of x (1, C, H, W), reflecting at the border."""
    k1 = torch.tensor([1.0, 2.0, 1.0], device=x.device, dtype=x.dtype) / 4
    kernel = (k1[:, None] * k1[None, :]).expand(x.shape[1], 1, 3, 3)
    mode = "reflect" if min(x.shape[-2:]) > 1 else "replicate"
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode=mode), kernel, groups=x.shape[1])


def activation_maximization(
    model: nn.Module,
    layer: str,
    channel: int,
    *,
    size: Sequence[int],
    steps: int = 100,
    lr: float = 0.05,
    seed: int = 0,
    weight_decay: float = 1e-3,
    blur_every: int = 4,
    init_scale: float = 0.1,
) -> torch.Tensor:
    """An input (C, H, W) that strongly activates ``channel`` of ``layer`` (gradient ascent).

    Starts from noise ``init_scale * N(0, 1)`` drawn from ``torch.Generator().manual_seed(seed)``
    (so the result is deterministic for a given seed, device and thread count) and takes
    ``steps`` Adam steps of size ``lr`` on ``mean activation − weight_decay·mean(x²)``; every
    ``blur_every`` steps the image is smoothed with a 3×3 blur (0: never), which keeps
    high-frequency noise out. ``steps=0`` returns the starting noise. ``size`` is (C, H, W).
    """
    _check_model(model)
    if isinstance(size, (str, bytes)) or not isinstance(size, Sequence) or len(size) != 3:
        raise ValueError(f"size must be (C, H, W), got {size!r}")
    c, h, w = (as_int(v, f"size[{i}]", minimum=1) for i, v in enumerate(size))
    steps = as_int(steps, "steps", minimum=0)
    seed = as_int(seed, "seed", minimum=0)
    blur_every = as_int(blur_every, "blur_every", minimum=0)
    channel = as_int(channel, "channel", minimum=0)
    lr = as_float(lr, "lr", minimum=0)
    weight_decay = as_float(weight_decay, "weight_decay", minimum=0)
    init_scale = as_float(init_scale, "init_scale", minimum=0)
    modules = _resolve(model, layer)
    name = next(iter(modules))
    device, dtype = _model_device_dtype(model)
    noise = torch.randn(1, c, h, w, generator=torch.Generator().manual_seed(seed))
    image = (init_scale * noise).to(device=device, dtype=dtype).requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=float(lr))
    with eval_mode(model), torch.enable_grad():
        if steps == 0:  # still check that the layer and channel make sense
            _channel_score(_run(model, image, modules, stop=True, strict=True)[name], channel, name)
        for step in range(1, steps + 1):
            out = _run(model, image, modules, stop=True, strict=True)[name]
            objective = _channel_score(out, channel, name)[0] - weight_decay * image.pow(2).mean()
            # autograd.grad, not backward(): the model's parameter .grad stay untouched
            (grad,) = torch.autograd.grad(-objective, image)
            image.grad = grad
            optimizer.step()
            if blur_every and step % blur_every == 0:
                with torch.no_grad():
                    image.copy_(_blur(image))
    return image.detach()[0].cpu()
