"""The information-governance data-quality report: one static, self-contained HTML page.

For IG reviewers: what each source is and under which agreement it is shared, what was loaded and when,
what was quarantined and why, how complete each field is, and volume and failures over time (inline SVG
charts). It holds counts and shares only, never a value from a raw table, so it can go to people who may
not read person-level data. No external assets and no JavaScript: it opens from a file share or an e-mail.

data.py reads the warehouse (counts only), charts.py works out the charts' geometry, page.py arranges it all
for templates/ig_report.html.j2, a Jinja2 template rendered with autoescape on: every value from outside (file
names, reasons, flags) is escaped by the template engine. Numbers carry ``data-metric`` (and ``data-dataset``,
``data-field``, ``data-month``) attributes so tests and other tools can read them from the page.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

from partnership import settings, timeliness, warehouse
from partnership.registry import load_registry
from partnership.report.data import DELIVERY_LOOKBACK, Audit, Batch, read
from partnership.report.page import RECENT_BATCHES, render

__all__ = ["DELIVERY_LOOKBACK", "RECENT_BATCHES", "Audit", "Batch", "build_report", "render"]


def build_report(
    url: str | None = None,
    out_dir: str | Path | None = None,
    *,
    latest: int | None = None,
    today: date | None = None,
) -> Path:
    """Write ``index.html`` into out_dir (default ``<data>/reports/ig``) and return its path.

    ``latest``: completeness over each dataset's latest N loaded batches; all rows held when None.
    ``today``: the day timeliness is judged on (default: today, UK time).
    """
    from partnership.validation import build_data_docs_index

    today = today or datetime.now(timeliness.UK).date()
    out_dir = Path(out_dir or settings.ig_report_dir())
    try:  # the GX Data Docs the report links to: each file's page is written as it is validated, the index here
        build_data_docs_index()
    except Exception:  # noqa: BLE001 - the docs are a convenience; the report does not depend on them
        logging.getLogger(__name__).warning("the Data Docs index was not rebuilt", exc_info=True)
    datasets = load_registry()
    with warehouse.connect(url) as conn:
        conn.read_only = True  # a report reads; it must never change the warehouse
        audit = read(conn, datasets, latest=latest, today=today)
    page = render(audit, out_dir=out_dir.resolve(), where=warehouse.redacted(url), latest=latest, today=today)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    tmp = target.with_name("index.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)  # atomic: a reader never sees half a report
    return target
