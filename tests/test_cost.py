"""Cost tables (cnnlab.cost): conventions, the seeds' tables recomputed, the CLI."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlab.cli import main
from cnnlab.cost import LayerCost, Summary, conv_mult_adds, summary
from cnnlab.models import create_model


def meta_model(name: str, **options: object) -> nn.Module:
    with torch.device("meta"):
        return create_model(name, **options)


def flop_counter_mult_adds(model: nn.Module, shape: tuple[int, ...]) -> int:
    device = next(model.parameters()).device
    was_training = model.training
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(shape, device=device))
    model.train(was_training)
    return counter.get_total_flops() // 2


# ---------------------------------------------------------------------------------------------
# The 1×1 reduction arithmetic (GoogLeNet)


def test_conv_mult_adds_one_by_one_reduction() -> None:
    direct = conv_mult_adds(28, 28, 192, 32, 5)
    assert direct == (28 * 28 * 32) * (5 * 5 * 192) == 120_422_400  # "120 M"
    reduced = conv_mult_adds(28, 28, 192, 16, 1) + conv_mult_adds(28, 28, 16, 32, 5)
    assert reduced == 12_443_648  # "12.4 M"
    # The same as PyTorch's own count for the layers.
    conv = nn.Conv2d(192, 32, 5, padding=2, bias=False, device="meta")
    assert flop_counter_mult_adds(conv, (1, 192, 28, 28)) == direct
    assert conv_mult_adds(7, 7, 32, 64, (1, 3), groups=4) == 7 * 7 * 64 * 8 * 3
    with pytest.raises(ValueError, match="groups"):
        conv_mult_adds(7, 7, 30, 64, 3, groups=4)
    with pytest.raises(TypeError, match="c_in"):
        conv_mult_adds(7, 7, 2.5, 64, 3)
    with pytest.raises(ValueError, match="kernel"):
        conv_mult_adds(7, 7, 3, 64, (3, 3, 3))


# ---------------------------------------------------------------------------------------------
# Conventions on a small network computed by hand


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, groups=1)
        self.dw = nn.Conv2d(4, 4, 3, groups=4, bias=False)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 3 * 3, 5)
        self.scale = nn.Parameter(torch.ones(1))  # owned by a non-leaf module
        self.fc.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv(x))
        x = self.act(self.dw(x))  # the same ReLU twice
        return self.fc(self.pool(x).flatten(1)) * self.scale


def test_summary_conventions_by_hand() -> None:
    m = Tiny()
    s = summary(m, (2, 3, 8, 8))
    by_name = {}
    for r in s.rows:
        by_name.setdefault(r.name, []).append(r)
    assert by_name["conv"][0].mult_adds == 2 * 4 * 8 * 8 * 3 * 9
    assert by_name["dw"][0].mult_adds == 2 * 4 * 6 * 6 * 1 * 9
    assert by_name["fc"][0].mult_adds == 2 * 36 * 5
    assert len(by_name["act"]) == 2  # one row per call
    assert by_name["pool"][0].window_ops == 2 * 4 * 3 * 3 * 4
    assert by_name["(model)"][0].params == 1  # the non-leaf module's own parameter
    assert s.totals.params == sum(p.numel() for p in m.parameters()) == 112 + 36 + 185 + 1
    assert s.totals.trainable_params == s.totals.params - 180
    assert s.totals.mult_adds == flop_counter_mult_adds(m, (2, 3, 8, 8))
    # Activations: conv, dw, pool, fc and the model output; not the ReLUs.
    assert s.totals.activations == 2 * (4 * 64 + 4 * 36 + 4 * 9 + 5 + 5)
    assert s.activations(types=["Conv2d"], include_input=True) == 2 * (256 + 144 + 192)
    assert s.totals.activation_bytes == 4 * s.totals.activations
    assert m.training  # mode restored


def test_summary_input_forms_and_errors() -> None:
    m = Tiny()
    a = summary(m, (3, 8, 8), batch_size=2)
    b = summary(m, (2, 3, 8, 8))
    assert a.input_shape == b.input_shape == (2, 3, 8, 8)
    assert a.totals == b.totals
    assert summary(m, (3, 8, 8)).input_shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="batch_size"):
        summary(m, (2, 3, 8, 8), batch_size=3)
    with pytest.raises(ValueError, match="input_size"):
        summary(m, (8, 8))
    with pytest.raises(TypeError, match="input_size"):
        summary(m, "3x8x8")
    with pytest.raises(TypeError, match="model"):
        summary("vgg16", (3, 8, 8))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="meta"):
        summary(m, (3, 8, 8), device="meta")


def test_summary_display_records_and_dataframe() -> None:
    s = summary(create_model("lenet5"), (1, 32, 32), name="lenet5")
    text = str(s)
    assert "C3" in text and "PartialConv2d" in text and "60,850" in text
    page = s._repr_html_()
    assert page.startswith("<table") and "<td" in page and "Subsampling" in page
    assert "lenet5" in repr(s)
    records = s.records()
    assert records[0]["name"] == "C1" and records[0]["output_shape"] == (1, 6, 28, 28)
    assert isinstance(s.rows[0], LayerCost) and isinstance(s, Summary)
    if importlib.util.find_spec("pandas") is None:
        with pytest.raises(ImportError, match="records"):
            s.to_dataframe()
    else:
        assert len(s.to_dataframe()) == len(records)
    # LeNet's C3 counts only its 60 connected kernels, like PyTorch's grouped convolutions.
    c3 = next(r for r in s.rows if r.name == "C3")
    assert c3.mult_adds == 10 * 10 * 60 * 25
    assert s.totals.mult_adds == flop_counter_mult_adds(create_model("lenet5"), (1, 1, 32, 32))


def test_modules_that_do_not_run_are_listed() -> None:
    m = meta_model("googlenet_course", aux_logits=True, width_mult=0.25)
    s = summary(m, (3, 32, 32))  # eval mode: the auxiliary heads do not run
    skipped = [r for r in s.rows if not r.ran]
    assert {r.name.split(".")[0] for r in skipped} == {"aux1", "aux2"}
    assert s.totals.params == sum(p.numel() for p in m.parameters())
    assert "not run" in str(s)


# ---------------------------------------------------------------------------------------------
# The seeds' tables, recomputed


# The seed's VGG-16 walk-through: (layer, memory = output elements, weights without biases).
VGG16_SEED = [
    ("CONV3-64", 224 * 224 * 64, 3 * 3 * 3 * 64),
    ("CONV3-64", 224 * 224 * 64, 3 * 3 * 64 * 64),
    ("POOL2", 112 * 112 * 64, 0),
    ("CONV3-128", 112 * 112 * 128, 3 * 3 * 64 * 128),
    ("CONV3-128", 112 * 112 * 128, 3 * 3 * 128 * 128),
    ("POOL2", 56 * 56 * 128, 0),
    ("CONV3-256", 56 * 56 * 256, 3 * 3 * 128 * 256),
    ("CONV3-256", 56 * 56 * 256, 3 * 3 * 256 * 256),
    ("CONV3-256", 56 * 56 * 256, 3 * 3 * 256 * 256),
    ("POOL2", 28 * 28 * 256, 0),
    ("CONV3-512", 28 * 28 * 512, 3 * 3 * 256 * 512),
    ("CONV3-512", 28 * 28 * 512, 3 * 3 * 512 * 512),
    ("CONV3-512", 28 * 28 * 512, 3 * 3 * 512 * 512),
    ("POOL2", 14 * 14 * 512, 0),
    ("CONV3-512", 14 * 14 * 512, 3 * 3 * 512 * 512),
    ("CONV3-512", 14 * 14 * 512, 3 * 3 * 512 * 512),
    ("CONV3-512", 14 * 14 * 512, 3 * 3 * 512 * 512),
    ("POOL2", 7 * 7 * 512, 0),
    ("FC", 4096, 7 * 7 * 512 * 4096),
    ("FC", 4096, 4096 * 4096),
    ("FC", 1000, 4096 * 1000),
]


def test_vgg16_memory_and_weights_walkthrough() -> None:
    s = summary(meta_model("vgg16"), (3, 224, 224))
    rows = s.select(["Conv2d", "MaxPool2d", "Linear"])
    assert len(rows) == len(VGG16_SEED)
    for r, (layer, memory, weights) in zip(rows, VGG16_SEED, strict=True):
        biases = r.output_shape[1] if r.params else 0
        assert (r.activations, r.params - biases) == (memory, weights), layer
    assert s.totals.params == 138_357_544  # "138M parameters" (with biases)
    assert sum(w for _, _, w in VGG16_SEED) == 138_344_128  # the seed's weights, no biases
    # Activations counted as the seed lists them: input, conv, pool and FC outputs.
    counted = s.activations(types=["Conv2d", "MaxPool2d", "Linear"], include_input=True)
    assert counted == 224 * 224 * 3 + sum(m for _, m, _ in VGG16_SEED) == 15_237_608
    assert counted * 4 == 60_950_432  # ≈ 61 MB per image forward
    # The seed's total "24M * 4 bytes ~= 93MB" does not follow from its own rows, which sum to
    # 15.2 M (a known slip in the CS231n notes, cs231n.github.io issue #88).
    assert counted < 16e6


def test_googlenet_stem_table_and_vgg16_comparison() -> None:
    g = summary(meta_model("googlenet"), (3, 224, 224))
    names = ["conv1.conv", "maxpool1", "conv2.conv", "conv3.conv", "maxpool2"]
    rows = [next(r for r in g.rows if r.name == n) for n in names]
    memory_kb = [r.activations * 4 / 1024 for r in rows]
    params_k = [round(r.params / 1000) for r in rows]
    mflop = [round((r.mult_adds + r.window_ops) / 1e6) for r in rows]
    assert memory_kb == [3136, 784, 784, 2352, 588]
    assert params_k == [9, 0, 4, 111, 0]
    assert mflop == [118, 2, 13, 347, 1]
    assert [r.output_shape[1:] for r in rows] == [
        (64, 112, 112), (64, 56, 56), (64, 56, 56), (192, 56, 56), (192, 28, 28),
    ]  # fmt: skip
    total_mb = sum(memory_kb) / 1024
    total_params = sum(r.params for r in rows)
    total_mflop = sum(r.mult_adds + r.window_ops for r in rows) / 1e6
    assert round(total_mb, 1) == 7.5 and round(total_params / 1000) == 124
    # The slide's "MFLOP: 418" is its own rows' 118 + 2 + 13 + 347 + 1 = 481 with two digits
    # swapped.
    assert round(total_mflop) == 481
    # VGG-16 for comparison, as the slide counts it: conv1_1 ... conv3_2 (conv outputs only).
    v = summary(meta_model("vgg16"), (3, 224, 224))
    convs = [r for r in v.rows if r.type == "Conv2d"][:6]
    assert [r.output_shape[1] for r in convs] == [64, 64, 128, 128, 256, 256]
    vgg_mb = sum(r.activation_bytes for r in convs) / 2**20
    vgg_params = sum(r.params for r in convs)
    vgg_mflop = sum(r.mult_adds for r in convs) / 1e6
    assert (round(vgg_mb, 1), round(vgg_params / 1e6, 1), round(vgg_mflop)) == (42.9, 1.1, 7485)
    assert round(vgg_mb / total_mb, 1) == 5.7
    assert round(vgg_params / total_params, 1) == 9.2  # the slide: 8.9 (from rounded 1.1 M)
    assert round(vgg_mflop / total_mflop, 1) == 15.6  # the slide: 17.8 (from its 418)


@pytest.mark.parametrize(
    ("name", "size"),
    [("lenet5", (1, 1, 32, 32)), ("nin_cifar", (2, 3, 32, 32)), ("alexnet_course", (2, 3, 32, 32))],
)
def test_flop_counter_agrees_on_cpu(name: str, size: tuple[int, ...]) -> None:
    model = create_model(name)
    assert summary(model, size).totals.mult_adds == flop_counter_mult_adds(model, size)


# ---------------------------------------------------------------------------------------------
# python -m cnnlab models


def test_cli_prints_a_model_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "alexnet"]) == 0
    out = capsys.readouterr().out
    assert "features.conv1" in out and "62,378,344" in out and "Krizhevsky" in out
    assert main(["models", "lenet5_modern", "--input", "1", "28", "28"]) == 2  # image_size=28
    err = capsys.readouterr().err
    assert "layer" in err and len(err.strip().splitlines()) == 1
    assert main(["models", "vgg16", "--input", "3", "64", "64", "--num-classes", "10"]) == 0
    out = capsys.readouterr().out
    assert "1×512×2×2" in out and "1×10 " in out


def test_cli_lists_the_zoo_and_rejects_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--scale", "course"]) == 0
    out = capsys.readouterr().out
    assert "lenet5" in out and "61,706" in out and "vgg16" not in out.replace("vgg16_", "")
    assert main(["models", "vgg61"]) == 2
    assert "Did you mean" in capsys.readouterr().err


def test_cli_through_the_module_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    from cnnlab.__main__ import main as cnnlab_main

    assert cnnlab_main(["models", "nin_cifar"]) == 0
    assert "cccp6" in capsys.readouterr().out
