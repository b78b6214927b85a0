"""Binder: ``binder/`` builds with repo2docker (its Dockerfile, printed without Docker)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _dockerfile(folder: Path) -> str:
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is not installed")
    command = [sys.executable, "-m", "repo2docker", "--no-build", "--debug", "--no-run"]
    done = subprocess.run([*command, str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def test_repo2docker_builds_from_binder_with_a_cached_conda_step() -> None:
    docker = _dockerfile(ROOT)
    assert "Building conda environment for python=3.11" in docker
    # The environment is solved before the repository is copied in: Binder caches that layer.
    copy_env = docker.index("COPY --chown=0:0 src/binder/environment.yml")
    solve = docker.index('env update -p ${NB_PYTHON_PREFIX} --file "binder/environment.yml"')
    copy_repo = docker.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    assert copy_env < solve < copy_repo < docker.index("RUN ./binder/postBuild")
    assert '--file "environment.yml"' not in docker  # binder/ wins over the root's file


def test_postbuild_installs_cnnlab_without_touching_the_environment() -> None:
    post = (ROOT / "binder" / "postBuild").read_text()
    assert post.startswith("#!/bin/bash") and "set -euo pipefail" in post
    assert "pip install --no-deps --no-cache-dir -e ." in post
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    # A local `-e .` in the yml would disable the cached step (repo2docker copies the repo first).
    assert not [d for d in env["dependencies"] if isinstance(d, dict)]


def test_a_broken_binder_folder_is_caught(tmp_path: Path) -> None:
    """The check can fail: without binder/, repo2docker falls back to the root's files."""
    shutil.copy(ROOT / "environment.yml", tmp_path / "environment.yml")
    docker = _dockerfile(tmp_path)
    assert "binder/environment.yml" not in docker
    assert '--file "environment.yml"' in docker
