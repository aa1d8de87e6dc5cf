"""The information-governance data-quality report: one static, self-contained HTML page.

For IG reviewers: what each source is and under which agreement it is shared, what was loaded and when,
what was quarantined and why, how complete each field is, and volume and failures over time (inline SVG
charts). It holds counts and shares only, never a value from a raw table, so it can go to people who may
not read person-level data. No external assets and no JavaScript: it opens from a file share or an e-mail.

Numbers carry ``data-metric`` (and ``data-dataset``, ``data-field``, ``data-month``) attributes so tests
and other tools can read them from the page.
"""

from __future__ import annotations

import html
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from partnership import settings, timeliness, warehouse
from partnership.batch_status import BatchStatus
from partnership.registry import Dataset, load_registry
from partnership.timeliness import DeliveryStatus, LateDelivery

RECENT_BATCHES = 200  # per-load table: the most recent batches (every batch is in audit.load_batch)
DELIVERY_LOOKBACK = 12  # the delivery calendar shows each dataset's last 12 due periods
# Colours for the agencies in the volume chart (a colour-blind-safe palette, repeated if needed).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255", "#117733", "#999999")
MONTH_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")


def default_out_dir() -> Path:
    return settings.ig_report_dir()


def e(value: object) -> str:
    """Every piece of text goes through here: file names, reasons and flags come from outside."""
    return html.escape("" if value is None else str(value), quote=True)


@dataclass
class Batch:
    batch_id: int
    dataset: str
    file_name: str
    status: str
    row_count: int | None
    flags: str | None
    reason: str | None
    resolution: str | None
    started_at: datetime
    finished_at: datetime | None
    loaded_by: str | None
    failed_checks: int

    @property
    def month(self) -> str:
        """The month the file covers, from its name (``..._2024-04.csv``); else the month it arrived."""
        m = MONTH_IN_NAME.search(self.file_name)
        return f"{m.group(1)}-{m.group(2)}" if m else f"{self.started_at:%Y-%m}"


# -- reading the warehouse (counts only) -------------------------------------------------------------------


def _batches(conn) -> list[Batch]:
    rows = conn.execute(
        """select b.batch_id, b.dataset, b.file_name, b.status, b.row_count, b.flags, b.reason, b.resolution,
                  b.started_at, b.finished_at, b.loaded_by,
                  (select count(*) from audit.validation_result v where v.batch_id = b.batch_id and not v.success)
           from audit.load_batch b order by b.batch_id"""
    ).fetchall()
    return [Batch(*r) for r in rows]


def _raw_counts(conn, ds: Dataset, latest: int | None) -> tuple[int, dict[str, int]] | None:
    """(rows, non-empty values per column) of the raw table, or None before it exists. Counted by the function
    audit.raw_value_counts (security.py), so the IG reviewer sees counts without being able to read a value."""
    row = conn.execute(
        "select rows_held, values_given from audit.raw_value_counts(%s, %s, %s)",
        (ds.name, list(ds.column_names), latest),
    ).fetchone()
    return (row[0], dict(zip(ds.column_names, row[1], strict=True))) if row else None


def _rows_held(conn, ds: Dataset) -> int | None:
    """Rows now in the raw table (fewer than loaded once retention has deleted some)."""
    counts = _raw_counts(conn, ds, None)
    return counts[0] if counts else None


def _completeness(conn, ds: Dataset, latest: int | None) -> tuple[int, dict[str, int]] | None:
    """(rows, non-empty values per column) over the dataset's latest loaded batches, or all its rows.

    Raw columns are text and the loader stores empty fields as null, so count(col) counts the values given.
    """
    return _raw_counts(conn, ds, latest)


# -- charts ----------------------------------------------------------------------------------------------


def _month_range(months: set[str]) -> list[str]:
    """Every month from the first to the last, gaps included: a month with nothing is worth seeing."""
    if not months:
        return []
    first, last = min(months), max(months)
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _nice_max(value: float) -> float:
    """A round number at or above value, for the top of the y axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _bar_chart(
    chart_id: str, title: str, months: list[str], stacks: dict[str, dict[str, int]], colours: dict[str, str], unit: str
) -> str:
    """Stacked bars, one per month: stacks[month][series] = value. Plain SVG, labelled for screen readers."""
    width, height, left, right, top, bottom = 1280, 300, 70, 20, 20, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = {m: sum(stacks.get(m, {}).values()) for m in months}
    # Counts: a top of at least 4 split into 4 or 5 steps keeps every tick a whole number.
    top_value = max(_nice_max(max(totals.values(), default=0)), 4)
    steps = 4 if top_value % 4 == 0 else 5
    slot = plot_w / max(len(months), 1)
    bar_w = max(min(slot * 0.7, 60), 2)
    out = [
        f'<svg id="{e(chart_id)}" class="chart" role="img" aria-label="{e(title)}" xmlns="http://www.w3.org/2000/svg"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}" style="max-width:100%;height:auto">',
        f"<title>{e(title)}</title>",
    ]
    for i in range(steps + 1):  # y axis: gridlines and labels
        value = top_value * i / steps
        y = top + plot_h - plot_h * i / steps
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value:,.0f}</text>')
    label_every = max(1, round(len(months) / 24))  # at most about 24 month labels
    for i, month in enumerate(months):
        x = left + slot * i + (slot - bar_w) / 2
        out.append(f'<g class="bar" data-month="{e(month)}" data-{unit}="{totals[month]}">')
        out.append(f"<title>{e(month)}: {totals[month]:,} {e(unit)}</title>")
        y = top + plot_h
        for series, value in sorted(stacks.get(month, {}).items()):
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colours[series]}"'
                f' data-series="{e(series)}" data-{unit}="{value}"><title>{e(month)} {e(series)}: {value:,}</title>'
                "</rect>"
            )
        out.append("</g>")
        if i % label_every == 0:
            cx = left + slot * i + slot / 2
            out.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 14}" text-anchor="end" class="tick"'
                f' transform="rotate(-45 {cx:.1f} {top + plot_h + 14})">{e(month)}</text>'
            )
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" class="axis"/>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" class="axis"/>')
    out.append("</svg>")
    legend = "".join(
        f'<span class="key"><span class="swatch" style="background:{colours[s]}"></span>{e(s)}</span>'
        for s in sorted({s for stack in stacks.values() for s in stack})
    )
    return "\n".join(out) + (f'<p class="legend">{legend}</p>' if legend else "")


# -- the page --------------------------------------------------------------------------------------------

CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1b1b1b; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { margin-top: 32px; border-bottom: 2px solid #0072B2; }
h3 { margin: 16px 0 4px; font-size: 15px; }
.meta { color: #555; } .summary span { display: inline-block; margin-right: 24px; font-size: 16px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef3f8; } td.time, td.nowrap { white-space: nowrap; } td.basis { min-width: 200px; }
td.publication { min-width: 260px; } .clause { color: #555; }
#register { font-size: 12px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.loaded td.status { color: #106b21; } tr.quarantined td.status, .bad { color: #b00020; font-weight: 600; }
tr.skipped_duplicate td.status { color: #666; }
.completeness { display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start; }
td.bar { width: 84px; } .share { display: inline-block; height: 8px; background: #0072B2; vertical-align: middle; }
.share.low { background: #D55E00; } .wrap { max-width: 520px; overflow-wrap: anywhere; }
.chart .grid { stroke: #e3e3e3; } .chart .axis { stroke: #333; } .chart .tick { font-size: 11px; fill: #333; }
.legend .key { margin-right: 16px; white-space: nowrap; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
.delivery { display: inline-block; margin: 1px 2px; padding: 0 4px; border-radius: 3px; white-space: nowrap; }
.on-time { color: #106b21; } .delivery.on-time { background: #e3f2e6; }
.late { color: #8a4b00; font-weight: 600; } .delivery.late { background: #fbecd9; }
.missing { color: #b00020; font-weight: 600; } .delivery.missing { background: #f9dede; }
.due { color: #555; } .delivery.due { background: #eee; }
"""


def _fmt_time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else ""  # the page says times are UTC


def _num(value: int | None, metric: str, **attrs: str) -> str:
    data = "".join(f' data-{k}="{e(v)}"' for k, v in attrs.items())
    return f'<td class="num" data-metric="{metric}"{data}>{"" if value is None else f"{value:,}"}</td>'


def _status_class(status: str) -> str:
    return status.replace(" ", "-")


def _timeliness_cell(ds: Dataset, deliveries: dict[str, list[DeliveryStatus]]) -> str:
    """The last due period: its label and on time / late by N days / missing."""
    last = (deliveries.get(ds.name) or [None])[-1]
    if last is None:
        return f'<td data-metric="timeliness" data-dataset="{e(ds.name)}">no period due yet</td>'
    return (
        f'<td class="nowrap {_status_class(last.status)}" data-metric="timeliness" data-dataset="{e(ds.name)}"'
        f' data-period="{e(last.period.label)}" data-status="{e(last.status)}">'
        f'{e(last.period.label)}: {e(last.describe())}<br><span class="meta">due {e(last.period.due)}</span></td>'
    )


def _register(
    datasets,
    batches: list[Batch],
    held: dict[str, int | None],
    deliveries: dict[str, list[DeliveryStatus]] | None = None,
) -> str:
    deliveries = deliveries or {}
    by_dataset: dict[str, list[Batch]] = defaultdict(list)
    for b in batches:
        by_dataset[b.dataset].append(b)
    head = (
        "<tr><th>agency</th><th>dataset</th><th>lawful basis</th><th>sharing agreement</th><th>retention</th>"
        "<th>cadence</th><th>publication of aggregates</th><th>origin</th><th>last loaded</th><th>last batch</th>"
        "<th>timeliness (last due period)</th><th>files loaded</th><th>quarantined</th><th>rows loaded</th>"
        "<th>rows held</th></tr>"
    )
    body = []
    for ds in datasets:
        own = by_dataset.get(ds.name, [])
        loaded = [b for b in own if b.status == BatchStatus.LOADED]
        last = own[-1] if own else None
        last_loaded = max((b.finished_at for b in loaded if b.finished_at), default=None)
        status = f'<span class="status">{e(last.status)}</span> {e(_fmt_time(last.started_at))}' if last else "none"
        attrs = {"dataset": ds.name}
        body.append(
            f'<tr data-dataset="{e(ds.name)}"><td>{e(ds.agency)}</td><td>{e(ds.dataset)}</td>'
            f'<td class="basis">{e(ds.lawful_basis)}</td><td>{e(ds.sharing_agreement)}</td>'
            f"<td>{e(ds.retention_months)} months</td><td>{e(ds.cadence)}</td>"
            f'<td class="publication" data-publication="{e(ds.publication.aggregates)}">'
            f"<b>{e(ds.publication.aggregates)}</b>"
            + (f'<br><span class="clause">{e(ds.publication.clause)}</span>' if ds.publication.clause else "")
            + "</td>"
            f"<td>{e(ds.origin)}</td>"
            f'<td data-metric="last-loaded" data-dataset="{e(ds.name)}">'
            f"{e(_fmt_time(last_loaded)) or 'never'}</td>"
            f'<td data-metric="last-status" data-dataset="{e(ds.name)}">{status}</td>'
            + _timeliness_cell(ds, deliveries)
            + _num(len(loaded), "files-loaded", **attrs)
            + _num(sum(b.status == BatchStatus.QUARANTINED for b in own), "quarantined", **attrs)
            + _num(sum(b.row_count or 0 for b in loaded), "rows-loaded", **attrs)
            + _num(held.get(ds.name), "rows-held", **attrs)
            + "</tr>"
        )
    return f'<table id="register">{head}{"".join(body)}</table>'


def _loads(batches: list[Batch]) -> str:
    recent = batches[::-1][:RECENT_BATCHES]
    head = (
        "<tr><th>batch</th><th>dataset</th><th>file</th><th>status</th><th>rows</th><th>failed checks</th>"
        "<th>flags (loaded with warnings) or reason</th><th>started</th><th>finished</th><th>by</th></tr>"
    )
    body = "".join(
        f'<tr class="{e(b.status)}" data-batch="{b.batch_id}"><td class="num">{b.batch_id}</td><td>{e(b.dataset)}</td>'
        f'<td class="nowrap">{e(b.file_name)}</td><td class="status">{e(b.status)}</td>'
        + _num(b.row_count, "batch-rows", batch=str(b.batch_id))
        + _num(b.failed_checks, "failed-checks", batch=str(b.batch_id))
        + f'<td class="wrap">{e(b.flags or (b.reason if b.status != BatchStatus.LOADED else ""))}</td>'
        f'<td class="time">{e(_fmt_time(b.started_at))}</td><td class="time">{e(_fmt_time(b.finished_at))}</td>'
        f"<td>{e(b.loaded_by)}</td></tr>"
        for b in recent
    )
    more = (
        f'<p class="meta">The {RECENT_BATCHES} most recent of {len(batches)} batches; all are in audit.load_batch.</p>'
        if len(batches) > RECENT_BATCHES
        else ""
    )
    return f'<table id="loads">{head}{body}</table>{more}' if batches else "<p>No files have been processed yet.</p>"


def _quarantined(batches: list[Batch]) -> str:
    bad = [b for b in batches if b.status == BatchStatus.QUARANTINED][::-1]
    if not bad:
        return '<p id="quarantined">No file has been quarantined.</p>'
    head = "<tr><th>batch</th><th>dataset</th><th>file</th><th>quarantined</th><th>reason</th><th>resolution</th></tr>"
    body = "".join(
        f'<tr data-batch="{b.batch_id}" data-dataset="{e(b.dataset)}"><td class="num">{b.batch_id}</td>'
        f'<td>{e(b.dataset)}</td><td data-metric="quarantined-file">{e(b.file_name)}</td>'
        f'<td class="time">{e(_fmt_time(b.started_at))}</td>'
        f'<td class="wrap" data-metric="quarantine-reason">{e(b.reason)}</td>'
        f"<td>{e(b.resolution) or 'open'}</td></tr>"
        for b in bad
    )
    return f'<table id="quarantined">{head}{body}</table>'


def _delivered_title(s: DeliveryStatus) -> str:
    return f"delivered {e(_fmt_time(s.delivered_at))} UTC" if s.delivered_at else "not delivered"


def _delivery_calendar(datasets, deliveries: dict[str, list[DeliveryStatus]], late: list[LateDelivery]) -> str:
    """Per agency: each dataset's calendar, its last due periods with their status, and the late deliveries
    recorded in audit.late_delivery."""
    recorded: dict[str, list[LateDelivery]] = defaultdict(list)
    for row in late:
        recorded[row.dataset].append(row)
    by_agency: dict[str, list[Dataset]] = defaultdict(list)
    for ds in datasets:
        by_agency[ds.agency].append(ds)
    parts = []
    head = (
        "<tr><th>dataset</th><th>every</th><th>due</th>"
        f"<th>last {DELIVERY_LOOKBACK} due periods (oldest first)</th><th>late deliveries recorded</th></tr>"
    )
    for agency in sorted(by_agency):
        rows = []
        for ds in by_agency[agency]:
            delivery = ds.delivery
            every = f"{delivery.year} year" if delivery.every == "year" else delivery.every
            periods = "".join(
                f'<span class="delivery {_status_class(s.status)}" data-metric="delivery" data-dataset="{e(ds.name)}"'
                f' data-period="{e(s.period.label)}" data-status="{e(s.status)}"'
                f' title="due {e(s.period.due)}; {_delivered_title(s)}">'
                f"{e(s.period.label)}: {e(s.describe())}</span> "
                for s in deliveries.get(ds.name, [])
            )
            noticed = "".join(
                f'<li data-metric="late-delivery" data-dataset="{e(ds.name)}" data-period="{e(r.period)}">'
                f"{e(r.period)} (due {e(r.due_date)}), noticed {e(_fmt_time(r.noticed_at))} by {e(r.noticed_by)}</li>"
                for r in recorded.get(ds.name, [])[:DELIVERY_LOOKBACK]
            )
            if len(recorded.get(ds.name, [])) > DELIVERY_LOOKBACK:
                more = len(recorded[ds.name]) - DELIVERY_LOOKBACK
                noticed += f"<li>and {more} earlier (audit.late_delivery)</li>"
            rows.append(
                f'<tr data-dataset="{e(ds.name)}"><td>{e(ds.dataset)}</td><td>{e(every)}</td>'
                f"<td>by working day {e(delivery.due_working_days)} after the period ends</td>"
                f"<td>{periods}</td><td>" + (f"<ul>{noticed}</ul>" if noticed else "none") + "</td></tr>"
            )
        parts.append(
            f'<section data-agency="{e(agency)}"><h3>{e(agency)}</h3>'
            f'<table class="calendar">{head}{"".join(rows)}</table></section>'
        )
    return "".join(parts)


def _completeness_section(datasets, completeness: dict, latest: int | None) -> str:
    scope = f"the latest {latest} loaded batches of each dataset" if latest else "every row held in the raw tables"
    parts = [
        f'<p class="meta">Share of rows with a value, over {e(scope)}. Marked when under the registry\'s '
        "completeness threshold, or under 100% for a required field.</p>",
        '<div class="completeness">',
    ]
    for ds in datasets:
        result = completeness.get(ds.name)
        if not result or not result[0]:
            continue
        total, filled = result
        rows = []
        for col in ds.columns:
            share = filled[col.name] / total
            wanted = 1.0 if col.required else col.completeness
            low = wanted is not None and share < wanted
            expected = "required" if col.required else (f"&ge; {col.completeness:.0%}" if col.completeness else "")
            rows.append(
                f"<tr><td>{e(col.name)}</td><td>{expected}</td>"
                + _num(filled[col.name], "filled", dataset=ds.name, field=col.name)
                + f'<td class="num{" bad" if low else ""}" data-metric="completeness" data-dataset="{e(ds.name)}"'
                f' data-field="{e(col.name)}" data-share="{share:.4f}">{share:.1%}</td>'
                f'<td class="bar"><span class="share{" low" if low else ""}" style="width:{share * 80:.0f}px">'
                "</span></td></tr>"
            )
        parts.append(
            f'<section data-dataset="{e(ds.name)}"><h3>{e(ds.name)} '
            f'<span class="meta">(<span data-metric="rows-checked" data-dataset="{e(ds.name)}">{total:,}</span> rows)'
            "</span></h3><table><tr><th>field</th><th>expected</th><th>values</th><th>share</th><th></th></tr>"
            + "".join(rows)
            + "</table></section>"
        )
    parts.append("</div>")
    return "".join(parts)


def _data_docs(out_dir: Path) -> str:
    docs = settings.data_docs_dir()
    if not docs.is_dir():
        return f'<p id="data-docs">Great Expectations Data Docs are not built (no folder {e(docs)}).</p>'
    target = docs / "index.html" if (docs / "index.html").exists() else docs
    href = os.path.relpath(target, out_dir)  # relative: the report and the docs can be moved together
    return f'<p id="data-docs"><a href="{e(href)}">Great Expectations Data Docs</a> ({e(target)})</p>'


def render(
    datasets,
    batches: list[Batch],
    held: dict[str, int | None],
    completeness: dict,
    *,
    out_dir: Path,
    where: str,
    latest: int | None,
    deliveries: dict[str, list[DeliveryStatus]] | None = None,
    late: list[LateDelivery] | None = None,
    today: date | None = None,
) -> str:
    deliveries = deliveries or {}
    agency_of = {ds.name: ds.agency for ds in datasets}
    months = _month_range({b.month for b in batches if b.status in (BatchStatus.LOADED, BatchStatus.QUARANTINED)})
    volume: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in batches:
        agency = agency_of.get(b.dataset, b.dataset.split("__")[0])
        if b.status == BatchStatus.LOADED:
            volume[b.month][agency] += b.row_count or 0
        elif b.status == BatchStatus.QUARANTINED:
            failures[b.month][agency] += 1
    agencies = sorted({ds.agency for ds in datasets} | {a for s in (*volume.values(), *failures.values()) for a in s})
    colours = {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(agencies)}
    loaded = [b for b in batches if b.status == BatchStatus.LOADED]
    quarantined = [b for b in batches if b.status == BatchStatus.QUARANTINED]
    flagged = [b for b in loaded if b.flags]
    now = datetime.now(UTC)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Partnership Warehouse: IG data-quality report</title>
<style>{CSS}</style></head>
<body>
<h1>Partnership Warehouse: information-governance data-quality report</h1>
<p class="meta">Generated {e(_fmt_time(now))} from {e(where)}. Times are UTC. Counts and shares only: no value
from any extract is shown.</p>
<p class="summary"><span>datasets <b data-metric="datasets">{len(datasets)}</b></span>
<span>files loaded <b data-metric="batches-loaded">{len(loaded)}</b></span>
<span>rows loaded <b data-metric="rows-loaded-total">{sum(b.row_count or 0 for b in loaded):,}</b></span>
<span>loaded with warnings <b data-metric="batches-flagged">{len(flagged)}</b></span>
<span>quarantined <b data-metric="batches-quarantined" class="{"bad" if quarantined else ""}">{len(quarantined)}</b>
</span></p>

<h2 id="charts">Volume and failures over time</h2>
<p class="meta">By the month each file covers (from its name; the month it arrived when the name has none).</p>
<h3>Rows loaded per month, by agency</h3>
{_bar_chart("chart-rows", "Rows loaded per month, by agency", months, volume, colours, "rows")}
<h3>Quarantined files per month, by agency</h3>
{_bar_chart("chart-failures", "Quarantined files per month, by agency", months, failures, colours, "failures")}

<h2 id="quarantine">Quarantined files</h2>
<p class="meta">Rejected whole: none of their rows is in the warehouse. Procedure: docs/operating.md, "When a file
is quarantined".</p>
{_quarantined(batches)}

<h2 id="sources">Source register</h2>
<p class="meta">From the source registry; last load and status from audit.load_batch. Rows held is what the raw
table holds now (retention deletes rows past each dataset's retention period).</p>
{_register(datasets, batches, held, deliveries)}

<h2 id="delivery-calendar">Delivery calendar and late extracts</h2>
<p class="meta">Judged on {e(today or "")}. Each period's extract is due by the given working day (England and
Wales: not a weekend or bank holiday) after the period ends. Delivered: a loaded batch holds records dated in
the period; on time if it finished loading by the end of the due date (UK time). Missing: nothing yet and past
due. Late deliveries recorded are those the freshness check noticed missing (audit.late_delivery), once each.
Procedure: docs/operating.md, "When an extract is late".</p>
{_delivery_calendar(datasets, deliveries, late or [])}

<h2 id="completeness-by-field">Completeness by field and dataset</h2>
{_completeness_section(datasets, completeness, latest)}

<h2 id="per-load">Per-load results</h2>
{_loads(batches)}

<h2 id="validation">Validation detail</h2>
{_data_docs(out_dir)}
<p class="meta">Every expectation's outcome, severity, observed value and threshold per batch is in
audit.validation_result (<code>partnership quarantine show BATCH</code> for one quarantined batch).</p>
</body></html>
"""


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
    today = today or datetime.now(timeliness.UK).date()
    out_dir = Path(out_dir or default_out_dir())
    datasets = load_registry()
    with warehouse.connect(url) as conn:
        conn.read_only = True  # a report reads; it must never change the warehouse
        batches = _batches(conn)
        held = {ds.name: _rows_held(conn, ds) for ds in datasets}
        completeness = {ds.name: _completeness(conn, ds, latest) for ds in datasets}
        deliveries = {ds.name: timeliness.dataset_timeliness(conn, ds, today, DELIVERY_LOOKBACK) for ds in datasets}
        late = timeliness.recorded_late(conn)
    page = render(
        datasets,
        batches,
        held,
        completeness,
        out_dir=out_dir.resolve(),
        where=warehouse.redacted(url),
        latest=latest,
        deliveries=deliveries,
        late=late,
        today=today,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    tmp = target.with_name("index.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)  # atomic: a reader never sees half a report
    return target
