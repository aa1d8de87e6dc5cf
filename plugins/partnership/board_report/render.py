"""The report as files: the HTML page from the Jinja2 template (autoescaped), and a PDF of the same page.

The page is self-contained (styles inline, charts and map as inline SVG, no script, no external asset), so it
opens offline, from a file share or an e-mail. The PDF is that page printed by headless Chromium (A4).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from partnership import chromium

TEMPLATE = "board_report.html.j2"


@dataclass(frozen=True)
class Files:
    html: Path
    pdf: Path


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("partnership.board_report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,  # a name the template expects and the report lacks fails the build
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_page(report) -> str:
    return environment().get_template(TEMPLATE).render(report=report)


def write(report, out_dir: Path) -> Files:
    """index.html and board_report.pdf in ``out_dir``; the PDF replaced only when Chromium has printed anew."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "index.html"
    page.write_text(html_page(report), encoding="utf-8")
    pdf = chromium.print_to_pdf(page, out_dir / "board_report.pdf")
    return Files(page, pdf)
