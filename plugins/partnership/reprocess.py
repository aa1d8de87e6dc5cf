"""Re-run a month's loaded files through the gate from ``processed/``, superseding their batches.

Airflow cannot backfill a file-driven load (the ingest DAGs read the landing folder, ``catchup=False``), so
`partnership reprocess --dataset D --month YYYY-MM --reason "..."` does it after a definition changed (a contract
or expectation) or when an earlier file must pass the gate again:

1. the loaded batches of D holding rows of that month (``record_date_column``) are found, and the file each
   loaded is found in ``processed/`` by checksum. Every later loaded batch holding a later version of their
   records (the same record key; without one, the same month) is re-run with them, in order: staging counts the
   version of the highest batch, so the month's re-run alone would put its older versions ahead. The file each
   loaded is found by checksum (``audit.load_batch.loaded_sha256``; for batches loaded before
   that column existed, ``file_sha256`` of a dataset that is not pseudonymised);
2. each kept file is copied to ``work/`` under its batch's file name and goes through the gate's checks as
   :func:`partnership.loader.validate` makes them: identifier screen, contract, GX suite, volume. A pseudonymised
   dataset keeps its pseudonymised copy, which is validated as the accepted copy was, never pseudonymised again
   (its person keys already hold the pseudonyms, made with the key its batch records); row numbers are the landed
   file's, from the old batch's ``_source_row``;
3. if any file fails, nothing changes: the old batches stay loaded, the kept files stay in ``processed/`` (they
   are not quarantined: their data is the warehouse's current data, and withdrawing it is a decision for a
   person, not a side effect), each refusal is recorded in ``audit.reprocess`` and the error names file, row and
   column;
4. otherwise, in one transaction: each new batch is recorded and COPYed, the old batch becomes ``superseded``
   (``superseded_by`` the new one) before the new one becomes ``loaded`` (the one-load-per-checksum index holds
   throughout), the old batch's raw rows are deleted, and ``audit.reprocess`` records who asked and why.

The new batch keeps the old one's file name, landed checksum (a re-sent copy of the file is still a duplicate)
and key fingerprint. Running it twice supersedes twice and never duplicates rows.
"""

from __future__ import annotations

import csv
import dataclasses
import getpass
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from partnership import batch_audit, gate, loader, pseudonymise, screening, settings, warehouse
from partnership.linkage import index as linkage_index
from partnership.registry import Dataset
from partnership.validation import ENCODING, CheckResult, plain_lines

log = logging.getLogger(__name__)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReprocessError(Exception):
    """Nothing was changed; the message says why."""


class GateRefused(ReprocessError):
    """A kept file fails the gate now: its batch stays loaded."""


@dataclass
class _Batch:
    batch_id: int
    file_name: str
    file_sha256: str
    loaded_sha256: str | None
    file_bytes: int | None
    row_count: int | None
    key_fingerprint: str | None
    kept: Path | None = None  # the file in processed/
    copy: Path | None = None  # its copy in work/, validated and loaded
    rejected_rows: list[int] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    rows: int = 0
    later_versions: bool = False  # not of the month: re-run because it holds later versions of its rows


@dataclass
class Superseded:
    file_name: str
    old_batch: int
    new_batch: int
    old_rows: int  # raw rows the old batch held (deleted)
    new_rows: int  # rows the new batch loaded
    month_rows: int  # of which in the month asked for
    later_versions: bool = False  # re-run because it holds later versions of rows of the month's batches

    def __str__(self) -> str:
        why = " (re-run too: it holds later versions of the month's records)" if self.later_versions else ""
        return (
            f"{self.file_name}: batch {self.old_batch} ({self.old_rows} rows) superseded by batch {self.new_batch}"
            f" ({self.new_rows} rows, {self.month_rows} of the month){why}"
        )


def _pseudonymised(ds: Dataset) -> bool:
    return ds.sends_raw_identifiers


def _batches(conn: psycopg.Connection, ds: Dataset, month: str) -> list[_Batch]:
    """The loaded batches holding rows of the month, and every later loaded batch that holds a later version of
    their rows (the same record key; for a dataset without one, the same month): staging counts the version of
    the highest batch, so re-running an earlier batch alone would put its older versions ahead of the later
    ones. Re-run together, in their order, the new batches keep that order."""
    table = sql.Identifier(ds.name)
    month_of = sql.SQL("left({}, 7)").format(sql.Identifier(ds.record_date_column))
    holding = sql.SQL("select distinct _batch_id from raw.{} where {} = %s").format(table, month_of)
    ids = {r[0] for r in conn.execute(holding, (month,))}
    if ds.key_columns:
        same = sql.SQL(" and ").join(
            sql.SQL("later.{c} = earlier.{c}").format(c=sql.Identifier(c)) for c in ds.key_columns
        )
    else:
        period = sql.Identifier(ds.supersedes_by.column if ds.supersedes_by else ds.record_date_column)
        same = sql.SQL("left(later.{c}, 7) = left(earlier.{c}, 7)").format(c=period)
    later = sql.SQL(
        "select distinct later._batch_id from raw.{t} later join raw.{t} earlier on {same}"
        " where earlier._batch_id = any(%(ids)s) and later._batch_id > earlier._batch_id"
        " and not later._batch_id = any(%(ids)s)"
    ).format(t=table, same=same)
    dependent: set[int] = set()
    while ids:
        found = {r[0] for r in conn.execute(later, {"ids": sorted(ids | dependent)})} - ids
        if not found - dependent:
            break
        dependent |= found
    query = sql.SQL(
        "select batch_id, file_name, file_sha256, loaded_sha256, file_bytes, row_count, key_fingerprint"
        " from audit.load_batch where dataset = %s and status = 'loaded' and batch_id = any(%s) order by batch_id"
    )
    batches = [_Batch(*row) for row in conn.execute(query, (ds.name, sorted(ids | dependent)))]
    for b in batches:
        b.later_versions = b.batch_id in dependent
    return batches


def _kept_file(conn: psycopg.Connection, ds: Dataset, batch: _Batch) -> Path | None:
    """The batch's file in processed/: its name, or that name with a checksum tag when the name was taken
    (``stem.<sha256[:12]>[-n].suffix``), or a duplicate filed with the same content; matched by checksum.

    A pseudonymised batch loaded before ``loaded_sha256`` was recorded has only its landed file's checksum: a
    file of its name whose rows are exactly the batch's raw rows is its copy."""
    expected = batch.loaded_sha256 or (None if _pseudonymised(ds) else batch.file_sha256)
    folder = settings.processed_dir() / ds.landing_subdir
    name = Path(batch.file_name)
    named = sorted(folder.glob(f"{_glob_escape(name.stem)}*{_glob_escape(name.suffix)}"))
    if expected is None:
        return next((p for p in named if p.is_file() and _holds_batch(conn, ds, p, batch.batch_id)), None)
    others = sorted(p for p in folder.rglob("*") if p.is_file() and p not in named)
    return next((p for p in named + others if p.is_file() and loader.sha256_of(p) == expected), None)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _holds_batch(conn: psycopg.Connection, ds: Dataset, path: Path, batch_id: int) -> bool:
    """Whether the file's data rows are, in order, the batch's raw rows."""
    query = sql.SQL("select {} from raw.{} where _batch_id = %s order by _source_row").format(
        sql.SQL(", ").join(map(sql.Identifier, ds.column_names)), sql.Identifier(ds.name)
    )
    with conn.cursor(name="reprocess_holds_batch") as cur, open(path, newline="", encoding=ENCODING) as f:
        reader = csv.reader(f)
        next(reader, None)
        cur.execute(query, (batch_id,))
        for held in cur:
            row = next(reader, None)
            if row is None or tuple(v if v != "" else None for v in row) != held:
                return False
        return next(reader, None) is None


def _source_rows(conn: psycopg.Connection, ds: Dataset, batch_id: int) -> list[int]:
    query = sql.SQL("select _source_row from raw.{} where _batch_id = %s order by _source_row").format(
        sql.Identifier(ds.name)
    )
    return [r[0] for r in conn.execute(query, (batch_id,))]


def _gate(ds: Dataset, batch: _Batch) -> list[CheckResult]:
    """The gate's steps but pseudonymisation, on the kept copy; returns the critical failures."""
    # The kept copy's people are linked already: its header is the dataset's columns, with no details in it.
    as_kept = dataclasses.replace(ds, linked_persons=())
    file = gate.GateFile(as_kept, batch.copy, plain=plain_lines(batch.copy), file_rows=batch.rejected_rows)
    named = gate.screen_checks(screening.screen_file_name(batch.file_name))
    checks = named + gate.run_steps(file, REPROCESS_STEPS)
    batch.checks, batch.rows = checks, file.rows
    return gate.failures(checks)


# The kept copy is already pseudonymised and linked (never again: a key may have been rotated since, and its
# people's details are gone).
REPROCESS_STEPS = tuple(step for step in gate.STEPS if step not in (gate.pseudonymise_identifiers, gate.link_people))


def _record(
    conn: psycopg.Connection,
    ds: Dataset,
    month: str,
    old: int,
    new: int | None,
    outcome: str,
    reason: str,
    detail: str | None,
    requested_by: str | None,
) -> None:
    conn.execute(
        "insert into audit.reprocess (dataset, month, old_batch_id, new_batch_id, outcome, reason, detail,"
        " requested_by) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (ds.name, month, old, new, outcome, reason, detail, requested_by),
    )


def _refuse(ds, month, batch, failures, reason, requested_by) -> GateRefused:
    detail = "; ".join(c.describe(batch.file_name) for c in failures)
    with warehouse.connect() as conn:
        _record(conn, ds, month, batch.batch_id, None, "refused", reason, detail, requested_by)
    return GateRefused(
        f"batch {batch.batch_id} ({batch.file_name}) fails the gate now, so nothing was changed and batch"
        f" {batch.batch_id} stays loaded: {detail}"
    )


def reprocess(
    ds: Dataset, month: str, reason: str, *, requested_by: str | None = None, loaded_by: str = "reprocess"
) -> list[Superseded]:
    """Re-run the loaded files holding ``month`` of ``ds`` through the gate and supersede their batches.

    Raises :class:`ReprocessError` (nothing changed) when no loaded batch holds the month, a kept file is gone,
    or (:class:`GateRefused`) a file fails the gate now.
    """
    if not MONTH.match(month or ""):
        raise ReprocessError(f"month {month!r} is not YYYY-MM")
    if not (reason or "").strip():
        raise ReprocessError("a reason is required: it is recorded in audit.reprocess")
    if requested_by is None:
        try:
            requested_by = getpass.getuser()
        except Exception:  # no user name in the environment (a container's uid): the database user still is
            requested_by = None
    with warehouse.connect() as conn:
        batches = _batches(conn, ds, month)
        if not batches:
            raise ReprocessError(f"no loaded batch of {ds.name} holds rows of {month}: nothing to reprocess")
        for b in batches:
            b.kept = _kept_file(conn, ds, b)
            if b.kept is None:
                raise ReprocessError(
                    f"batch {b.batch_id} ({b.file_name}) loaded rows of {month}, but the file it loaded is no longer"
                    f" in {settings.processed_dir() / ds.landing_subdir} (retention deletes kept files after the"
                    " dataset's retention period); nothing was changed"
                )
            source_rows = _source_rows(conn, ds, b.batch_id)
            if source_rows:  # file rows the first load rejected (pseudonymisation) are not in the kept copy
                b.rejected_rows = sorted(set(range(2, source_rows[-1] + 1)) - set(source_rows))
    work = settings.private_folder(settings.work_dir() / ds.landing_subdir)
    try:
        for b in batches:
            folder = settings.private_folder(work / f"reprocess-batch-{b.batch_id}")
            b.copy = folder / Path(b.file_name).name  # validated under its own name (the file's period)
            with open(b.kept, "rb") as src, open(b.copy, "wb", opener=settings.private_opener) as dst:
                shutil.copyfileobj(src, dst)
            if loader.sha256_of(b.copy) != loader.sha256_of(b.kept):
                raise ReprocessError(f"{b.kept} changed while it was copied; nothing was changed")
        for b in batches:
            failures = _gate(ds, b)
            if failures:
                raise _refuse(ds, month, b, failures, reason, requested_by)
        done = _supersede(ds, month, batches, reason, requested_by, loaded_by)
    finally:
        for b in batches:
            if b.copy is not None:
                shutil.rmtree(b.copy.parent, ignore_errors=True)
    for s in done:
        log.info("reprocessed %s %s: %s", ds.name, month, s)
    return done


def _supersede(ds, month, batches, reason, requested_by, loaded_by) -> list[Superseded]:
    copy = sql.SQL("copy raw.{} (_batch_id, _source_row, {}) from stdin").format(
        sql.Identifier(ds.name), sql.SQL(", ").join(map(sql.Identifier, ds.column_names))
    )
    table = sql.Identifier(ds.name)
    done = []
    b, row_number = batches[0], 1
    try:
        with warehouse.connect() as conn:  # one transaction for every batch of the month
            if ds.linked_persons:  # before any row is locked: mark_loaded takes it after raw rows below
                linkage_index.lock(conn)
            for b in batches:
                sha = loader.sha256_of(b.copy)
                new = conn.execute(
                    "insert into audit.load_batch (dataset, file_name, file_sha256, file_bytes, status, loaded_by,"
                    " key_fingerprint) values (%s, %s, %s, %s, 'loading', %s, %s) returning batch_id",
                    (ds.name, b.file_name, b.file_sha256, b.file_bytes, loaded_by, b.key_fingerprint),
                ).fetchone()[0]
                row_number = 1
                with conn.cursor() as cur, cur.copy(copy) as pipe, open(b.copy, newline="", encoding=ENCODING) as f:
                    reader = csv.reader(f)
                    next(reader)
                    for row_number, row in enumerate(reader, start=2):
                        source = pseudonymise.source_row(row_number, b.rejected_rows)
                        pipe.write_row((new, source, *(v if v != "" else None for v in row)))
                rows = row_number - 1
                duplicates = batch_audit.duplicate_key_rows(conn, ds, new)
                if duplicates:
                    raise batch_audit.DuplicateKeys(duplicates)
                # The old batch leaves 'loaded' before the new one enters it: one load per checksum throughout.
                left_loaded = conn.execute(
                    "update audit.load_batch set status = 'superseded', superseded_by = %s"
                    " where batch_id = %s and status = 'loaded'",
                    (new, b.batch_id),
                ).rowcount
                if left_loaded != 1:  # another reprocess superseded it first: this one rolls back
                    raise ReprocessError(
                        f"batch {b.batch_id} was superseded by another run meanwhile; nothing was changed"
                    )
                old_rows = conn.execute(
                    sql.SQL("delete from raw.{} where _batch_id = %s").format(table), (b.batch_id,)
                ).rowcount
                supersedes, volume_warnings = batch_audit.superseded_months(conn, ds, new)
                checks = b.checks + volume_warnings
                warnings = [c.describe(b.file_name) for c in checks if not c.success and c.severity == "warning"]
                conn.execute(
                    "update audit.load_batch set status = 'loaded', row_count = %s, flags = %s, supersedes = %s,"
                    " loaded_sha256 = %s, reason = %s, finished_at = clock_timestamp() where batch_id = %s",
                    (rows, "; ".join(warnings) or None, supersedes, sha, f"reprocess of batch {b.batch_id}", new),
                )
                batch_audit.record_checks(conn, new, checks)
                if ds.linked_persons:  # the rows' people, as linkage knows them now, are the new batch's
                    linkage_index.mark_loaded(conn, ds.name, b.file_sha256, new)
                month_rows = conn.execute(
                    sql.SQL("select count(*) from raw.{} where _batch_id = %s and left({}, 7) = %s").format(
                        table, sql.Identifier(ds.record_date_column)
                    ),
                    (new, month),
                ).fetchone()[0]
                _record(
                    conn,
                    ds,
                    month,
                    b.batch_id,
                    new,
                    "superseded",
                    reason,
                    f"{old_rows} raw rows of batch {b.batch_id} replaced by {rows} of batch {new}"
                    + ("; re-run because it holds later versions of the month's records" if b.later_versions else ""),
                    requested_by,
                )
                done.append(Superseded(b.file_name, b.batch_id, new, old_rows, rows, month_rows, b.later_versions))
    except batch_audit.DuplicateKeys as dup:
        failed = CheckResult(
            "expect_column_values_to_be_unique", ", ".join(ds.key_columns), False, len(dup.rows), dup.rows
        )
        raise _refuse(ds, month, b, [failed], reason, requested_by) from None
    except psycopg.DataError as exc:
        # As in loader.load: the error text may quote a record; keep only the code and the row.
        if exc.sqlstate:
            line = re.search(r"line (\d+)", exc.diag.context or "")
            rows_at = [pseudonymise.source_row(int(line.group(1)) + 1, b.rejected_rows)] if line else []
            what = f"SQLSTATE {exc.sqlstate}"
        else:
            rows_at, what = [pseudonymise.source_row(row_number, b.rejected_rows)], type(exc).__name__
        failed = CheckResult(f"database refused the file ({what})", None, False, 1, rows_at)
        raise _refuse(ds, month, b, [failed], reason, requested_by) from None
    return done
