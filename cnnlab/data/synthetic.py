"""The "shapes" dataset: ten classes of shapes and textures, generated procedurally.

Every image is drawn from numpy's PCG64 generator with elementwise IEEE arithmetic only
(+, -, *, /, sqrt, comparisons): no sin/cos/exp/log, no float reductions and no Gaussian
sampling, whose results can differ in the last bit between CPUs and libm builds. The images are
quantised to uint8, so the same seed gives bit-identical bytes on any machine.

Samples are generated in fixed chunks, each from its own seed sequence ``(seed, stream, chunk)``,
so the first ``n`` samples do not depend on how many are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab._limits import check_memory
from cnnlab._validate import as_int, check_choice

CLASSES: tuple[str, ...] = (
    "disk",
    "ring",
    "square",
    "frame",
    "triangle",
    "plus",
    "cross",
    "h-stripes",
    "v-stripes",
    "checker",
)
CHUNK = 500  # samples per seed sequence; a multiple of 10 keeps every chunk balanced
# float64 planes of CHUNK×size×size alive at once while a chunk is rendered (measured: the
# noise, background and image hold 3 each, coordinates and coverage about 8 more)
_WORK_PLANES = 21
_SQRT3_2 = 0.8660254037844386  # sqrt(3)/2, written out so no libm call is involved
_SQRT1_2 = 0.7071067811865476  # sqrt(1/2)


@dataclass(frozen=True)
class _Difficulty:
    scale: tuple[float, float]  # shape radius as a fraction of the image side
    jitter: float  # centre offset from the middle, fraction of the side
    turn: float  # max tan(angle/2) of the rotation
    noise: float  # amplitude of the uniform pixel noise
    contrast: float  # minimum brightness gap between shape and background
    tint: float  # how far each colour channel strays from the base brightness
    gradient: float  # amplitude of the background's linear brightness ramp
    distractor: float  # probability of a small extra dot


DIFFICULTIES: dict[str, _Difficulty] = {
    "easy": _Difficulty((0.28, 0.38), 0.08, 0.09, 0.04, 0.45, 0.2, 0.0, 0.0),
    "medium": _Difficulty((0.20, 0.36), 0.16, 0.18, 0.10, 0.30, 0.4, 0.15, 0.0),
    "hard": _Difficulty((0.16, 0.34), 0.22, 0.27, 0.16, 0.22, 0.6, 0.30, 0.5),
}


def make_shapes(
    n: int, *, seed: int = 0, size: int = 32, difficulty: str = "medium", stream: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` shape images: ``(images, labels)``.

    ``images`` is uint8 of shape (n, 3, size, size); ``labels`` is int64 of shape (n,) with values
    in 0..9 (names in ``CLASSES``), balanced within every chunk of 500. ``stream`` separates
    independent pools of the same seed (the loader uses 0 for train/val and 1 for test).
    """
    n = as_int(n, "n", minimum=0)
    seed = as_int(seed, "seed", minimum=0)
    size = as_int(size, "size", minimum=8)
    stream = as_int(stream, "stream", minimum=0)
    level = DIFFICULTIES[check_choice(difficulty, "difficulty", DIFFICULTIES)]
    check_memory(
        n * 3 * size * size + (CHUNK * size * size * 8 * _WORK_PLANES if n else 0),
        f"generating {n:,} 'shapes' images of 3×{size}×{size}",
        "ask for fewer or smaller images (the course uses size 32)",
    )
    images = np.empty((n, 3, size, size), dtype=np.uint8)
    labels = np.empty(n, dtype=np.int64)
    for chunk, start in enumerate(range(0, n, CHUNK)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, chunk])))
        stop = min(start + CHUNK, n)
        imgs, labs = _render_chunk(rng, size, level)
        images[start:stop] = imgs[: stop - start]
        labels[start:stop] = labs[: stop - start]
    return images, labels


def _render_chunk(
    rng: np.random.Generator, size: int, p: _Difficulty
) -> tuple[np.ndarray, np.ndarray]:
    """One full chunk of CHUNK images; the draw order is part of the dataset's definition."""
    m = CHUNK
    labels = rng.permutation(np.arange(m, dtype=np.int64) % len(CLASSES))
    u01 = rng.random((m, 16))  # every per-image parameter, one column each
    lo, hi = p.scale
    radius = (lo + (hi - lo) * u01[:, 0]) * size
    cx = (0.5 + p.jitter * (2.0 * u01[:, 1] - 1.0)) * size
    cy = (0.5 + p.jitter * (2.0 * u01[:, 2] - 1.0)) * size
    t = p.turn * (2.0 * u01[:, 3] - 1.0)  # rotation as tan(angle/2): exact rational cos/sin
    cos = (1.0 - t * t) / (1.0 + t * t)
    sin = 2.0 * t / (1.0 + t * t)
    base_bg = u01[:, 4]
    fg = base_bg + p.contrast + (1.0 - 2.0 * p.contrast) * u01[:, 5]
    base_fg = np.where(fg >= 1.0, fg - 1.0, fg)
    tints = rng.random((m, 6)) - 0.5
    bg_rgb = np.clip(base_bg[:, None] + p.tint * tints[:, :3], 0.0, 1.0)
    fg_rgb = np.clip(base_fg[:, None] + p.tint * tints[:, 3:], 0.0, 1.0)
    cycles = 2.5 + u01[:, 6]  # stripes and checks across the textured square
    thick = 0.22 + 0.1 * u01[:, 7]  # bar half-width of plus/cross, fraction of radius
    grad_x = p.gradient * (2.0 * u01[:, 8] - 1.0)
    grad_y = p.gradient * (2.0 * u01[:, 9] - 1.0)
    dot = u01[:, 10] < p.distractor
    dot_x = (0.1 + 0.8 * u01[:, 11]) * size
    dot_y = (0.1 + 0.8 * u01[:, 12]) * size
    dot_level = u01[:, 13]
    noise = p.noise * (2.0 * rng.random((m, 3, size, size)) - 1.0)

    pix = np.arange(size, dtype=np.float64) + 0.5  # pixel centres
    dx = pix[None, None, :] - cx[:, None, None]
    dy = pix[None, :, None] - cy[:, None, None]
    u = cos[:, None, None] * dx + sin[:, None, None] * dy  # shape frame (m, size, size)
    v = cos[:, None, None] * dy - sin[:, None, None] * dx
    r = radius[:, None, None]

    cover = np.empty((m, size, size))
    for k in range(len(CLASSES)):
        sel = labels == k
        cover[sel] = _coverage(
            k, u[sel], v[sel], r[sel], cycles[sel, None, None], thick[sel, None, None]
        )

    ramp = grad_x[:, None, None] * (pix[None, None, :] / size - 0.5) + grad_y[:, None, None] * (
        pix[None, :, None] / size - 0.5
    )
    bg = bg_rgb[:, :, None, None] + ramp[:, None]
    img = bg + (fg_rgb[:, :, None, None] - bg) * cover[:, None]
    # A small dot of random brightness: clutter that a pixel-template model cannot ignore.
    ddx = pix[None, None, :] - dot_x[:, None, None]
    ddy = pix[None, :, None] - dot_y[:, None, None]
    dot_cover = np.clip(0.5 - (np.sqrt(ddx * ddx + ddy * ddy) - 1.8), 0.0, 1.0) * dot[:, None, None]
    img = img + (dot_level[:, None, None, None] - img) * dot_cover[:, None]
    img = np.clip(img + noise, 0.0, 1.0)
    return np.floor(img * 255.0 + 0.5).astype(np.uint8), labels


def _coverage(
    k: int, u: np.ndarray, v: np.ndarray, r: np.ndarray, cycles: np.ndarray, thick: np.ndarray
) -> np.ndarray:
    """Fraction of each pixel covered by shape ``k`` from its signed distance (1-pixel ramp)."""
    au, av = np.abs(u), np.abs(v)
    if k == 0:  # disk
        d = np.sqrt(u * u + v * v) - r
    elif k == 1:  # ring
        d = np.abs(np.sqrt(u * u + v * v) - 0.72 * r) - 0.28 * r
    elif k == 2:  # square
        d = np.maximum(au, av) - 0.85 * r
    elif k == 3:  # frame: a square outline
        d = np.abs(np.maximum(au, av) - 0.75 * r) - 0.22 * r
    elif k == 4:  # equilateral triangle pointing up, centred on its centroid
        d = np.maximum(np.maximum(v, -_SQRT3_2 * u - 0.5 * v), _SQRT3_2 * u - 0.5 * v) - 0.5 * r
    elif k in (5, 6):  # plus, or the same rotated by 45 degrees
        if k == 6:
            au, av = np.abs((u + v) * _SQRT1_2), np.abs((v - u) * _SQRT1_2)
        w = thick * r
        d = np.minimum(np.maximum(au - r, av - w), np.maximum(au - w, av - r))
    else:  # textures inside a square patch
        box = np.clip(0.5 - (np.maximum(au, av) - 0.9 * r), 0.0, 1.0)
        period = np.maximum(1.8 * r / cycles, 3.0)
        su = _stripe(u, period)
        sv = _stripe(v, period)
        if k == 7:
            pattern = np.clip(0.5 + sv, 0.0, 1.0)
        elif k == 8:
            pattern = np.clip(0.5 + su, 0.0, 1.0)
        else:  # checker: the product of the two signed stripe distances (an XOR)
            pattern = 0.5 + 2.0 * np.clip(su, -0.5, 0.5) * np.clip(sv, -0.5, 0.5)
        return box * pattern
    return np.clip(0.5 - d, 0.0, 1.0)


def _stripe(x: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Signed distance (pixels) into the "on" half of a stripe pattern of the given period."""
    phase = x / period - np.floor(x / period)
    return (np.abs(2.0 * phase - 1.0) - 0.5) * 0.5 * period
