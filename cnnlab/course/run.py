"""Running the course: execute notebooks in place, and render the papermill handouts.

``python -m cnnlab notebooks`` re-executes ``notebooks/`` and ``solutions/`` in place (how the
committed, executed copies that nbval checks are made). ``python -m cnnlab course`` runs every
lecture notebook with papermill on a profile into ``build/notebooks/`` and renders each to an
offline HTML handout in ``build/handouts/`` (MathJax and the widget renderer are bundled from
npm next to the handouts, so math and sliders show without a network), printing wall times;
where Chromium is installed each handout is also printed to PDF (long lines wrapped, MathJax
given virtual time to finish). ``python -m cnnlab render`` does the same for one notebook.

Nothing half-done looks done: each notebook is executed into a temporary file and moved into
place in one step, its metadata saying how the run ended (``metadata.cnnlab.state``: ok or
failed); a notebook interrupted by Ctrl-C or SIGTERM is not written. ``build/times-<profile>.json``
records every notebook's last state, and the handouts' index lists every built topic with it
(ok, failed, interrupted, not run yet, or from an earlier run, stale when its source changed
since), however few notebooks a run (``--only``) executed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
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
# Virtual time Chromium grants the page before printing: MathJax and the widget renderer finish
# well within it (with none, the PDF catches MathJax half-done). Virtual, so a static page
# prints in about a second, not ten.
MATHJAX_BUDGET_MS = 10_000
PDF_SKIPPED = "chromium not found: PDF handouts skipped — apt-get install chromium"


OK, FAILED, INTERRUPTED = "ok", "failed", "interrupted"


@dataclass
class RunResult:
    """One executed notebook: where it went, how long it took, how it ended.

    ``state`` is ``"ok"``, ``"failed"`` (``error`` says why) or ``"interrupted"``.
    """

    name: str
    seconds: float
    output: Path
    handout: Path | None = None
    error: str | None = None
    state: str = OK
    pdf: Path | None = None
    pdf_seconds: float = 0.0


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
    """Notebook stem -> seconds of the last successful run on ``profile`` (empty if none)."""
    try:
        data = json.loads(times_file(out, profile).read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data["seconds"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # never run here, or a damaged file: times are then unknown


def build_state(out: Path = Path("build"), profile: str = "quick") -> dict[str, dict[str, Any]]:
    """Notebook stem -> how its last run on ``profile`` ended (empty if none).

    Each entry has ``state`` (ok, failed, interrupted), ``seconds``, ``error``, ``finished``
    (Unix time) and ``source`` (the notebook that was run).
    """
    try:
        data = json.loads(times_file(out, profile).read_text(encoding="utf-8"))
        entries = data.get("notebooks", {})
        return {str(k): dict(v) for k, v in entries.items() if isinstance(v, dict)}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` then rename over ``path``: readers see the old file or the whole new one."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        if path.exists():
            shutil.copymode(path, tmp)  # a committed notebook keeps its permissions
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


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
    """Execute ``path`` top to bottom in its own folder and save it; return wall seconds.

    The file is replaced in one step once every cell has run: a failing cell (nbclient's
    ``CellExecutionError``) or an interrupt leaves it untouched.
    """
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
    # Atomic: an interrupt while saving leaves the committed notebook as it was.
    _write_atomically(path, lambda tmp: nbformat.write(clean(nb), tmp))
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
            # Unpack beside the target, then swap it in: an interrupted copy never leaves a
            # half-filled folder that the "already there" test above would take as complete.
            partial = dest / f".{key}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            with tarfile.open(tarball) as tar:
                tar.extractall(Path(tmp) / key, filter="data")
            shutil.move(str(Path(tmp) / key / "package"), partial)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(partial, target)
    return urls


def render_handout(notebook: Path, out_dir: Path, urls: dict[str, str] | None) -> Path:
    """Render an executed notebook to ``out_dir/<name>.html`` (code, outputs, figures, widgets).

    The page carries the handout style sheet (``handout_style``): long lines wrap when printed.
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    from cnnlab.course.colab import TAG as COLAB_TAG
    from cnnlab.course.handout_style import with_handout_style

    config = Config()
    if urls:
        config.HTMLExporter.mathjax_url = urls["mathjax"]
        config.HTMLExporter.widget_renderer_url = urls["html-manager"]
        config.HTMLExporter.require_js_url = urls["requirejs"]
    # The Colab install cell does nothing off Colab: a printed handout leaves it out.
    config.TagRemovePreprocessor.remove_cell_tags = {COLAB_TAG}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(config=config)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    body = with_handout_style(body)
    target = out_dir / f"{notebook.stem}.html"
    _write_atomically(target, lambda tmp: tmp.write_text(body, encoding="utf-8"))
    return target


def chromium() -> str | None:
    """The Chromium binary that prints PDF handouts, or None when none is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pdf_wanted(wanted: bool = True) -> bool:
    """Whether to print PDFs: ``wanted`` and Chromium present (else say so in one line)."""
    if not wanted:
        return False
    if chromium() is None:
        print(PDF_SKIPPED, file=sys.stderr, flush=True)
        return False
    return True


def render_pdf(html: Path, budget_ms: int = MATHJAX_BUDGET_MS, timeout: int = 120) -> Path | None:
    """Print a handout to ``<name>.pdf`` beside it with headless Chromium (None: no Chromium).

    Written under a temporary name and moved into place whole; a failure (Chromium crashed, timed
    out or wrote no PDF) raises ``RuntimeError`` with one line and leaves any older PDF as it was.
    """
    browser = chromium()
    if browser is None:
        return None
    pdf = html.with_suffix(".pdf")
    tmp = pdf.with_name(f".{pdf.stem}.{os.getpid()}.tmp.pdf")
    try:
        try:
            done = subprocess.run(
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
                    f"--virtual-time-budget={budget_ms}",
                    f"--print-to-pdf={tmp.resolve()}",
                    html.resolve().as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"chromium took over {timeout} s to print {html.name}") from None
        if not tmp.is_file() or tmp.read_bytes()[:5] != b"%PDF-":
            errors = [line for line in done.stderr.splitlines() if line.strip()]
            why = errors[-1][:200] if errors else f"exit status {done.returncode}"
            raise RuntimeError(f"chromium wrote no PDF of {html.name}: {why}")
        os.replace(tmp, pdf)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return pdf


def write_handouts(
    result: RunResult, handout_dir: Path, urls: dict[str, str] | None, pdf: bool
) -> None:
    """Render ``result.output`` to HTML (and PDF) in ``handout_dir``, noting them in ``result``.

    A PDF that fails is one line on stderr: the HTML handout and the rest of the run stand.
    """
    result.handout = render_handout(result.output, handout_dir, urls)
    if not pdf:
        return
    start = time.perf_counter()
    try:
        result.pdf = render_pdf(result.handout)
    except (OSError, RuntimeError) as exc:
        print(f"  PDF of {result.output.name} failed: {exc}", file=sys.stderr, flush=True)
    result.pdf_seconds = time.perf_counter() - start


def execute_notebook(
    path: Path,
    target: Path,
    params: dict[str, object],
    profile: str,
    result: RunResult | None = None,
) -> RunResult:
    """Run ``path`` with papermill into ``target`` (moved into place whole, marked ok/failed).

    ``result`` (made here when None) is ``interrupted`` until the run ends otherwise.
    """
    import papermill

    if result is None:
        result = RunResult(path.stem, 0.0, target, state=INTERRUPTED)
    _execute(papermill, path, target, params, result, time.perf_counter(), profile)
    return result


def run_course(
    notebooks: Sequence[Path],
    out: Path,
    *,
    profile: str = "quick",
    parameters: dict[str, object] | None = None,
    handouts: bool = True,
    pdf: bool = False,
) -> list[RunResult]:
    """Execute each notebook with papermill into ``out/notebooks`` and render its handout.

    ``pdf``: also print each handout to PDF (callers decide with ``pdf_wanted``).

    A failing notebook is recorded and the run goes on. On Ctrl-C or SIGTERM the notebook
    running is recorded as interrupted (its earlier output, if any, is left as it was), the
    state file and the index are written, and the interrupt propagates.
    """
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
    sources = {path.stem: path for path in notebooks}
    try:
        for path in notebooks:
            target = out / "notebooks" / path.name
            result = RunResult(path.stem, 0.0, target, state=INTERRUPTED)
            results.append(result)  # recorded as interrupted until it ends otherwise
            start = time.perf_counter()
            _execute(papermill, path, target, params, result, start, profile)
            if handouts and target.exists():
                write_handouts(result, handout_dir, urls, pdf)
            status = f"FAILED {result.error}" if result.error else "ok"
            if result.pdf is not None:
                status += f" (PDF {result.pdf_seconds:.1f} s)"
            print(f"  {path.name:<40} {result.seconds:7.1f} s  {status}", flush=True)
    except BaseException as exc:
        last = results[-1] if results else None
        if last is not None and last.state == INTERRUPTED:
            if isinstance(exc, Exception):  # our own failure, not an interrupt
                last.state, last.error = FAILED, f"{type(exc).__name__}: {exc}"[:300]
            print(f"  {last.output.name:<40} {last.seconds:7.1f} s  {last.state}", flush=True)
        raise
    finally:  # even when interrupted: what ran is recorded, the index lists every notebook
        state = _record_times(out, profile, results, sources)
        if handouts:
            _write_index(handout_dir, out, state, {r.name for r in results}, profile)
    return results


def _execute(
    papermill: Any,
    path: Path,
    target: Path,
    params: dict[str, object],
    result: RunResult,
    start: float,
    profile: str,
) -> None:
    """Run one notebook into a temporary file, then move it onto ``target`` marked ok/failed.

    papermill saves its output after every cell, so ``target`` itself would hold a partly
    executed notebook while it runs (or forever, after an interrupt).
    """
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.ipynb")
    try:
        state, error = OK, None
        with _kernel_manager() as km:
            try:
                papermill.execute_notebook(
                    str(path),
                    str(tmp),
                    parameters=params,
                    kernel_name=KERNEL,
                    km=km,
                    cwd=str(path.parent),
                    progress_bar=False,
                    log_output=False,
                )
            except Exception as exc:  # PapermillExecutionError carries the cell's error
                lines = str(exc).strip().splitlines() or [""]
                state, error = FAILED, f"{type(exc).__name__}: {lines[-1][:300]}"
        seconds = time.perf_counter() - start
        if tmp.exists():  # papermill wrote it, up to the failing cell if one failed
            nb = nbformat.read(tmp, as_version=4)
            nb.metadata["cnnlab"] = {
                "state": state,
                "profile": profile,
                "seconds": round(seconds, 1),
                "error": error,
            }
            nbformat.write(nb, tmp)
            os.replace(tmp, target)  # the whole notebook, marked, in one step
        # Only now is it done: an interrupt before this leaves the result "interrupted".
        result.state, result.error, result.seconds = state, error, seconds
    finally:
        if result.state == INTERRUPTED:
            result.seconds = time.perf_counter() - start
        with contextlib.suppress(OSError):
            tmp.unlink()


def _record_times(
    out: Path, profile: str, results: list[RunResult], sources: dict[str, Path]
) -> dict[str, dict[str, Any]]:
    """Merge this run into ``times-<profile>.json`` (atomically); return every entry.

    ``seconds`` keeps each notebook's last successful time (what ``last_times`` and
    ``python -m cnnlab topics`` read); ``notebooks`` each one's last state.
    """
    seconds = last_times(out, profile)
    seconds.update({r.name: round(r.seconds, 1) for r in results if r.state == OK})
    state = build_state(out, profile)
    now = time.time()
    for r in results:
        state[r.name] = {
            "state": r.state,
            "seconds": round(r.seconds, 1),
            "error": r.error,
            "finished": now,
            "source": str(sources.get(r.name, "")),
        }
    data = {"profile": profile, "seconds": seconds, "notebooks": state}
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    _write_atomically(times_file(out, profile), lambda tmp: tmp.write_text(text, "utf-8"))
    return state


def _describe(entry: dict[str, Any] | None, this_run: bool) -> tuple[str, str]:
    """(css class, text) of one notebook's state for the index."""
    if entry is None:
        return "none", "not run yet"
    state, seconds = entry.get("state"), entry.get("seconds", 0.0)
    text = {
        OK: f"ok, {seconds:.1f} s",
        FAILED: f"failed: {entry.get('error') or 'unknown error'}",
        INTERRUPTED: f"interrupted after {seconds:.1f} s",
    }.get(str(state), f"unknown state {state!r}")
    if this_run:
        return str(state), text
    finished = float(entry.get("finished") or 0)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(finished))
    source = Path(str(entry.get("source") or ""))
    if source.name and source.is_file() and source.stat().st_mtime > finished:
        return "stale", f"stale: {text} in an earlier run ({when}); the notebook changed since"
    return "earlier", f"{text} (earlier run, {when})"


def _write_index(
    folder: Path, out: Path, state: dict[str, dict[str, Any]], ran: set[str], profile: str
) -> None:
    """The handouts' index: every built topic (and whatever else ran), each with its state."""
    from cnnlab.course.manifest import topics

    stems = [t.stem for t in topics(built=True)]
    stems += [s for s in state if s not in stems and (s in ran or _executed(out, s))]
    items = []
    for stem in stems:
        css, text = _describe(state.get(stem), stem in ran)
        handout = folder / f"{stem}.html"
        name = f'<a href="{escape(handout.name)}">{escape(stem)}</a>' if handout.exists() else stem
        items.append(f'<li class="{css}">{name}: {escape(text)}</li>')
    body = "\n".join(items)
    html = (
        "<!doctype html><meta charset='utf-8'><title>cnnlab handouts</title>"
        "<style>.failed,.interrupted{color:#b00}.stale,.none{color:#777}</style>"
        f"<h1>cnnlab handouts ({escape(profile)} profile)</h1><ul>\n{body}\n</ul>\n"
    )
    _write_atomically(folder / "index.html", lambda tmp: tmp.write_text(html, "utf-8"))


def _executed(out: Path, stem: str) -> bool:
    return (out / "notebooks" / f"{stem}.ipynb").is_file()
