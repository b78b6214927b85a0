"""What this machine can do for the course, and what to do about what is missing.

``diagnose()`` returns a list of ``Finding``s (versions, device and threads, the data cache and
which downloadable datasets are in it, Chromium for PDF handouts, npm for offline handouts);
``python -m cnnlab doctor`` prints them; ``summary_line`` squeezes them into the one line a
notebook's setup prints. Nothing is downloaded or installed.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

# Every summary line starts with this: tests/nbval_sanitize.cfg replaces the whole line by a
# constant, since versions, device and cache differ from machine to machine.
SUMMARY_PREFIX = "this machine:"
PACKAGES = ("torch", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval", "papermill")


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, what was found, and a fix when it is missing."""

    topic: str
    found: str
    ok: bool = True
    fix: str = ""


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _versions() -> list[Finding]:
    from cnnlab import __version__

    found = [Finding("python", platform.python_version()), Finding("cnnlab", __version__)]
    for name in PACKAGES:
        version = _version(name)
        needed = name in ("torch", "numpy", "matplotlib", "ipywidgets")
        found.append(
            Finding(
                name,
                version or "not installed",
                ok=version is not None or not needed,
                fix="" if version else f"pip install -c constraints.txt -e '.[dev]' (for {name})",
            )
        )
    return found


def _device() -> list[Finding]:
    import torch

    threads = f"{torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs"
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name()
        return [Finding("device", f"CUDA: {name} ({threads}); notebooks pick it automatically")]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return [Finding("device", f"Apple MPS ({threads})")]
    return [
        Finding(
            "device",
            f"CPU only ({threads})",
            fix="the quick profile is made for this; for `-p profile full` use a GPU (e.g. Colab)",
        )
    ]


def _data() -> list[Finding]:
    from cnnlab.data.official import ENV_VAR, REGISTRY, data_dir

    folder = data_dir()
    source = f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "default"
    writable = os.access(folder if folder.exists() else _existing_parent(folder), os.W_OK)
    found = [
        Finding(
            "data cache",
            f"{folder} ({source}{'' if writable else ', not writable'})",
            ok=writable,
            fix="" if writable else f"set {ENV_VAR} to a folder you can write",
        ),
        Finding("offline data", "digits, photos, shapes: bundled or generated, always present"),
    ]
    for name, files in REGISTRY.items():
        present = [f.fname for f in files.values() if (folder / name / f.fname).is_file()]
        complete = len(present) == len(files)
        found.append(
            Finding(
                name,
                "present" if complete else f"{len(present)} of {len(files)} files in the cache",
                ok=True,  # optional: only the full profile uses them
                fix=""
                if complete
                else f"downloaded on first use with a network (full profile), or copy "
                f"{', '.join(f.fname for f in files.values())} into {folder / name}",
            )
        )
    return found


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _tools() -> list[Finding]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    npm = shutil.which("npm")
    return [
        Finding(
            "PDF handouts",
            f"Chromium at {chromium}" if chromium else "no Chromium: HTML handouts only",
            fix="" if chromium else "apt-get install chromium (then `make course` prints PDFs)",
        ),
        Finding(
            "offline handouts",
            f"npm at {npm}" if npm else "no npm: handouts load MathJax and widgets from a CDN",
            fix="" if npm else "install Node.js/npm so `make course` bundles them once",
        ),
    ]


def diagnose() -> list[Finding]:
    """Every finding, in report order."""
    return [*_versions(), *_device(), *_data(), *_tools()]


def format_report(findings: list[Finding]) -> str:
    """One line per finding (✔ or ✘, what was found), and the fix indented below it."""
    lines = []
    for f in findings:
        mark = "✔" if f.ok else "✘"
        lines.append(f"{mark} {f.topic:<17} {f.found}")
        if f.fix:
            lines.append(f"  {'':<17} → {f.fix}")
    return "\n".join(lines)


def _device_short() -> str:
    import torch

    threads = torch.get_num_threads()
    where = "CPU"
    if torch.cuda.is_available():
        where = f"CUDA ({torch.cuda.get_device_name()})"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        where = "MPS"
    return f"{where}, {threads} thread{'s' if threads != 1 else ''}"


def summary_line(findings: list[Finding] | None = None) -> str:
    """One short line for a notebook's setup output; points to the full report when needed.

    "Something missing" is a finding that is not ok or that comes with a fix, the device aside
    (a CPU is what the quick profile is made for).
    """
    from cnnlab.data.official import REGISTRY

    findings = diagnose() if findings is None else findings
    by_topic = {f.topic: f for f in findings}
    versions = ", ".join(
        f"{name} {by_topic[name].found}" for name in ("cnnlab", "torch") if name in by_topic
    )
    cached = [name for name in REGISTRY if by_topic.get(name, Finding(name, "")).found == "present"]
    pdf = by_topic.get("PDF handouts")
    line = (
        f"{SUMMARY_PREFIX} {versions} · {_device_short()} · "
        f"full-profile data cached: {', '.join(cached) or 'none'} · "
        f"PDF: {'yes' if pdf is not None and not pdf.fix else 'no'}"
    )
    # The quick profile needs no download: an uncached dataset is not something missing.
    missing = [
        f.topic
        for f in findings
        if (f.fix or not f.ok) and f.topic != "device" and f.topic not in REGISTRY
    ]
    if missing:
        line += f" · missing {', '.join(missing)}: run `python -m cnnlab doctor` for details"
    return line
