"""``python -m cnnlab bench``: our training loop against a plain DataLoader loop.

Both loops train the same model (same initial weights, optimiser and batch size) on the same
in-memory data in the same process. Their timed rounds alternate, so a busy machine slows both
alike, and warm-up steps are excluded. Why ours is faster:

* batches are drawn by indexing two device-resident tensors with a shuffled index tensor; a
  ``DataLoader(TensorDataset)`` indexes every sample separately and ``torch.stack``s them
  (collate), then copies each batch to the device;
* the data and the model are in channels_last layout (oneDNN's preferred layout on CPU, the
  tensor-core friendly one on CUDA);
* no per-step ``.item()`` (each one waits for the device), gradients reset with set_to_none.

On CUDA it also compares mixed precision + channels_last with fp32 NCHW and reports the
achieved FLOP rate (FlopCounterMode) as a fraction of a bf16 matmul peak measured in the run.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab._validate import as_int


@dataclass(frozen=True)
class BenchSpec:
    """How to benchmark one model: input (C, H, W), batch size, timed steps, build options."""

    shape: tuple[int, int, int]
    batch_size: int
    steps: int
    options: tuple[tuple[str, Any], ...] = ()


DEFAULT_MODELS = ("lenet5_modern", "resnet20")
SPECS: dict[str, BenchSpec] = {
    "lenet5_modern": BenchSpec((1, 28, 28), 256, 24, (("image_size", 28),)),
    "resnet20": BenchSpec((3, 32, 32), 128, 6),
}


def configure_parser(p: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``p``."""
    p.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help="comma-separated registered models (default: lenet5_modern,resnet20)",
    )
    p.add_argument("--steps", type=int, help="timed steps per loop (default: per model)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per loop (default 2)")
    p.add_argument("--rounds", type=int, default=3, help="alternating timed rounds (default 3)")
    p.add_argument("--batch-size", type=int, help="override the per-model batch size")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    p.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    p.add_argument("--json", action="store_true", help="print only the JSON result")


def main(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table and the JSON result."""
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    result = run_bench(
        models,
        steps=args.steps,
        warmup=args.warmup,
        rounds=args.rounds,
        batch_size=args.batch_size,
        threads=args.threads,
        device=args.device,
    )
    if not args.json:
        sys.stdout.write(format_table(result) + "\n")
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


# --------------------------------------------------------------------------- the two loops


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
        channels_last: bool,
        lr: float,
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
            seed=0,
        )
        self.images, self.labels = self.trainer.to_device(images, labels)

    def run(self, steps: int, batch_size: int) -> None:
        n = steps * batch_size  # one epoch over the first n images = exactly ``steps`` steps
        self.trainer.train_epoch(self.images[:n], self.labels[:n], batch_size)  # ends in a sync


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
        self.images, self.labels = images, labels
        self.generator = torch.Generator().manual_seed(0)

    def run(self, steps: int, batch_size: int) -> None:
        from torch.utils.data import DataLoader, TensorDataset

        n = steps * batch_size
        dataset = TensorDataset(self.images[:n], self.labels[:n])
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=self.generator)
        model, opt = self.model, self.optimizer
        model.train()
        running, correct = 0.0, 0
        for x, y in loader:
            x, y = x.to(self.device), y.to(self.device)
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item() * y.shape[0]
            correct += int((out.argmax(1) == y).sum().item())


def _sync(device: torch.device) -> None:
    """Wait for queued device work, so that timings cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _race(
    loops: dict[str, Any],
    steps: int,
    warmup: int,
    rounds: int,
    batch_size: int,
    device: torch.device,
) -> dict[str, tuple[float, float]]:
    """(images per wall-clock second, images per CPU second) of each loop.

    Timed rounds alternate between the loops so that load from other processes hits both. The
    CPU time of this process (``time.process_time``) is less sensitive to such load than the
    wall clock: on a shared CPU it is the steadier basis for the ratio.
    """
    for loop in loops.values():
        if warmup:
            loop.run(warmup, batch_size)
    per_round = [steps // rounds + (1 if r < steps % rounds else 0) for r in range(rounds)]
    wall = dict.fromkeys(loops, 0.0)
    cpu = dict.fromkeys(loops, 0.0)
    for k in per_round:
        if k == 0:
            continue
        for name, loop in loops.items():
            _sync(device)
            start, start_cpu = time.perf_counter(), time.process_time()
            loop.run(k, batch_size)
            _sync(device)
            wall[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
    images = steps * batch_size
    return {name: (images / wall[name], images / max(cpu[name], 1e-9)) for name in loops}


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


def run_bench(
    models: list[str] | tuple[str, ...] = DEFAULT_MODELS,
    *,
    steps: int | None = None,
    warmup: int = 2,
    rounds: int = 3,
    batch_size: int | None = None,
    threads: int | None = 1,
    device: str | torch.device | None = None,
    lr: float = 0.01,
    extras: bool | None = None,
) -> dict[str, Any]:
    """Benchmark each model; returns ``{"device", "threads", "torch", "models": {name: {...}}}``.

    Per model: ``ours`` and ``dataloader`` images/s (wall clock) and their ``ratio``; on CPU also
    images per CPU-second (``ours_cpu``, ``dataloader_cpu``, ``cpu_ratio``); on CUDA also
    ``fp32_nchw`` and ``amp_cl`` images/s, ``amp_speedup``, ``flops_per_image`` (training step,
    FlopCounterMode) and ``peak_fraction`` (of the bf16 matmul peak measured in the run).
    ``extras`` (default: on CUDA only) switches those CUDA measurements on or off.
    """
    from cnnlab.models import create_model, model_info
    from cnnlab.train import pick_device, seed_everything

    warmup = as_int(warmup, "warmup", minimum=0)
    rounds = as_int(rounds, "rounds", minimum=1)
    dev = pick_device(device)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(as_int(threads, "threads", minimum=1))
    out: dict[str, Any] = {
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "models": {},
    }
    try:
        extras = dev.type == "cuda" if extras is None else bool(extras)
        out["extras"] = extras
        peak = matmul_peak(dev) if extras else math.nan
        if extras:
            out["bf16_matmul_peak_tflops"] = peak / 1e12
        for name in models:
            spec = _spec(name, steps, batch_size)
            canonical = model_info(name).name
            seed_everything(0, threads=None)
            c = spec.shape[0]
            base = create_model(canonical, num_classes=10, in_channels=c, **dict(spec.options))
            n = spec.batch_size * max(spec.steps, warmup, 1)
            gen = torch.Generator().manual_seed(0)
            images = torch.rand(n, *spec.shape, generator=gen)
            labels = torch.randint(0, 10, (n,), generator=gen)
            r = max(1, min(rounds, spec.steps))
            loops = {
                "ours": _OurLoop(
                    copy.deepcopy(base), images, labels, dev, amp=None, channels_last=True, lr=lr
                ),
                "dataloader": _DataLoaderLoop(copy.deepcopy(base), images, labels, dev, lr=lr),
            }
            rates = _race(loops, spec.steps, warmup, r, spec.batch_size, dev)
            (ours, ours_cpu), (base_rate, base_cpu) = rates["ours"], rates["dataloader"]
            row: dict[str, Any] = {
                "input": list(spec.shape),
                "batch_size": spec.batch_size,
                "steps": spec.steps,
                "ours": ours,
                "dataloader": base_rate,
                "ratio": ours / base_rate,
            }
            if dev.type == "cpu":
                row.update(
                    ours_cpu=ours_cpu, dataloader_cpu=base_cpu, cpu_ratio=ours_cpu / base_cpu
                )
            if extras:
                variants = {
                    "fp32_nchw": _OurLoop(
                        copy.deepcopy(base),
                        images,
                        labels,
                        dev,
                        amp=False,
                        channels_last=False,
                        lr=lr,
                    ),
                    "amp_cl": _OurLoop(
                        copy.deepcopy(base),
                        images,
                        labels,
                        dev,
                        amp=None,
                        channels_last=True,
                        lr=lr,
                    ),
                }
                rates = _race(variants, spec.steps, warmup, r, spec.batch_size, dev)
                fp32, amp_cl = rates["fp32_nchw"][0], rates["amp_cl"][0]
                flops = train_flops_per_image(copy.deepcopy(base).to(dev), spec.shape)
                row.update(
                    fp32_nchw=fp32,
                    amp_cl=amp_cl,
                    amp_speedup=amp_cl / fp32,
                    flops_per_image=flops,
                    peak_fraction=amp_cl * flops / peak,
                )
            out["models"][canonical] = row
    finally:
        torch.set_num_threads(old_threads)
    return out


def format_table(result: dict[str, Any]) -> str:
    """The benchmark result as a plain-text table."""
    cuda = result.get("extras", result["device"].startswith("cuda"))
    head = f"{'model':<16}{'input':>12}{'batch':>7}{'steps':>7}{'ours img/s':>12}"
    head += f"{'DataLoader':>12}{'ratio':>8}"
    cpu = result["device"] == "cpu"
    if cpu:
        head += f"{'ours img/CPU-s':>16}{'DataLoader':>12}{'ratio':>8}"
    if cuda:
        head += f"{'fp32 NCHW':>11}{'AMP+CL':>10}{'speedup':>9}{'GFLOP/img':>11}{'of peak':>9}"
    lines = [
        f"device {result['device']}, {result['threads']} thread(s), torch {result['torch']}",
        head,
        "-" * len(head),
    ]
    for name, r in result["models"].items():
        shape = "x".join(str(s) for s in r["input"])
        line = f"{name:<16}{shape:>12}{r['batch_size']:>7}{r['steps']:>7}{r['ours']:>12.1f}"
        line += f"{r['dataloader']:>12.1f}{r['ratio']:>7.2f}x"
        if cpu:
            line += f"{r['ours_cpu']:>16.1f}{r['dataloader_cpu']:>12.1f}{r['cpu_ratio']:>7.2f}x"
        if cuda:
            line += f"{r['fp32_nchw']:>11.0f}{r['amp_cl']:>10.0f}{r['amp_speedup']:>8.2f}x"
            line += f"{r['flops_per_image'] / 1e9:>11.3f}{r['peak_fraction']:>8.1%}"
        lines.append(line)
    if cuda:
        lines.append(f"bf16 matmul peak measured: {result['bf16_matmul_peak_tflops']:.1f} TFLOP/s")
    return "\n".join(lines)
