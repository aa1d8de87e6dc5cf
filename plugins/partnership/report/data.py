"""What the IG report reads from the warehouse: the audit's batches and counts of the raw tables, never a value.

Everything here runs on a read-only connection as the IG reviewer (``pw_ig_reviewer``), who may count the raw
tables' rows and values (through ``audit.raw_value_counts``, security/audit_functions.py) but not read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from partnership import timeliness
from partnership.batch_status import BatchStatus
from partnership.linkage import quality
from partnership.linkage.quality import Assessment
from partnership.registry import Dataset
from partnership.timeliness import DeliveryStatus, LateDelivery

DELIVERY_LOOKBACK = 12  # the delivery calendar shows each dataset's last 12 due periods
MONTH_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")


@dataclass
class Batch:
    """A row of audit.load_batch, with the number of its checks that failed."""

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

    @property
    def note(self) -> str:
        """What the per-load table says of it: the flags it loaded with, or why it was not loaded."""
        return self.flags or (self.reason if self.status != BatchStatus.LOADED else "") or ""


@dataclass
class Audit:
    """Everything the report shows, as read from the warehouse: the registry's datasets and, per dataset name,
    the rows held now, the completeness counts, the last due periods; and every batch and recorded late delivery."""

    datasets: list[Dataset]
    batches: list[Batch] = field(default_factory=list)
    held: dict[str, int | None] = field(default_factory=dict)
    completeness: dict[str, tuple[int, dict[str, int]] | None] = field(default_factory=dict)
    deliveries: dict[str, list[DeliveryStatus]] = field(default_factory=dict)
    late: list[LateDelivery] = field(default_factory=list)
    linkage: Linkage | None = None


@dataclass
class Linkage:
    """Record linkage in counts (audit's linkage views): by source, by pair of sources, the review queue, the
    changes of person ids and the last full linkage."""

    sources: list[tuple[str, int, int, int]]  # source, records, persons, records linked to another source
    pairs: list[tuple[str, str, int]]  # source, source, persons in both
    awaiting_review: int
    merges: int
    splits: int
    last_full: tuple[datetime, int, int] | None  # finished, records, persons
    quality: Assessment | None = None  # the latest assessment against a truth sample (partnership.linkage.quality)


def linkage(conn) -> Linkage | None:
    if conn.execute("select to_regclass('audit.linkage_sources')").fetchone()[0] is None:
        return None  # a warehouse initialised before record linkage
    changes = dict(conn.execute("select change, count(*) from audit.person_id_change group by 1").fetchall())
    return Linkage(
        sources=conn.execute("select * from audit.linkage_sources order by source").fetchall(),
        pairs=conn.execute("select * from audit.linkage_source_pairs order by 1, 2").fetchall(),
        awaiting_review=conn.execute("select pairs_awaiting_review from audit.linkage_review_queue").fetchone()[0],
        merges=changes.get("merge", 0),
        splits=changes.get("split", 0),
        last_full=conn.execute(
            "select finished_at, records, persons from audit.linkage_runs where full_linkage and finished_at is not"
            " null order by run_id desc limit 1"
        ).fetchone(),
        quality=quality.latest(conn),
    )


def batches(conn) -> list[Batch]:
    rows = conn.execute(
        """select b.batch_id, b.dataset, b.file_name, b.status, b.row_count, b.flags, b.reason, b.resolution,
                  b.started_at, b.finished_at, b.loaded_by,
                  (select count(*) from audit.validation_result v where v.batch_id = b.batch_id and not v.success)
           from audit.load_batch b order by b.batch_id"""
    ).fetchall()
    return [Batch(*r) for r in rows]


def raw_counts(conn, ds: Dataset, latest: int | None) -> tuple[int, dict[str, int]] | None:
    """(rows, non-empty values per column) of the raw table, over the dataset's latest ``latest`` loaded batches
    or all its rows, or None before the table exists. Counted by the function audit.raw_value_counts
    (security/audit_functions.py), so the IG reviewer sees counts without being able to read a value.

    Raw columns are text and the loader stores empty fields as null, so a count of a column counts the values
    given.
    """
    row = conn.execute(
        "select rows_held, values_given from audit.raw_value_counts(%s, %s, %s)",
        (ds.name, list(ds.column_names), latest),
    ).fetchone()
    return (row[0], dict(zip(ds.column_names, row[1], strict=True))) if row else None


def rows_held(conn, ds: Dataset) -> int | None:
    """Rows now in the raw table (fewer than loaded once retention has deleted some)."""
    counts = raw_counts(conn, ds, None)
    return counts[0] if counts else None


def read(conn, datasets: list[Dataset], *, latest: int | None, today: date) -> Audit:
    """The report's figures. ``latest``: completeness over each dataset's latest N loaded batches (all rows held
    when None); ``today``: the day timeliness is judged on."""
    return Audit(
        datasets=list(datasets),
        batches=batches(conn),
        held={ds.name: rows_held(conn, ds) for ds in datasets},
        completeness={ds.name: raw_counts(conn, ds, latest) for ds in datasets},
        deliveries={ds.name: timeliness.dataset_timeliness(conn, ds, today, DELIVERY_LOOKBACK) for ds in datasets},
        late=timeliness.recorded_late(conn),
        linkage=linkage(conn),
    )
