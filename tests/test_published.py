"""Published tables as data, and the cost-breakdown figure that sits beside them."""

from __future__ import annotations

import pytest
import torch

from cnnlab.cost import summary
from cnnlab.models import create_model
from cnnlab.plots import plot_cost_breakdown
from cnnlab.published import Table, get_table, list_tables

TOY = Table(
    "toy",
    "A. Author, 2024",
    ("model", "top5"),
    (("a", 15.3), ("b", None)),
    units=(("top5", "%"),),
    note="validation set",
)


def test_table_access_and_rendering() -> None:
    assert TOY.column("top5") == [15.3, None]
    assert TOY.where(model="a") == [{"model": "a", "top5": 15.3}]
    assert "top5 (%)" in TOY._repr_html_() and "A. Author, 2024" in TOY._repr_html_()
    text = str(TOY)
    assert text.splitlines()[0] == "toy (A. Author, 2024)" and "—" in text
    with pytest.raises(ValueError, match="no column 'top1'"):
        TOY.column("top1")
    with pytest.raises(ValueError, match="do not have"):
        Table("bad", "src", ("a", "b"), ((1,),))


def test_every_published_table_has_a_source_and_is_found_by_name() -> None:
    for qualified in list_tables():
        topic, name = qualified.split("/")
        table = get_table(topic, name)
        assert table.source.strip() and table.rows, qualified
    with pytest.raises(ValueError, match="no published tables for topic 'nope'"):
        get_table("nope", "x")


def test_cost_breakdown_shows_where_alexnet_keeps_its_weights() -> None:
    with torch.device("meta"):
        model = create_model("alexnet")
    fig = plot_cost_breakdown(summary(model, (3, 227, 227)), title="AlexNet")
    params, mult_adds = fig.axes
    assert "Linear 94%" in params.get_title() and "Conv2d 95%" in mult_adds.get_title()
    assert len(params.patches) == 8  # five convolutions, three FC layers
    with pytest.raises(ValueError, match="no layers of types"):
        plot_cost_breakdown(summary(model, (3, 227, 227)), types=("LSTM",))
