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

Files go one at a time: each deletion is recorded in audit and committed, then the file is unlinked, so no
file is ever deleted without its record. A file that cannot be read or deleted (a corrupt reason file, a
permission error) is logged and counted as a failure of its own; everything else is still done, and
:class:`RetentionIncomplete` is raised at the end (``partnership retention`` exits 1, the DAG run fails).

Besides the retention period, two shorter rules for files:

- a file still in quarantine (any may hold direct identifiers) is deleted after the dataset's
  ``quarantine_days`` (30 by default); its reason file is kept, renamed ``.purged.json``, and the batch's
  ``resolution`` says ``purged`` unless it already said what became of it;
- the working folder (``work/<agency>/<dataset>/``: pseudonymised copies between the gate and the load, and
  ``.partial`` files) holds only what a running ingest run needs, so a file there older than a day was left by
  an interrupted run and is deleted. Likewise a linkage-index record the gate added more than two days ago that no
  load took up (its batch is still unknown): its file was neither loaded nor quarantined, and its tokens go.
  Each ingest run also sweeps its dataset's folder at its start
  (:func:`sweep_work`), when no other run of the dataset can be using it (``max_active_runs=1``).

Staging models are views over raw, so they forget deleted rows at once; the tables dbt rebuilds in full are
rebuilt from staging by the next dbt run, which the governance DAG triggers when raw rows were deleted.
The governance DAG (:mod:`partnership.governance`) and ``partnership retention [--dry-run]`` both call
:func:`enforce_retention`.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from partnership import loader, screening, settings, warehouse
from partnership.linkage import index as linkage_index
from partnership.registry import Dataset, load_registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deletion:
    dataset: str
    target: str  # raw.<table>, <schema>.<model> (an incremental model's copy) or a file's path
    batch_id: int | None
    rows: int | None  # rows deleted from raw; None for a file
    rule: str


@dataclass(frozen=True)
class Failure:
    dataset: str
    target: str
    error: str  # the exception's type and message: paths and positions, never file contents

    def __str__(self) -> str:
        return f"{self.dataset}: {self.target}: {self.error}"


class RetentionIncomplete(RuntimeError):
    """Raised at the end of a run in which some deletions failed; every other deletion was done and recorded."""

    def __init__(self, deletions: list[Deletion], failures: list[Failure]):
        super().__init__(f"{len(failures)} deletion(s) failed: " + "; ".join(map(str, failures)))
        self.deletions, self.failures = deletions, failures


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
    if ds.linked_persons and not dry_run:
        _forget_linked_people(conn, ds, sql.SQL(as_date + " < {}").format(column, sql.Literal(before)))
    return _delete_expired(conn, table, expired, "_batch_id", before, dry_run)


def _forget_linked_people(conn: psycopg.Connection, ds: Dataset, expired: sql.Composable) -> None:
    """The linkage index's records of the rows about to be deleted go with them (their tokens are the people's
    details, kept no longer than the rows). Counted in the rows' own deletion records."""
    linkage_index.lock(conn)
    conn.execute(
        sql.SQL(
            "delete from linkage.person_record r using {table} x join audit.load_batch b on b.batch_id = x._batch_id"
            " where {expired} and split_part(r.source, ':', 1) = %s"
            " and r.record_key = left(b.file_sha256, 16) || ':' || x._source_row"
        ).format(table=sql.Identifier("raw", ds.name), expired=expired),
        (ds.name,),
    )


def _unloaded_linkage_records(deleter: _Deleter, ds: Dataset, before: datetime) -> None:
    """Index records the gate added before ``before`` that no load took up: an interrupted run left them (a
    quarantine removes its file's records, a load ties them to its batch). Deleted with their audit record."""
    where = (
        "split_part(source, ':', 1) = %s and added_at < %s"
        " and not exists (select 1 from linkage.loaded_record l where l.record_id = person_record.record_id)"
    )
    rule = f"linkage records no load took up, added before {before:%Y-%m-%d %H:%M} UTC (an interrupted run)"
    try:
        with deleter.conn.transaction():
            if deleter.dry_run:
                n = deleter.conn.execute(f"select count(*) from linkage.person_record where {where}", (ds.name, before))
                n = n.fetchone()[0]
            else:
                linkage_index.lock(deleter.conn)
                n = deleter.conn.execute(f"delete from linkage.person_record where {where}", (ds.name, before)).rowcount
            if n:
                d = Deletion(ds.name, "linkage.person_record", None, n, rule)
                if not deleter.dry_run:
                    _record(deleter.conn, d, deleter.deleted_by)
                deleter.deletions.append(d)
    except psycopg.Error as exc:
        deleter.failed(ds.name, "linkage.person_record", exc)


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
    path = manifest or settings.dbt_manifest()
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
    return _delete_expired(conn, table, expired, "batch_id", before, dry_run)


def _delete_expired(conn, table: sql.Composable, expired: sql.Composable, batch: str, before: date, dry_run: bool):
    """Delete the table's rows where ``expired`` holds (or only count them, for a dry run): (batch, rows) pairs."""
    batch_id = sql.Identifier(batch)
    if dry_run:
        query = sql.SQL("select {}, count(*) from {} where {} group by 1 order by 1").format(batch_id, table, expired)
    else:
        query = sql.SQL(
            "with gone as (delete from {table} where {expired} returning {batch}) "
            "select {batch}, count(*) from gone group by 1 order by 1"
        ).format(table=table, expired=expired, batch=batch_id)
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
    if path.name.endswith(".json"):  # a reason file: .reason.json, or .released/.discarded/.purged.json
        return json.loads(path.read_text()).get("batch_id")
    sha256 = loader.sha256_of(path)  # the file sent, or the gate's copy kept in processed/ (its loaded_sha256)
    return conn.execute(
        "select max(batch_id) from audit.load_batch where dataset = %s and (file_sha256 = %s or loaded_sha256 = %s)",
        (ds.name, sha256, sha256),
    ).fetchone()[0]


def _record(conn: psycopg.Connection, d: Deletion, deleted_by: str) -> None:
    conn.execute(
        "insert into audit.retention_deletion (dataset, batch_id, target, rows_deleted, rule, deleted_by) "
        "values (%s, %s, %s, %s, %s, %s)",
        (d.dataset, d.batch_id, d.target, d.rows, d.rule, deleted_by),
    )


class _Deleter:
    """Deletes files one at a time, each recorded and committed before it goes; a failure stays its own."""

    def __init__(self, conn: psycopg.Connection, deleted_by: str, dry_run: bool):
        self.conn, self.deleted_by, self.dry_run = conn, deleted_by, dry_run
        self.deletions: list[Deletion] = []
        self.failures: list[Failure] = []
        self.seen: set[str] = set()  # files already dealt with in this run (a dry run deletes nothing)

    def failed(self, dataset: str, target: str, exc: Exception) -> None:
        # A database error's text may quote a value of a row (an unparseable record date): keep only its code.
        # An OSError's text quotes the path (a name holding an identifier): keep its type and errno only.
        if isinstance(exc, psycopg.Error):
            error = f"{type(exc).__name__} (SQLSTATE {exc.sqlstate})"
        elif isinstance(exc, OSError):
            error = f"{type(exc).__name__} (errno {exc.errno})"
        else:
            error = type(exc).__name__
        log.error("retention could not finish with %s (%s): %s", target, dataset, error)
        if target not in {f.target for f in self.failures}:
            self.failures.append(Failure(dataset, target, error))

    def file(
        self,
        dataset: str,
        path: Path,
        batch_of: Callable[[], int | None],
        rule: str,
        *,
        also: Callable[[psycopg.Connection], object] | None = None,
        then: Callable[[], object] | None = None,
    ) -> None:
        """Record the file's deletion (and ``also`` more audit, same transaction), commit, unlink, ``then``."""
        if str(path) in self.seen:
            return
        self.seen.add(str(path))
        shown = _shown(path)
        try:
            d = Deletion(dataset, shown, batch_of(), None, rule)
            if not self.dry_run:
                with self.conn.transaction():  # committed before the file goes: no deletion without its record
                    _record(self.conn, d, self.deleted_by)
                    if also:
                        also(self.conn)
                path.unlink(missing_ok=True)
                if then:
                    then()
            self.deletions.append(d)
        except Exception as exc:
            self.failed(dataset, shown, exc)


def _shown(path: Path) -> str:
    """The path as audit and logs show it: any part of it holding an identifier (a file or a folder that never
    matched a landing pattern, so the gate never screened it) is withheld, as the gate withholds names."""
    return str(
        Path(
            *(
                f"name-withheld-{hashlib.sha256(part.encode()).hexdigest()[:12]}"
                if screening.screen_file_name(part)
                else part
                for part in path.parts
            )
        )
    )


def _batch_of_work_copy(conn: psycopg.Connection, ds: Dataset, path: Path) -> int | None:
    """A copy has its landed file's name (or that and .partial; a validation record that and .checks.json): the
    batch, if that file got one."""
    return conn.execute(
        "select max(batch_id) from audit.load_batch where dataset = %s and file_name = %s",
        (ds.name, path.name.removesuffix(".partial").removesuffix(".checks.json")),
    ).fetchone()[0]


LOADED_COPY = """
    select file_sha256 from audit.load_batch
    where dataset = %s and file_name = %s and loaded_sha256 = %s and status = 'loaded'
"""


def _file_away_loaded_copy(deleter: _Deleter, ds: Dataset, path: Path) -> bool:
    """A pseudonymised copy whose load committed but which was never filed away (``loader.mark_done`` failed
    after the load) is the batch's kept copy, which reprocess reads: filed into processed/ as mark_done would
    have, not deleted. True when ``path`` was that (or would be, in a dry run), or when filing it failed (it is
    then left where it is, and the failure reported). Only a file directly in the dataset's work folder: the
    copies reprocess makes in its own subfolders are never the kept copy."""
    from partnership import landing

    if path.name.endswith((".partial", ".checks.json")) or path.parent != settings.work_dir() / ds.landing_subdir:
        return False
    try:
        sha256 = landing.sha256_of(path)
    except OSError:
        return False  # unreadable: not known to be a loaded copy, so swept as any leftover (deleting needs no read)
    try:
        found = deleter.conn.execute(LOADED_COPY, (ds.name, path.name, sha256)).fetchone()
        if found is None:
            return False
        if deleter.dry_run:
            log.info("%s: loaded copy left in work/ would be filed away: %s", ds.name, _shown(path))
            return True
        kept = landing.file_away(path, settings.processed_dir() / ds.landing_subdir, found[0][:12])
    except Exception as exc:  # never deleted for want of an answer: left in work/, reported
        deleter.failed(ds.name, _shown(path), exc)
        return True
    log.warning("%s: loaded copy left in work/, filed away: %s -> %s", ds.name, _shown(path), _shown(kept))
    return True


def _work_copies(deleter: _Deleter, ds: Dataset, before: date | None) -> None:
    """Files in the dataset's working folder (modified before ``before``, if given): left by an interrupted run
    (pseudonymised copies, and the validation records ``loader.validate`` writes beside them). A copy that was
    loaded, and only not filed away, is filed away instead (:func:`_file_away_loaded_copy`)."""
    folder = settings.work_dir() / ds.landing_subdir
    if before is None:
        rule = "work/ swept at the start of an ingest run: a copy left by an interrupted run"
    else:
        rule = f"work/ file last modified before {before}: a copy left by an interrupted ingest run"
    for path in sorted(folder.rglob("*")):
        try:
            if not path.is_file() or (before and datetime.fromtimestamp(path.stat().st_mtime).date() >= before):
                continue
            if _file_away_loaded_copy(deleter, ds, path):
                continue
        except OSError as exc:
            deleter.failed(ds.name, _shown(path), exc)
            continue
        deleter.file(ds.name, path, functools.partial(_batch_of_work_copy, deleter.conn, ds, path), rule)


def sweep_work(ds: Dataset, url: str | None = None, *, deleted_by: str = "cli") -> list[Deletion]:
    """Delete, with audit, every file in the dataset's working folder. Only when no ingest run of the dataset can
    be using one: the ingest DAG's first step (one run per dataset at a time)."""
    with warehouse.connect(url, autocommit=True) as conn:
        deleter = _Deleter(conn, deleted_by, dry_run=False)
        _work_copies(deleter, ds, before=None)
    if deleter.failures:
        raise RetentionIncomplete(deleter.deletions, deleter.failures)
    return deleter.deletions


# Every file still in quarantine may hold direct identifiers: what the screen found, a column no agreement vetted,
# the raw identifiers a dataset sends for pseudonymisation (the original is quarantined, not the pseudonymised
# copy), or content the screen could not read at all (a wrong encoding, an oversized field). So none is kept
# longer than the dataset's quarantine_days, whatever its resolution says.
QUARANTINED_ON = (
    "select finished_at::date from audit.load_batch where batch_id = %s and dataset = %s and status = 'quarantined'"
)


def _quarantined_files(deleter: _Deleter, ds: Dataset, today: date) -> None:
    """Files still in quarantine, quarantined more than quarantine_days ago."""
    days = ds.quarantine_days
    for reason in sorted((settings.quarantine_dir() / ds.landing_subdir).glob("*.reason.json")):
        if str(reason) in deleter.seen:
            continue  # deleted (or failed) under the retention period already
        quarantined = reason.with_name(reason.name.removesuffix(".reason.json"))
        try:
            batch_id = json.loads(reason.read_text())["batch_id"]
            found = deleter.conn.execute(QUARANTINED_ON, (batch_id, ds.name)).fetchone()
        except Exception as exc:
            deleter.seen.add(str(reason))
            deleter.failed(ds.name, str(reason), exc)
            continue
        if found is None or found[0] >= today - timedelta(days=days):
            continue
        stamp = (
            f"purged {datetime.now(UTC).isoformat(timespec='seconds')} by {deleter.deleted_by} ({getpass.getuser()})"
        )
        deleter.file(
            ds.name,
            quarantined,
            lambda b=batch_id: b,
            f"quarantine_days={days}: quarantined on {found[0]}, may hold direct identifiers",
            also=lambda conn, b=batch_id, s=stamp: conn.execute(
                "update audit.load_batch set resolution = %s where batch_id = %s and resolution is null", (s, b)
            ),
            then=lambda r=reason, q=quarantined: r.rename(r.with_name(q.name + ".purged.json")),
        )


def enforce_retention(
    url: str | None = None,
    *,
    today: date | None = None,
    dry_run: bool = False,
    deleted_by: str = "cli",
    manifest: Path | None = None,
) -> list[Deletion]:
    """Delete (or, with dry_run, only list) everything past retention; return the deletions, each recorded.

    Raises :class:`RetentionIncomplete` at the end if any deletion failed (the others were done)."""
    today = today or date.today()
    copies = incremental_copies(manifest)  # first: a model retention cannot handle stops it before any deletion
    # autocommit: each transaction below commits on its own, so a failure later cannot undo the audit records of
    # what was already deleted.
    with warehouse.connect(url, autocommit=True) as conn:
        deleter = _Deleter(conn, deleted_by, dry_run)
        deletions = deleter.deletions
        for ds in load_registry():
            if conn.execute("select to_regclass(%s)", (ds.raw_table,)).fetchone()[0] is None:
                continue  # not initialised yet (`partnership warehouse init`): nothing loaded, nothing to delete
            before = cutoff(conn, ds, today)
            rule = f"retention_months={ds.retention_months}: {ds.record_date_column} before {before}"
            try:
                with conn.transaction():  # one dataset's rows and their audit records commit together
                    rows: list[Deletion] = []
                    for batch_id, n in _expired_rows(conn, ds, before, dry_run):
                        rows.append(Deletion(ds.name, ds.raw_table, batch_id, n, rule))
                    for copy in copies.get(ds.name, []):
                        copy_rule = f"{rule} (copy in incremental model {copy.model}: {copy.date_column})"
                        for batch_id, n in _expired_copies(conn, copy, before, dry_run):
                            rows.append(Deletion(ds.name, copy.relation, batch_id, n, copy_rule))
                    for d in rows if not dry_run else ():
                        _record(conn, d, deleted_by)
                deletions.extend(rows)
            except psycopg.Error as exc:
                deleter.failed(ds.name, ds.raw_table, exc)
            file_rule = f"retention_months={ds.retention_months}: file last modified before {before}"
            for path in _expired_files(ds, before):
                deleter.file(ds.name, path, functools.partial(_batch_of, conn, ds, path), file_rule)
            _quarantined_files(deleter, ds, today)
            if ds.linked_persons:  # no older than the work copies a load could still take up (kept from yesterday)
                _unloaded_linkage_records(deleter, ds, before=datetime.now(UTC) - timedelta(days=2))
            _work_copies(deleter, ds, before=today - timedelta(days=1))  # a run may be using a newer copy
    verb = "would delete" if dry_run else "deleted"
    for d in deletions:
        log.info("%s %s: %s (batch %s, %s rows): %s", verb, d.dataset, d.target, d.batch_id, d.rows, d.rule)
    if deleter.failures:
        raise RetentionIncomplete(deletions, deleter.failures)
    return deletions
