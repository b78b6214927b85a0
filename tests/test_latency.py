"""cnnlab.latency: the measurement restores what it changes, the fit and the Pareto front."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cnnlab.latency import fit_latency, measure_latency, pareto_front


class SlowStart(nn.Module):
    """Counts its calls and the grad mode and training flag it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(3)
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((torch.is_grad_enabled(), self.training))
        return self.bn(x)


def test_measure_warms_up_runs_in_eval_mode_and_restores() -> None:
    model = SlowStart().train()
    threads = torch.get_num_threads()
    before = model.bn.running_mean.clone()
    result = measure_latency(model, (3, 8, 8), repeats=4, warmup=3)
    assert len(model.calls) == 7 and len(result.times_ms) == 4
    assert all(grad is False and training is False for grad, training in model.calls)
    assert model.training and torch.get_num_threads() == threads
    assert torch.equal(model.bn.running_mean, before)  # eval: running statistics untouched
    assert result.input_shape == (1, 3, 8, 8) and result.threads == 1
    assert min(result.times_ms) <= result.median_ms <= max(result.times_ms)


def test_measure_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(nn.Identity(), (3, 4, 4), repeats=0)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        measure_latency(nn.Identity(), (4, 4))


def test_fit_is_the_geometric_mean_rate() -> None:
    fit = fit_latency({"a": 1.0, "b": 4.0}, {"a": 10.0, "b": 160.0})
    assert fit.ms_per_gmac == pytest.approx(20.0)  # sqrt(10 · 40)
    assert fit.ratio["a"] == pytest.approx(0.5) and fit.ratio["b"] == pytest.approx(2.0)
    assert math.prod(fit.ratio.values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same"):
        fit_latency({"a": 1.0}, {"b": 1.0})


def test_pareto_front_keeps_ties_and_drops_dominated() -> None:
    rows = [("a", 1, 5), ("b", 2, 4), ("c", 2, 5), ("d", 1, 5), ("e", 3, 4)]
    assert pareto_front(rows) == {"a", "b", "d"}
    assert pareto_front([]) == set()


def test_the_comparison_table_quotes_its_sources() -> None:
    """Every error in ``published/comparing`` appears in the topic table its row names (as an
    error, or as the accuracy 100 - error)."""
    from cnnlab.published import Table, get_table, list_tables

    table = get_table("comparing", "imagenet")
    for row in table.records():
        topic = row["from"].split("/")[0]
        values: set[float] = set()
        for name in list_tables([topic]):
            t: Table = get_table(*name.split("/"))
            values |= {v for r in t.rows for v in r if isinstance(v, float)}
        for key in ("top1", "top5"):
            v = row[key]
            assert v is None or v in values or round(100 - v, 1) in values, (row["model"], key)
