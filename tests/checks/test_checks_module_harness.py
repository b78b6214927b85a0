"""The module harness (checks.module_matches) accepts a from-scratch BatchNorm2d equal to
torch.nn.BatchNorm2d and names what differs in wrong ones: the train or eval output, a
buffer, a gradient, the parameter names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab import checks
from cnnlab.checks import CheckFailed


class BatchNorm(nn.Module):
    """Batch normalisation of N×C×H×W from scratch; ``mistake`` switches on one classic bug."""

    mistake = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bug = self.mistake
        if self.training or bug == "no_eval_branch":
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
            if bug == "detached_mean":
                mean = mean.detach()
            if self.training:
                n = x.numel() / x.shape[1]
                m = 1 - self.momentum if bug == "momentum" else self.momentum
                unbiased = var if bug == "biased_running_var" else var * n / (n - 1)
                if bug == "graph_in_buffer":
                    self.running_mean = (1 - m) * self.running_mean + m * mean
                else:
                    with torch.no_grad():
                        self.running_mean.mul_(1 - m).add_(m * mean)
                with torch.no_grad():
                    self.running_var.mul_(1 - m).add_(m * unbiased)
        else:
            mean, var = self.running_mean, self.running_var
        eps = 0.0 if bug == "no_eps" else self.eps
        x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + eps)
        weight = self.weight
        if bug == "detached_weight":
            weight = weight.detach()
        elif bug == "weight_gradient":  # the right value, 1.5 times the gradient
            weight = weight + 0.5 * (weight - weight.detach())
        return x_hat * weight[None, :, None, None] + self.bias[None, :, None, None]


def variant(mistake: str) -> type[BatchNorm]:
    return type(f"BatchNorm_{mistake}", (BatchNorm,), {"mistake": mistake})


def inputs(g: torch.Generator, kwargs: Mapping[str, Any]) -> torch.Tensor:
    n, h, w = (int(torch.randint(2, 5, (1,), generator=g)) for _ in range(3))
    x = torch.randn(n, kwargs["num_features"], h, w, generator=g, dtype=torch.float64)
    return 2 * x + 0.5


CONFIGS = [
    {"num_features": 3},
    {"num_features": 1, "momentum": 0.3},
    {"num_features": 4, "eps": 1e-3},
]
BLOCKED = ("torch.nn.functional.batch_norm", "torch.batch_norm", "torch.nn.BatchNorm2d.forward")


def run(student: Any, **options: Any) -> None:
    checks.module_matches(
        "batch_norm",
        student,
        nn.BatchNorm2d,
        make_inputs=inputs,
        init_args=options.pop("init_args", CONFIGS),
        ignore=options.pop("ignore", ("num_batches_tracked",)),
        forbidden=BLOCKED,
        instead="normalise with the batch's mean and variance yourself",
        label="torch.nn.BatchNorm2d",
        **options,
    )


def failure(student: Any, **options: Any) -> str:
    with pytest.raises(CheckFailed) as info:
        run(student, **options)
    return str(info.value)


def test_a_correct_batch_norm_passes_and_keeps_the_global_rng(capsys) -> None:
    state = torch.get_rng_state()
    run(BatchNorm)
    assert capsys.readouterr().out == (
        "✔ batch_norm: 3 random configurations match torch.nn.BatchNorm2d in train and eval "
        "mode (outputs, buffers and gradients)\n"
    )
    assert torch.equal(state, torch.get_rng_state())


def test_init_args_may_be_drawn_at_random(capsys) -> None:
    def draw(g: torch.Generator) -> dict[str, int]:
        return {"num_features": int(torch.randint(1, 5, (1,), generator=g))}

    run(BatchNorm, init_args=draw, cases=5)
    assert "5 random configurations" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mistake", "names", "not_named"),
    [
        ("no_eps", ["the train-mode output differs", "eps"], ["buffer", "gradient"]),
        (
            "no_eval_branch",
            ["the eval-mode output differs", "self.training is False"],
            ["train-mode"],
        ),
        (
            "biased_running_var",
            ["buffer 'running_var' after the forward differs"],
            ["output", "'running_mean'"],
        ),
        ("momentum", ["buffer 'running_mean' after the forward differs"], ["output", "gradient"]),
        ("detached_weight", ["parameter 'weight' got no gradient", ".detach()"], ["buffer"]),
        ("weight_gradient", ["the gradient of 'weight' differs"], ["buffer", "output differs"]),
        ("detached_mean", ["the gradient of input 1 differs"], ["'weight'", "buffer"]),
        (
            "graph_in_buffer",
            ["buffer 'running_mean' is part of the autograd graph", "torch.no_grad()"],
            [],
        ),
    ],
)
def test_wrong_batch_norms_fail_naming_what_differs(
    mistake: str, names: list[str], not_named: list[str]
) -> None:
    message = failure(variant(mistake))
    for text in names:
        assert text in message, (text, message)
    for text in not_named:
        assert text not in message, (text, message)
    assert "BatchNorm_" in message and "num_features=3" in message  # the constructor call


def test_mode_and_step_are_named() -> None:
    assert "in train mode, forward 1" in failure(variant("momentum"))
    assert "in eval mode on input(s) of shape" in failure(variant("no_eval_branch"))


def test_parameter_and_buffer_names_are_aligned() -> None:
    class Renamed(BatchNorm):
        def __init__(self, num_features: int, **kwargs: Any) -> None:
            super().__init__(num_features, **kwargs)
            self.gamma = self.weight
            del self.weight

    message = failure(Renamed)
    assert "missing parameter 'weight' (parameter, shape (3,))" in message
    assert "extra: 'gamma'" in message

    class PlainTensor(BatchNorm):
        def __init__(self, num_features: int, **kwargs: Any) -> None:
            super().__init__(num_features, **kwargs)
            del self.running_var
            self.running_var = torch.ones(num_features)

    message = failure(PlainTensor)
    assert "missing buffer 'running_var'" in message
    assert (
        "plain tensor attribute" in message
        and "self.register_buffer('running_var', ...)" in message
    )

    class ParameterState(BatchNorm):
        def __init__(self, num_features: int, **kwargs: Any) -> None:
            super().__init__(num_features, **kwargs)
            del self.running_mean
            self.running_mean = nn.Parameter(torch.zeros(num_features))

    message = failure(ParameterState)
    assert "'running_mean' is a parameter in yours but a buffer in torch.nn.BatchNorm2d" in message
    assert "must be a buffer" in message

    class WrongShape(BatchNorm):
        def __init__(self, num_features: int, **kwargs: Any) -> None:
            super().__init__(num_features, **kwargs)
            self.weight = nn.Parameter(torch.ones(1, num_features, 1, 1))

    assert "parameter 'weight' has shape (1, 3, 1, 1), expected (3,)" in failure(WrongShape)


def test_unignored_buffers_are_required() -> None:
    assert "missing buffer 'num_batches_tracked'" in failure(BatchNorm, ignore=())


def test_stub_crash_and_forgotten_super_init() -> None:
    class Stub(nn.Module):
        def __init__(self, num_features: int, **kwargs: Any) -> None:
            raise NotImplementedError()

    assert failure(Stub).startswith("batch_norm is not implemented yet")

    class NoSuper(nn.Module):
        def __init__(self, num_features: int, **kwargs: Any) -> None:
            self.weight = nn.Parameter(torch.ones(num_features))

    assert "call super().__init__() first" in failure(NoSuper)

    class StubForward(BatchNorm):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise NotImplementedError()

    assert failure(StubForward).startswith("batch_norm is not implemented yet")


def test_forbidden_library_batch_norm_is_reported() -> None:
    class Library(BatchNorm):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias,
                self.training, self.momentum, self.eps,
            )  # fmt: skip

    message = failure(Library)
    assert message.startswith(
        "batch_norm calls torch.nn.functional.batch_norm, the library function"
    )
    assert "normalise with the batch's mean and variance yourself" in message


def test_outputs_that_are_not_tensors_or_detached_fail() -> None:
    class Detached(BatchNorm):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x).detach()

    assert "not connected to the autograd graph" in failure(Detached)

    class Pair(BatchNorm):
        def forward(self, x: torch.Tensor) -> Any:
            return super().forward(x), x

    assert "returned a tuple of 2 item(s)" in failure(Pair)
