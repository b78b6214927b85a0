"""The first code cell of every notebook: ``sizes = setup(topic=N, profile=profile, seed=seed)``.

It fixes what makes a notebook reproducible and nbval-comparable — seeds, one CPU thread
(1 vs 2 threads give different bits), PNG inline figures (SVG embeds a date) — checks the
papermill parameters and returns the topic's sizes for the profile (from the course manifest).
Called explicitly; importing cnnlab changes nothing.

``seed_everything`` is the course's one seeding function: ``setup``, the training CLI and the
experiments all call it.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from cnnlab._validate import as_int, as_threads
from cnnlab.profiles import check_profile


def seed_everything(seed: object, threads: object | None = 1) -> int:
    """Seed Python, NumPy and torch (every device) and fix the CPU thread count; return seed.

    Same seed and same thread count give bit-identical CPU training; a different thread count
    changes the order of float reductions and so the last bits. ``threads=None`` leaves it.
    """
    seed = as_int(seed, "seed", minimum=0)
    if seed >= 2**64:  # torch's generators take 64 bits; more fails inside torch.manual_seed
        raise ValueError(f"seed must be below 2**64, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy seed takes 32 bits
    torch.manual_seed(seed)
    if threads is not None:
        torch.set_num_threads(as_threads(threads))
    return seed


def setup(
    *, topic: object = None, profile: object = "quick", seed: object = 0, threads: object = 1
) -> dict[str, Any]:
    """Seed everything, fix torch's CPU threads, configure inline figures, print one line about
    this machine (``python -m cnnlab doctor`` has the details); return the sizes.

    ``topic`` (number or slug) selects the manifest row whose sizes for ``profile`` are
    returned (an empty dict without a topic). Raises a clear ``TypeError``/``ValueError`` for a
    wrong ``topic``, ``profile`` or ``seed`` (the usual papermill mistake is ``-p profile 1``).
    """
    check_profile(profile)
    sizes: dict[str, Any] = {}
    if topic is not None:
        from cnnlab.course.manifest import get_topic

        sizes = get_topic(topic).profile_sizes(profile)
    seed_everything(seed, threads)
    _configure_inline_figures()
    from cnnlab.course.doctor import summary_line

    print(summary_line())  # one line; tests/nbval_sanitize.cfg makes it machine-independent
    return sizes


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
