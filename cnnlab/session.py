"""The first code cell of every notebook: ``cnnlab.session.setup(profile=profile, seed=seed)``.

It fixes what makes a notebook reproducible and nbval-comparable — seeds, one CPU thread
(1 vs 2 threads give different bits), PNG inline figures (SVG embeds a date) — and checks the
papermill parameters. Called explicitly; importing cnnlab changes nothing.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from cnnlab._validate import as_int
from cnnlab.profiles import check_profile


def setup(*, profile: object = "quick", seed: object = 0, threads: object = 1) -> None:
    """Seed Python/NumPy/torch, fix torch's CPU threads, configure inline figures.

    Raises a clear ``TypeError``/``ValueError`` for a wrong ``profile`` or ``seed`` (the usual
    papermill mistake is ``-p profile 1`` or ``-p seed abc``).
    """
    check_profile(profile)
    seed = as_int(seed, "seed", minimum=0)
    threads = as_int(threads, "threads", minimum=1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    _configure_inline_figures()


def _configure_inline_figures() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to configure
        return
    ip = get_ipython()
    if ip is None:
        return
    import matplotlib

    ip.run_line_magic("matplotlib", "inline")
    # PNG is skipped by nbval's comparison; SVG would embed a changing date.
    ip.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
    matplotlib.rcParams.update(
        {"figure.dpi": 80, "figure.figsize": (6.0, 3.5), "image.cmap": "gray"}
    )
