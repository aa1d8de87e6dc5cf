"""Retention: delete person-level data past each dataset's ``retention_months``, and record every deletion.

For each registry dataset, the cutoff is today minus ``retention_months``:

- raw rows whose record date (``record_date_column``; raw columns are text, so its first ten characters are
  cast to a date) is before the cutoff are deleted, and one ``audit.retention_deletion`` row per batch says
  how many;
- files in the dataset's landing, processed and quarantine folders last modified before the cutoff are deleted,
  one audit row per file (with the batch that loaded or quarantined it, when there is one).

- rows of the incremental dbt models built on the dataset, whose record date is before the cutoff, are deleted
  too, one audit row per model and batch: an incremental model keeps its own copy of every row it has built
  and is not rebuilt from staging. The models are found in the dbt manifest (``dbt/target/manifest.json``):
  each incremental model names the dataset it copies and its record-date column in ``config.meta``
  (``retention_source``, ``retention_date_column``), and one that does not stops retention before anything is
  deleted.

Staging models are views over raw, so they forget deleted rows at once; the tables dbt rebuilds in full are
rebuilt from staging by the next dbt run, which the governance DAG triggers when raw rows were deleted.
The governance DAG (:mod:`partnership.governance`) and ``partnership retention [--dry-run]`` both call
:func:`enforce_retention`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from partnership import loader, settings, warehouse
from partnership.registry import Dataset, load_registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deletion:
    dataset: str
    target: str  # raw.<table>, <schema>.<model> (an incremental model's copy) or a file's path
    batch_id: int | None
    rows: int | None  # rows deleted from raw; None for a file
    rule: str


def cutoff(conn: psycopg.Connection, ds: Dataset, today: date) -> date:
    # PostgreSQL's month arithmetic: 2024-03-31 minus one month is 2024-02-29.
    query = "select (%s::date - make_interval(months => %s))::date"
    return conn.execute(query, (today, ds.retention_months)).fetchone()[0]


def _expired_rows(conn: psycopg.Connection, ds: Dataset, before: date, dry_run: bool) -> list[tuple[int, int]]:
    """(batch, rows) of raw rows recorded before the cutoff: deleted, or only counted for a dry run."""
    table = sql.Identifier("raw", ds.name)
    column = sql.Identifier(ds.record_date_column)
    # Raw columns are text: a month ("2024-04") counts from its first day; dates and datetimes by their date.
    as_date = "({} || '-01')::date" if ds.column(ds.record_date_column).type == "month" else "left({}, 10)::date"
    expired = sql.SQL(as_date + " < %s").format(column)
    if dry_run:
        query = sql.SQL("select _batch_id, count(*) from {} where {} group by 1 order by 1").format(table, expired)
    else:
        query = sql.SQL(
            "with gone as (delete from {} where {} returning _batch_id) "
            "select _batch_id, count(*) from gone group by 1 order by 1"
        ).format(table, expired)
    return conn.execute(query, (before,)).fetchall()


@dataclass(frozen=True)
class IncrementalCopy:
    """An incremental dbt model's table, which keeps its own copy of the rows of one registry dataset."""

    model: str
    schema: str
    table: str
    dataset: str
    date_column: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"


def incremental_copies(manifest: Path | None = None) -> dict[str, list[IncrementalCopy]]:
    """The incremental models of the dbt manifest, by the registry dataset each copies (its config.meta)."""
    path = manifest or settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `partnership dbt-parse` first (retention reads the incremental models there)"
        )
    datasets = {ds.name for ds in load_registry()}
    copies: dict[str, list[IncrementalCopy]] = {}
    for node in json.loads(path.read_text())["nodes"].values():
        config = node.get("config") or {}
        if node["resource_type"] != "model" or config.get("materialized") != "incremental":
            continue
        meta = config.get("meta") or {}
        dataset, column = meta.get("retention_source"), meta.get("retention_date_column")
        if dataset not in datasets or not column:
            raise ValueError(
                f"incremental model {node['name']} must name the registry dataset it copies and its record date "
                f"in config.meta (retention_source, retention_date_column), so that retention deletes its "
                f"expired rows; it has {meta.get('retention_source')!r}, {meta.get('retention_date_column')!r}"
            )
        copy = IncrementalCopy(node["name"], node["schema"], node.get("alias") or node["name"], dataset, column)
        copies.setdefault(dataset, []).append(copy)
    return {name: sorted(found, key=lambda c: c.relation) for name, found in copies.items()}


def _expired_copies(
    conn: psycopg.Connection, copy: IncrementalCopy, before: date, dry_run: bool
) -> list[tuple[int, int]]:
    """(batch, rows) of an incremental model's rows recorded before the cutoff: deleted, or only counted."""
    if conn.execute("select to_regclass(%s)", (copy.relation,)).fetchone()[0] is None:
        return []  # not built yet: dbt will build it from staging, which no longer has the expired rows
    table = sql.Identifier(copy.schema, copy.table)
    # The model's record date is typed (a date, or a month's first day), the same instant as raw's text.
    expired = sql.SQL("cast({} as date) < %s").format(sql.Identifier(copy.date_column))
    if dry_run:
        query = sql.SQL("select batch_id, count(*) from {} where {} group by 1 order by 1").format(table, expired)
    else:
        query = sql.SQL(
            "with gone as (delete from {} where {} returning batch_id) "
            "select batch_id, count(*) from gone group by 1 order by 1"
        ).format(table, expired)
    return conn.execute(query, (before,)).fetchall()


def _expired_files(ds: Dataset, before: date) -> list[Path]:
    roots = (settings.landing_dir(), settings.processed_dir(), settings.quarantine_dir())
    folders = [root / ds.landing_subdir for root in roots]
    return sorted(
        p
        for folder in folders
        for p in folder.rglob("*")
        if p.is_file() and datetime.fromtimestamp(p.stat().st_mtime).date() < before
    )


def _batch_of(conn: psycopg.Connection, ds: Dataset, path: Path) -> int | None:
    """The batch that loaded, skipped or quarantined a file (a quarantine reason file names its batch)."""
    if path.name.endswith(".reason.json"):
        return json.loads(path.read_text()).get("batch_id")
    return conn.execute(
        "select max(batch_id) from audit.load_batch where dataset = %s and file_sha256 = %s",
        (ds.name, loader.sha256_of(path)),
    ).fetchone()[0]


def _record(conn: psycopg.Connection, d: Deletion, deleted_by: str) -> None:
    conn.execute(
        "insert into audit.retention_deletion (dataset, batch_id, target, rows_deleted, rule, deleted_by) "
        "values (%s, %s, %s, %s, %s, %s)",
        (d.dataset, d.batch_id, d.target, d.rows, d.rule, deleted_by),
    )


def enforce_retention(
    url: str | None = None,
    *,
    today: date | None = None,
    dry_run: bool = False,
    deleted_by: str = "cli",
    manifest: Path | None = None,
) -> list[Deletion]:
    """Delete (or, with dry_run, only list) everything past retention; return the deletions, each recorded."""
    today = today or date.today()
    copies = incremental_copies(manifest)  # first: a model retention cannot handle stops it before any deletion
    deletions: list[Deletion] = []
    # autocommit: each dataset's transaction below commits on its own, so a failure later cannot undo the
    # audit records of files already deleted.
    with warehouse.connect(url, autocommit=True) as conn:
        for ds in load_registry():
            if conn.execute("select to_regclass(%s)", (ds.raw_table,)).fetchone()[0] is None:
                continue  # not initialised yet (`partnership warehouse init`): nothing loaded, nothing to delete
            with conn.transaction():  # one dataset's rows and their audit records commit together
                before = cutoff(conn, ds, today)
                rule = f"retention_months={ds.retention_months}: {ds.record_date_column} before {before}"
                for batch_id, rows in _expired_rows(conn, ds, before, dry_run):
                    deletions.append(Deletion(ds.name, ds.raw_table, batch_id, rows, rule))
                    if not dry_run:
                        _record(conn, deletions[-1], deleted_by)
                for copy in copies.get(ds.name, []):
                    copy_rule = f"{rule} (copy in incremental model {copy.model}: {copy.date_column})"
                    for batch_id, rows in _expired_copies(conn, copy, before, dry_run):
                        deletions.append(Deletion(ds.name, copy.relation, batch_id, rows, copy_rule))
                        if not dry_run:
                            _record(conn, deletions[-1], deleted_by)
                file_rule = f"retention_months={ds.retention_months}: file last modified before {before}"
                for path in _expired_files(ds, before):
                    deletions.append(Deletion(ds.name, str(path), _batch_of(conn, ds, path), None, file_rule))
                    if not dry_run:
                        path.unlink()
                        _record(conn, deletions[-1], deleted_by)
    verb = "would delete" if dry_run else "deleted"
    for d in deletions:
        log.info("%s %s: %s (batch %s, %s rows): %s", verb, d.dataset, d.target, d.batch_id, d.rows, d.rule)
    return deletions
