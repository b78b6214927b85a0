"""The style sheet added to every HTML handout, for the screen and for its printed PDF.

nbconvert's lab template keeps code and output text on one line (``white-space: pre``) and lets
it scroll sideways: fine on a screen, but Chromium's printed page simply cuts a long line at the
right margin. Here every preformatted block wraps, breaking anywhere if it must, so nothing a
student should read is lost on paper; figures shrink to the page width and are not split.
"""

from __future__ import annotations

HANDOUT_CSS = """
<style id="cnnlab-handout">
/* long code and output lines wrap instead of running off the page */
pre, .highlight pre, .jp-RenderedText pre, .jp-OutputArea-output pre {
  white-space: pre-wrap !important;
  word-break: break-all;
  overflow-wrap: anywhere;
}
.jp-InputArea-editor, .jp-OutputArea-output, .jp-RenderedText { overflow: visible !important; }
img { max-width: 100%; height: auto; }
/* a widget row wider than the page (stepper: inputs beside controls) wraps onto a new line */
.widget-hbox { flex-wrap: wrap; max-width: 100%; }
.jupyter-widgets { font-family: var(--jp-ui-font-family, sans-serif); }
/* the Play widget's Font Awesome icons: the font is not bundled, so draw them as text */
.jupyter-widgets .fa { font-family: var(--jp-ui-font-family, sans-serif) !important; }
.jupyter-widgets .fa-play::before { content: "\\25B6"; }
.jupyter-widgets .fa-pause::before { content: "\\2016"; }
.jupyter-widgets .fa-stop::before { content: "\\25A0"; }
.jupyter-widgets .fa-retweet::before, .jupyter-widgets .fa-repeat::before { content: "\\21BB"; }
@media print {
  img, svg, .jupyter-widgets, .widget-box { break-inside: avoid; }
  .jp-Cell { overflow: visible !important; }
}
</style>
"""


def with_handout_style(html: str) -> str:
    """``html`` with the handout style sheet as the last one of its head (so it wins)."""
    head_end = html.find("</head>")
    if head_end < 0:  # not a full page (a stub or a custom template): prepend it
        return HANDOUT_CSS + html
    return html[:head_end] + HANDOUT_CSS + html[head_end:]
