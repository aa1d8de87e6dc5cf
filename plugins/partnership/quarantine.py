"""Quarantined files: putting a failed file there, and working with them: list, explain, release (usually a
corrected file) or discard.

A quarantined file sits in ``quarantine/<agency>/<dataset>/`` with ``<file>.reason.json`` beside it and a
``quarantined`` row in ``audit.load_batch``. Releasing puts a file back in the landing zone under the original
name, so the next run validates it like any other: a corrected file has a new checksum, and when it loads its
batch records ``replaces_batch`` = the quarantined one. Discarding deletes the file (it may hold identifiers)
and keeps the audit trail. Either way the quarantined batch's ``resolution`` says what happened, when and
by whom. A file still in quarantine is purged by retention after the dataset's ``quarantine_days`` (it may
hold direct identifiers; its reason file stays, as ``.purged.json``).

Files get there by :func:`quarantine_file`, which the gate (:mod:`partnership.loader`) calls for a file that
failed: it records the batch and its checks, moves the file and writes the reason file, then raises
:class:`QuarantinedFile`.
"""

from __future__ import annotations

import fnmatch
import getpass
import json
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

from partnership import batch_audit, landing, settings, warehouse
from partnership.batch_status import BatchStatus
from partnership.linkage import index as linkage_index
from partnership.registry import Dataset, get_dataset
from partnership.validation import CheckResult

log = logging.getLogger(__name__)


class QuarantinedFile(Exception):
    """The file failed validation and was moved to quarantine; the message says why.

    Its fields are what an alert may say: the batch, the file's recorded (possibly withheld) name and the reason
    as recorded in audit, which names checks, columns and row numbers, never a value from the file."""

    def __init__(self, message: str, *, dataset: str = "", batch_id: int | None = None, file: str = "", reason=""):
        super().__init__(message)
        self.dataset, self.batch_id, self.file, self.reason = dataset, batch_id, file, reason


def withheld_name(path: Path, sha256: str) -> str:
    """The name a file is recorded and kept under when its own name holds an identifier."""
    return f"name-withheld-{sha256[:12]}{path.suffix}"


def quarantine_file(
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
        batch_id = batch_audit.record_batch(
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
        batch_audit.record_checks(conn, batch_id, checks)
        if ds.linked_persons:
            linkage_index.forget_file(conn, ds.name, sha256)
    # Named by its batch when the name is taken: each quarantined copy keeps a reason file of its own.
    target = landing.file_away(path, settings.quarantine_dir() / ds.landing_subdir, f"batch-{batch_id}", name=name)
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


def _reason_files() -> list[Path]:
    return sorted(settings.quarantine_dir().rglob("*.reason.json"))


def list_quarantined() -> list[dict]:
    out = []
    for reason in _reason_files():
        try:
            doc = json.loads(reason.read_text())
        except (OSError, ValueError) as exc:  # one unreadable reason file must not hide the others
            log.warning("%s: unreadable reason file (%s); left for a person to look at", reason, type(exc).__name__)
            continue
        doc["quarantined_file"] = str(reason.with_name(reason.name.removesuffix(".reason.json")))
        out.append(doc)
    return sorted(out, key=lambda d: d["batch_id"])


def find(batch_id: int) -> dict:
    for doc in list_quarantined():
        if doc["batch_id"] == batch_id:
            return doc
    raise KeyError(f"no file in quarantine for batch {batch_id}")


def show(batch_id: int) -> dict:
    doc = find(batch_id)
    with warehouse.connect() as conn:
        doc["checks"] = [
            dict(zip(("expectation", "column", "severity", "rows", "observed", "threshold", "detail"), r, strict=True))
            for r in conn.execute(
                "select expectation, column_name, severity, unexpected_count, observed, threshold, detail"
                " from audit.validation_result where batch_id = %s and not success",
                (batch_id,),
            )
        ]
    return doc


def _resolve(batch_id: int, what: str) -> None:
    with warehouse.connect() as conn:
        updated = conn.execute(
            "update audit.load_batch set resolution = %s where batch_id = %s and status = 'quarantined'",
            (f"{what} {datetime.now(UTC).isoformat(timespec='seconds')} by {getpass.getuser()}", batch_id),
        ).rowcount
    if not updated:
        raise KeyError(f"batch {batch_id} is not a quarantined batch in this warehouse")


def _landing_name(ds: Dataset, name: object) -> str:
    """The reason file's ``file``, if it is a plain name the dataset's agency could have sent; it is read from
    disk, so a path in it (``../../etc/x.csv``) must not decide where release writes."""
    plain = (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
        and fnmatch.fnmatchcase(name, ds.landing_pattern)
    )
    if not plain:
        raise ValueError(f"the reason file's file field is not a plain file name matching {ds.landing_pattern!r}")
    return name


def release(batch_id: int, corrected: Path | None = None) -> Path:
    """Put the corrected file (or, after a contract change, the quarantined file itself) back in landing.

    It lands with its ``.done`` marker, so the next run takes it at once. A landed file of the same name (the
    agency may have sent one meanwhile) is never overwritten: release refuses, and nothing changes.
    """
    doc = find(batch_id)
    ds = get_dataset(doc["dataset"])
    quarantined = Path(doc["quarantined_file"])
    target = settings.landing_dir() / ds.landing_subdir / _landing_name(ds, doc["file"])
    if target.exists() or settings.upload_marker(target).exists():
        raise FileExistsError(f"{target} is already in the landing zone: load or move it first, then release")
    target.parent.mkdir(parents=True, exist_ok=True)
    _resolve(batch_id, "released" + (" with a corrected file" if corrected else ""))
    if corrected:
        shutil.copyfile(corrected, target)
        quarantined.unlink(missing_ok=True)  # superseded; it may hold what got it quarantined
    else:
        shutil.move(quarantined, target)
    target.chmod(settings.PRIVATE_FILE)
    settings.upload_marker(target).touch(mode=settings.PRIVATE_FILE)
    reason = quarantined.with_name(quarantined.name + ".reason.json")
    reason.rename(reason.with_name(quarantined.name + ".released.json"))
    return target


def discard(batch_id: int) -> None:
    doc = find(batch_id)
    quarantined = Path(doc["quarantined_file"])
    _resolve(batch_id, "discarded")
    quarantined.unlink(missing_ok=True)
    reason = quarantined.with_name(quarantined.name + ".reason.json")
    reason.rename(reason.with_name(quarantined.name + ".discarded.json"))
