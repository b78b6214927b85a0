"""Model zoo part 1: LeNet, AlexNet family, VGG, NIN, Inception family, shared layers.

Parameter counts are pinned to published figures where the topology is the same (the seed's
AlexNet table, torchvision's VGG / GoogLeNet / Inception-v3, timm's Inception-v4 and
Inception-ResNet-v2, the NIN release's 7.5 M); elsewhere to our own counts, each explained in
the builder's docstring. ImageNet models are built on the "meta" device (no memory, no time).
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlab.cost import summary
from cnnlab.models import create_model, model_info
from cnnlab.models.alexnet import ALEXNET_FAMILY
from cnnlab.models.inception import (
    GOOGLENET_TABLE,
    GoogLeNetOutputs,
    InceptionOutputs,
    InceptionResidual,
)
from cnnlab.models.layers import LRN, ConvBNAct, make_activation, make_classifier
from cnnlab.models.lenet import C3_TABLE, PartialConv2d, ScaledTanh, Subsampling
from cnnlab.models.vgg import VGG_CFGS, build_vgg, fully_convolutional


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def meta_model(name: str, **options: object) -> nn.Module:
    with torch.device("meta"):
        return create_model(name, **options)


# ---------------------------------------------------------------------------------------------
# Shared layers


def test_conv_bn_act_same_padding_and_torchvision_keys() -> None:
    m = ConvBNAct(3, 8, (1, 7), stride=1)
    assert m.conv.padding == (0, 3) and m.conv.bias is None
    assert list(m.state_dict()) == [
        "conv.weight",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    plain = ConvBNAct(3, 8, 5, bn=False, act="tanh")
    assert plain.conv.bias is not None and isinstance(plain.act, nn.Tanh)
    assert plain(torch.randn(2, 3, 9, 9)).shape == (2, 8, 9, 9)
    with pytest.raises(ValueError, match="act"):
        ConvBNAct(3, 8, 3, act="relu7")
    with pytest.raises(ValueError, match="groups"):
        ConvBNAct(3, 8, 3, groups=2)
    assert make_activation(None) is None


def test_lrn_matches_the_paper_formula() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 7, 3, 4)
    k, n, alpha, beta = 2.0, 5, 1e-4, 0.75
    expected = torch.empty_like(x)
    for c in range(7):  # b = a / (k + alpha * sum over the n neighbouring maps of a^2)^beta
        lo, hi = max(0, c - n // 2), min(6, c + n // 2)
        expected[:, c] = x[:, c] / (k + alpha * (x[:, lo : hi + 1] ** 2).sum(1)) ** beta
    assert torch.allclose(LRN(n, alpha, beta, k)(x), expected, atol=1e-6)
    big = x * 100  # large enough for the normalisation to matter
    torch_lrn = nn.LocalResponseNorm(n, alpha=alpha * n, beta=beta, k=k)
    assert torch.allclose(LRN(n, alpha, beta, k)(big), torch_lrn(big), rtol=1e-5)
    halves = torch.cat([LRN()(big[:, :3]), LRN()(big[:, 3:6])], 1)
    assert torch.allclose(LRN(groups=2)(big[:, :6]), halves)


def test_make_classifier_layout() -> None:
    head = make_classifier(10, (6, 5), 3, dropout=0.2)
    assert [type(m).__name__ for m in head] == [
        "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear",
    ]  # fmt: skip
    assert head(torch.randn(4, 10)).shape == (4, 3)


# ---------------------------------------------------------------------------------------------
# LeNet-5


def test_lenet5_parameter_count_is_the_papers() -> None:
    m = create_model("lenet5")
    per_layer = {
        name: sum(p.numel() for p in mod.parameters())
        for name, mod in m.named_children()
        if any(True for _ in mod.parameters())
    }
    assert per_layer == {
        "C1": 156,
        "S2": 12,
        "C3": 1516,
        "S4": 32,
        "C5": 48120,
        "F6": 10164,
        "output": 850,
    }
    assert n_params(m) - per_layer["output"] == 60_000
    assert m(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_c3_connection_table_is_table_one_of_the_paper() -> None:
    # Table I as printed: rows are S2 maps 0-5, columns C3 maps 0-15, "X" a connection.
    printed = [
        "X   XXX  XXXX XX",
        "XX   XXX  XXXX X",
        "XXX   XXX  X XXX",
        " XXX  XXXX  X XX",
        "  XXX  XXXX XX X",
        "   XXX  XXXX XXX",
    ]
    from_paper = [tuple(i for i in range(6) if printed[i][j] == "X") for j in range(16)]
    assert tuple(from_paper) == C3_TABLE
    assert sum(len(row) for row in C3_TABLE) == 60


def test_partial_conv_equals_masked_full_convolution() -> None:
    torch.manual_seed(0)
    c3 = PartialConv2d(6, C3_TABLE, 5)
    x = torch.randn(3, 6, 14, 14)
    dense = c3.dense_weight()
    mask = torch.zeros(16, 6)
    for j, row in enumerate(C3_TABLE):
        mask[j, list(row)] = 1
    assert torch.equal(dense.abs().sum((2, 3)) > 0, mask > 0)
    assert torch.allclose(c3(x), F.conv2d(x, dense, c3.bias), atol=1e-5)
    # A permuted table (maps not sorted by fan-in) must still come out in table order.
    table = ((0, 1, 2, 3), (4,), (1, 5), (2, 3, 4))
    p = PartialConv2d(6, table, 3)
    assert torch.allclose(p(x), F.conv2d(x, p.dense_weight(), p.bias), atol=1e-5)
    with pytest.raises(ValueError, match="distinct input maps"):
        PartialConv2d(6, ((0, 0),), 3)


def test_subsampling_and_squashing() -> None:
    torch.manual_seed(0)
    s = Subsampling(4)
    x = torch.randn(2, 4, 6, 6)
    ones = torch.ones(4, 1, 2, 2) * s.weight.detach().view(4, 1, 1, 1)
    expected = F.conv2d(x, ones, s.bias.detach(), stride=2, groups=4)
    assert torch.allclose(s(x), expected, atol=1e-6)
    f = ScaledTanh()
    values = f(torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.allclose(values, torch.tensor([-1.0, 0.0, 1.0]), atol=2e-4)  # f(±1) = ±1


def test_lenet5_rejects_28x28_naming_c5() -> None:
    with pytest.raises(ValueError, match=r"layer 'C5' .* needs at least 5×5 input, got 4×4"):
        create_model("lenet5")(torch.randn(1, 1, 28, 28))


def test_lenet5_modern() -> None:
    m = create_model("lenet5_modern")
    assert n_params(m) == 61_706
    m28 = create_model("lenet5_modern", image_size=28, pool="avg")
    assert n_params(m28) == 61_706
    assert m28(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert isinstance(m28.pool1, nn.AvgPool2d)
    with pytest.raises(ValueError, match="pool"):
        create_model("lenet5_modern", pool="median")
    with pytest.raises(ValueError, match="image_size"):
        create_model("lenet5_modern", image_size=30)
    with pytest.raises(TypeError, match="lenet5_modern"):
        create_model("lenet5_modern", depth=3)


# ---------------------------------------------------------------------------------------------
# AlexNet family


# The seed's AlexNet table: layer, output (H, W, C), parameters.
ALEXNET_SEED_TABLE = [
    ("conv1", (55, 55, 96), 34944),
    ("pool1", (27, 27, 96), 0),
    ("conv2", (27, 27, 256), 614656),
    ("pool2", (13, 13, 256), 0),
    ("conv3", (13, 13, 384), 885120),
    ("conv4", (13, 13, 384), 1327488),
    ("conv5", (13, 13, 256), 884992),
    ("pool5", (6, 6, 256), 0),
    ("fc6", (4096,), 37752832),
    ("fc7", (4096,), 16781312),
    ("fc8", (1000,), 4097000),
]


def test_alexnet_reproduces_the_seed_table() -> None:
    s = summary(meta_model("alexnet"), (3, 227, 227))
    rows = {r.name.split(".")[-1]: r for r in s.rows}
    for layer, out, params in ALEXNET_SEED_TABLE:
        r = rows[layer]
        shape = r.output_shape[1:]
        hwc = (shape[1], shape[2], shape[0]) if len(shape) == 3 else shape
        assert (hwc, r.params) == (out, params), layer
    assert s.totals.params == 62_378_344
    fc = sum(rows[k].params for k in ("fc6", "fc7", "fc8"))
    # The seed: "about 57 M parameters in the FC layers (about 95 %)"; its own rows give
    # 58,631,144, i.e. 94.0 %.
    assert fc == 58_631_144 and round(100 * fc / s.totals.params) == 94
    # The seed's neuron counts for layers 2-5 (its 253,440 for layer 1 is the 224 confusion).
    for layer, neurons in [("conv2", 186624), ("conv3", 64896), ("conv5", 43264)]:
        assert rows[layer].activations == neurons


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alexnet", 62_378_344),
        ("alexnet_2gpu", 60_965_224),
        ("zfnet", 62_357_608),
        ("overfeat_fast", 145_920_872),
        ("overfeat_accurate", 144_656_488),
        ("cnn_f", 60_834_536),
        ("cnn_m", 102_908_520),
        ("cnn_s", 102_908_520),
        ("alexnet_course", 1_790_154),
    ],
)
def test_alexnet_family_parameter_counts(name: str, expected: int) -> None:
    assert n_params(meta_model(name)) == expected


def test_alexnet_2gpu_is_grouped_where_the_paper_splits() -> None:
    m = meta_model("alexnet_2gpu")
    groups = {n: c.groups for n, c in m.features.named_children() if isinstance(c, nn.Conv2d)}
    assert groups == {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}
    assert m.features.norm1.groups == 2
    # conv2, conv4, conv5 each lose half their weights: 307,200 + 663,552 + 442,368.
    assert n_params(meta_model("alexnet")) - n_params(m) == 1_413_120


@pytest.mark.parametrize(
    ("name", "sizes"),
    [
        ("zfnet", [110, 55, 26, 13, 13, 13, 13, 6]),
        ("overfeat_fast", [56, 28, 24, 12, 12, 12, 12, 6]),
        ("overfeat_accurate", [108, 36, 30, 15, 15, 15, 15, 15, 5]),
        ("cnn_f", [54, 27, 27, 13, 13, 13, 13, 6]),
        ("cnn_m", [109, 54, 26, 13, 13, 13, 13, 6]),
        ("cnn_s", [109, 37, 35, 18, 18, 18, 18, 6]),
    ],
)
def test_alexnet_successors_map_sizes(name: str, sizes: list[int]) -> None:
    s = summary(meta_model(name), model_info(name).input_size)
    got = [r.output_shape[-1] for r in s.rows if r.type in ("Conv2d", "MaxPool2d")]
    assert got == sizes
    assert s.rows[-1].output_shape == (1, 1000)


def test_alexnet_family_dropout_option_and_errors() -> None:
    m = meta_model("cnn_m", dropout=0.3, num_classes=20)
    assert m.classifier.drop6.p == 0.3 and m.classifier.fc8.out_features == 20
    with pytest.raises(ValueError, match="dropout"):
        create_model("alexnet_course", dropout=1.5)
    assert set(ALEXNET_FAMILY) >= {"alexnet", "zfnet", "cnn_s"}
    assert model_info("clarifai").name == "zfnet"


def test_alexnet_at_224_fails_naming_fc6() -> None:
    with pytest.raises(ValueError, match=r"layer 'classifier.fc6' .* 9216 input features"):
        meta_model("alexnet")(torch.empty(1, 3, 224, 224, device="meta"))


# ---------------------------------------------------------------------------------------------
# VGG


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("vgg11", 132_863_336),
        ("vgg11_lrn", 132_863_336),
        ("vgg13", 133_047_848),
        ("vgg16_1x1", 133_638_952),
        ("vgg16", 138_357_544),
        ("vgg19", 143_667_240),
        ("vgg11_bn", 132_868_840),
        ("vgg13_bn", 133_053_736),
        ("vgg16_bn", 138_365_992),
        ("vgg19_bn", 143_678_248),
        ("vgg11_course", 9_750_922),
        ("vgg16_bn_course", 15_253_578),
    ],
)
def test_vgg_parameter_counts(name: str, expected: int) -> None:
    # Table 2 of the paper: 133, 133, 133, 134, 138, 144 million; torchvision's exact counts.
    assert n_params(meta_model(name)) == expected


def _torchvision_vgg_keys(cfg: tuple[object, ...], batch_norm: bool) -> list[str]:
    """State-dict keys of torchvision's VGG, written out from its make_layers rules."""
    keys, i = [], 0
    for v in cfg:
        if v == "M":
            i += 1
            continue
        keys += [f"features.{i}.weight", f"features.{i}.bias"]
        if batch_norm:
            keys += [
                f"features.{i + 1}.{k}"
                for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
            ]
        i += 3 if batch_norm else 2
    return keys + [f"classifier.{j}.{k}" for j in (0, 3, 6) for k in ("weight", "bias")]


@pytest.mark.parametrize(("name", "cfg"), [("vgg16", "D"), ("vgg19_bn", "E"), ("vgg11", "A")])
def test_vgg_state_dict_keys_match_torchvision(name: str, cfg: str) -> None:
    m = meta_model(name)
    assert list(m.state_dict()) == _torchvision_vgg_keys(VGG_CFGS[cfg], name.endswith("_bn"))


def test_vgg_configurations_depths() -> None:
    weight_layers = {
        k: sum(isinstance(v, (int, tuple)) for v in c) + 3 for k, c in VGG_CFGS.items()
    }
    assert weight_layers == {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}
    m = meta_model("vgg16_1x1")
    kernels = [c.kernel_size for c in m.features if isinstance(c, nn.Conv2d)]
    assert kernels.count((1, 1)) == 3
    assert isinstance(meta_model("vgg11_lrn").features[2], LRN)


def test_vgg_fully_convolutional_dense_evaluation() -> None:
    torch.manual_seed(0)
    m = build_vgg("A", width_mult=1 / 16).eval()  # 4-8-16-32-32 maps, fc6 on 7×7×32
    dense = fully_convolutional(m).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(dense(x).flatten(1), m(x), atol=1e-5)
        assert dense(torch.randn(1, 3, 288, 256)).shape == (1, 1000, 3, 2)
    with pytest.raises(TypeError, match="VGG"):
        fully_convolutional(nn.Linear(2, 2))


def test_vgg_course_width_and_errors() -> None:
    m = create_model("vgg11_bn_course", width_mult=0.25, num_classes=4)
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, 4)
    assert m.features[0].out_channels == 16
    with pytest.raises(ValueError, match="width_mult"):
        create_model("vgg11_course", width_mult=0)
    with pytest.raises(TypeError, match="vgg16"):
        create_model("vgg16", width_mult=0.5)  # ImageNet names take no width option
    with pytest.raises(ValueError, match=r"'features.28' \(MaxPool2d 2×2/2\) needs at least 2×2"):
        m.eval()(torch.randn(1, 3, 16, 16))


# ---------------------------------------------------------------------------------------------
# Network in Network


def test_nin_counts_and_no_fully_connected_layer() -> None:
    m = meta_model("nin")
    assert n_params(m) == 7_595_176  # the seed: 7.5 M parameters (29 MB) vs AlexNet's 60 M
    assert n_params(m) * 4 / 2**20 == pytest.approx(29.0, abs=0.1)
    c = create_model("nin_cifar")
    assert n_params(c) == 966_986
    for model in (m, c):
        assert not any(isinstance(x, nn.Linear) for x in model.modules())
    convs = [x for x in c.modules() if isinstance(x, nn.Conv2d)]
    assert [x.out_channels for x in convs] == [192, 160, 96, 192, 192, 192, 192, 192, 10]
    assert c(torch.randn(2, 3, 32, 32)).shape == (2, 10)


# ---------------------------------------------------------------------------------------------
# Inception family


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("googlenet", {}, 6_998_552),  # the Caffe bvlc_googlenet release without aux heads
        ("googlenet", {"aux_logits": True}, 13_378_280),
        ("googlenet", {"batch_norm": True, "lrn": False, "branch3_kernel": 3}, 6_624_904),
        (
            "googlenet",
            {"batch_norm": True, "lrn": False, "branch3_kernel": 3, "aux_logits": True},
            13_004_888,
        ),  # torchvision's googlenet(aux_logits=True)
        ("googlenet_course", {}, 5_976_122),
        ("bn_inception", {}, 11_285_224),
        ("inception_v3", {}, 23_834_568),  # torchvision, aux_logits=False
        ("inception_v3", {"aux_logits": True}, 27_161_264),  # torchvision default
        ("inception_v4", {}, 42_679_816),  # timm / Cadene ports of the TF release
        ("inception_resnet_v2", {}, 55_843_464),
    ],
)
def test_inception_parameter_counts(name: str, options: dict[str, object], expected: int) -> None:
    assert n_params(meta_model(name, **options)) == expected


def test_googlenet_module_table_output_widths_and_ops() -> None:
    # Table 1: output depth and "ops" (multiply-adds, millions) of every inception module.
    depth = {"3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528, "4e": 832,
             "5a": 832, "5b": 1024}  # fmt: skip
    ops = {"3a": 128, "3b": 304, "4a": 73, "4b": 88, "4c": 100, "4d": 119, "4e": 170, "5b": 71}
    m = meta_model("googlenet")
    s = summary(m, (3, 224, 224))
    for name in GOOGLENET_TABLE:
        module = getattr(m, f"inception{name}")
        assert module.out_channels == depth[name]
        total = sum(r.mult_adds for r in s.rows if r.name.startswith(f"inception{name}."))
        if name in ops:
            assert round(total / 1e6) == pytest.approx(ops[name], abs=1), name
    # The paper prints 54 M for 5a; its filter counts give 51.1 M.
    five_a = sum(r.mult_adds for r in s.rows if r.name.startswith("inception5a."))
    assert five_a == 49 * (832 * (256 + 160 + 32 + 128) + 160 * 9 * 320 + 32 * 25 * 128)
    assert five_a == 51_079_168
    assert s.totals.mult_adds == 1_582_671_872  # "1.5 billion multiply-adds"


def test_googlenet_key_layout_and_aux_outputs() -> None:
    m = create_model("googlenet_course", aux_logits=True, width_mult=0.125, num_classes=5)
    keys = set(m.state_dict())
    assert {"inception3a.branch2.1.conv.weight", "aux1.fc1.weight", "aux2.conv.conv.bias"} <= keys
    x = torch.randn(2, 3, 32, 32)
    out = m.train()(x)
    assert isinstance(out, GoogLeNetOutputs) and all(o.shape == (2, 5) for o in out)
    assert m.eval()(x).shape == (2, 5)
    tv = meta_model("googlenet", batch_norm=True, lrn=False, branch3_kernel=3)
    assert tv.inception3a.branch3[1].conv.kernel_size == (3, 3)
    assert "inception3a.branch3.1.bn.running_var" in tv.state_dict()
    with pytest.raises(ValueError, match="branch3_kernel"):
        create_model("googlenet", branch3_kernel=7)


def test_inception_v3_torchvision_names_and_aux() -> None:
    m = meta_model("inception_v3", aux_logits=True)
    keys = set(m.state_dict())
    expected = {
        "Conv2d_1a_3x3.conv.weight",
        "Mixed_5b.branch5x5_2.bn.running_mean",
        "Mixed_6e.branch7x7dbl_5.conv.weight",
        "Mixed_7c.branch3x3dbl_3b.conv.weight",
        "AuxLogits.conv1.conv.weight",
        "AuxLogits.fc.bias",
        "fc.weight",
    }
    assert expected <= keys
    out = m.train()(torch.empty(2, 3, 299, 299, device="meta"))
    assert isinstance(out, InceptionOutputs) and out.aux_logits.shape == (2, 1000)
    assert m.eval()(torch.empty(1, 3, 299, 299, device="meta")).shape == (1, 1000)


def test_bn_inception_widths() -> None:
    m = meta_model("bn_inception")
    widths = {n: mod.out_channels for n, mod in m.named_children() if n.startswith("inception")}
    assert widths == {
        "inception3a": 256, "inception3b": 320, "inception3c": 576, "inception4a": 576,
        "inception4b": 576, "inception4c": 608, "inception4d": 608, "inception4e": 1056,
        "inception5a": 1024, "inception5b": 1024,
    }  # fmt: skip
    s = summary(m, (3, 224, 224))
    assert s.rows[-1].output_shape == (1, 1000)
    assert [r.output_shape[-1] for r in s.rows if r.name.endswith("branch2.1.conv")] == [
        28, 28, 14, 14, 14, 14, 14, 7, 7, 7,
    ]  # fmt: skip


def test_inception_resnet_residual_scaling() -> None:
    torch.manual_seed(0)
    from cnnlab.models.inception import IRV2_A

    block = InceptionResidual(16, IRV2_A, scale=0.0).eval()
    x = torch.randn(2, 16, 9, 9)
    assert torch.equal(block(x), F.relu(x))  # scale 0: the block is the identity (then ReLU)
    scaled = copy.deepcopy(block)
    scaled.scale = 0.3
    y = scaled.branches(x)
    assert torch.allclose(scaled(x), F.relu(x + 0.3 * scaled.up(y)), atol=1e-6)
    m = meta_model("inception_resnet_v2", residual_scale=(0.1, 0.2, 0.3))
    assert [m.block_a[0].scale, m.block_b[0].scale, m.block_c[0].scale] == [0.1, 0.2, 0.3]
    assert m.block_c[-1].scale == 1.0 and m.block_c[-1].act is None
    assert [len(m.block_a), len(m.block_b), len(m.block_c)] == [10, 20, 10]
    with pytest.raises(TypeError, match="residual_scale"):
        create_model("inception_resnet_v2", residual_scale="big")


def test_inception_v4_stem_and_grid_sizes() -> None:
    m = meta_model("inception_v4")
    shapes: dict[str, tuple[int, ...]] = {}
    for name in ("stem", "inception_a", "reduction_a", "inception_b", "reduction_b"):
        getattr(m, name).register_forward_hook(
            lambda mod, args, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
        )
    s = summary(m, (3, 299, 299))
    assert shapes == {
        "stem": (384, 35, 35),
        "inception_a": (384, 35, 35),
        "reduction_a": (1024, 17, 17),
        "inception_b": (1024, 17, 17),
        "reduction_b": (1536, 8, 8),
    }
    assert s.rows[-1].output_shape == (1, 1000)


# ---------------------------------------------------------------------------------------------
# Docstrings


PART_ONE = ("lenet", "alexnet", "vgg", "nin", "inception")


def test_builder_docstrings_cite_the_paper_and_state_true_counts() -> None:
    import re

    from cnnlab.models import list_models

    checked = 0
    for name in list_models():
        info = model_info(name)
        module = info.builder.__module__.rsplit(".", 1)[-1]
        if module not in PART_ONE:
            continue
        doc = info.builder.__doc__ or ""
        assert "eviation" in doc, f"{name}: the docstring must state its deviations"
        assert info.paper, name
        match = re.search(r"(\d{1,3}(?:,\d{3})+)\s+param", doc)
        if match:
            assert n_params(meta_model(name)) == int(match.group(1).replace(",", "")), name
            checked += 1
    assert checked >= 35
