"""The gate's records in audit: a batch per file given to the gate (audit.load_batch), its checks
(audit.validation_result), and the checks that compare a file with the dataset's earlier batches: repeated keys
within the batch, months it re-issues, its volume, the pseudonymisation key that made it. Between the gate's
validate and load steps an accepted file's checks wait in a validation record in work/ (:func:`checks_path`), and
load records them with the file's batch.

:mod:`partnership.loader` and :mod:`partnership.reprocess` call these inside their own transactions; nothing
here moves a file.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from partnership import settings, warehouse
from partnership.batch_status import BatchStatus
from partnership.registry import Dataset
from partnership.validation import CheckResult

if TYPE_CHECKING:  # the gate imports this module
    from partnership.gate import Accepted


def loaded_batch(conn: psycopg.Connection, ds: Dataset, sha256: str) -> int | None:
    row = conn.execute(
        "select batch_id from audit.load_batch where dataset = %s and file_sha256 = %s and status = 'loaded'",
        (ds.name, sha256),
    ).fetchone()
    return row[0] if row else None


def record_batch(
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


def record_checks(conn: psycopg.Connection, batch_id: int, checks: list[CheckResult]) -> None:
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


def replaced_batch(conn: psycopg.Connection, ds: Dataset, path: Path) -> int | None:
    """The quarantined batch a corrected file replaces: released under the same name (see `partnership quarantine`)."""
    row = conn.execute(
        "select batch_id from audit.load_batch b where dataset = %s and file_name = %s and status = 'quarantined'"
        " and resolution like 'released%%'"
        " and not exists (select 1 from audit.load_batch l where l.replaces_batch = b.batch_id)"
        " order by batch_id desc limit 1",
        (ds.name, path.name),
    ).fetchone()
    return row[0] if row else None


class DuplicateKeys(Exception):
    def __init__(self, rows: list[int]):
        super().__init__(f"duplicate keys at rows {rows}")
        self.rows = rows


def duplicate_key_rows(conn: psycopg.Connection, ds: Dataset, batch_id: int) -> list[int]:
    """File rows (up to 5) whose key repeats an earlier row of the same batch."""
    if not ds.key_columns:  # datasets without a record key (police.uk files) cannot repeat one
        return []
    keys = sql.SQL(", ").join(map(sql.Identifier, ds.key_columns))
    query = sql.SQL(
        "select _source_row from (select _source_row, row_number() over (partition by {keys} order by _source_row)"
        " as n from raw.{table} where _batch_id = %s) ranked where n > 1 order by _source_row limit 5"
    ).format(keys=keys, table=sql.Identifier(ds.name))
    return [r[0] for r in conn.execute(query, (batch_id,))]


def superseded_months(conn: psycopg.Connection, ds: Dataset, batch_id: int) -> tuple[str | None, list[CheckResult]]:
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


def key_change(ds: Dataset, fingerprints: dict[str, str]) -> CheckResult | None:
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


def volume_check(ds: Dataset, rows: int) -> CheckResult | None:
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


CHECKS_SUFFIX = ".checks.json"


def checks_path(ds: Dataset, landed: Path) -> Path:
    """Where ``validate`` keeps an accepted file's checks for ``load``: ``work/<dataset>/<file name>.checks.json``
    (row numbers, counts and messages that never quote a value: no identifier). ``load`` deletes it once the file
    is loaded, quarantined or skipped; one an interrupted run leaves is swept with the rest of work/."""
    return settings.work_dir() / ds.landing_subdir / (Path(landed).name + CHECKS_SUFFIX)


def write_validation_record(
    ds: Dataset, landed: Path, sha256: str, checks: list[CheckResult], rejected_rows: list[int]
) -> Path:
    """Keep an accepted file's checks (and the rows pseudonymisation rejected) at :func:`checks_path`, 0600."""
    sidecar = checks_path(ds, landed)
    settings.write_private_atomically(
        sidecar,
        json.dumps(
            {
                "sha256": sha256,
                "checks": [c.__dict__ for c in checks],
                "rejected_rows": rejected_rows,
            }
        ),
    )
    return sidecar


def validation_record(ds: Dataset, accepted: Accepted) -> tuple[list[CheckResult], list[int], Path]:
    """The checks and rejected rows ``validate`` recorded for an accepted file, from its private file at
    :func:`checks_path`. No record there for this file (never validated, or its record deleted): refused."""
    sidecar = checks_path(ds, accepted.landed)
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8")) if accepted.checks_path == sidecar else None
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict) or record.get("sha256") != accepted.sha256:
        raise RuntimeError(
            f"{accepted.path.name}: its validation record is missing; it will be validated again next run"
        )
    return [CheckResult(**c) for c in record["checks"]], record.get("rejected_rows") or [], sidecar
