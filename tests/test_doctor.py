"""``python -m cnnlab doctor``: what the machine has, and a fix for what is missing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cnnlab.cli import main
from cnnlab.course import doctor


def _by_topic() -> dict[str, doctor.Finding]:
    return {f.topic: f for f in doctor.diagnose()}


def test_report_names_versions_device_data_and_tools(capsys: pytest.CaptureFixture) -> None:
    findings = _by_topic()
    for topic in ("python", "cnnlab", "torch", "device", "data cache", "mnist", "cifar10"):
        assert topic in findings
    assert findings["offline data"].ok and "shapes" in findings["offline data"].found
    assert main(["doctor", "--json"]) in (0, 1)
    rows = json.loads(capsys.readouterr().out)
    assert {"topic", "found", "ok", "fix"} <= set(rows[0])


def test_missing_pieces_come_with_a_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture
) -> None:  # noqa: ANN001
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name: None if "chromium" in name else real_which(name)
    )
    monkeypatch.setattr(doctor, "_version", lambda name: None if name == "ipywidgets" else "1.0")
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "cache"))
    (tmp_path / "cache" / "mnist").mkdir(parents=True)
    (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"x")
    findings = _by_topic()
    assert "no Chromium" in findings["PDF handouts"].found
    assert "apt-get install chromium" in findings["PDF handouts"].fix
    assert not findings["ipywidgets"].ok and "pip install" in findings["ipywidgets"].fix
    assert findings["data cache"].found.startswith(str(tmp_path / "cache"))
    assert "($CNNLAB_DATA)" in findings["data cache"].found
    assert findings["mnist"].found == "1 of 4 files in the cache"
    assert main(["doctor"]) == 1  # a needed package is missing
    out = capsys.readouterr().out
    assert "✘ ipywidgets" in out and "→ apt-get install chromium" in out


def test_unwritable_cache_is_flagged(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    monkeypatch.setattr(doctor.os, "access", lambda path, mode: False)  # root writes anywhere
    cache = _by_topic()["data cache"]
    assert not cache.ok and "not writable" in cache.found and "CNNLAB_DATA" in cache.fix


def _findings(missing: tuple[str, ...] = (), **found: str) -> list[doctor.Finding]:
    """A healthy report; ``found`` overrides some topics, the ``missing`` ones get a fix."""
    base = {"cnnlab": "0.1.0", "torch": "2.13.0", "mnist": "present", "cifar10": "present"}
    base["PDF handouts"] = "Chromium at /usr/bin/chromium"
    base.update(found)
    return [
        doctor.Finding(topic, text, fix="do this" if topic in missing else "")
        for topic, text in base.items()
    ]


def test_summary_line_is_one_short_line_of_what_matters(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    line = doctor.summary_line(_findings())
    assert line == (
        "this machine: cnnlab 0.1.0, torch 2.13.0 · CPU, 1 thread · "
        "full-profile data cached: mnist, cifar10 · PDF: yes"
    )
    real = doctor.summary_line()
    assert "\n" not in real and real.startswith(doctor.SUMMARY_PREFIX)


def test_summary_line_names_what_is_missing_and_the_doctor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "_device_short", lambda: "CUDA (H200), 8 threads")
    line = doctor.summary_line(
        _findings(
            ("mnist", "PDF handouts"),
            mnist="1 of 4 files in the cache",
            **{"PDF handouts": "no Chromium"},
        )
    )
    assert "CUDA (H200), 8 threads" in line and "full-profile data cached: cifar10 ·" in line
    assert "PDF: no" in line
    # an uncached dataset is not "missing": the quick profile downloads nothing
    assert line.endswith("missing PDF handouts: run `python -m cnnlab doctor` for details")


def test_nbval_sanitizes_any_summary_line_to_one_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from nbval.plugin import get_sanitize_patterns

    cfg = Path(__file__).with_name("nbval_sanitize.cfg").read_text()
    patterns = get_sanitize_patterns(cfg)

    def sanitize(text: str) -> str:  # what nbval does to a stored and a fresh output
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    monkeypatch.setattr(doctor, "_device_short", lambda: "CPU, 1 thread")
    here = doctor.summary_line(_findings())
    monkeypatch.setattr(doctor, "_device_short", lambda: "MPS, 10 threads")
    there = doctor.summary_line(_findings(("cifar10",), torch="2.4.1", cifar10="0 of 1 files"))
    assert here != there
    stream = "before\n{}\nafter: 3 × 3\n"
    assert sanitize(stream.format(here)) == sanitize(stream.format(there))
    assert sanitize(stream.format(here)).startswith("before\nthis machine: (")
    assert sanitize(stream.format(here)).endswith("\nafter: 3 × 3\n")  # other lines untouched


def test_summary_device_names_cuda_mps_or_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "NVIDIA H200")
    assert doctor._device_short() == "CUDA (NVIDIA H200), 8 threads"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert doctor._device_short() == "MPS, 8 threads"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert doctor._device_short() == "CPU, 8 threads"
