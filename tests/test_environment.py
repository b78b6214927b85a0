"""environment.yml, binder/environment.yml, pyproject.toml and constraints.txt must agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    out = {}
    for text in reqs:
        req = Requirement(text)
        out[CONDA_NAMES.get(req.name.lower(), req.name.lower())] = str(req.specifier)
    return out


def _conda_requirements(path: Path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    assert env["channels"] == ["conda-forge"], f"{path}: use conda-forge only"
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # the pip: section
            continue
        name, spec = re.match(r"([A-Za-z0-9_.-]+)(.*)", dep).groups()
        out[name.lower()] = spec.replace("=", "==", 1) if re.fullmatch(r"=[^=].*", spec) else spec
    return out


@pytest.mark.parametrize("yml", ["environment.yml", "binder/environment.yml"])
def test_conda_environment_matches_pyproject(yml: str) -> None:
    conda = _conda_requirements(ROOT / yml)
    assert conda.pop("python") == "==3.11"
    assert conda.pop("pip") == ""
    assert conda == _pyproject_requirements(), f"{yml} and pyproject.toml list different deps"


def test_root_environment_installs_the_package_with_pip() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert pip and any(line.endswith("-e .") for line in pip[0]["pip"])
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()


def test_package_declares_ranges_and_constraints_pin_them() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    assert pins["torch"] == "2.13.0", "constraints.txt must pin this machine's CPU torch wheel"
    for text in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        req = Requirement(text)
        assert all(s.operator == ">=" for s in req.specifier), f"{text}: declare a range, not a pin"
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[name]), f"pin {name}=={pins[name]} violates {text}"
    torch_req = next(Requirement(r) for r in project["dependencies"] if r.startswith("torch"))
    assert str(torch_req.specifier) == ">=2.2"
