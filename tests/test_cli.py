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


def test_bench_prints_table_ratio_and_json(capsys: pytest.CaptureFixture) -> None:
    rc = main([
        "bench", "--models", "lenet5_modern", "--steps", "2", "--warmup", "1",
        "--batch-size", "32",
    ])  # fmt: skip
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("device cpu") or lines[0].startswith("device cuda")
    assert "ratio" in lines[1] and lines[3].startswith("lenet5_modern")
    result = json.loads(lines[-1])
    row = result["models"]["lenet5_modern"]
    assert row["batch_size"] == 32 and row["steps"] == 2 and row["input"] == [1, 28, 28]
    assert row["ratio"] == pytest.approx(row["ours"] / row["dataloader"])
    assert f"{row['ratio']:.2f}x" in lines[3]


def test_bench_cuda_table_format() -> None:
    from cnnlab.bench import format_table

    row = {
        "input": [3, 32, 32], "batch_size": 128, "steps": 10, "ours": 900.0,
        "dataloader": 600.0, "ratio": 1.5, "fp32_nchw": 5000.0, "amp_cl": 15000.0,
        "amp_speedup": 3.0, "flops_per_image": 2.5e8, "peak_fraction": 0.012,
    }  # fmt: skip
    table = format_table({
        "device": "cuda", "threads": 1, "torch": "x", "bf16_matmul_peak_tflops": 700.0,
        "models": {"resnet20": row},
    })  # fmt: skip
    assert "1.50x" in table and "3.00x" in table and "1.2%" in table and "700.0 TFLOP/s" in table


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

    monkeypatch.setattr(bench, "matmul_peak", lambda device: 1e12)
    result = bench.run_bench(
        ["lenet5_modern"], steps=1, warmup=0, rounds=1, batch_size=16, extras=True
    )
    row = result["models"]["lenet5_modern"]
    assert result["bf16_matmul_peak_tflops"] == 1.0
    assert row["fp32_nchw"] > 0 and row["amp_cl"] > 0
    assert row["amp_speedup"] == pytest.approx(row["amp_cl"] / row["fp32_nchw"])
    assert 0.5e6 < row["flops_per_image"] < 5e6  # LeNet-5: about 0.42 M multiply-adds forward
    assert row["peak_fraction"] == pytest.approx(row["amp_cl"] * row["flops_per_image"] / 1e12)
    assert "of peak" in bench.format_table(result)


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
