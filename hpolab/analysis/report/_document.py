"""The report's document: headings, paragraphs, code, bullet lists, tables and images, as Markdown and as HTML.

Sections add blocks to a :class:`Document`; :func:`~hpolab.analysis.report.write_report` renders it once
as report.md (images linked by their path relative to the report) and once as a self-contained
report.html (images inlined). Text may hold `code` spans and **bold**; the HTML turns them into tags and
escapes the rest.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["Document"]


class Document:
    """A list of blocks rendered both to Markdown and to HTML."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, Any]] = []

    def h(self, level: int, text: str) -> None:
        """A heading of ``level`` (1 is the title)."""
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        """A paragraph."""
        self.blocks.append(("p", text))

    def code(self, text: str) -> None:
        """A code block, shown as typed."""
        self.blocks.append(("code", text))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A table of text cells under ``header``."""
        self.blocks.append(("table", (list(header), [list(r) for r in rows])))

    def image(self, path: Path, alt: str) -> None:
        """The PNG at ``path``, with ``alt`` as its text."""
        self.blocks.append(("img", (path, alt)))

    def bullets(self, items: Sequence[str]) -> None:
        """A bullet list."""
        self.blocks.append(("ul", list(items)))

    def markdown(self, base: Path) -> str:
        """The blocks as Markdown, images linked relative to the folder ``base``."""
        out: list[str] = []
        for kind, data in self.blocks:
            if kind == "h":
                out.append("#" * data[0] + " " + data[1])
            elif kind == "p":
                out.append(data)
            elif kind == "code":
                out.append("```\n" + data + "\n```")
            elif kind == "ul":
                out.append("\n".join(f"- {item}" for item in data))
            elif kind == "table":
                header, rows = data
                lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
                out.append("\n".join(lines))
            elif kind == "img":
                path, alt = data
                out.append(f"![{alt}]({os.path.relpath(path, base)})")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        """The blocks as one HTML page titled ``title``, images inlined as base64."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
            "line-height:1.45;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:0.92em}"
            "th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eee}"
            "td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}"
            "pre{background:#f5f5f5;padding:0.6em;overflow-x:auto}</style></head><body>",
        ]
        for kind, data in self.blocks:
            if kind == "h":
                parts.append(f"<h{data[0]}>{_inline(data[1])}</h{data[0]}>")
            elif kind == "p":
                parts.append(f"<p>{_inline(data)}</p>")
            elif kind == "code":
                parts.append(f"<pre><code>{html.escape(data)}</code></pre>")
            elif kind == "ul":
                parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in data) + "</ul>")
            elif kind == "table":
                header, rows = data
                head = "".join(f"<th>{_inline(c)}</th>" for c in header)
                body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif kind == "img":
                path, alt = data
                b64 = base64.b64encode(Path(path).read_bytes()).decode("ascii")
                parts.append(f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}"></p>')
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _inline(text: str) -> str:
    """Escape text for HTML, turning `code` spans and **bold** into tags."""
    out = []
    for i, chunk in enumerate(text.split("`")):
        esc = html.escape(chunk)
        if i % 2:
            out.append(f"<code>{esc}</code>")
        else:
            bold = esc.split("**")
            out.append("".join(f"<b>{b}</b>" if j % 2 else b for j, b in enumerate(bold)))
    return "".join(out)
