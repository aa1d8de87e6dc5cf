"""Landing zone to raw tables: find, validate, load (COPY, one transaction) and file away, with audit.

Every file ends in exactly one audit.load_batch row per attempt and in one place on disk:
``processed/`` once loaded (or skipped as a duplicate), ``quarantine/`` with a ``.reason.json`` beside it
when it failed validation. A file whose checksum is already loaded is never loaded again; the database
enforces it with a unique index, so even two concurrent runs cannot double-load.

Nothing here imports Airflow: the DAG tasks in :mod:`partnership.ingest` are thin wrappers, and the tests
call these functions directly too.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from partnership import pseudonymise, screening, settings, warehouse
from partnership.batch_status import BatchStatus
from partnership.registry import Dataset
from partnership.validation import ENCODING, CheckResult, check_contract, plain_lines, validate_file

log = logging.getLogger(__name__)


class QuarantinedFile(Exception):
    """The file failed validation and was moved to quarantine; the message says why.

    Its fields are what an alert may say: the batch, the file's recorded (possibly withheld) name and the reason
    as recorded in audit, which names checks, columns and row numbers, never a value from the file."""

    def __init__(self, message: str, *, dataset: str = "", batch_id: int | None = None, file: str = "", reason=""):
        super().__init__(message)
        self.dataset, self.batch_id, self.file, self.reason = dataset, batch_id, file, reason


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_complete(ds: Dataset, path: Path) -> bool:
    """Whether the sender has finished the file: its marker is there, or it has been quiet long enough.

    A marker counts only if it is not older than the file: one left from an earlier upload of the same name
    does not vouch for a re-upload still being written.
    """
    modified = path.stat().st_mtime
    if modified > time.time() + 60:
        return False  # dated in the future: neither its quiet period nor a marker can be judged against it
    try:
        if settings.upload_marker(path).stat().st_mtime >= modified:
            return True
    except FileNotFoundError:
        pass
    rule = ds.upload_complete
    return not rule.marker and time.time() - modified >= rule.quiet_seconds


def find_new_files(ds: Dataset, on_quarantine=None) -> list[str]:
    """The complete files in the dataset's landing folder (registry upload_complete); the others wait.

    What this returns becomes Airflow XCom and task arguments, and what it logs task logs: a file whose name
    holds an identifier is quarantined at once under a withheld name (complete or not), never returned or
    logged by name. A file still being uploaded is logged by name only when its name passed that screen.
    """
    folder = settings.landing_dir() / ds.landing_subdir
    found = []
    for p in sorted(folder.glob(ds.landing_pattern)):
        if not p.is_file() or p.name.endswith(".done"):
            continue
        if screening.screen_file_name(p.name):
            quarantined = _quarantine_named(ds, p)
            if quarantined and on_quarantine:  # e.g. an alert: the run itself does not fail for this file
                on_quarantine(quarantined)
            continue
        if upload_complete(ds, p):
            found.append(str(p))
        else:
            log.info(
                "%s: not complete yet (no .done marker, or changed in the last %ss)",
                p.name,
                ds.upload_complete.quiet_seconds,
            )
    return found


def awaiting_files(ds: Dataset) -> list[Path]:
    """The landed files the dataset's next ingest run would take (complete, or named with an identifier, which
    it quarantines). Reads only file names and times: the landing watcher calls it every few minutes."""
    found = []
    for p in sorted((settings.landing_dir() / ds.landing_subdir).glob(ds.landing_pattern)):
        if p.name.endswith(".done"):
            continue
        try:  # an ingest run may file it away meanwhile
            if p.is_file() and (upload_complete(ds, p) or screening.screen_file_name(p.name)):
                found.append(p)
        except FileNotFoundError:
            pass
    return found


def _quarantine_named(ds: Dataset, path: Path, loaded_by: str = "find_new_files") -> QuarantinedFile | None:
    """Quarantine a landed file whose name holds an identifier, as ``validate`` does, logging only the reason
    (which names the file by its withheld name)."""
    try:
        sha256 = sha256_of(path)
        checks = _screen_checks(screening.screen_file_name(path.name))
        failures = [c for c in checks if c.severity == "critical"]
        _quarantine(ds, path, sha256, failures, checks, rows=None, loaded_by=loaded_by, name=_withheld(path, sha256))
    except QuarantinedFile as e:
        log.warning("%s", e)
        return e
    return None


def _move(path: Path, folder: Path, tag: str, name: str | None = None) -> Path:
    """Move a landed file into folder (as ``name``, if given; 0600 in 0700 folders), never overwriting a file of
    the same name: a name taken gets ``.<tag>`` added (a checksum or batch), then a counter. Its upload marker is
    removed."""
    settings.private_folder(folder)
    name = name or path.name
    stem, suffix = Path(name).stem, Path(name).suffix
    names = itertools.chain(
        (name, f"{stem}.{tag}{suffix}"),
        (f"{stem}.{tag}-{n}{suffix}" for n in itertools.count(2)),
    )
    target = next(folder / n for n in names if not (folder / n).exists())
    shutil.move(str(path), target)
    target.chmod(settings.PRIVATE_FILE)
    # Retention ages filed files from now: the sender sets the landed file's time (one in 2100 would never expire).
    os.utime(target)
    settings.upload_marker(path).unlink(missing_ok=True)
    return target


def _loaded_batch(conn: psycopg.Connection, ds: Dataset, sha256: str) -> int | None:
    row = conn.execute(
        "select batch_id from audit.load_batch where dataset = %s and file_sha256 = %s and status = 'loaded'",
        (ds.name, sha256),
    ).fetchone()
    return row[0] if row else None


def _record_batch(
    conn: psycopg.Connection,
    ds: Dataset,
    path: Path,
    sha256: str,
    status: BatchStatus,
    *,
    reason: str | None = None,
    rows: int | None = None,
    duplicate_of: int | None = None,
    loaded_by: str = "cli",
    file_name: str | None = None,
    key_fingerprint: str | None = None,
) -> int:
    return conn.execute(
        """insert into audit.load_batch
               (dataset, file_name, file_sha256, file_bytes, row_count, status, reason, duplicate_of,
                loaded_by, key_fingerprint, finished_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, case when %s <> 'loading' then clock_timestamp() end)
           returning batch_id""",
        (
            ds.name,
            file_name or path.name,
            sha256,
            path.stat().st_size,
            rows,
            status,
            reason,
            duplicate_of,
            loaded_by,
            key_fingerprint,
            status,
        ),
    ).fetchone()[0]


def _record_checks(conn: psycopg.Connection, batch_id: int, checks: list[CheckResult]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """insert into audit.validation_result
                   (batch_id, expectation, column_name, success, unexpected_count, detail, severity, observed,
                    threshold)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (
                    batch_id,
                    c.expectation,
                    c.column,
                    c.success,
                    c.unexpected_count,
                    f"first rows: {', '.join(map(str, c.rows))}" if c.rows else None,
                    c.severity,
                    c.observed,
                    c.threshold,
                )
                for c in checks
            ],
        )


def _replaced_batch(conn: psycopg.Connection, ds: Dataset, path: Path) -> int | None:
    """The quarantined batch a corrected file replaces: released under the same name (see `partnership quarantine`)."""
    row = conn.execute(
        "select batch_id from audit.load_batch b where dataset = %s and file_name = %s and status = 'quarantined'"
        " and resolution like 'released%%'"
        " and not exists (select 1 from audit.load_batch l where l.replaces_batch = b.batch_id)"
        " order by batch_id desc limit 1",
        (ds.name, path.name),
    ).fetchone()
    return row[0] if row else None


class _DuplicateKeys(Exception):
    def __init__(self, rows: list[int]):
        super().__init__(f"duplicate keys at rows {rows}")
        self.rows = rows


def _duplicate_key_rows(conn: psycopg.Connection, ds: Dataset, batch_id: int) -> list[int]:
    """File rows (up to 5) whose key repeats an earlier row of the same batch."""
    if not ds.key_columns:  # datasets without a record key (police.uk files) cannot repeat one
        return []
    keys = sql.SQL(", ").join(map(sql.Identifier, ds.key_columns))
    query = sql.SQL(
        "select _source_row from (select _source_row, row_number() over (partition by {keys} order by _source_row)"
        " as n from raw.{table} where _batch_id = %s) ranked where n > 1 order by _source_row limit 5"
    ).format(keys=keys, table=sql.Identifier(ds.name))
    return [r[0] for r in conn.execute(query, (batch_id,))]


def _superseded_months(conn: psycopg.Connection, ds: Dataset, batch_id: int) -> tuple[str | None, list[CheckResult]]:
    """For a dataset without a record key (police.uk): per month the new batch holds (and, with supersedes_by's
    `within`, per value of those columns: a police.uk file is one force's), the earlier batch whose rows of that
    month it supersedes (the latest such batch: staging counts only the latest batch of each month and force).

    Returns the audit note ("2022-11 (Surrey Police): 7331 rows supersede batch 3's 7329; ...") and a warning for
    each month re-issued with under VOLUME_SHARE of the rows it supersedes (a file holding only part of a month
    would hide the rest)."""
    if not ds.supersedes_by:
        return None, []
    within = ds.supersedes_by.within
    month = sql.SQL("left({}, 7)").format(sql.Identifier(ds.supersedes_by.column))
    parts = [sql.Identifier(f"_within_{i}") for i in range(len(within))]
    # the month and the within columns, each under an alias of its own (a column may be called "rows")
    group = sql.SQL(", ").join(
        [sql.SQL("{} as _period").format(month)]
        + [sql.SQL("{} as {}").format(sql.Identifier(c), a) for c, a in zip(within, parts, strict=True)]
    )
    keys = sql.SQL(", ").join([sql.Identifier("_period"), *parts])
    same_part = sql.SQL("").join(sql.SQL(" and earlier.{a} is not distinct from issued.{a}").format(a=a) for a in parts)
    query = sql.SQL(
        """with issued as (
               select {group}, count(*) as _rows from raw.{table} where _batch_id = %(batch)s group by {keys}
           ),
           earlier as (
               select {group}, _batch_id, count(*) as _rows from raw.{table}
               where _batch_id < %(batch)s and {month} in (select _period from issued) group by {keys}, _batch_id
           )
           select issued._rows, latest._batch_id, latest._rows, {issued_keys}
           from issued
           join lateral (
               select _batch_id, _rows from earlier where earlier._period = issued._period{same_part}
               order by _batch_id desc limit 1
           ) latest on true
           order by {issued_keys}"""
    ).format(
        group=group,
        keys=keys,
        month=month,
        same_part=same_part,
        issued_keys=sql.SQL(", ").join(sql.SQL("issued.{}").format(k) for k in [sql.Identifier("_period"), *parts]),
        table=sql.Identifier(ds.name),
    )
    notes, warnings = [], []
    for rows, earlier, earlier_rows, month_, *part in conn.execute(query, {"batch": batch_id}):
        of = f" ({', '.join('' if v is None else v for v in part)})" if part else ""
        notes.append(f"{month_}{of}: {rows} rows supersede batch {earlier}'s {earlier_rows}")
        if rows < VOLUME_SHARE * earlier_rows:
            warnings.append(
                CheckResult(
                    "re-issued month's volume",
                    ds.supersedes_by.column,
                    False,
                    severity="warning",
                    observed=f"{rows} rows",
                    threshold=f"at least {VOLUME_SHARE:.0%} of the {earlier_rows} rows it supersedes",
                    message=f"{notes[-1]}, under {VOLUME_SHARE:.0%}: check the file holds the whole month",
                )
            )
    return "; ".join(notes) or None, warnings


def validate(ds: Dataset, path: str | Path, *, loaded_by: str = "cli") -> dict:
    """Decide what happens to one landed file.

    Returns ``{"status": "accepted", ...}`` for a file to load (its checks in the private file at
    ``checks_path``, which :func:`load` records: the outcome is an XCom, kept small),
    ``{"status": "skipped_duplicate", ...}`` for content already loaded (the file is filed away). Raises
    :class:`QuarantinedFile` after moving a failing file to quarantine and recording why.
    """
    path = Path(path)
    sha256 = sha256_of(path)
    # A name that holds an identifier is never recorded or kept: the file is quarantined under a neutral one.
    named = screening.screen_file_name(path.name)
    if named:
        findings = named + screening.screen_file(path, ds, encoding=ENCODING)
        checks = _screen_checks(findings)
        failures = [c for c in checks if c.severity == "critical"]
        _quarantine(ds, path, sha256, failures, checks, rows=None, loaded_by=loaded_by, name=_withheld(path, sha256))
    with warehouse.connect() as conn:
        earlier = _loaded_batch(conn, ds, sha256)
        if earlier is not None:
            _record_batch(
                conn,
                ds,
                path,
                sha256,
                BatchStatus.SKIPPED_DUPLICATE,
                duplicate_of=earlier,
                loaded_by=loaded_by,
                reason=f"same content as batch {earlier}",
            )
            if any(c.pseudonymise for c in ds.columns):
                path.unlink()  # it holds raw identifiers, and its pseudonymised copy is already kept
                settings.upload_marker(path).unlink(missing_ok=True)
            else:
                _move(path, settings.processed_dir() / ds.landing_subdir / "duplicates", sha256[:12])
            log.info("%s: already loaded as batch %s; skipped", path.name, earlier)
            return {"status": BatchStatus.SKIPPED_DUPLICATE, "file": path.name, "duplicate_of": earlier}

    # Direct identifiers first: such a file is rejected whole, before GX ever reads its values.
    # A name in free text is a warning unless the registry raises it: the file loads, flagged.
    plain = plain_lines(path)  # its lines are its records: split, not parsed, by the screen and the contract
    screened = _screen_checks(screening.screen_file(path, ds, encoding=ENCODING, plain=plain))
    if any(c.severity == "critical" for c in screened):
        failures = [c for c in screened if c.severity == "critical"]
        _quarantine(ds, path, sha256, failures, screened, rows=None, loaded_by=loaded_by)

    checked, outcome = path, None
    if any(c.pseudonymise for c in ds.columns):
        # Replace raw identifiers before GX sees the file; the copy in work/ is what gets validated and loaded.
        failed = check_contract(ds, path, plain=plain)
        if failed:
            _quarantine(ds, path, sha256, [failed], [failed], rows=None, loaded_by=loaded_by)
        fingerprints = pseudonymise.key_fingerprints(ds)  # KeyUnavailable leaves the file landed
        changed = _key_change(ds, fingerprints)
        if changed:
            _quarantine(ds, path, sha256, [changed], [changed], rows=None, loaded_by=loaded_by)
        outcome = pseudonymise.pseudonymise_file(ds, path, encoding=ENCODING)
        checked = outcome.path

    report = validate_file(ds, checked, plain=plain if checked == path else None)
    extra: list[CheckResult] = []
    if outcome:
        for c in report.checks:  # row numbers as in the landed file, which the agency has
            c.rows = [pseudonymise.source_row(r, outcome.rejected_rows) for r in c.rows]
        extra = [
            CheckResult(
                f"pseudonymise: valid {r.id_type}", r.column, False, r.count, r.rows, severity="warning", message=r.text
            )
            for r in outcome.rejected
        ]
        if outcome.rows_written == 0:  # every row rejected: nothing would be loaded
            extra = [CheckResult(**{**c.__dict__, "severity": "critical"}) for c in extra]
    checks = screened + extra + report.checks
    if report.checks:  # the file got as far as GX: compare its volume with the dataset's history
        volume = _volume_check(ds, report.row_count)
        if volume:
            checks.append(volume)
    failures = [c for c in checks if not c.success and c.severity == "critical"]
    if not failures:
        # The checks (and the rows pseudonymisation rejected) go to a private file in work/, not into the outcome:
        # the outcome is the validate task's XCom, which stays a few hundred characters however many checks ran.
        sidecar = checks_path(ds, path)
        settings.write_private_atomically(
            sidecar,
            json.dumps(
                {
                    "sha256": sha256,
                    "checks": [c.__dict__ for c in checks],
                    "rejected_rows": outcome.rejected_rows if outcome else [],
                }
            ),
        )
        accepted = {
            "status": "accepted",
            "path": str(checked),
            "sha256": sha256,
            "rows": report.row_count,
            "checks_path": str(sidecar),
            "flagged": sum(1 for c in checks if not c.success),
        }
        if outcome:
            accepted |= {
                "source_path": str(path),
                "load_sha256": sha256_of(checked),
                "key_fingerprint": " ".join(f"{t}:{fp}" for t, fp in fingerprints.items()),
            }
        return accepted

    if outcome:
        outcome.path.unlink(missing_ok=True)
    _quarantine(ds, path, sha256, failures, checks, rows=report.row_count, loaded_by=loaded_by)


CHECKS_SUFFIX = ".checks.json"


def checks_path(ds: Dataset, landed: Path) -> Path:
    """Where ``validate`` keeps an accepted file's checks for ``load``: ``work/<dataset>/<file name>.checks.json``
    (row numbers, counts and messages that never quote a value: no identifier). ``load`` deletes it once the file
    is loaded, quarantined or skipped; one an interrupted run leaves is swept with the rest of work/."""
    return settings.work_dir() / ds.landing_subdir / (Path(landed).name + CHECKS_SUFFIX)


def _validation_record(accepted: dict, path: Path) -> tuple[list[CheckResult], list[int], Path | None]:
    """The checks and rejected rows ``validate`` recorded for an accepted file: from its sidecar file, or inline
    (an outcome built by hand, as some tests do)."""
    sidecar = accepted.get("checks_path")
    if not sidecar:
        return [CheckResult(**c) for c in accepted.get("checks", [])], accepted.get("rejected_rows") or [], None
    sidecar = Path(sidecar)
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict) or record.get("sha256") != accepted["sha256"]:
        raise RuntimeError(f"{path.name}: its validation record is missing; it will be validated again next run")
    return [CheckResult(**c) for c in record["checks"]], record.get("rejected_rows") or [], sidecar


def _screen_checks(findings: list[screening.Finding]) -> list[CheckResult]:
    return [
        CheckResult(
            f"identifier screen: {f.rule}", f.column, False, f.count, f.rows, severity=f.severity, message=f.text
        )
        for f in findings
    ]


def _withheld(path: Path, sha256: str) -> str:
    """The name a file is recorded and kept under when its own name holds an identifier."""
    return f"name-withheld-{sha256[:12]}{path.suffix}"


def _key_change(ds: Dataset, fingerprints: dict[str, str]) -> CheckResult | None:
    """A failed check when a key differs from the one that made the dataset's last loaded batch and no rotation
    to it was declared: its pseudonyms would link to none made before, and the originals are deleted after load."""
    with warehouse.connect() as conn:
        # The latest load from a landed file: a batch re-run by `partnership reprocess` keeps the (perhaps
        # older) key its kept copy was made with, and the batch it superseded still says which key was current.
        last = conn.execute(
            "select batch_id, key_fingerprint, finished_at from audit.load_batch b where dataset = %s"
            " and status in ('loaded', 'superseded') and key_fingerprint is not null"
            " and not exists (select 1 from audit.reprocess r where r.new_batch_id = b.batch_id)"
            " order by batch_id desc limit 1",
            (ds.name,),
        ).fetchone()
        if last is None:
            return None
        # "<type>:<fingerprint>" per type; anything else in the record (made by hand) is ignored, not a crash.
        before = dict(pair.split(":", 1) for pair in last[1].split() if ":" in pair)
        # Only a rotation declared since that batch counts: an old declaration of a key used before (A, then B,
        # then A again) must not let B back in unannounced.
        declared = "select 1 from audit.key_rotation where id_type = %s and new_fingerprint = %s and declared_at > %s"
        for id_type, fp in fingerprints.items():
            if before.get(id_type, fp) != fp and not conn.execute(declared, (id_type, fp, last[2])).fetchone():
                return CheckResult(
                    "pseudonymisation key unchanged",
                    None,
                    False,
                    message=f"pseudonymisation key for {id_type} changed since batch {last[0]}; declare a rotation"
                    " with `partnership keys rotate`",
                )
    return None


VOLUME_HISTORY = 12  # loaded batches compared against
VOLUME_MIN_HISTORY = 3  # fewer than this: no judgement yet
VOLUME_SHARE = 0.5  # a month under half the usual volume is flagged (as when GMP stopped publishing in 2019)


def _volume_check(ds: Dataset, rows: int) -> CheckResult | None:
    """A warning when a file has far fewer rows than the median of the dataset's previous loaded batches."""
    with warehouse.connect() as conn:
        history = [
            r[0]
            for r in conn.execute(
                "select row_count from audit.load_batch where dataset = %s and status = 'loaded'"
                " and row_count is not null order by batch_id desc limit %s",
                (ds.name, VOLUME_HISTORY),
            )
        ]
    if len(history) < VOLUME_MIN_HISTORY:
        return None
    median = statistics.median(history)
    ok = rows >= VOLUME_SHARE * median
    return CheckResult(
        "volume against the dataset's history",
        None,
        ok,
        severity="warning",
        observed=f"{rows} rows",
        threshold=f"at least {VOLUME_SHARE:.0%} of the median ({median:g}) of the last {len(history)} loads",
        message=None
        if ok
        else f"file: volume {rows} rows is under {VOLUME_SHARE:.0%} of the median ({median:g}) of the last "
        f"{len(history)} loaded batches",
    )


def _quarantine(
    ds: Dataset,
    path: Path,
    sha256: str,
    failures: list[CheckResult],
    checks: list[CheckResult],
    *,
    rows: int | None,
    loaded_by: str,
    name: str | None = None,
) -> None:
    """Record the batch as quarantined, move the file to quarantine/ with a reason file, and raise.

    ``name``: what to record and keep the file as, when its own name must not be (it holds an identifier).
    """
    name = name or path.name
    reason = "; ".join(c.describe(name) for c in failures)
    with warehouse.connect() as conn:
        batch_id = _record_batch(
            conn,
            ds,
            path,
            sha256,
            BatchStatus.QUARANTINED,
            reason=reason,
            rows=rows,
            loaded_by=loaded_by,
            file_name=name,
        )
        _record_checks(conn, batch_id, checks)
    # Named by its batch when the name is taken: each quarantined copy keeps a reason file of its own.
    target = _move(path, settings.quarantine_dir() / ds.landing_subdir, f"batch-{batch_id}", name=name)
    settings.write_private_atomically(
        target.with_name(target.name + ".reason.json"),
        json.dumps(
            {
                "dataset": ds.name,
                "file": name,
                "sha256": sha256,
                "batch_id": batch_id,
                "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "failures": [c.describe(name) for c in failures],
            },
            indent=2,
        )
        + "\n",
    )
    # "from None": the exception that led here may quote the file's values; it must not reach the task log.
    raise QuarantinedFile(
        f"batch {batch_id} quarantined to {target}: {reason}",
        dataset=ds.name,
        batch_id=batch_id,
        file=name,
        reason=reason,
    ) from None


def load(ds: Dataset, accepted: dict, *, loaded_by: str = "cli") -> dict:
    """COPY an accepted file into its raw table, with its batch record, in one transaction."""
    path = Path(accepted["path"])  # the pseudonymised copy, for datasets that have one
    original = Path(accepted.get("source_path") or path)  # the landed file: what is recorded and quarantined
    sha256 = accepted["sha256"]
    if sha256_of(path) != accepted.get("load_sha256", sha256):
        raise RuntimeError(f"{path.name} changed after it was validated; it will be validated again next run")
    checks, rejected_rows, sidecar = _validation_record(accepted, path)
    copy = sql.SQL("copy raw.{} (_batch_id, _source_row, {}) from stdin").format(
        sql.Identifier(ds.name), sql.SQL(", ").join(map(sql.Identifier, ds.column_names))
    )
    copy_csv = copy + sql.SQL(" (format csv)")  # a plain file's own bytes
    row_number = 1  # the file row being copied (the header is row 1)
    try:
        with warehouse.connect() as conn:  # one transaction: commits on success, rolls back on any error
            batch_id = _record_batch(
                conn,
                ds,
                original,
                sha256,
                BatchStatus.LOADING,
                loaded_by=loaded_by,
                key_fingerprint=accepted.get("key_fingerprint"),
            )
            if not rejected_rows and conn.info.encoding == "utf-8" and plain_lines(path):
                with conn.cursor() as cur, cur.copy(copy_csv) as pipe:
                    rows = _copy_lines(pipe, path, batch_id)
            else:
                with conn.cursor() as cur, cur.copy(copy) as pipe, open(path, newline="", encoding=ENCODING) as f:
                    reader = csv.reader(f)
                    next(reader)  # the header, checked against the contract by validate()
                    for row_number, row in enumerate(reader, start=2):
                        source = pseudonymise.source_row(row_number, rejected_rows) if rejected_rows else row_number
                        pipe.write_row((batch_id, source, *(v if v != "" else None for v in row)))
                rows = row_number - 1
            duplicates = _duplicate_key_rows(conn, ds, batch_id)
            if duplicates:
                raise _DuplicateKeys(duplicates)
            supersedes, volume_warnings = _superseded_months(conn, ds, batch_id)
            checks += volume_warnings
            warnings = [c.describe(original.name) for c in checks if not c.success and c.severity == "warning"]
            conn.execute(
                "update audit.load_batch set status = 'loaded', row_count = %s, flags = %s,"
                " replaces_batch = %s, supersedes = %s, loaded_sha256 = %s, finished_at = clock_timestamp()"
                " where batch_id = %s",
                (
                    rows,
                    "; ".join(warnings) or None,
                    _replaced_batch(conn, ds, original),
                    supersedes,
                    accepted.get("load_sha256", sha256),  # what processed/ keeps (partnership reprocess finds it)
                    batch_id,
                ),
            )
            _record_checks(conn, batch_id, checks)
    except _DuplicateKeys as dup:
        # GX checks uniqueness within each chunk; this catches repeats across chunks of a large file.
        failed = CheckResult(
            "expect_column_values_to_be_unique", ", ".join(ds.key_columns), False, len(dup.rows), dup.rows
        )
        _discard_copy(path, original, sidecar)
        _quarantine(ds, original, sha256, [failed], checks + [failed], rows=None, loaded_by=loaded_by)
    except psycopg.DataError as exc:
        # The database (or its driver, before sending) refused a record the gate let through. The error text
        # quotes the record, which may be personal data: keep only the error code and the row number.
        if exc.sqlstate:  # refused by the server: its context names the COPY line (the header is not sent)
            line = re.search(r"line (\d+)", exc.diag.context or "")
            rows_at = [pseudonymise.source_row(int(line.group(1)) + 1, rejected_rows)] if line else []
            what = f"SQLSTATE {exc.sqlstate}"
        else:
            rows_at, what = [pseudonymise.source_row(row_number, rejected_rows)], type(exc).__name__
        failed = CheckResult(f"database refused the file ({what})", None, False, 1, rows_at)
        _discard_copy(path, original, sidecar)
        _quarantine(ds, original, sha256, [failed], checks + [failed], rows=None, loaded_by=loaded_by)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != "load_batch_one_load_per_checksum":
            raise
        # Another run loaded the same content between our validation and our commit.
        with warehouse.connect() as conn:
            earlier = _loaded_batch(conn, ds, sha256)
            _record_batch(
                conn,
                ds,
                original,
                sha256,
                BatchStatus.SKIPPED_DUPLICATE,
                duplicate_of=earlier,
                loaded_by=loaded_by,
                reason=f"same content as batch {earlier}",
            )
        _discard_copy(path, original, sidecar)
        return {
            "status": BatchStatus.SKIPPED_DUPLICATE,
            "file": path.name,
            "duplicate_of": earlier,
            "path": str(original),
        }
    if sidecar:  # recorded in audit.validation_result with the batch
        sidecar.unlink(missing_ok=True)
    log.info("%s: loaded %s rows into %s as batch %s", path.name, rows, ds.raw_table, batch_id)
    if supersedes:  # a re-issued month: raw keeps both batches, staging counts this one
        log.info("%s: re-issue: %s", path.name, supersedes)
    for warning in warnings:  # loaded, but flagged: shown in the task log as well as in audit
        log.warning("flagged: %s", warning)
    return {
        "status": BatchStatus.LOADED,
        "file": path.name,
        "batch_id": batch_id,
        "rows": rows,
        "path": str(path),
        "sha256": sha256,
        **({"source_path": str(original)} if original != path else {}),
    }


COPY_BLOCK = 1 << 20  # bytes read and sent to COPY at a time


def _copy_lines(pipe, path: Path, batch_id: int) -> int:
    """Send the file's data lines to COPY (CSV format), each prefixed with ``<batch>,<file row>,``; returns the
    rows sent. For files :func:`~partnership.validation.plain_lines` accepts (one record per line). The header
    line is not sent, so COPY's line N is file row N + 1, as for the row-by-row path."""
    row = 1  # the file row of the last line sent (the header is row 1)
    rest = b""
    prefix = f"{batch_id},".encode()
    with open(path, "rb") as f:
        f.readline()  # the header (a byte-order mark before it goes with it), checked by validate()
        while block := f.read(COPY_BLOCK):
            # One line ending for every line sent, whatever the file's (a "\r" only ever comes before a "\n" here).
            lines = (rest + block).replace(b"\r\n", b"\n").split(b"\n")
            rest = lines.pop()  # the part after the last line break: the start of the next block's first line
            pipe.write(b"".join(b"%s%d,%s\n" % (prefix, n, line) for n, line in enumerate(lines, start=row + 1)))
            row += len(lines)
        if rest:  # a last line without a line break
            row += 1
            pipe.write(b"%s%d,%s\n" % (prefix, row, rest))
    return row - 1


def _discard_copy(path: Path, original: Path, sidecar: Path | None) -> None:
    if path != original:
        path.unlink(missing_ok=True)
    if sidecar:
        sidecar.unlink(missing_ok=True)


def mark_done(ds: Dataset, loaded: dict) -> str:
    """File a loaded file away in processed/, so the next run does not see it in the landing zone.

    For a pseudonymised dataset the pseudonymised copy is kept, and the landed original, which holds the
    raw identifiers, is deleted: no copy of the identifiers outlives the gate.
    """
    path = Path(loaded["path"])
    if loaded.get("source_path"):
        Path(loaded["source_path"]).unlink(missing_ok=True)
        settings.upload_marker(Path(loaded["source_path"])).unlink(missing_ok=True)
    if not path.exists():
        return ""
    sha256 = loaded.get("sha256") or sha256_of(path)
    return str(_move(path, settings.processed_dir() / ds.landing_subdir, sha256[:12]))


def ingest_file(ds: Dataset, path: str | Path, *, loaded_by: str = "cli") -> dict:
    """All the steps for one file, as the DAG runs them: validate, load, mark done."""
    outcome = validate(ds, path, loaded_by=loaded_by)
    if outcome["status"] != "accepted":
        return outcome
    loaded = load(ds, outcome, loaded_by=loaded_by)
    mark_done(ds, loaded)
    return loaded
