"""How far a trained residual block is from the identity: ‖F(x)‖ / ‖x‖ per block.

He et al. (2015, Section 4.2, Fig. 7) argue that if the identity is close to optimal, the
solver drives the residual branch F towards zero; they show the responses of ResNets' layers
are smaller than those of plain nets. :func:`branch_ratios` measures exactly that ratio.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab._validate import check_tensor


def _check_images(model: nn.Module, images: object, name: str = "images") -> torch.Tensor:
    """``images`` if it is a non-empty, finite float (N, C, H, W) batch of the model's dtype."""
    from cnnlab.train.inputs import check_image_dtype

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    x = check_tensor(images, name, 4, "N, C, H, W")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
    check_image_dtype(model, x, "the")
    if x.device.type != "meta" and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contain NaN or inf values")
    return x


def _branch_end(block: nn.Module) -> nn.Module:
    """The last module of a block's residual branch: BN for post-, conv for pre-activation."""
    from cnnlab.models.resnet import BasicBlock, Bottleneck, PreActBasicBlock

    if isinstance(block, Bottleneck):
        return block.bn3
    if isinstance(block, BasicBlock):
        return block.bn2
    if isinstance(block, PreActBasicBlock):
        return block.conv2
    return block.conv3  # pre-activation bottleneck


def residual_blocks(model: nn.Module) -> list[nn.Module]:
    """The blocks of a :mod:`cnnlab.models.resnet` network (plain or residual), in order."""
    from cnnlab.models.resnet import BasicBlock, Bottleneck, PreActBasicBlock, PreActBottleneck

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    kinds = (BasicBlock, Bottleneck, PreActBasicBlock, PreActBottleneck)
    return [m for m in model.modules() if isinstance(m, kinds)]


def _identity(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What the shortcut carries; a plain block is compared with the subsampled input too."""
    downsample = getattr(block, "downsample", None)
    if downsample is not None:
        return downsample(x)
    stride = max(block.conv1.stride[0], block.conv2.stride[0])
    return x[:, :, ::stride, ::stride] if stride > 1 else x


@torch.no_grad()
def branch_ratios(model: nn.Module, images: torch.Tensor) -> list[float]:
    """``‖F(x)‖ / ‖shortcut(x)‖`` of every residual block of ``model`` on ``images`` (N, C, H, W).

    F(x) is the residual branch's output before the addition (the final BN of a post-activation
    block), shortcut(x) the identity (subsampled, or the projection where there is one); the
    norms are taken over the whole batch. A plain twin (``residual=False``) is measured the
    same way, so plain and residual nets compare block by block (He et al. 2015, Fig. 7).
    Runs in eval mode and restores the model's mode.
    """
    from cnnlab.train.inputs import describe_forward_failure

    _check_images(model, images)
    blocks = residual_blocks(model)
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no residual blocks to measure")
    inputs: dict[int, torch.Tensor] = {}
    outputs: dict[int, torch.Tensor] = {}
    handles = []
    for i, block in enumerate(blocks):
        handles.append(
            block.register_forward_pre_hook(lambda _m, args, i=i: inputs.__setitem__(i, args[0]))
        )
        handles.append(
            _branch_end(block).register_forward_hook(
                lambda _m, _a, out, i=i: outputs.__setitem__(i, out)
            )
        )
    was_training = model.training
    model.eval()
    try:
        try:
            model(images)
        except (RuntimeError, IndexError) as exc:  # a wrong device or size: name the layer
            raise describe_forward_failure(model, images, exc, type(model).__name__) from exc
        ratios = []
        for i, block in enumerate(blocks):
            identity = _identity(block, inputs[i])
            ratios.append(float(outputs[i].norm() / identity.norm().clamp_min(1e-12)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return ratios
