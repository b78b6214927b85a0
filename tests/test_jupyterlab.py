"""The course in a real browser: JupyterLab + Chromium (Playwright) running notebooks and widgets.

nbval proves the kernel side; this proves what a student sees. Notebook 02 opens in JupyterLab,
Run All executes every cell without an error, and a slider moved in the page redraws its widget
through the kernel. Then every widget of the course (``Topic.widgets`` of each built topic in the
manifest, so a new topic's widget is covered without editing this file) gets a cell of one
generated notebook, built the way its lecture notebook builds it (``tests/browser_helpers.py``;
one Run All and one kernel for all of them: no training runs), and each of its sliders, choices,
checkboxes and number fields is moved in the page by one step: the page must then show the
summary and message that the widget's own ``compute`` gives for the new values (computed here on
a twin of the widget), the control's new value, a redrawn figure when the twin's figure changed,
and no error.
Screenshots go to ``build/browser/``. Skipped (with the reason) where Playwright or a Chromium
binary is missing; CI installs Chromium first.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    MissingWidgetError,
    movable,
    next_value,
    plain_text,
    resolve,
    wait_until,
    widget_cases,
    widgets_notebook,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "02_padding_stride.ipynb"
WIDGETS = "widgets.ipynb"  # generated: one cell per widget of the course
SHOTS = ROOT / "build" / "browser"
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
# Every code cell has run (or one raised: Run All stops there) and the kernel is idle again.
_ALL_RAN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const raised = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  return w.sessionContext.session.kernel.status === 'idle' && cells.length > 0
    && (raised || cells.every(c => c.model.executionCount !== null));
}"""
# The error outputs of the code cell at this position, or a note that it never ran.
_CELL_ERRORS = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets
    .filter(c => c.model.type === 'code')[i];
  if (cell.model.executionCount === null) { return ['the cell did not run']; }
  return cell.model.outputs.toJSON().filter(o => o.output_type === 'error')
    .map(o => o.ename + ': ' + o.evalue);
}"""
# Error outputs (tracebacks) of all cells, as "ename: evalue".
_ERRORS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')
  .flatMap(c => c.model.outputs.toJSON())
  .filter(o => o.output_type === 'error')
  .map(o => o.ename + ': ' + o.evalue)"""
# Shut the notebook's kernel down (each widget test starts one; two idle kernels cost memory).
_SHUTDOWN = """async () => {
  const s = window.jupyterapp.shell.currentWidget.sessionContext.session;
  if (s) { await s.shutdown(); }
}"""
# The control's page element, by the ipywidgets class of its kind.
_CSS = {
    "SelectMultiple": ".widget-select-multiple",
    "Dropdown": ".widget-dropdown",
    "ToggleButtons": ".widget-toggle-buttons",
    "Checkbox": ".widget-checkbox",
    "RadioButtons": ".widget-radio",
    "Slider": ".widget-slider",
    "Text": ".widget-text",
}


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: its URL, token and root folder (a temporary copy)."""

    base: str
    token: str
    root: Path

    def url(self, notebook: str, workspace: str) -> str:
        # a workspace of its own per notebook: a page must not restore another test's tabs
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One JupyterLab server for the module, on a copy (autosave must not touch the repo)."""
    home = tmp_path_factory.mktemp("lab-home")
    work = tmp_path_factory.mktemp("lab-root")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
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
        yield Lab(base, token, work)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (a page per test)."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


def _run_all(
    page: Any, lab: Lab, notebook: str, workspace: str, *, check_errors: bool = True
) -> None:
    """Open ``notebook``, wait for its kernel, Run All as a student does it, assert no error."""
    page.goto(lab.url(notebook, workspace))
    try:
        page.wait_for_function(_KERNEL_IDLE, timeout=90_000)
    except Exception as err:  # noqa: BLE001 - say what did not happen
        raise AssertionError(f"{notebook}: no idle kernel within 90 s ({err})") from None
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
    try:
        page.wait_for_function(_ALL_RAN, timeout=180_000, polling=500)
    except Exception as err:  # noqa: BLE001
        raise AssertionError(f"{notebook}: Run All did not finish within 180 s ({err})") from None
    if check_errors:
        assert page.evaluate(_ERRORS) == [], f"{notebook}: a cell raised"


def _close(page: Any) -> None:
    try:
        page.evaluate(_SHUTDOWN)
    finally:
        page.close()


def test_notebook_runs_and_widget_answers_in_jupyterlab(lab: Lab, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _run_all(page, lab, NOTEBOOK, "runall")

        # The conv-arithmetic explorer, rendered by the widget manager in the page.
        explorer = page.locator(".widget-vbox", has_text="output volume").last
        expect(explorer).to_be_visible(timeout=30_000)
        summary = explorer.locator(".widget-html", has_text="output volume")
        expect(summary).to_contain_text("2×2×10")  # n=7, k=3, s=3: windows do not tile
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
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{NOTEBOOK.removesuffix('.ipynb')}.png")
    finally:
        _close(page)


def _control(explorer: Any, control: Any) -> Any:
    """The page element of ``control``: its kind's element labelled with its description."""
    kind = None
    for cls in type(control).__mro__:
        kind = next((k for k in _CSS if cls.__name__.endswith(k)), None)
        if kind:
            break
    assert kind, f"no page element known for {type(control).__name__}"
    found = explorer.locator(_CSS[kind]).filter(
        has=explorer.page.get_by_text(control.description, exact=True)
    )
    count = found.count()
    assert count == 1, f"{count} {kind} elements labelled {control.description!r} in the page"
    return found


def _move(element: Any, control: Any, target: Any) -> None:
    """Move ``element`` (the page's ``control``) to ``target`` as a student would."""
    if "Slider" in type(control).__name__:  # the keyboard on the handle: one step
        element.locator(".noUi-handle").first.focus()
        forward = _position(control, target) > _position(control, control.value)
        element.page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
    elif isinstance(target, tuple):  # a multiple selection: choose exactly these options
        values, labels = list(control._options_values), list(control._options_labels)
        element.locator("select").select_option(label=[labels[values.index(v)] for v in target])
    elif hasattr(control, "options"):
        label = list(control._options_labels)[list(control._options_values).index(target)]
        if element.locator("select").count():
            element.locator("select").select_option(label=label)
        elif element.locator("input[type=radio]").count():
            element.get_by_label(label, exact=True).check()
        else:
            element.get_by_role("button", name=label, exact=True).click()
    elif isinstance(control.value, bool):
        element.locator("input[type=checkbox]").click()
    else:  # a number field: type the value, Enter sends it
        field = element.locator("input")
        field.fill(str(target))
        field.press("Enter")


def _position(control: Any, value: Any) -> Any:
    """Where ``value`` lies on a slider: itself, or its option's index (SelectionSlider)."""
    if hasattr(control, "options"):
        return list(control._options_values).index(value)
    return value


@dataclass(frozen=True)
class WidgetPage:
    """The page of the widgets notebook after Run All, and each widget's twin built here."""

    page: Any
    twins: dict[str, Any]
    cells: dict[str, int]  # widget name -> its cell's position
    problems: dict[str, Exception]  # widget name -> why it could not be built here


@pytest.fixture(scope="module")
def widget_page(lab: Lab, browser: Any) -> Iterator[WidgetPage]:
    """All the course's widgets in one notebook, run once: one page load, one kernel start."""
    resolved, problems = [], {}
    for case in widget_cases():
        try:
            resolved.append(resolve(case))
        except (AssertionError, MissingWidgetError) as err:  # its own test says it
            problems[case.name] = err
    cases = [case for case, _ in resolved]
    (lab.root / WIDGETS).write_text(json.dumps(widgets_notebook(cases)), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        _run_all(page, lab, WIDGETS, "widgets", check_errors=False)  # each test checks its cell
        yield WidgetPage(
            page,
            {case.name: widget for case, widget in resolved},
            {case.name: i for i, case in enumerate(cases)},
            problems,
        )
    finally:
        _close(page)


@pytest.mark.parametrize("name", [case.name for case in widget_cases()])
def test_widget_answers_every_control(widget_page: WidgetPage, name: str) -> None:
    problem = widget_page.problems.get(name)
    if isinstance(problem, MissingWidgetError):  # a topic being written: the audit fails it
        pytest.skip(str(problem))
    if problem is not None:
        pytest.fail(str(problem), pytrace=False)
    page, widget = widget_page.page, widget_page.twins[name]
    position = widget_page.cells[name]
    errors = page.evaluate(_CELL_ERRORS, position)
    assert errors == [], f"{name}: its cell raised {errors}"
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(position)
    cell.scroll_into_view_if_needed()
    explorer = cell.locator(".jp-OutputArea-output .widget-vbox").first
    try:
        explorer.wait_for(state="visible", timeout=30_000)
    except Exception:  # noqa: BLE001
        text = cell.locator(".jp-OutputArea").text_content()
        raise AssertionError(f"{name}: no widget in the page; its output: {text!r}") from None
    assert "Error displaying widget" not in (explorer.text_content() or "")
    htmls = explorer.locator(":scope > .widget-html")
    summary, message = htmls.nth(htmls.count() - 2), htmls.nth(htmls.count() - 1)
    image = explorer.locator(":scope > .widget-image").last

    def shown() -> tuple[str, str]:
        return plain_text(summary.inner_html()), plain_text(message.inner_html())

    def expect_twin(what: str) -> None:
        want = (plain_text(widget.summary.value), plain_text(widget.message.value))
        wait_until(shown, lambda got: got == want, 30, f"{name} {what} to show {want!r}")

    expect_twin("as built")
    moved = []
    for key, control in widget._controls.items():
        if not movable(control):
            continue
        element = _control(explorer, control)
        target, png, src = next_value(control), widget.image.value, image.get_attribute("src")
        _move(element, control, target)
        control.value = target  # the twin: the widget's own compute gives what to expect
        what = f"after {control.description!r} -> {target!r}"
        assert widget.error is None, (
            f"{name}: one move {what} gives the error banner: {widget.error}"
        )
        expect_twin(what)
        if widget.image.value != png:
            redrawn = lambda s, old=src: s != old  # noqa: E731
            wait_until(lambda: image.get_attribute("src"), redrawn, 30, f"{name}: figure {what}")
        if "Slider" in type(control).__name__ and hasattr(control, "readout_format"):
            readout = element.locator(".widget-readout").inner_text().strip()
            assert readout == format(control.value, control.readout_format), f"{name} {what}"
        moved.append(key)
    assert moved, f"{name}: no control to move"
    assert page.evaluate(_CELL_ERRORS, position) == [], f"{name}: an error after the moves"
    SHOTS.mkdir(parents=True, exist_ok=True)
    explorer.screenshot(path=SHOTS / f"{name}.png")
