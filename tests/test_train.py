"""cnnlab.train: the loop, augmentations, callbacks, evaluation and checkpoints (tiny models)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import load_dataset
from cnnlab.session import seed_everything
from cnnlab.train import (
    BatchInfo,
    Callback,
    ChannelsLastError,
    CheckpointError,
    GradNormRecorder,
    History,
    InputShapeError,
    RandomCrop,
    RandomFlip,
    Trainer,
    compile_unavailable,
    evaluate,
    fit,
    load_checkpoint,
    make_augment,
    pick_device,
    save_checkpoint,
    shift_crop,
)


def tiny_cnn(in_channels: int = 1, classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, classes),
    )


@pytest.fixture(scope="module")
def digits() -> tuple:
    return load_dataset("digits", "train", n=600), load_dataset("digits", "val")


def test_fit_learns_digits(digits: tuple) -> None:
    train, val = digits
    seed_everything(0)
    model = tiny_cnn()
    h = fit(model, train, val, epochs=4, batch_size=32, lr=0.05, progress=False)
    assert isinstance(h, History) and len(h) == 4 and h.epoch == [1, 2, 3, 4]
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]
    assert h.val_acc[-1] > 0.85
    assert set(h.as_dict()) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"}
    assert "seconds" in h.as_dict(timing=True) and len(h.seconds) == 4
    assert h.final["val_acc"] == h.val_acc[-1]
    # the loop's val numbers agree with evaluate()
    assert evaluate(model, val, topk=(1,))["top1"] == pytest.approx(h.val_acc[-1])


def test_fit_is_deterministic(digits: tuple) -> None:
    train, val = digits
    runs = []
    for seed in (1, 1, 2):
        seed_everything(seed)
        model = tiny_cnn()
        runs.append(
            fit(model, train, val, epochs=2, batch_size=64, augment=("flip", "crop"), seed=seed,
                progress=False).as_dict()
        )  # fmt: skip
    assert runs[0] == runs[1]  # bit-identical, not just close
    assert runs[0] != runs[2]


def test_fit_adam_cosine_and_no_val(digits: tuple) -> None:
    train, _ = digits
    h = fit(tiny_cnn(), train, epochs=2, batch_size=100, lr=0.01, optimizer="adam",
            schedule="cosine", weight_decay=1e-4, progress=False)  # fmt: skip
    assert math.isnan(h.val_acc[0]) and math.isnan(h.val_loss[-1])
    steps = 2 * 6  # per-step cosine from 0.01 towards 0; lr records each epoch's last step
    assert h.lr == pytest.approx([0.005 * (1 + math.cos(math.pi * s / steps)) for s in (5, 11)])
    h = fit(tiny_cnn(), (train.images, train.labels), epochs=1, optimizer="adamw",
            channels_last=False, progress=False)  # fmt: skip
    assert h.train_loss[0] > 0


def test_channels_last_and_fused_optimizer_are_the_cpu_defaults() -> None:
    trainer = Trainer(tiny_cnn(), device="cpu")
    assert trainer.memory_format == torch.channels_last
    assert trainer.model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert trainer.optimizer.defaults["fused"] is True
    images, _ = trainer.to_device(torch.rand(2, 1, 8, 8), torch.zeros(2, dtype=torch.long))
    assert images.is_contiguous(memory_format=torch.channels_last)
    plain = Trainer(tiny_cnn(), device="cpu", channels_last=False, optimizer="adam")
    assert plain.memory_format == torch.contiguous_format
    assert plain.optimizer.defaults["fused"] is True


def test_compile_trains_like_eager(digits: tuple) -> None:
    if compile_unavailable(torch.device("cpu")):
        pytest.skip("no C++ compiler for torch.compile")
    train, val = digits
    small = train.subset(slice(0, 256))
    from torch._dynamo.utils import counters

    runs = {}
    graphs = counters["stats"]["unique_graphs"]
    for compiled in (False, True):
        seed_everything(3)
        runs[compiled] = fit(tiny_cnn(), small, val, epochs=2, batch_size=64, compile=compiled,
                             progress=False)  # fmt: skip
    h_eager, h_compiled = runs[False], runs[True]
    # Fused kernels round differently, so close rather than bit-identical.
    assert h_compiled.train_loss == pytest.approx(h_eager.train_loss, rel=1e-3)
    assert h_compiled.val_acc == pytest.approx(h_eager.val_acc, abs=0.01)
    assert counters["stats"]["unique_graphs"] > graphs  # the compiled run built a graph


def test_compiled_trainer_uses_the_graph_for_full_batches_only() -> None:
    if compile_unavailable(torch.device("cpu")):
        pytest.skip("no C++ compiler for torch.compile")
    from torch._dynamo.eval_frame import OptimizedModule

    trainer = Trainer(tiny_cnn(), device="cpu", compile=True, lr=0.01)
    assert isinstance(trainer.forward, OptimizedModule) and trainer.model is not trainer.forward
    calls = []
    trainer.forward = lambda x: calls.append(x.shape[0]) or trainer.model(x)  # spy on it
    x, y = trainer.to_device(torch.rand(70, 1, 8, 8), torch.randint(0, 10, (70,)))
    trainer.train_epoch(x, y, 32)  # batches 32 (eager check), 32, 6
    assert calls == [32]  # the ragged 6 runs eagerly: no second compilation


class ViewFlatten(nn.Module):
    """A classic tutorial model: flattens with .view, which channels_last memory cannot take."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


def test_view_in_forward_falls_back_to_nchw_with_a_warning(digits: tuple) -> None:
    train = digits[0].subset(slice(0, 64))
    seed_everything(0)
    model = ViewFlatten()
    reference = copy.deepcopy(model)
    with pytest.warns(UserWarning, match=r"\.view\(\).*x\.flatten\(1\).*Training in NCHW"):
        h = fit(model, train, train, epochs=2, batch_size=16, progress=False)
    # exactly the run the user would get by asking for NCHW: nothing was lost by the attempt
    plain = fit(reference, train, train, epochs=2, batch_size=16, channels_last=False,
                progress=False)  # fmt: skip
    assert h.as_dict() == plain.as_dict()
    assert model.fc.weight.view(10, -1).shape == (10, 256)  # still usable as NCHW afterwards
    with pytest.raises(ChannelsLastError, match="use x.flatten"):  # asked for: no fallback
        fit(ViewFlatten(), train, epochs=1, channels_last=True, progress=False)


def test_channels_last_is_skipped_for_3d_convolutions() -> None:
    conv3d = nn.Sequential(nn.Conv3d(1, 2, 3))
    assert Trainer(conv3d, device="cpu").memory_format == torch.contiguous_format
    with pytest.raises(ValueError, match="channels_last=True needs 4-D convolution weights"):
        Trainer(conv3d, device="cpu", channels_last=True)


def test_compile_unavailable_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch._inductor.cpp_builder as builder

    def no_compiler() -> str:
        raise RuntimeError("no working C++ compiler found")

    monkeypatch.setattr(builder, "get_cpp_compiler", no_compiler)
    reason = compile_unavailable(torch.device("cpu"))
    assert reason and "C++ compiler" in reason
    with pytest.raises(ValueError, match="compile=True cannot work here: .*C\\+\\+ compiler"):
        Trainer(tiny_cnn(), device="cpu", compile=True)
    assert "not supported" in compile_unavailable(torch.device("meta"))
    with pytest.raises(TypeError, match="channels_last must be None, True or False, got 'no'"):
        Trainer(tiny_cnn(), device="cpu", channels_last="no")
    with pytest.raises(TypeError, match="compile must be True or False, got 'yes'"):
        Trainer(tiny_cnn(), device="cpu", compile="yes")


def test_progress_bar_and_quiet(digits: tuple, capsys: pytest.CaptureFixture) -> None:
    train, _ = digits
    fit(tiny_cnn(), train.subset(slice(0, 64)), epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    fit(tiny_cnn(), train.subset(slice(0, 64)), epochs=2, model_name="tiny")
    err = capsys.readouterr().err
    assert "tiny" in err and "2/2" in err and "loss=" in err


# ----------------------------------------------------------------------------- augmentation


def test_flip_is_all_or_nothing_per_image() -> None:
    x = torch.rand(64, 3, 5, 6)
    g = torch.Generator().manual_seed(0)
    torch.testing.assert_close(RandomFlip(1.0)(x, g), x.flip(-1))
    torch.testing.assert_close(RandomFlip(0.0)(x, g), x)
    out = RandomFlip(0.5)(x, g)
    assert out.shape == x.shape
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    assert (same ^ flipped).all()  # every image is exactly one of the two
    assert 10 < int(flipped.sum()) < 54
    with pytest.raises(ValueError, match="probability"):
        RandomFlip(1.5)


def test_shift_crop_matches_a_loop() -> None:
    x = torch.rand(5, 2, 6, 7)
    top = torch.tensor([0, 1, 2, 4, 3])
    left = torch.tensor([4, 0, 2, 1, 3])
    out = shift_crop(x, top, left, padding=2)
    padded = F.pad(x, (2, 2, 2, 2))
    for b in range(5):
        t, l_ = int(top[b]), int(left[b])
        torch.testing.assert_close(out[b], padded[b, :, t : t + 6, l_ : l_ + 7])
    torch.testing.assert_close(shift_crop(x, torch.full((5,), 2), torch.full((5,), 2), 2), x)


def test_random_crop_gives_valid_shifts() -> None:
    x = torch.rand(16, 3, 8, 8)
    g = torch.Generator().manual_seed(0)
    out = RandomCrop(2)(x, g)
    assert out.shape == x.shape
    padded = F.pad(x, (2, 2, 2, 2))
    for b in range(16):
        crops = [padded[b, :, i : i + 8, j : j + 8] for i in range(5) for j in range(5)]
        assert any(torch.equal(out[b], c) for c in crops)
    torch.testing.assert_close(RandomCrop(0)(x, g), x)
    cl = x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(RandomCrop(2)(cl, torch.Generator().manual_seed(0)), out)


def test_make_augment() -> None:
    augs = make_augment(("flip", "crop", lambda x, g: x * 2))
    assert isinstance(augs[0], RandomFlip) and isinstance(augs[1], RandomCrop)
    assert make_augment(None) == [] and len(make_augment("flip")) == 1
    with pytest.raises(ValueError, match="unknown augment 'flop'.*Valid: flip, crop"):
        make_augment(("flop",))
    with pytest.raises(TypeError, match="augment items"):
        make_augment((3,))


# ----------------------------------------------------------------------------- callbacks


class Counter(Callback):
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.grads_ready = True
        self.infos: list[BatchInfo] = []

    def _hit(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def on_fit_start(self, trainer) -> None:
        self._hit("fit_start")

    def on_epoch_start(self, trainer) -> None:
        self._hit("epoch_start")

    def on_after_backward(self, model: nn.Module) -> None:
        self._hit("after_backward")
        self.grads_ready &= all(p.grad is not None for p in model.parameters())

    def on_batch_end(self, trainer, info: BatchInfo) -> None:
        self._hit("batch_end")
        self.infos.append(info)

    def on_epoch_end(self, trainer) -> None:
        self._hit("epoch_end")
        assert len(trainer.history) == trainer.epoch + 1

    def on_fit_end(self, trainer) -> None:
        self._hit("fit_end")


def test_callbacks_fire(digits: tuple) -> None:
    train, _ = digits
    data = train.subset(slice(0, 100))
    counter = Counter()

    class OnlyEpochEnd:  # duck-typed: any object with some of the hooks
        ends = 0

        def on_epoch_end(self, trainer) -> None:
            OnlyEpochEnd.ends += 1

    fit(tiny_cnn(), data, epochs=3, batch_size=32, callbacks=[counter, OnlyEpochEnd()],
        progress=False)  # fmt: skip
    steps = 3 * 4  # 100 images in batches of 32: 32, 32, 32, 4
    assert counter.calls == {
        "fit_start": 1, "epoch_start": 3, "after_backward": steps, "batch_end": steps,
        "epoch_end": 3, "fit_end": 1,
    }  # fmt: skip
    assert counter.grads_ready and OnlyEpochEnd.ends == 3
    assert [i.step for i in counter.infos] == list(range(steps))
    assert [i.size for i in counter.infos[:4]] == [32, 32, 32, 4]
    assert counter.infos[-1].epoch == 2 and counter.infos[-1].batch == 3


def test_callback_can_stop_training(digits: tuple) -> None:
    class StopAfterTwo(Callback):
        def on_epoch_end(self, trainer) -> None:
            trainer.stop = trainer.epoch >= 1

    h = fit(tiny_cnn(), digits[0], epochs=10, callbacks=[StopAfterTwo()], progress=False)
    assert len(h) == 2


def test_grad_norm_recorder_matches_manual_gradients(digits: tuple) -> None:
    train, _ = digits
    data = train.subset(slice(0, 64))
    seed_everything(0)
    model = tiny_cnn()
    start = copy.deepcopy(model)
    rec = GradNormRecorder()
    fit(model, data, epochs=1, batch_size=64, callbacks=[rec], progress=False)  # one full batch
    assert list(rec.norms) == ["0.weight", "5.weight"]  # conv and linear weights only
    assert rec.steps == [0]
    start.train()
    F.cross_entropy(start(data.images), data.labels).backward()
    for name, p in start.named_parameters():
        if name in rec.norms:
            assert rec.norms[name][0] == pytest.approx(p.grad.norm().item(), rel=1e-4)
    every = GradNormRecorder(every=3, include=lambda n, p: n.endswith("bias"))
    fit(tiny_cnn(), train.subset(slice(0, 320)), epochs=2, batch_size=32, callbacks=[every],
        progress=False)  # fmt: skip
    assert every.steps == list(range(0, 20, 3))
    assert set(every.norms) == {"0.bias", "1.bias", "5.bias"}
    assert all(len(v) == 7 for v in every.norms.values())


# ----------------------------------------------------------------------------- evaluate


def test_evaluate_topk_matches_manual() -> None:
    torch.manual_seed(0)
    x = torch.rand(50, 1, 8, 8)
    y = torch.randint(0, 10, (50,))
    model = tiny_cnn()
    model.train()
    result = evaluate(model, (x, y), topk=(1, 3, 5, 20), batch_size=16)
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        logits = model(x)
    for k in (1, 3, 5):
        manual = (logits.topk(k, 1).indices == y[:, None]).any(1).float().mean().item()
        assert result[f"top{k}"] == pytest.approx(manual)
    assert result["top20"] == 1.0  # k beyond the class count: every label is in the top k
    assert result["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert result["n"] == 50


# ----------------------------------------------------------------------------- checkpoints


def test_checkpoint_roundtrip(tmp_path: Path) -> None:
    model = tiny_cnn()
    model(torch.rand(4, 1, 8, 8))  # BN running stats move
    card = {"model": "tiny", "options": {}, "data": "digits", "seed": 0, "metrics": {"acc": 0.9}}
    folder = save_checkpoint(tmp_path / "ckpt", model, card)
    saved = json.loads((folder / "card.json").read_text())
    assert saved["torch_version"] == torch.__version__ and len(saved["sha256"]) == 64
    assert saved["metrics"] == {"acc": 0.9}
    fresh, loaded = load_checkpoint(folder, "tiny", model=tiny_cnn())
    assert loaded == saved
    for (k, a), b in zip(model.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_checkpoint_of_registered_model(tmp_path: Path) -> None:
    from cnnlab.models import create_model

    model = create_model("lenet5_modern", num_classes=10, image_size=28)
    card = {"model": "lenet5_modern", "options": {"num_classes": 10, "image_size": 28}}
    save_checkpoint(tmp_path, model, card)
    rebuilt, _ = load_checkpoint(tmp_path)  # built from the card through the registry
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(rebuilt.eval()(x), model.eval()(x))
    with pytest.raises(CheckpointError, match="is for model 'lenet5_modern', not 'resnet20'"):
        load_checkpoint(tmp_path, "resnet20")
    with pytest.raises(CheckpointError, match="'lenet5_modern'.*does not fit this Sequential"):
        load_checkpoint(tmp_path, model=tiny_cnn())


def test_checkpoint_damaged(tmp_path: Path) -> None:
    from cnnlab.train.checkpoint import weights_path

    save_checkpoint(tmp_path, tiny_cnn(), {"model": "tiny"})
    weights = weights_path(tmp_path)
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="does not match its card: sha256"):
        load_checkpoint(tmp_path, model=tiny_cnn())
    with pytest.raises(FileNotFoundError, match="not a cnnlab checkpoint"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(tmp_path / "b", tiny_cnn(), {"model": "tiny", "bad": object()})


# ----------------------------------------------------------------------------- bad input


def test_image_size_the_model_cannot_take() -> None:
    x = torch.rand(8, 1, 2, 2)
    y = torch.zeros(8, dtype=torch.long)
    with pytest.raises(InputShapeError) as err:
        fit(tiny_cnn(), (x, y), progress=False, model_name="tiny")
    msg = str(err.value)
    assert "'tiny' cannot take input of shape (8, 1, 2, 2)" in msg
    assert "Layer '5' (Linear) failed on input of shape (8, 8)" in msg


def test_registered_model_names_the_failing_layer() -> None:
    from cnnlab.models import create_model

    x, y = torch.rand(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)
    with pytest.raises(InputShapeError, match="'lenet5_modern' cannot take input of shape "
                       r"\(4, 1, 8, 8\).*layer '[a-z0-9]+'"):  # fmt: skip
        fit(create_model("lenet5_modern"), (x, y), model_name="lenet5_modern", progress=False)


def test_bad_arguments(digits: tuple) -> None:
    train, _ = digits
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        fit(tiny_cnn(), train, epochs=0, progress=False)
    with pytest.raises(ValueError, match="unknown optimizer 'sdg'.*Did you mean 'sgd'"):
        fit(tiny_cnn(), train, optimizer="sdg", progress=False)
    with pytest.raises(ValueError, match="amp='bf16' needs a CUDA device"):
        fit(tiny_cnn(), train, amp="bf16", progress=False)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        fit(tiny_cnn(), train, lr=-1, progress=False)
    with pytest.raises(TypeError, match="train_data must be a cnnlab.data.Dataset or a pair"):
        fit(tiny_cnn(), train.images, progress=False)
    with pytest.raises(ValueError, match="has 600 images but 3 labels"):
        fit(tiny_cnn(), (train.images, train.labels[:3]), progress=False)
    with pytest.raises(ValueError, match=r"labels range over 0..9 but model 'Sequential' has 4"):
        fit(tiny_cnn(classes=4), train, progress=False)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\), got 'high'"):
        fit(tiny_cnn(), train, momentum="high", progress=False)
    bad_val = (digits[1].images, digits[1].labels + 10)
    with pytest.raises(ValueError, match=r"labels range over 10..19 .* build it with num_classes"):
        fit(tiny_cnn(), train.subset(slice(0, 64)), bad_val, progress=False)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit("resnet20", train, progress=False)


def test_device_and_seed() -> None:
    assert pick_device().type in ("cpu", "cuda", "mps")
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be"):
        pick_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")
    seed_everything(5, threads=1)
    a = torch.rand(3)
    seed_everything(5, threads=1)
    assert torch.equal(a, torch.rand(3)) and torch.get_num_threads() == 1
