"""A real handout printed to PDF: math typeset, widget and plots on the page, long lines wrapped.

The handout is notebook 01 as committed (what students get) plus one cell with a long code line
and a long output line. It is rendered like ``make course`` does (offline MathJax and widget
renderer from npm, Chromium's print), then read back with pypdfium2: page text, image objects,
and pages rendered to pixels. Skipped, with the reason, without Chromium or the npm assets.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from cnnlab.course import run as course

pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 not installed (dev extra)")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_cross_correlation.ipynb"
LONG_CODE = "long_name = '" + "abcdefghij" * 20 + "CODETAIL'"
LONG_OUTPUT = "out" + "0123456789" * 20 + "OUTPUTTAIL"
FORMULA = r"$$\frac{N - F + 2P}{S} + 1 = \sum_{i} x_i$$"
# TeX that MathJax would have replaced: a command name, or a dollar sign left in the text.
RAW_TEX = re.compile(r"\$|\\(frac|sum|times|cdot|star|sqrt|mathrm|mathbf|left|right|in)\b")
WIDGET = "application/vnd.jupyter.widget-state+json"


@pytest.fixture(scope="module")
def handout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, nbformat.NotebookNode]:
    """(the PDF, the notebook it was printed from)."""
    if course.chromium() is None:
        pytest.skip(course.PDF_SKIPPED)
    # Shared with `make course`: unpacked once (npm), reused by every later build and test run.
    assets = ROOT / "build" / "handouts" / "assets"
    assets.parent.mkdir(parents=True, exist_ok=True)
    urls = course.ensure_assets(assets)
    if urls is None:
        pytest.skip("npm or its registry unavailable: no offline MathJax/widget renderer")
    folder = tmp_path_factory.mktemp("handout")
    (folder / "assets").symlink_to(assets, target_is_directory=True)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    long_cell = new_code_cell(LONG_CODE)
    long_cell.outputs = [new_output("stream", name="stdout", text=LONG_OUTPUT + "\n")]
    nb.cells[1:1] = [new_markdown_cell(f"A formula: {FORMULA}"), long_cell]
    nbformat.write(nb, folder / NOTEBOOK.name)
    html = course.render_handout(folder / NOTEBOOK.name, folder, urls)
    pdf = course.render_pdf(html)
    assert pdf is not None and pdf.is_file()
    return pdf, nb


def _texts(pdf: Path) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def _joined(text: str) -> str:
    """Page text without the line breaks that wrapping (and extraction) put in."""
    return re.sub(r"\s+", "", text)


def test_math_is_typeset(handout: tuple[Path, nbformat.NotebookNode]) -> None:
    texts = _texts(handout[0])
    raw = [(page, m.group(0)) for page, t in enumerate(texts) for m in RAW_TEX.finditer(t)]
    assert not raw, f"raw TeX left on the page (MathJax not finished?): {raw[:5]}"
    # the typeset formula's glyphs are there: MathJax's summation sign and its operands
    assert "∑" in "".join(texts)
    assert "2P" in _joined("".join(texts))


def test_long_lines_wrap_instead_of_being_clipped(
    handout: tuple[Path, nbformat.NotebookNode],
) -> None:
    text = _joined("".join(_texts(handout[0])))
    assert _joined(LONG_CODE) in text  # the whole line, its tail included
    assert LONG_OUTPUT in text


def _readouts(nb: nbformat.NotebookNode) -> set[str]:
    """ "label value" of each slider in the notebook's stored widget state, as the page shows it."""
    state = nb.metadata["widgets"][WIDGET]["state"]
    return {
        f"{m['state']['description']} {m['state']['value']}"
        for m in state.values()
        if m["model_name"].endswith("SliderModel") and m["state"].get("description")
    }


def _image_boxes(page: object) -> list[tuple[float, float, float, float]]:
    objs = page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=8)
    return [obj.get_bounds() for obj in objs]


def _inked(page: object, box: tuple[float, float, float, float], scale: float = 2.0) -> float:
    """The fraction of non-white pixels inside ``box`` (PDF points) of the page rendered to PNG."""
    image = page.render(scale=scale).to_pil().convert("L")
    left, bottom, right, top = box
    height = page.get_height()
    crop = image.crop(
        (left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
    )
    return float((np.asarray(crop) < 240).mean()) if crop.width and crop.height else 0.0


def test_widget_stored_view_and_plots_are_on_the_page(
    handout: tuple[Path, nbformat.NotebookNode],
) -> None:
    pdf, nb = handout
    texts = _texts(pdf)
    readouts = _readouts(nb)
    assert readouts, "notebook 01 has no slider in its stored widget state"
    # The widget page: every stored slider is drawn with its stored value (the widget renderer
    # ran from the notebook's widget state).
    widget_pages = [
        i for i, t in enumerate(texts) if all(r in " ".join(t.split()) for r in readouts)
    ]
    assert widget_pages, f"no page shows the widget's stored values {sorted(readouts)}"
    # Every figure of the notebook is an image on some page: the plots (image/png outputs) and
    # the widget's stored figure (an ImageModel drawn by the widget renderer).
    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    state = nb.metadata["widgets"][WIDGET]["state"].values()
    stored = sum(m["model_name"] == "ImageModel" for m in state)
    doc = pdfium.PdfDocument(pdf)
    try:
        boxes = {i: _image_boxes(doc[i]) for i in range(len(doc))}
        assert sum(map(len, boxes.values())) >= pngs + stored
        assert stored and boxes[widget_pages[0]], "the widget's stored figure is not on its page"
        # Plot-sized (at least 2 × 1 inches) and drawn: rendered to pixels, not a blank box.
        plots = [(i, b) for i, bs in boxes.items() for b in bs if _plot_sized(b)]
        assert plots
        for i, box in plots:
            assert _inked(doc[i], box) > 0.05, f"page {i + 1}: the figure at {box} is blank"
    finally:
        doc.close()


def _plot_sized(box: tuple[float, float, float, float]) -> bool:
    return box[2] - box[0] > 144 and box[3] - box[1] > 72
