"""The DenseNet explorer: its state agrees with build_densenet, errors show a banner, and its
repr is short and deterministic."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from cnnlab.models.densenet import build_densenet, densenet_40_12, densenet_bc_100_12
from cnnlab.widgets.densenet_explorer import densenet_explorer, densenet_state, draw_densenet


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("k", "layers", "blocks", "bc", "theta"),
    [(12, 16, 3, True, 0.5), (12, 12, 3, False, 1.0), (5, 3, 2, True, 0.3), (7, 2, 4, False, 0.5)],
)
def test_state_matches_the_real_densenet(k: int, layers: int, blocks: int, bc: bool, theta: float):
    st = densenet_state(k, layers, blocks, bc, theta, classes=10)
    with torch.device("meta"):
        model = build_densenet(
            k, [layers] * blocks, num_init_features=2 * k if bc else 16,
            bn_size=4 if bc else None, compression=theta, stem="cifar", num_classes=10,
        )  # fmt: skip
    assert st.params == _count(model)
    assert st.final_channels == model.num_features
    dense = [r for r in st.rows if r.kind == "dense"]
    first = min(layers, 3)  # the layers of block 1 read c0, c0 + k, c0 + 2k, ...
    assert [r.c_in for r in dense[:first]] == [st.init_channels + i * k for i in range(first)]


def test_paper_models_and_depths() -> None:
    bc100, d40 = densenet_state(12, 16, 3, True, 0.5), densenet_state(12, 12, 3, False, 1.0)
    with torch.device("meta"):
        assert bc100.params == _count(densenet_bc_100_12()) == 769_162
        assert d40.params == _count(densenet_40_12()) == 1_019_722
    assert (bc100.depth, d40.depth) == (100, 40)


def test_state_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="compression must be in"):
        densenet_state(compression=0.0)
    with pytest.raises(ValueError, match="growth_rate"):
        densenet_state(growth_rate=0)
    with pytest.raises(TypeError, match="bottleneck"):
        densenet_state(bottleneck="yes")


def test_explorer_updates_shows_errors_and_has_a_short_repr() -> None:
    w = densenet_explorer()
    assert repr(w) == (
        "DenseNetExplorer(k=12, 3×16 layers, bottleneck=True, θ=0.5: 769,162 parameters)"
    )
    assert "769,162 parameters" in w.summary.value and w.image.value[:4] == b"\x89PNG"
    w.growth_rate.value = 24
    assert w.state.growth_rate == 24 and w.state.params > 769_162
    w.compression.value = 0.0  # the slider allows 0, the formula does not
    assert w.error and "compression must be in" in w.message.value and "⚠" in w.message.value
    assert w.state.compression == 0.5 and w.image.layout.display == "none"
    assert repr(w).startswith("DenseNetExplorer(invalid input: compression must be in")
    w.compression.value = 1.0
    assert w.error is None and w.state.compression == 1.0
    assert plt.get_fignums() == []


def test_draw_has_two_panels() -> None:
    fig = draw_densenet(densenet_state(8, 4, 3))
    assert len(fig.axes) == 2 and "depth" in fig._suptitle.get_text()
