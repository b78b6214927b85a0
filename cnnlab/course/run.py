"""Running the course: execute notebooks in place, and render the papermill handouts.

``python -m cnnlab notebooks`` re-executes ``notebooks/`` and ``solutions/`` in place (how the
committed, executed copies that nbval checks are made). ``python -m cnnlab course`` runs every
lecture notebook with papermill on a profile into ``build/notebooks/`` and renders each to an
offline HTML handout in ``build/handouts/`` (MathJax and the widget renderer are bundled from
npm next to the handouts, so math and sliders show without a network), printing wall times.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from cnnlab.profiles import check_profile

KERNEL = "python3"
# npm packages that make a handout work offline, and the file each URL points at.
ASSETS: dict[str, tuple[str, str]] = {
    "mathjax": ("mathjax@2.7.9", "MathJax.js?config=TeX-AMS_HTML-full,Safe"),
    "html-manager": ("@jupyter-widgets/html-manager@1.0.15", "dist/embed-amd.js"),
    "requirejs": ("requirejs@2.3.7", "require.js"),
}
_VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "papermill")


@dataclass
class RunResult:
    """One executed notebook: where it went, how long it took, whether it failed."""

    name: str
    seconds: float
    output: Path
    handout: Path | None = None
    error: str | None = None


def course_notebooks(folder: Path = Path("notebooks"), only: str | None = None) -> list[Path]:
    """The built topics' notebooks in ``folder``, in course order (from the manifest).

    ``folder`` is ``notebooks`` (lectures) or ``solutions``; ``only`` keeps the file names that
    contain it. A topic whose notebook is missing is an error naming it.
    """
    from cnnlab.course.manifest import topics

    if not folder.is_dir():
        raise FileNotFoundError(f"notebook folder {folder} does not exist")
    paths = [folder / f"{t.stem}.ipynb" for t in topics(built=True)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)} (listed in the manifest)")
    return _only(paths, only)


def _only(paths: list[Path], only: str | None) -> list[Path]:
    if only:
        paths = [p for p in paths if only in p.name]
        if not paths:
            raise ValueError(f"no notebook matches {only!r}")
    return paths


def times_file(out: Path, profile: str) -> Path:
    """Where ``run_course`` records each notebook's wall time for ``profile``."""
    return out / f"times-{profile}.json"


def last_times(out: Path = Path("build"), profile: str = "quick") -> dict[str, float]:
    """Notebook stem -> seconds of the last course run on ``profile`` (empty if none)."""
    path = times_file(out, profile)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data["seconds"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # never run here, or a damaged file: times are then unknown


def discover(folders: Iterable[Path], only: str | None = None) -> list[Path]:
    """Notebooks in ``folders`` (sorted, checkpoints skipped), optionally filtered by substring."""
    paths: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"notebook folder {folder} does not exist")
        paths += sorted(p for p in folder.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return _only(paths, only)


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop run-specific metadata (timings, papermill bookkeeping) that would be git noise.

    Adjacent stream outputs are merged too: how a kernel splits stdout between messages varies
    from run to run, and nbval compares the joined text anyway.
    """
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    return stable_widget_ids(nb)


_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_IPY_MODEL = "IPY_MODEL_"


def stable_widget_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Rename the random widget model ids to ones numbered in order of appearance.

    ipywidgets names every model with a fresh uuid4, so each re-execution rewrote hundreds of
    ids in the saved widget state and outputs: pure git noise. The new ids are uuid5 of the
    position (same length and alphabet), and every reference (state keys, ``IPY_MODEL_<id>``
    links between models, output views) is renamed consistently.
    """
    state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state")
    order: list[str] = list(state) if isinstance(state, dict) else []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(_WIDGET_VIEW)
            if isinstance(view, dict) and view.get("model_id") not in (None, *order):
                order.append(view["model_id"])
    stable = [uuid.uuid5(uuid.NAMESPACE_OID, f"cnnlab-widget-{i}").hex for i in range(len(order))]
    if not order or set(order) == set(stable):
        return nb  # nothing to rename, or renamed already (saving sorts the keys: keep them)
    new = dict(zip(order, stable, strict=True))

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            if value in new:
                return new[value]
            if value.startswith(_IPY_MODEL) and value[len(_IPY_MODEL) :] in new:
                return _IPY_MODEL + new[value[len(_IPY_MODEL) :]]
            return value
        if isinstance(value, list):
            return [rename(v) for v in value]
        if isinstance(value, dict):
            return {rename(k) if k in new else k: rename(v) for k, v in value.items()}
        return value

    if isinstance(state, dict):
        nb.metadata["widgets"][_WIDGET_STATE]["state"] = nbformat.from_dict(rename(state))
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(_WIDGET_VIEW)
            if isinstance(view, dict) and "model_id" in view:
                view["model_id"] = new.get(view["model_id"], view["model_id"])
    return nb


def _merge_streams(outputs: list) -> list:
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            out.get("output_type") == "stream"
            and prev is not None
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


@contextmanager
def _kernel_manager() -> Iterator[Any]:
    """A python3 kernel manager on IPC sockets in a private folder, shut down afterwards.

    IPC avoids ipykernel's "running over TCP without encryption" warning on every run; a kernel
    manager passed to nbclient/papermill is not shut down by them, so it is done here.
    """
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory() as sockets:
        km = KernelManager(kernel_name=KERNEL, transport="ipc", ip=str(Path(sockets) / "k"))
        try:
            yield km
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)


def execute_in_place(path: Path, timeout: int = 900) -> float:
    """Execute ``path`` top to bottom in its own folder and save it; return wall seconds."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with _kernel_manager() as km:
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
        )
        client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(clean(nb), path)
    return seconds


def ensure_assets(dest: Path, timeout: int = 300) -> dict[str, str] | None:
    """Unpack the handout's JavaScript (MathJax 2, widget renderer, RequireJS) into ``dest``.

    Uses ``npm pack`` once (the files are then reused). Returns the URLs relative to the handout
    folder, or ``None`` when npm or the registry is unavailable (handouts then use CDNs).
    """
    urls = {key: f"{dest.name}/{key}/{entry}" for key, (_, entry) in ASSETS.items()}
    if all((dest / key / entry.split("?")[0]).exists() for key, (_, entry) in ASSETS.items()):
        return urls
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: handouts will load MathJax and widgets from a CDN", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        for key, (spec, _) in ASSETS.items():
            try:
                out = subprocess.run(
                    [npm, "pack", spec, "--silent", "--pack-destination", tmp],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=timeout,
                )
            except (subprocess.SubprocessError, OSError) as exc:
                print(
                    f"could not fetch {spec} with npm ({exc}); handouts will use a CDN",
                    file=sys.stderr,
                )
                return None
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
            target = dest / key
            shutil.rmtree(target, ignore_errors=True)
            with tarfile.open(tarball) as tar:
                tar.extractall(Path(tmp) / key, filter="data")
            shutil.move(str(Path(tmp) / key / "package"), target)
    return urls


def render_handout(notebook: Path, out_dir: Path, urls: dict[str, str] | None) -> Path:
    """Render an executed notebook to ``out_dir/<name>.html`` (code, outputs, figures, widgets)."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    if urls:
        config.HTMLExporter.mathjax_url = urls["mathjax"]
        config.HTMLExporter.widget_renderer_url = urls["html-manager"]
        config.HTMLExporter.require_js_url = urls["requirejs"]
    exporter = HTMLExporter(config=config)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    target = out_dir / f"{notebook.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


def render_pdf(html: Path) -> Path | None:
    """Print a handout to PDF with a headless Chromium, if one is installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    pdf = html.with_suffix(".pdf")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
            "--virtual-time-budget=10000",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return pdf


def run_course(
    notebooks: Sequence[Path],
    out: Path,
    *,
    profile: str = "quick",
    parameters: dict[str, object] | None = None,
    handouts: bool = True,
    pdf: bool = False,
) -> list[RunResult]:
    """Execute each notebook with papermill into ``out/notebooks`` and render its handout."""
    import papermill

    check_profile(profile)
    params = {"profile": profile, **(parameters or {})}
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    handout_dir = out / "handouts"
    urls = None
    if handouts:
        handout_dir.mkdir(parents=True, exist_ok=True)
        urls = ensure_assets(handout_dir / "assets")
    results: list[RunResult] = []
    for path in notebooks:
        target = out / "notebooks" / path.name
        start = time.perf_counter()
        result = RunResult(path.stem, 0.0, target)
        with _kernel_manager() as km:
            try:
                papermill.execute_notebook(
                    str(path),
                    str(target),
                    parameters=params,
                    kernel_name=KERNEL,
                    km=km,
                    cwd=str(path.parent),
                    progress_bar=False,
                    log_output=False,
                )
            except Exception as exc:  # PapermillExecutionError carries the cell's error
                result.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}"
        result.seconds = time.perf_counter() - start
        if handouts and target.exists():
            result.handout = render_handout(target, handout_dir, urls)
            if pdf:
                render_pdf(result.handout)
        results.append(result)
        status = "FAILED " + result.error if result.error else "ok"
        print(f"  {path.name:<40} {result.seconds:7.1f} s  {status}", flush=True)
    if handouts:
        _write_index(handout_dir, results, profile)
    _record_times(out, profile, results)
    return results


def _record_times(out: Path, profile: str, results: list[RunResult]) -> None:
    """Merge this run's successful wall times into ``times-<profile>.json`` (atomically)."""
    seconds = last_times(out, profile)
    seconds.update({r.name: round(r.seconds, 1) for r in results if not r.error})
    text = json.dumps({"profile": profile, "seconds": seconds}, indent=1, sort_keys=True)
    path = times_file(out, profile)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)  # a reader sees the old table or the new one


def _write_index(folder: Path, results: list[RunResult], profile: str) -> None:
    items = "\n".join(
        f'<li><a href="{r.handout.name}">{r.name}</a> ({r.seconds:.1f} s)</li>'
        for r in results
        if r.handout
    )
    (folder / "index.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>cnnlab handouts</title>"
        f"<h1>cnnlab handouts ({profile} profile)</h1><ul>\n{items}\n</ul>\n",
        encoding="utf-8",
    )
