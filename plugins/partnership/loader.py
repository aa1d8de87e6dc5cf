"""Landing zone to raw tables: find, validate, load (COPY, one transaction) and file away, with audit.

Every file ends in exactly one audit.load_batch row per attempt and in one place on disk:
``processed/`` once loaded (or skipped as a duplicate), ``quarantine/`` with a ``.reason.json`` beside it
when it failed validation. A file whose checksum is already loaded is never loaded again; the database
enforces it with a unique index, so even two concurrent runs cannot double-load.

Nothing here imports Airflow: the DAG tasks in :mod:`partnership.ingest` are thin wrappers, and the tests
call these functions directly too. The gate is made of this module (find, validate, load, mark done) and four
it calls: :mod:`partnership.gate` (the ordered checks, and the typed records the tasks pass on),
:mod:`partnership.landing` (complete files, checksums, filing away), :mod:`partnership.batch_audit` (the audit
batch and its checks, and the checks against earlier batches) and :mod:`partnership.quarantine` (a failed file's
batch, move and reason file).
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import psycopg
from psycopg import sql

from partnership import batch_audit, gate, landing, pseudonymise, quarantine, screening, settings, warehouse
from partnership.batch_audit import CHECKS_SUFFIX as CHECKS_SUFFIX
from partnership.batch_audit import checks_path as checks_path
from partnership.batch_status import BatchStatus
from partnership.gate import Accepted as Accepted
from partnership.gate import Loaded as Loaded
from partnership.gate import SkippedDuplicate as SkippedDuplicate
from partnership.landing import awaiting_files as awaiting_files
from partnership.landing import sha256_of, upload_complete
from partnership.linkage import index as linkage_index
from partnership.quarantine import QuarantinedFile
from partnership.registry import Dataset
from partnership.validation import ENCODING, CheckResult, sha256_and_plain_lines

# The gate's public names include some defined in the modules it is made of (sha256_of, upload_complete,
# awaiting_files, QuarantinedFile, checks_path): importable from here, and the loader's own calls look them up here.

log = logging.getLogger(__name__)


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


def _quarantine_named(ds: Dataset, path: Path, loaded_by: str = "find_new_files") -> QuarantinedFile | None:
    """Quarantine a landed file whose name holds an identifier, as ``validate`` does, logging only the reason
    (which names the file by its withheld name)."""
    try:
        _quarantine_under_withheld_name(ds, path, sha256_of(path), screening.screen_file_name(path.name), loaded_by)
    except QuarantinedFile as e:
        log.warning("%s", e)
        return e
    return None


def _quarantine_under_withheld_name(ds, path: Path, sha256: str, findings: list, loaded_by: str) -> None:
    checks = gate.screen_checks(findings)
    withheld = quarantine.withheld_name(path, sha256)
    quarantine.quarantine_file(
        ds, path, sha256, gate.failures(checks), checks, rows=None, loaded_by=loaded_by, name=withheld
    )


def validate(ds: Dataset, path: str | Path, *, loaded_by: str = "cli") -> Accepted | SkippedDuplicate:
    """Decide what happens to one landed file: it goes through the gate's steps (:data:`partnership.gate.STEPS`).

    Returns an :class:`Accepted` for a file to load (its checks in the private file at ``checks_path``, which
    :func:`load` records: the outcome is an XCom, kept small), a :class:`SkippedDuplicate` for content already
    loaded (the file is filed away). Raises :class:`QuarantinedFile` after moving a failing file to quarantine
    and recording why.
    """
    path = Path(path)
    sha256, plain = sha256_and_plain_lines(path)
    # A name that holds an identifier is never recorded or kept: the file is quarantined under a neutral one.
    named = screening.screen_file_name(path.name)
    if named:
        findings = named + screening.screen_file(path, ds, encoding=ENCODING, plain=plain)
        _quarantine_under_withheld_name(ds, path, sha256, findings, loaded_by)
    with warehouse.connect() as conn:
        earlier = batch_audit.loaded_batch(conn, ds, sha256)
        if earlier is not None:
            batch_audit.record_batch(
                conn,
                ds,
                path,
                sha256,
                BatchStatus.SKIPPED_DUPLICATE,
                duplicate_of=earlier,
                loaded_by=loaded_by,
                reason=f"same content as batch {earlier}",
            )
            if ds.sends_raw_identifiers:
                path.unlink()  # it holds raw identifiers, and its pseudonymised copy is already kept
                settings.upload_marker(path).unlink(missing_ok=True)
            else:
                landing.file_away(path, settings.processed_dir() / ds.landing_subdir / "duplicates", sha256[:12])
            log.info("%s: already loaded as batch %s; skipped", path.name, earlier)
            return SkippedDuplicate(landed=path, duplicate_of=earlier)

    # Whether its lines are its records, looked at once: then the screen and the contract split them, not parse.
    file = gate.GateFile(ds, path, plain=plain, sha256=sha256)
    checks = gate.run_steps(file)
    failures = gate.failures(checks)
    if failures:
        if file.pseudonymised:
            file.pseudonymised.path.unlink(missing_ok=True)
        quarantine.quarantine_file(ds, path, sha256, failures, checks, rows=file.rows, loaded_by=loaded_by)
    # The checks (and the rows pseudonymisation rejected) go to a private file in work/, not into the outcome:
    # the outcome is the validate task's XCom, which stays a few hundred characters however many checks ran.
    sidecar = batch_audit.write_validation_record(ds, path, sha256, checks, file.dropped_rows)
    return Accepted(
        landed=path,
        path=file.checked,
        sha256=sha256,
        rows=file.rows,
        load_sha256=sha256_of(file.checked) if file.pseudonymised else sha256,
        checks_path=sidecar,
        flagged=sum(1 for c in checks if not c.success),
        key_fingerprint=file.key_fingerprint,
    )


def load(ds: Dataset, accepted: Accepted, *, loaded_by: str = "cli") -> Loaded | SkippedDuplicate:
    """COPY an accepted file into its raw table, with its batch record, in one transaction.

    A retry of a load whose transaction committed (filing the file away failed after it, say) loads nothing: it
    returns the batch the earlier try made, so that the file is filed away (:func:`mark_done`), not taken for a
    duplicate of itself, whose copy would be discarded."""
    _check_paths(ds, accepted)
    earlier_try = _loaded_by_an_earlier_try(ds, accepted, loaded_by)
    if earlier_try:
        # What mark_done files away must still be what was loaded: a file sent again under the same name meanwhile
        # is left where it is, for the next run's gate.
        if accepted.path.exists() and sha256_of(accepted.path) != accepted.load_sha256:
            raise RuntimeError(f"{accepted.path.name} changed after it was loaded; it will be validated again next run")
        log.info("%s: already loaded by an earlier try, as batch %s", accepted.landed.name, earlier_try.batch_id)
        return earlier_try
    path, original, sha256 = accepted.path, accepted.landed, accepted.sha256
    load_sha256, plain = sha256_and_plain_lines(path)
    if load_sha256 != accepted.load_sha256:
        raise RuntimeError(f"{path.name} changed after it was validated; it will be validated again next run")
    checks, rejected_rows, sidecar = batch_audit.validation_record(ds, accepted)
    copy = sql.SQL("copy raw.{} (_batch_id, _source_row, {}) from stdin").format(
        sql.Identifier(ds.name), sql.SQL(", ").join(map(sql.Identifier, ds.column_names))
    )
    copy_csv = copy + sql.SQL(" (format csv)")  # a plain file's own bytes
    row_number = 1  # the file row being copied (the header is row 1)
    try:
        with warehouse.connect() as conn:  # one transaction: commits on success, rolls back on any error
            batch_id = batch_audit.record_batch(
                conn,
                ds,
                original,
                sha256,
                BatchStatus.LOADING,
                loaded_by=loaded_by,
                key_fingerprint=accepted.key_fingerprint,
            )
            if not rejected_rows and conn.info.encoding == "utf-8" and plain:
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
            duplicates = batch_audit.duplicate_key_rows(conn, ds, batch_id)
            if duplicates:
                raise batch_audit.DuplicateKeys(duplicates)
            supersedes, volume_warnings = batch_audit.superseded_months(conn, ds, batch_id)
            checks += volume_warnings
            warnings = [c.describe(original.name) for c in checks if not c.success and c.severity == "warning"]
            conn.execute(
                "update audit.load_batch set status = 'loaded', row_count = %s, flags = %s,"
                " replaces_batch = %s, supersedes = %s, loaded_sha256 = %s, finished_at = clock_timestamp()"
                " where batch_id = %s",
                (
                    rows,
                    "; ".join(warnings) or None,
                    batch_audit.replaced_batch(conn, ds, original),
                    supersedes,
                    accepted.load_sha256,  # what processed/ keeps (partnership reprocess finds it)
                    batch_id,
                ),
            )
            batch_audit.record_checks(conn, batch_id, checks)
            if ds.linked_persons:
                linkage_index.mark_loaded(conn, ds.name, sha256, batch_id)
    except batch_audit.DuplicateKeys as dup:
        # GX checks uniqueness within each chunk; this catches repeats across chunks of a large file.
        failed = CheckResult(
            "expect_column_values_to_be_unique", ", ".join(ds.key_columns), False, len(dup.rows), dup.rows
        )
        _discard_copy(path, original, sidecar)
        quarantine.quarantine_file(ds, original, sha256, [failed], checks + [failed], rows=None, loaded_by=loaded_by)
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
        quarantine.quarantine_file(ds, original, sha256, [failed], checks + [failed], rows=None, loaded_by=loaded_by)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != "load_batch_one_load_per_checksum":
            raise
        # Another run loaded the same content between our validation and our commit.
        with warehouse.connect() as conn:
            earlier = batch_audit.loaded_batch(conn, ds, sha256)
            batch_audit.record_batch(
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
        return SkippedDuplicate(landed=original, duplicate_of=earlier)
    if sidecar:  # recorded in audit.validation_result with the batch
        sidecar.unlink(missing_ok=True)
    log.info("%s: loaded %s rows into %s as batch %s", path.name, rows, ds.raw_table, batch_id)
    if supersedes:  # a re-issued month: raw keeps both batches, staging counts this one
        log.info("%s: re-issue: %s", path.name, supersedes)
    for warning in warnings:  # loaded, but flagged: shown in the task log as well as in audit
        log.warning("flagged: %s", warning)
    return Loaded(landed=original, path=path, sha256=sha256, batch_id=batch_id, rows=rows)


def _loaded_by_an_earlier_try(ds: Dataset, accepted: Accepted, loaded_by: str) -> Loaded | None:
    """The batch this very record became, if an earlier try of the same load committed it: the same file, the
    same content loaded (its copy's checksum), by the same run."""
    with warehouse.connect() as conn:
        found = conn.execute(
            "select batch_id, row_count from audit.load_batch where dataset = %s and file_name = %s"
            " and file_sha256 = %s and loaded_sha256 = %s and loaded_by = %s and status = 'loaded'",
            (ds.name, accepted.landed.name, accepted.sha256, accepted.load_sha256, loaded_by),
        ).fetchone()
    if found is None:
        return None
    batch_id, rows = found
    return Loaded(landed=accepted.landed, path=accepted.path, sha256=accepted.sha256, batch_id=batch_id, rows=rows)


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


def _check_paths(ds: Dataset, record: Accepted | Loaded) -> None:
    """A record names its dataset's own files only: a file in the dataset's landing folder, and that file or its
    pseudonymised copy in work/. Records travel as XComs, which Airflow's API can also write."""
    landed = record.landed.resolve()
    if landed.parent != (settings.landing_dir() / ds.landing_subdir).resolve() or record.path.resolve() not in (
        landed,
        pseudonymise.work_path(ds, landed).resolve(),
    ):
        raise ValueError(f"{ds.name}: the record names files outside the dataset's landing and work folders")


def _discard_copy(path: Path, original: Path, sidecar: Path | None) -> None:
    if path != original:
        path.unlink(missing_ok=True)
    if sidecar:
        sidecar.unlink(missing_ok=True)


def mark_done(ds: Dataset, loaded: Loaded) -> str:
    """File a loaded file away in processed/, so the next run does not see it in the landing zone.

    For a pseudonymised dataset the pseudonymised copy is kept, and the landed original, which holds the
    raw identifiers, is deleted: no copy of the identifiers outlives the gate.
    """
    _check_paths(ds, loaded)
    if loaded.landed != loaded.path:
        if loaded.landed.exists() and sha256_of(loaded.landed) != loaded.sha256:
            # Sent again under the same name since it was validated: not the file loaded, left for the next run.
            log.warning("%s: landed again with other content since it was loaded; left in landing", loaded.file)
        else:
            loaded.landed.unlink(missing_ok=True)
            settings.upload_marker(loaded.landed).unlink(missing_ok=True)
    if not loaded.path.exists():
        return ""
    return str(landing.file_away(loaded.path, settings.processed_dir() / ds.landing_subdir, loaded.sha256[:12]))


def ingest_file(ds: Dataset, path: str | Path, *, loaded_by: str = "cli") -> Loaded | SkippedDuplicate:
    """All the steps for one file, as the DAG runs them: validate, then load and mark done."""
    outcome = validate(ds, path, loaded_by=loaded_by)
    if isinstance(outcome, SkippedDuplicate):
        return outcome
    loaded = load(ds, outcome, loaded_by=loaded_by)
    if isinstance(loaded, Loaded):
        mark_done(ds, loaded)
    return loaded
