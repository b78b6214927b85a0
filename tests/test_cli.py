"""``python -m cnnlab train`` and ``bench``, run in-process through ``cnnlab.__main__.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cnnlab.__main__ import main


def test_train_digits_writes_checkpoint_card_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    rc = main([
        "train", "--model", "lenet5_modern", "--data", "digits", "--profile", "quick",
        "--epochs", "2", "--n-train", "400", "--batch-size", "32", "--lr", "0.05",
        "--seed", "1", "--out", str(out),
    ])  # fmt: skip
    assert rc == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # stdout is exactly one JSON object
    assert report["model"] == "lenet5_modern" and report["data"] == "digits"
    assert report["epochs"] == 2 and report["out"] == str(out)
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_top1", "test_top5"):
        assert 0.0 <= report[key] < 10.0
    assert report["test_top5"] >= report["test_top1"]
    assert "lenet5_modern" in captured.err  # the progress bar went to stderr
    card = json.loads((out / "card.json").read_text())
    assert card["model"] == "lenet5_modern" and card["profile"] == "quick" and card["seed"] == 1
    assert card["data"]["name"] == "digits" and card["data"]["image_shape"] == [1, 32, 32]
    assert card["data"]["n_train"] == 400
    assert card["metrics"]["test_top1"] == report["test_top1"]
    assert len(card["history"]["train_loss"]) == 2
    from cnnlab.train import TrainConfig

    config = TrainConfig.from_dict(card["train"])  # the whole config, JSON and back
    assert (config.epochs, config.batch_size, config.lr, config.seed) == (2, 32, 0.05, 1)
    assert config.schedule == "cosine" and config.weight_decay == 5e-4  # the command's defaults
    assert config.device == card["device"] == "cpu" and config.progress is True

    from cnnlab.data import load_dataset
    from cnnlab.train import evaluate, load_checkpoint

    model, _ = load_checkpoint(out, "lenet5_modern")
    test = load_dataset("digits", "test", size=32)
    assert evaluate(model, test)["top1"] == pytest.approx(report["test_top1"], abs=1e-5)


def test_train_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as err:
        main(["train", "--model", "lenet5_modern", "--profile", "medium", "--out", str(tmp_path)])
    assert err.value.code == 2
    assert "invalid choice: 'medium'" in capsys.readouterr().err
    assert main(["train", "--model", "lenet6", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error: unknown model 'lenet6'" in err and "Did you mean" in err


def test_train_compile_without_a_compiler_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cnnlab.train import devices

    monkeypatch.setattr(devices, "compile_unavailable", lambda device: "no C++ compiler here")
    argv = ["train", "--model", "lenet5_modern", "--epochs", "1", "--n-train", "64", "--quiet",
            "--compile", "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "python -m cnnlab train: error: compile=True cannot work here: no C++ compiler here"
    )
    assert not (tmp_path / "run").exists()


def test_bench_prints_table_ratio_and_json(capsys: pytest.CaptureFixture) -> None:
    rc = main([
        "bench", "--models", "lenet5_modern", "--steps", "3", "--warmup", "1",
        "--batch-size", "32", "--no-compile",
    ])  # fmt: skip
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("device cpu") or lines[0].startswith("device cuda")
    assert "ratio" in lines[1] and lines[3].startswith("lenet5_modern")
    result = json.loads(lines[-1])
    assert result["compile"] is False and result["compile_skipped"] == "not asked for"
    row = result["models"]["lenet5_modern"]
    assert row["batch_size"] == 32 and row["steps"] == 3 and row["input"] == [1, 28, 28]
    assert row["ratio_iqr"][0] <= row["ratio"] <= row["ratio_iqr"][1]
    assert row["ours"] > 0 and row["dataloader"] > 0 and "ours_compiled" not in row
    assert row["ours_nchw"] > 0 and row["nchw_ratio"] > 0 and len(row["data_ms"]) == 2
    assert f"{row['ratio']:.2f}x [{row['ratio_iqr'][0]:.2f}-{row['ratio_iqr'][1]:.2f}]" in lines[3]
    # the achieved FLOP rate of our step over a matmul peak measured in the same run, on any device
    assert 0.5e6 < row["flops_per_image"] < 5e6  # LeNet-5: about 0.42 M multiply-adds forward
    assert 0 < row["peak_fraction"] < 1.5  # the median of per-step ratios to a matmul's rate
    assert result["matmul_peak_tflops"] == row["peak_tflops"] > 0
    assert result["matmul_peak_dtype"] == ("float32" if lines[0].startswith("device cpu") else
                                           "bfloat16")  # fmt: skip
    assert "of peak" in lines[1] and f"{row['peak_fraction']:.1%}" in lines[3]
    assert any(line.startswith("of peak: a training step's FLOP rate") for line in lines)


def test_race_ratio_is_the_median_of_per_step_ratios() -> None:
    from cnnlab.bench import Race

    # A slow phase in the middle (steps 3-4) hits both loops; per-step ratios stay 2.
    race = Race({"base": [2.0, 2.0, 8.0, 8.0, 2.0], "ours": [1.0, 1.0, 4.0, 4.0, 0.5]}, {})
    assert race.ratio("base", "ours") == (2.0, 2.0, 2.0)
    assert race.rate("ours", 10) == pytest.approx(10 / 1.0)  # at the median step time
    # per-step ratios 1, 2, 1.5: median 1.5, where the ratio of the medians would say 2
    race = Race({"base": [1.0, 2.0, 3.0], "ours": [1.0, 1.0, 2.0]}, {})
    assert race.ratio("base", "ours") == (1.5, 1.25, 1.75)
    assert Race({"a": [3.0], "b": [1.0]}, {}).ratio("a", "b") == (3.0, 3.0, 3.0)


def test_dataloader_batches_keep_one_iterator_per_epoch() -> None:
    from cnnlab.bench import _LoaderBatches, data_path_ms

    x, y = torch.rand(12, 1, 4, 4), torch.arange(12)
    batches = _LoaderBatches(x, y)
    seen = []
    for _ in range(6):  # 3 batches of 4 per epoch: two epochs, each a permutation of the data
        seen.append(batches.next(4)[1])
    for epoch in (seen[:3], seen[3:]):
        assert torch.cat(epoch).sort().values.tolist() == y.tolist()
    assert seen[0].tolist() != seen[3].tolist()  # reshuffled each epoch
    loader_ms, ours_ms = data_path_ms(x, y, 4, torch.device("cpu"), n=3)
    assert loader_ms > 0 and ours_ms > 0


def test_bench_table_with_compiled_columns_and_skip_reason() -> None:
    from cnnlab.bench import format_table

    row = {
        "input": [3, 32, 32], "batch_size": 128, "steps": 12, "ours": 190.0,
        "dataloader": 150.0, "ratio": 1.27, "ratio_iqr": [1.2, 1.3],
        "ours_compiled": 200.0, "compiled_ratio": 1.33, "compiled_ratio_iqr": [1.25, 1.4],
        "compile_s": 43.2,
    }  # fmt: skip
    table = format_table({
        "device": "cpu", "threads": 1, "torch": "x", "models": {"resnet20": row},
    })  # fmt: skip
    assert "1.27x [1.20-1.30]" in table and "1.33x [1.25-1.40]" in table and "43.2" in table
    skipped = format_table({
        "device": "cpu", "threads": 1, "torch": "x", "compile_skipped": "no C++ compiler",
        "models": {"resnet20": {k: v for k, v in row.items() if "compile" not in k}},
    })  # fmt: skip
    assert "compiled" not in skipped.splitlines()[1] and "skipped: no C++ compiler" in skipped


def test_bench_cuda_table_format() -> None:
    from cnnlab.bench import format_table

    row = {
        "input": [3, 32, 32], "batch_size": 128, "steps": 10, "ours": 900.0,
        "dataloader": 600.0, "ratio": 1.5, "ratio_iqr": [1.4, 1.6], "fp32_nchw": 5000.0,
        "amp_cl": 15000.0, "amp_speedup": 3.0, "flops_per_image": 2.5e8, "peak_fraction": 0.012,
    }  # fmt: skip
    table = format_table({
        "device": "cuda", "threads": 1, "torch": "x", "matmul_peak_tflops": 700.0,
        "matmul_peak_dtype": "bfloat16", "models": {"resnet20": row},
    })  # fmt: skip
    assert "1.50x" in table and "3.00x" in table and "1.2%" in table and "250.0" in table
    assert "a bfloat16 matmul timed beside each step" in table and "700.0 TFLOP/s" in table
    cpu = format_table({
        "device": "cpu", "threads": 1, "torch": "x", "matmul_peak_tflops": 0.16,
        "matmul_peak_dtype": "float32", "models": {"resnet20": row},
    })  # fmt: skip
    assert "AMP+CL" not in cpu and "1.2%" in cpu and "160 GFLOP/s" in cpu


def test_flops_and_peak_helpers() -> None:
    from torch import nn

    from cnnlab.bench import matmul_peak, train_flops_per_image

    lin = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    # forward 2*12*5 per image; backward: weight gradient only (the input needs none)
    assert train_flops_per_image(lin, (3, 2, 2)) == pytest.approx(2 * 2 * 12 * 5)
    assert matmul_peak(torch.device("cpu"), torch.float32, n=64, iters=2) > 0


def test_bench_gpu_extras_branch_runs_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CUDA-only measurements, exercised on the CPU (without AMP) so they cannot rot unseen.
    from cnnlab import bench

    monkeypatch.setattr(bench, "peak_setup", lambda device: (torch.float32, 64, 2))
    result = bench.run_bench(
        ["lenet5_modern"], steps=1, warmup=0, batch_size=16, extras=True, compile=False
    )
    row = result["models"]["lenet5_modern"]
    assert row["fp32_nchw"] > 0 and row["amp_cl"] > 0
    assert row["amp_speedup"] == pytest.approx(row["amp_cl"] / row["fp32_nchw"])
    # one step: the fraction is exactly (our FLOP rate) / (the matmul's rate) of that step
    mm_rate = result["matmul_peak_tflops"] * 1e12
    assert row["peak_fraction"] == pytest.approx(row["ours"] * row["flops_per_image"] / mm_rate)
    assert "of peak" in bench.format_table(result) and "AMP+CL" in bench.format_table(result)
    quick = bench.run_bench(["lenet5_modern"], steps=1, warmup=0, batch_size=16, compile=False,
                            peak=False)  # fmt: skip
    assert (
        "matmul_peak_tflops" not in quick
        and "peak_fraction" not in quick["models"]["lenet5_modern"]
    )
    assert "of peak" not in bench.format_table(quick)


def test_readme_train_command_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's train example (its profile's n_train exceeds digits' 1,294 images)."""
    import re
    import shlex

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = re.search(r"python -m cnnlab (train .*?)\s+#|python -m cnnlab (train .*)", readme)
    assert line, "README has no `python -m cnnlab train` example"
    argv = shlex.split(line.group(1) or line.group(2))
    out = argv.index("--out")
    argv[out + 1] = str(tmp_path / "run")
    assert main([*argv, "--epochs", "1", "--quiet"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["model"] == "lenet5_modern" and (tmp_path / "run" / "card.json").exists()


def test_cli_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["course", "--only", "no-such-notebook"]) == 2
    err = capsys.readouterr().err
    assert "error: no notebook matches 'no-such-notebook'" in err and "Traceback" not in err
