"""Benchmark our training loop against a plain DataLoader loop (``python -m cnnlab bench``).

Every loop trains its own copy of the same model (same initial weights, optimiser and batch
size) on the same in-memory data in the same process. Warm-up steps (and compilation) are
excluded. The timed steps are interleaved one by one (baseline, ours, ours compiled, baseline,
...): a laptop or a shared cloud CPU changes speed by tens of percent within seconds, and a
slowdown then hits neighbouring steps of every loop alike. Each ratio is the median over steps
of (baseline step time / our step time), with its quartiles. Why ours is faster:

* batches are drawn by indexing two device-resident tensors with a shuffled index tensor; a
  ``DataLoader(TensorDataset)`` indexes every sample separately and ``torch.stack``s them
  (collate), then copies each batch to the device (``data_ms`` times both paths);
* the data and the model are in channels_last layout (oneDNN's preferred layout on CPU, the
  tensor-core friendly one on CUDA); the "ours NCHW" column is our loop without it;
* the optimiser step is fused (one kernel for all parameters);
* no per-step ``.item()``: on CUDA each one waits for the GPU (on a CPU it costs nothing, and
  here every timed step ends in a sync anyway, so that the step is timed whole);
* optionally ``torch.compile`` (the "compiled" columns): fused batch norm, ReLU and additions.

On every device it reports the FLOPs of a training step (FlopCounterMode: forward and
backward matmuls and convolutions) and the rate our loop achieves as a fraction of a matmul
peak, with the same threads and in the dtype the loop computes in (fp32 on a CPU: a 1024²
sgemm; bf16/fp16 on CUDA, where AMP is on by default). The matmul is timed as one more loop of
the race, beside every step, so a slow phase of a shared machine hits both alike. On CUDA it
also compares mixed precision + channels_last with fp32 NCHW.
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_float, as_int, as_threads


@dataclass(frozen=True)
class BenchSpec:
    """How to benchmark one model: input (C, H, W), batch size, timed steps, build options."""

    shape: tuple[int, int, int]
    batch_size: int
    steps: int
    options: tuple[tuple[str, Any], ...] = ()


DEFAULT_MODELS = ("lenet5_modern", "resnet20")
SPECS: dict[str, BenchSpec] = {
    "lenet5_modern": BenchSpec((1, 28, 28), 256, 40, (("image_size", 28),)),
    "resnet20": BenchSpec((3, 32, 32), 128, 12),
}
COMPILE_WARMUP = 3  # step 1 runs eagerly (input checks), step 2 compiles forward and backward


# --------------------------------------------------------------------------- the loops


class _OurLoop:
    """Our Trainer: data resident on the device, index batching, no per-step sync."""

    def __init__(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor,
        device: torch.device,
        *,
        amp: bool | None,
        channels_last: bool | None,
        lr: float,
        compile: bool = False,
    ) -> None:
        from cnnlab.train import Trainer

        self.trainer = Trainer(
            model,
            lr=lr,
            optimizer="sgd",
            momentum=0.9,
            device=device,
            amp=amp,
            channels_last=channels_last,
            compile=compile,
            seed=0,
        )
        self.images, self.labels = self.trainer.to_device(images, labels)
        self.cursor = 0

    def run(self, steps: int, batch_size: int) -> None:
        # One "epoch" over the next steps × batch_size images = exactly ``steps`` steps; the
        # window moves on each call, so that over the run every image is visited, as with the
        # DataLoader.
        n = steps * batch_size
        if self.cursor + n > self.images.shape[0]:
            self.cursor = 0
        window = slice(self.cursor, self.cursor + n)
        self.cursor += n
        self.trainer.train_epoch(self.images[window], self.labels[window], batch_size)


class _LoaderBatches:
    """Endless batches from ``DataLoader(TensorDataset, shuffle=True)``, one iterator per epoch
    as in a real training loop (creating it is part of the cost)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        from torch.utils.data import DataLoader, TensorDataset

        self.dataset = TensorDataset(images, labels)
        self.loader_class = DataLoader
        self.generator = torch.Generator().manual_seed(0)
        self.batches: Iterator[list[torch.Tensor]] | None = None
        self.batch_size = 0

    def _loader(self, batch_size: int) -> Any:
        return self.loader_class(
            self.dataset,
            batch_size=batch_size,
            shuffle=True,
            drop_last=True,
            generator=self.generator,
        )

    def next(self, batch_size: int) -> list[torch.Tensor]:
        """The next (images, labels) batch, on the CPU."""
        if self.batches is None or batch_size != self.batch_size:
            self.batch_size = batch_size
            self.batches = iter(self._loader(batch_size))
        try:
            return next(self.batches)
        except StopIteration:
            self.batches = iter(self._loader(batch_size))
            return next(self.batches)


class _DataLoaderLoop:
    """The loop of most tutorials: DataLoader(TensorDataset), .to(device), loss.item()."""

    def __init__(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor,
        device: torch.device,
        *,
        lr: float,
    ) -> None:
        self.model = model.to(device)
        self.device = device
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        self.batches = _LoaderBatches(images, labels)

    def run(self, steps: int, batch_size: int) -> None:
        model, opt = self.model, self.optimizer
        model.train()
        running, correct = 0.0, 0
        for _ in range(steps):
            x, y = self.batches.next(batch_size)
            x, y = x.to(self.device), y.to(self.device)
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item() * y.shape[0]
            correct += int((out.argmax(1) == y).sum().item())


def data_path_ms(
    images: torch.Tensor, labels: torch.Tensor, batch_size: int, device: torch.device, n: int = 20
) -> tuple[float, float]:
    """Median milliseconds to put one training batch on the device: (DataLoader, ours).

    The DataLoader indexes ``batch_size`` samples one by one, stacks them and copies the batch;
    ours indexes the device-resident, channels_last dataset once with a shuffled index tensor.
    Comparing this with the step time shows how much of a step the data path can ever save.
    """
    loader = _LoaderBatches(images, labels)
    resident = images.to(device, memory_format=torch.channels_last)
    resident_labels = labels.to(device)
    # as in Trainer.train_epoch: one shuffled order per epoch, cut into batches
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(0))
    batches = order[: images.shape[0] // batch_size * batch_size].to(device).view(-1, batch_size)
    times: dict[str, list[float]] = {"dataloader": [], "ours": []}
    for i in range(n + 1):  # the first round warms both paths up and is dropped
        _sync(device)
        start = time.perf_counter()
        x, y = loader.next(batch_size)
        x, y = x.to(device), y.to(device)
        _sync(device)
        times["dataloader"].append(time.perf_counter() - start)
        start = time.perf_counter()
        idx = batches[i % batches.shape[0]]
        x, y = resident[idx], resident_labels[idx]
        _sync(device)
        times["ours"].append(time.perf_counter() - start)
    return tuple(1000 * statistics.median(t[1:]) for t in times.values())  # type: ignore[return-value]


def _sync(device: torch.device) -> None:
    """Wait for queued device work, so that timings cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


@dataclass(frozen=True)
class Race:
    """Per-step wall-clock seconds of each loop (interleaved) and each loop's warm-up time."""

    times: dict[str, list[float]]
    warmup_s: dict[str, float]

    def rate(self, name: str, batch_size: int) -> float:
        """Images per second at the median step time."""
        return batch_size / statistics.median(self.times[name])

    def ratio(self, baseline: str, name: str) -> tuple[float, float, float]:
        """(median, lower quartile, upper quartile) of baseline step time / ``name`` step time."""
        r = [b / t for b, t in zip(self.times[baseline], self.times[name], strict=True)]
        if len(r) < 2:
            return r[0], r[0], r[0]
        q1, _, q3 = statistics.quantiles(r, n=4, method="inclusive")
        return statistics.median(r), q1, q3


def _race(
    loops: dict[str, Any],
    steps: int,
    warmup: dict[str, int],
    batch_size: int,
    device: torch.device,
) -> Race:
    """Warm each loop up, then time ``steps`` single steps of every loop, interleaved."""
    warm = {}
    for name, loop in loops.items():
        start = time.perf_counter()
        if warmup[name]:
            loop.run(warmup[name], batch_size)
        _sync(device)
        warm[name] = time.perf_counter() - start
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(steps):
        for name, loop in loops.items():
            _sync(device)
            start = time.perf_counter()
            loop.run(1, batch_size)
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return Race(times, warm)


# --------------------------------------------------------------------------- FLOPs and peak


def train_flops_per_image(model: nn.Module, shape: tuple[int, int, int], batch: int = 4) -> float:
    """FLOPs of one training step (forward + backward) per image, by FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    device = next(model.parameters()).device
    x = torch.rand(batch, *shape, device=device)
    y = torch.zeros(batch, dtype=torch.long, device=device)
    was_training = model.training
    model.train()
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return counter.get_total_flops() / batch


def matmul_peak(
    device: torch.device, dtype: torch.dtype = torch.bfloat16, n: int = 8192, iters: int = 20
) -> float:
    """Measured FLOP/s of an n×n×n matmul in ``dtype`` (the best of a few timed repeats)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    best = math.inf
    for _ in range(3):
        _sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            a @ b
        _sync(device)
        best = min(best, (time.perf_counter() - start) / iters)
    return 2.0 * n**3 / best


# --------------------------------------------------------------------------- driver


def _spec(name: str, steps: int | None, batch_size: int | None) -> BenchSpec:
    from cnnlab.models import model_info

    info = model_info(name)
    spec = SPECS.get(info.name, BenchSpec(info.input_size, 128, 6))
    return BenchSpec(
        spec.shape,
        spec.batch_size if batch_size is None else as_int(batch_size, "batch_size", minimum=1),
        spec.steps if steps is None else as_int(steps, "steps", minimum=1),
        spec.options,
    )


def peak_setup(device: torch.device) -> tuple[torch.dtype, int, int]:
    """(dtype, n, iters) of the matmul peak for ``device``: the dtype our loop computes in
    (AMP's on CUDA, fp32 elsewhere), a size that reaches the peak, matmuls per timed step."""
    from cnnlab.train.devices import resolve_amp

    dtype = resolve_amp(None, device) or torch.float32
    return (dtype, 8192, 20) if device.type == "cuda" else (dtype, 1024, 1)


class _MatmulLoop:
    """``iters`` n×n×n matmuls per step: the peak, raced beside the training loops."""

    def __init__(self, device: torch.device, dtype: torch.dtype, n: int, iters: int) -> None:
        gen = torch.Generator().manual_seed(0)
        self.a, self.b = (torch.randn(n, n, generator=gen).to(device, dtype) for _ in range(2))
        self.iters = iters
        self.flops = 2.0 * n**3 * iters  # per step

    def run(self, steps: int, batch_size: int) -> None:
        for _ in range(steps * self.iters):
            self.a @ self.b


def run_bench(
    models: str | list[str] | tuple[str, ...] = DEFAULT_MODELS,
    *,
    steps: int | None = None,
    warmup: int = 2,
    batch_size: int | None = None,
    threads: int | None = 1,
    device: str | torch.device | None = None,
    lr: float = 0.01,
    compile: bool | None = True,
    extras: bool | None = None,
    peak: bool = True,
) -> dict[str, Any]:
    """Benchmark each model; returns ``{"device", "threads", "torch", "models": {name: {...}}}``.

    Per model: ``dataloader``, ``ours`` and ``ours_nchw`` (our loop without channels_last)
    images/s (at the median step time), ``ratio`` (median of per-step ratios DataLoader / ours),
    ``ratio_iqr`` (its quartiles), ``nchw_ratio`` (DataLoader / ours NCHW) and ``data_ms`` (one
    batch's data path, DataLoader and ours). With ``peak`` (on every device) also
    ``flops_per_image`` (training step, FlopCounterMode) and ``peak_fraction`` (achieved FLOP/s
    of ``ours`` over the matmul's, the median of per-step ratios; ``peak_tflops``: the matmul's
    rate at its median step; ``matmul_peak_dtype`` at the top level, with
    ``matmul_peak_tflops``, the best model's ``peak_tflops``). With ``compile`` (when
    ``torch.compile`` can work
    on the device; ``compile_skipped`` says why not) also ``ours_compiled``,
    ``compiled_ratio``, ``compiled_ratio_iqr``, ``compile_s`` (warm-up seconds, compilation
    included) and ``compiled_peak_fraction``. On CUDA (``extras``) also ``fp32_nchw`` and
    ``amp_cl`` images/s of our loop and ``amp_speedup``.
    """
    from cnnlab.models import create_model, model_info
    from cnnlab.session import seed_everything
    from cnnlab.train import compile_unavailable, pick_device

    # Every argument is checked before anything is built or timed: a typo in the last model or
    # a bad number fails at once, not after minutes of benchmarking the others.
    if isinstance(models, str):
        models = [models]  # one name, not its letters
    if not isinstance(models, (list, tuple)):
        raise TypeError(f"models must be a list of model names, got {type(models).__name__}")
    if not models:
        raise ValueError("models is empty: name at least one registered model, e.g. resnet20")
    specs = {name: _spec(name, steps, batch_size) for name in models}
    warmup = as_int(warmup, "warmup", minimum=0)
    lr = as_float(lr, "lr", minimum=0, exclusive=True)
    dev = pick_device(device)
    if threads is not None:
        threads = as_threads(threads)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    out: dict[str, Any] = {
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "models": {},
    }
    skipped = compile_unavailable(dev) if compile else "not asked for"
    out["compile"] = skipped is None
    if skipped is not None:
        out["compile_skipped"] = skipped
    try:
        extras = dev.type == "cuda" if extras is None else bool(extras)
        out["extras"] = extras
        if peak:
            dtype, n, iters = peak_setup(dev)
            matmul = _MatmulLoop(dev, dtype, n, iters)
            out["matmul_peak_dtype"] = str(dtype).removeprefix("torch.")
            out["matmul_peak_tflops"] = 0.0
        for name, spec in specs.items():
            canonical = model_info(name).name
            seed_everything(0, threads=None)
            base = create_model(
                canonical, num_classes=10, in_channels=spec.shape[0], **dict(spec.options)
            )
            n = spec.batch_size * max(spec.steps, warmup, COMPILE_WARMUP, 1)
            gen = torch.Generator().manual_seed(0)
            images = torch.rand(n, *spec.shape, generator=gen)
            labels = torch.randint(0, 10, (n,), generator=gen)

            def ours(
                amp: bool | None, channels_last: bool | None, compiled: bool = False
            ) -> _OurLoop:
                return _OurLoop(
                    copy.deepcopy(base),  # noqa: B023 - used at once, inside this iteration
                    images,  # noqa: B023
                    labels,  # noqa: B023
                    dev,
                    amp=amp,
                    channels_last=channels_last,
                    lr=lr,
                    compile=compiled,
                )

            loops: dict[str, Any] = {
                "dataloader": _DataLoaderLoop(copy.deepcopy(base), images, labels, dev, lr=lr),
                "ours": ours(None, None),  # the Trainer's defaults
                "ours_nchw": ours(None, False),
            }
            if skipped is None:
                loops["ours_compiled"] = ours(None, None, compiled=True)
            if peak:
                loops["matmul"] = matmul
            warm = {k: COMPILE_WARMUP if k == "ours_compiled" else warmup for k in loops}
            race = _race(loops, spec.steps, warm, spec.batch_size, dev)
            ratio = race.ratio("dataloader", "ours")
            row: dict[str, Any] = {
                "input": list(spec.shape),
                "batch_size": spec.batch_size,
                "steps": spec.steps,
                "dataloader": race.rate("dataloader", spec.batch_size),
                "ours": race.rate("ours", spec.batch_size),
                "ratio": ratio[0],
                "ratio_iqr": list(ratio[1:]),
                "ours_nchw": race.rate("ours_nchw", spec.batch_size),
                "nchw_ratio": race.ratio("dataloader", "ours_nchw")[0],
            }
            row["data_ms"] = list(data_path_ms(images, labels, spec.batch_size, dev))
            flops = math.nan
            if peak:
                flops = train_flops_per_image(copy.deepcopy(base).to(dev), spec.shape)
                step_flops = spec.batch_size * flops
                row.update(
                    flops_per_image=flops,
                    peak_fraction=race.ratio("matmul", "ours")[0] * step_flops / matmul.flops,
                    peak_tflops=matmul.flops / statistics.median(race.times["matmul"]) / 1e12,
                )
                out["matmul_peak_tflops"] = max(out["matmul_peak_tflops"], row["peak_tflops"])
            if "ours_compiled" in loops:
                compiled = race.ratio("dataloader", "ours_compiled")
                row.update(
                    ours_compiled=race.rate("ours_compiled", spec.batch_size),
                    compiled_ratio=compiled[0],
                    compiled_ratio_iqr=list(compiled[1:]),
                    compile_s=race.warmup_s["ours_compiled"],
                )
                if peak:
                    fraction = race.ratio("matmul", "ours_compiled")[0] * step_flops
                    row["compiled_peak_fraction"] = fraction / matmul.flops
            if extras:
                variants = {"fp32_nchw": ours(False, False), "amp_cl": ours(None, None)}
                race = _race(variants, spec.steps, dict.fromkeys(variants, warmup),
                             spec.batch_size, dev)  # fmt: skip
                row.update(
                    fp32_nchw=race.rate("fp32_nchw", spec.batch_size),
                    amp_cl=race.rate("amp_cl", spec.batch_size),
                    amp_speedup=race.ratio("fp32_nchw", "amp_cl")[0],
                )
            out["models"][canonical] = row
    finally:
        torch.set_num_threads(old_threads)
    return out


def format_table(result: dict[str, Any]) -> str:
    """The benchmark result as a plain-text table (ratios: median over steps [quartiles])."""
    if not isinstance(result, dict) or not {"device", "threads", "torch", "models"} <= set(result):
        raise TypeError("result must be the dict run_bench returns")
    cuda = result.get("extras", result["device"].startswith("cuda"))
    compiled = any("ours_compiled" in r for r in result["models"].values())
    peak = any("peak_fraction" in r for r in result["models"].values())
    head = f"{'model':<16}{'input':>10}{'batch':>7}{'steps':>7}{'DataLoader':>12}"
    head += f"{'ours NCHW':>11}{'ratio':>7}{'ours':>10}{'ratio [IQR]':>22}{'data ms DL/ours':>17}"
    if peak:
        head += f"{'MFLOP/img':>11}{'of peak':>9}"
    if compiled:
        head += f"{'compiled':>10}{'ratio [IQR]':>22}{'compile s':>11}"
        head += f"{'of peak':>9}" if peak else ""
    if cuda:
        head += f"{'fp32 NCHW':>11}{'AMP+CL':>10}{'speedup':>9}"
    lines = [
        f"device {result['device']}, {result['threads']} thread(s), torch {result['torch']}; "
        "images/s at the median step, ratio = median over interleaved steps",
        head,
        "-" * len(head),
    ]

    def ratio(r: float, iqr: list[float]) -> str:
        return f"{r:.2f}x [{iqr[0]:.2f}-{iqr[1]:.2f}]"

    def fraction(r: dict[str, Any], key: str) -> str:
        return f"{r[key]:>8.1%} " if key in r else f"{'-':>9}"

    for name, r in result["models"].items():
        shape = "x".join(str(s) for s in r["input"])
        line = f"{name:<16}{shape:>10}{r['batch_size']:>7}{r['steps']:>7}{r['dataloader']:>12.1f}"
        if "ours_nchw" in r:
            line += f"{r['ours_nchw']:>11.1f}{r['nchw_ratio']:>6.2f}x"
        else:
            line += f"{'-':>11}{'-':>7}"
        line += f"{r['ours']:>10.1f}{ratio(r['ratio'], r['ratio_iqr']):>22}"
        data = r.get("data_ms")
        line += f"{f'{data[0]:.2f}/{data[1]:.2f}' if data else '-':>17}"
        if peak:
            flops = r.get("flops_per_image")
            line += f"{flops / 1e6:>11.1f}" if flops is not None else f"{'-':>11}"
            line += fraction(r, "peak_fraction")
        if compiled:
            if "ours_compiled" in r:
                line += f"{r['ours_compiled']:>10.1f}"
                line += f"{ratio(r['compiled_ratio'], r['compiled_ratio_iqr']):>22}"
                line += f"{r['compile_s']:>11.1f}"
            else:
                line += f"{'-':>10}{'-':>22}{'-':>11}"
            line += fraction(r, "compiled_peak_fraction") if peak else ""
        if cuda:
            line += f"{r['fp32_nchw']:>11.0f}{r['amp_cl']:>10.0f}{r['amp_speedup']:>8.2f}x"
        lines.append(line.rstrip())
    lines.append(
        "data ms: median time to put one batch on the device (DataLoader / ours); the rest of "
        "a step is the model's"
    )
    if "matmul_peak_tflops" in result:
        tflops = result["matmul_peak_tflops"]
        rate = f"{tflops:.1f} TFLOP/s" if tflops >= 1 else f"{tflops * 1e3:.0f} GFLOP/s"
        lines.append(
            f"of peak: a training step's FLOP rate over that of a {result['matmul_peak_dtype']} "
            f"matmul timed beside each step (median ratio); the matmul reached {rate}"
        )
    if result.get("compile_skipped") and result["compile_skipped"] != "not asked for":
        lines.append(f"torch.compile skipped: {result['compile_skipped']}")
    return "\n".join(lines)
