"""``python -m cnnlab doctor``: what the machine has, and a fix for what is missing."""

from __future__ import annotations

import json
import shutil

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
