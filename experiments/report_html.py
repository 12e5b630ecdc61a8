"""The report's HTML page: its Markdown rendered by mistune (:func:`to_html`), raw HTML in the
text escaped, with a status class on every table cell and bold text that is a status."""

from __future__ import annotations

import mistune
from mistune.util import escape as escape_html

from course_lib.claims import AWAIT_DATA, AWAIT_GPU, CONTEXT, FAIL, NO_BOUND, NOT_RUN, PASS
from experiments.report_data import NB_FAILED, UNCONFIRMED

CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.st { font-weight: 600; white-space: nowrap; }
.pass { color: #17692b; } .fail, .failed, .nbfail { color: #b3261e; }
.notrun, .interrupted, .context { color: #777; } .nobound, .unconfirmed { color: #7a5a00; }
.awaitgpu, .awaitdata { color: #1f4e9c; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
img { max-width: 100%; } em { color: #555; }
"""
CSS_CLASS = {
    PASS: "pass",
    FAIL: "fail",
    NOT_RUN: "notrun",
    NO_BOUND: "nobound",
    AWAIT_GPU: "awaitgpu",
    AWAIT_DATA: "awaitdata",
    CONTEXT: "context",
    NB_FAILED: "nbfail",
    UNCONFIRMED: "unconfirmed",
    "ok": "pass",
    "failed": "failed",
    "interrupted": "interrupted",
}


class ReportRenderer(mistune.HTMLRenderer):
    """mistune's HTML, with a status class on every table cell and bold text that is exactly a
    status."""

    def table_cell(self, text: str, align: str | None = None, head: bool = False) -> str:
        tag = "th" if head else "td"
        attrs = {
            "style": f"text-align:{align}" if align else None,
            "class": None if head else status_class(text),
        }
        return f"  <{tag}{self.render_attrs(attrs)}>{text}</{tag}>\n"

    def strong(self, text: str) -> str:
        return f"<strong{self.render_attrs({'class': status_class(text)})}>{text}</strong>"


def status_class(text: str) -> str | None:
    """``"st pass"`` for the text ``pass`` (any status), ``None`` for other text."""
    return f"st {CSS_CLASS[text]}" if text in CSS_CLASS else None


def to_html(markdown: str, title: str) -> str:
    """The page for the report's Markdown: its HTML (raw HTML in the text escaped) in a small
    head."""
    render = mistune.create_markdown(
        escape=True, renderer=ReportRenderer(escape=True), plugins=["table"]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape_html(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{render(markdown)}</body>\n</html>\n"
    )
