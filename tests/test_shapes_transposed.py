"""shapes.transposed_conv_output_size agrees with nn.ConvTranspose2d and undoes a conv's shape."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from cnnlab import shapes

_GRID = itertools.product((1, 5, 16), (1, 2, 3, 4), (1, 2, 3), (0, 1), (0, 1), (1, 2))


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "op", "d"), [g for g in _GRID if g[4] < max(g[2], g[5])]
)
def test_matches_conv_transpose2d(n: int, k: int, s: int, p: int, op: int, d: int) -> None:
    layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d)
    expected = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if expected < 1:
        with pytest.raises(ValueError, match="leaves no output"):
            shapes.transposed_conv_output_size(n, k, s, p, op, d)
        return
    out = layer(torch.zeros(1, 1, n, n))
    assert out.shape[-1] == shapes.transposed_conv_output_size(n, k, s, p, op, d) == expected


@pytest.mark.parametrize(("n", "k", "s", "p"), [(32, 2, 2, 0), (32, 4, 2, 1), (28, 5, 1, 2)])
def test_undoes_the_shape_of_the_matching_convolution(n: int, k: int, s: int, p: int) -> None:
    down = shapes.conv_output_size(n, k, stride=s, padding=p)
    assert shapes.transposed_conv_output_size(down, k, s, p) == n


def test_rejects_an_output_padding_as_large_as_the_stride() -> None:
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        shapes.transposed_conv_output_size(8, 3, stride=2, output_padding=2)
