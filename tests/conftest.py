"""Shared test settings: a non-interactive matplotlib backend and one CPU thread.

The backend is set with ``matplotlib.use`` rather than the MPLBACKEND variable: an exported
MPLBACKEND would leak into nbval's kernels and silently remove every notebook figure.
"""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _one_thread_and_seed() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
