"""Topic 9's uses of the Inception models: the paper's counts, and the auxiliary-loss wrapper
gives exactly the gradient of the paper's weighted total loss."""

from __future__ import annotations

import torch

from cnnlab.cost import summary
from cnnlab.experiments.googlenet import AuxLoss, total_loss
from cnnlab.models import create_model


def test_googlenet_counts() -> None:
    with torch.device("meta"):
        plain, aux = create_model("googlenet"), create_model("googlenet", aux_logits=True)
    assert summary(plain, (3, 224, 224)).totals.params == 6_998_552
    assert sum(p.numel() for p in aux.parameters()) - 6_998_552 == 6_379_728


def test_aux_loss_wrapper_gives_the_weighted_total_loss_gradient() -> None:
    torch.manual_seed(0)
    model = create_model(
        "googlenet_course", aux_logits=True, batch_norm=True, lrn=False, width_mult=0.125
    ).double()
    x, y = torch.randn(5, 3, 16, 16, dtype=torch.float64), torch.randint(0, 10, (5,))
    torch.manual_seed(1)
    total_loss(model(x), y).backward()
    want = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    torch.manual_seed(1)
    torch.nn.functional.cross_entropy(AuxLoss(model)(x), y).backward()
    for w, p in zip(want, model.parameters(), strict=True):
        assert torch.allclose(p.grad, w, rtol=1e-10, atol=1e-12)
    model.eval()
    assert AuxLoss(model)(x).shape == (5, 10)


def test_topic_figures_draw() -> None:
    from cnnlab.figures.googlenet import draw_inception_module, plot_top5
    from cnnlab.models.inception import GOOGLENET_TABLE
    from cnnlab.published import get_table

    fig = draw_inception_module(192, 28, GOOGLENET_TABLE["3a"], title="3a")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "concatenate: 64+128+32+32 = 256 maps" in texts and "5×5 conv\n32 maps" in texts
    table = get_table("googlenet", "single_crop")
    fig = plot_top5([table, table], ["a", "b"], highlight="v4")
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "a"
