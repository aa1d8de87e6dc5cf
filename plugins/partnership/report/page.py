"""The IG report's page: the figures read from the warehouse arranged into plain objects, laid out by the Jinja2
template ``templates/ig_report.html.j2`` with autoescape on.

File names, reasons, flags and dataset names come from outside (agencies' files, the audit): the template engine
escapes every one of them, in text and in attributes alike. Nothing here writes markup, and nothing is marked safe.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from partnership import settings
from partnership.batch_status import BatchStatus
from partnership.linkage import quality as linkage_quality
from partnership.registry import Dataset
from partnership.report import charts
from partnership.report.data import DELIVERY_LOOKBACK, Audit, Batch, Linkage
from partnership.timeliness import DeliveryStatus, LateDelivery

TEMPLATE = "ig_report.html.j2"
RECENT_BATCHES = 200  # per-load table: the most recent batches (every batch is in audit.load_batch)


@dataclass
class Summary:
    datasets: int
    loaded: int
    rows_loaded: int
    flagged: int  # loaded with warnings
    quarantined: int


@dataclass
class RegisterRow:
    """A dataset in the source register: the registry's entry, its last load and timeliness, and its counts."""

    ds: Dataset
    last: Batch | None  # its most recent batch, whatever became of it
    last_loaded: datetime | None
    timeliness: DeliveryStatus | None  # its last due period
    files_loaded: int
    quarantined: int
    rows_loaded: int
    rows_held: int | None


@dataclass
class CalendarRow:
    ds: Dataset
    every: str  # month, week, ..., "financial year"
    periods: list[DeliveryStatus]  # the last due periods, oldest first
    noticed: list[LateDelivery]  # the late deliveries recorded, newest first, at most DELIVERY_LOOKBACK
    earlier: int  # how many more are recorded


@dataclass
class CalendarSection:
    agency: str
    rows: list[CalendarRow]


@dataclass
class FieldCompleteness:
    name: str
    required: bool
    threshold: float | None  # the registry's completeness threshold, for a field that is not required
    filled: int
    share: float
    low: bool  # under the threshold, or under 100% for a required field


@dataclass
class DatasetCompleteness:
    dataset: str
    rows: int
    fields: list[FieldCompleteness]


@dataclass
class DataDocs:
    target: Path  # the Data Docs' index.html (or folder); the folder expected when they are not built
    href: str | None  # relative to the report, None when they are not built


@dataclass
class Page:
    generated: datetime
    where: str  # the warehouse, its password redacted
    today: date | None  # the day timeliness was judged on
    summary: Summary
    charts: list[charts.BarChart]
    quarantined: list[Batch]  # newest first
    register: list[RegisterRow]
    calendar: list[CalendarSection]
    completeness_scope: str
    completeness: list[DatasetCompleteness]
    recent: list[Batch]  # newest first, at most RECENT_BATCHES
    batch_count: int
    data_docs: DataDocs
    linkage: Linkage | None = None
    recent_limit: int = RECENT_BATCHES
    lookback: int = DELIVERY_LOOKBACK


def _register(audit: Audit) -> list[RegisterRow]:
    by_dataset: dict[str, list[Batch]] = defaultdict(list)
    for b in audit.batches:
        by_dataset[b.dataset].append(b)
    rows = []
    for ds in audit.datasets:
        own = by_dataset.get(ds.name, [])
        loaded = [b for b in own if b.status == BatchStatus.LOADED]
        rows.append(
            RegisterRow(
                ds=ds,
                last=own[-1] if own else None,
                last_loaded=max((b.finished_at for b in loaded if b.finished_at), default=None),
                timeliness=(audit.deliveries.get(ds.name) or [None])[-1],
                files_loaded=len(loaded),
                quarantined=sum(b.status == BatchStatus.QUARANTINED for b in own),
                rows_loaded=sum(b.row_count or 0 for b in loaded),
                rows_held=audit.held.get(ds.name),
            )
        )
    return rows


def _calendar(audit: Audit) -> list[CalendarSection]:
    """Per agency: each dataset's calendar, its last due periods with their status, and the late deliveries
    recorded in audit.late_delivery."""
    recorded: dict[str, list[LateDelivery]] = defaultdict(list)
    for row in audit.late:
        recorded[row.dataset].append(row)
    by_agency: dict[str, list[Dataset]] = defaultdict(list)
    for ds in audit.datasets:
        by_agency[ds.agency].append(ds)
    return [
        CalendarSection(
            agency,
            [
                CalendarRow(
                    ds=ds,
                    every=f"{ds.delivery.year} year" if ds.delivery.every == "year" else ds.delivery.every,
                    periods=audit.deliveries.get(ds.name, []),
                    noticed=recorded.get(ds.name, [])[:DELIVERY_LOOKBACK],
                    earlier=max(len(recorded.get(ds.name, [])) - DELIVERY_LOOKBACK, 0),
                )
                for ds in by_agency[agency]
            ],
        )
        for agency in sorted(by_agency)
    ]


def _completeness(audit: Audit) -> list[DatasetCompleteness]:
    out = []
    for ds in audit.datasets:
        result = audit.completeness.get(ds.name)
        if not result or not result[0]:
            continue
        total, filled = result
        fields = []
        for col in ds.columns:
            share = filled[col.name] / total
            wanted = 1.0 if col.required else col.completeness
            low = wanted is not None and share < wanted
            fields.append(FieldCompleteness(col.name, col.required, col.completeness, filled[col.name], share, low))
        out.append(DatasetCompleteness(ds.name, total, fields))
    return out


def _charts(audit: Audit) -> list[charts.BarChart]:
    """Rows loaded and files quarantined per month, by agency (a dataset not in the registry: the part of its name
    before "__")."""
    agency_of = {ds.name: ds.agency for ds in audit.datasets}
    counted = (BatchStatus.LOADED, BatchStatus.QUARANTINED)
    months = charts.month_range({b.month for b in audit.batches if b.status in counted})
    volume: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in audit.batches:
        agency = agency_of.get(b.dataset, b.dataset.split("__")[0])
        if b.status == BatchStatus.LOADED:
            volume[b.month][agency] += b.row_count or 0
        elif b.status == BatchStatus.QUARANTINED:
            failures[b.month][agency] += 1
    named = {a for stacks in (volume, failures) for stack in stacks.values() for a in stack}
    colours = charts.colours_for(sorted({ds.agency for ds in audit.datasets} | named))
    return [
        charts.bar_chart("chart-rows", "Rows loaded per month, by agency", months, volume, colours, "rows"),
        charts.bar_chart(
            "chart-failures", "Quarantined files per month, by agency", months, failures, colours, "failures"
        ),
    ]


def _data_docs(out_dir: Path) -> DataDocs:
    docs = settings.data_docs_dir()
    if not docs.is_dir():
        return DataDocs(docs, None)
    target = docs / "index.html" if (docs / "index.html").exists() else docs
    return DataDocs(target, os.path.relpath(target, out_dir))  # relative: the report and the docs can move together


def page(audit: Audit, *, out_dir: Path, where: str, latest: int | None, today: date | None = None) -> Page:
    loaded = [b for b in audit.batches if b.status == BatchStatus.LOADED]
    quarantined = [b for b in audit.batches if b.status == BatchStatus.QUARANTINED]
    scope = f"the latest {latest} loaded batches of each dataset" if latest else "every row held in the raw tables"
    return Page(
        generated=datetime.now(UTC),
        where=where,
        today=today,
        summary=Summary(
            datasets=len(audit.datasets),
            loaded=len(loaded),
            rows_loaded=sum(b.row_count or 0 for b in loaded),
            flagged=sum(bool(b.flags) for b in loaded),
            quarantined=len(quarantined),
        ),
        charts=_charts(audit),
        quarantined=quarantined[::-1],
        register=_register(audit),
        calendar=_calendar(audit),
        completeness_scope=scope,
        completeness=_completeness(audit),
        recent=audit.batches[::-1][:RECENT_BATCHES],
        batch_count=len(audit.batches),
        data_docs=_data_docs(out_dir),
        linkage=audit.linkage,
    )


def _utc(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else ""  # the page says times are UTC


def _thousands(value: int | float | None) -> str:
    return "" if value is None else f"{value:,}"


def _whole(value: float) -> str:
    return f"{value:,.0f}"


def _percent(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}%}"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("partnership.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,  # a name the template expects and the page lacks fails the build
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: "" if value is None else value,  # a value not given (a batch's reason) shows empty
    )
    env.filters.update(
        utc=_utc, thousands=_thousands, whole=_whole, percent=_percent, css=lambda status: status.replace(" ", "-")
    )
    env.globals["bias_points"] = f"{linkage_quality.BIAS_POINTS:g}"
    return env


def render(audit: Audit, *, out_dir: Path, where: str, latest: int | None, today: date | None = None) -> str:
    """The page's HTML: self-contained (styles inline, charts as inline SVG, no script, no external asset)."""
    content = page(audit, out_dir=out_dir, where=where, latest=latest, today=today)
    return environment().get_template(TEMPLATE).render(page=content)
