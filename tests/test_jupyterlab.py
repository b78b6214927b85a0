"""The course in a real browser: JupyterLab + Chromium (Playwright) running a notebook and a widget.

nbval proves the kernel side; this proves what a student sees: the notebook opens in JupyterLab,
Run All executes every cell without an error, the widget manager renders the explorer, and
moving a slider in the page round-trips through the kernel and redraws the widget. Skipped (with
the reason) where Playwright or a Chromium binary is missing; CI installs Chromium first.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "02_padding_stride.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"),
    pytest.mark.timeout(300),
]

# The notebook's kernel session is ready (TOOLCHAIN.md: clicking Run All earlier loses the run).
_KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const s = w && w.sessionContext;
  return !!(s && s.isReady && s.session && s.session.kernel
    && s.session.kernel.connectionStatus === 'connected' && s.session.kernel.status === 'idle');
}"""
# Every code cell has run and the kernel is idle again.
_ALL_RAN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  return w.sessionContext.session.kernel.status === 'idle'
    && cells.length > 0 && cells.every(c => c.model.executionCount !== null);
}"""
# Error outputs (tracebacks) of all cells, as "ename: evalue".
_ERRORS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')
  .flatMap(c => c.model.outputs.toJSON())
  .filter(o => o.output_type === 'error')
  .map(o => o.ename + ': ' + o.evalue)"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JupyterLab server on a copy of the notebook (autosave must not touch the repo)."""
    home = tmp_path_factory.mktemp("lab-home")
    work = tmp_path_factory.mktemp("lab-root")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "mpl"),
    }
    env.pop("MPLBACKEND", None)  # an Agg backend would remove the notebook's figures
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={work}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (home / "server.log").open("w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(home / 'server.log').read_text()}")
                time.sleep(0.5)
        yield f"{base}/lab/tree/{NOTEBOOK}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_notebook_runs_and_widget_answers_in_jupyterlab(lab: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(lab)
            page.wait_for_function(_KERNEL_IDLE, timeout=90_000)
            # Run All as a student does it: Run menu, "Run All Cells".
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
            page.wait_for_function(_ALL_RAN, timeout=180_000, polling=500)
            assert page.evaluate(_ERRORS) == []

            # The conv-arithmetic explorer, rendered by the widget manager in the page.
            explorer = page.locator(".widget-vbox", has_text="output volume").last
            expect(explorer).to_be_visible(timeout=30_000)
            summary = explorer.locator(".widget-html", has_text="output volume")
            expect(summary).to_contain_text("2×2×10")  # N=7, F=3, S=3: windows do not tile
            expect(explorer).to_contain_text("⚠")
            image = explorer.locator("img").last
            before = image.get_attribute("src")

            # Move the stride slider from 3 to 2 with the keyboard, as a student would.
            stride = explorer.locator(".widget-slider", has_text="s (stride)")
            stride.locator(".noUi-handle").first.focus()
            page.keyboard.press("ArrowLeft")
            expect(summary).to_contain_text("3×3×10", timeout=30_000)  # (7 - 3)/2 + 1 = 3
            expect(explorer).to_contain_text("✓")
            page.wait_for_function(
                "([el, src]) => el.getAttribute('src') !== src",
                arg=[image.element_handle(), before],
                timeout=30_000,
            )  # the figure was redrawn by the kernel
        finally:
            browser.close()
