"""Keyed pseudonymisation at the gate: raw identifiers an agreement lets an agency send are replaced before load.

A registry column with ``pseudonymise: nhs_number`` (or ``upn``, ``pnc_id``) holds a raw identifier in the
landed file. The gate normalises it (spaces and hyphens out, upper case), checks its check digit, and writes
``HMAC-SHA256(key, normalised)`` as 64 lower-case hex characters into a pseudonymised copy of the file, in the
working folder (``<data>/work/<agency>/<dataset>/``). That copy is what GX validates and COPY loads; the
original, which holds the identifiers, is deleted once the copy is loaded. A row whose identifier is invalid
is left out of the copy, and its row number (never its value) is recorded.

One key per identifier type, so a leaked NHS-number key does not expose UPNs. The same key is used for every
agency, so the same person gets the same pseudonym whoever sent them. Keys come from the environment
(``PSEUDONYMISATION_KEY_NHS_NUMBER``...) or from Airflow's Variables / secrets backend
(``pseudonymisation_key_nhs_number``). A placeholder or weak key is refused, the key is masked in Airflow's
logs, and it is never logged, returned or stored: each batch records only its fingerprint, so a changed key is
noticed (see ``loader``).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from partnership import screening, settings
from partnership.registry import Dataset

KEY_BITS = 256  # 32 bytes of key material: what `secrets.token_hex(32)` or `token_urlsafe(32)` gives
MIN_KEY_CHARS = 43  # 256 bits at 6 bits a character (base64); a hex key needs 64 characters
KEY_MIN_DISTINCT = 10  # a random 64-hex key has all 16 digits bar a few; fewer than 10 means a made-up key
# Words of a placeholder or an example value (.env.example's is replace-me-pseudonymisation-key-nhs-number).
KEY_PLACEHOLDER_WORDS = ("replace", "changeme", "change-me", "change_me", "example", "placeholder", "dummy", "secret")
FINGERPRINT_LABEL = b"partnership-warehouse key fingerprint v1"
SHOWN_ROWS = 5
_PNC = re.compile(r"^(\d{2}|\d{4})/(\d{1,7})([A-Z])$")


class KeyUnavailable(RuntimeError):
    """No usable key for an identifier type: a configuration fault, not a data fault (the file stays landed)."""


def env_name(id_type: str) -> str:
    return f"PSEUDONYMISATION_KEY_{id_type.upper()}"


def variable_name(id_type: str) -> str:
    return f"pseudonymisation_key_{id_type}"


def key_problem(value: str) -> str | None:
    """Why a key is unfit, or None. A screen against placeholders and made-up keys, not a proof of randomness.

    The rule: no placeholder word; at least 256 bits counted as length times the bits a character of its
    alphabet carries (4 if every character is a hex digit, else 6); at least 10 distinct characters; and not
    one block repeated. The reason never quotes the value.
    """
    lowered = value.lower()
    if any(word in lowered for word in KEY_PLACEHOLDER_WORDS):
        return "it is a placeholder or example value"
    bits_per_char = 4 if re.fullmatch(r"[0-9a-fA-F]+", value) else 6
    if len(value) * bits_per_char < KEY_BITS:
        return f"it is too short (at least {KEY_BITS // 4} hex or {MIN_KEY_CHARS} other characters)"
    if len(set(value)) < KEY_MIN_DISTINCT or any(value[p:] == value[:-p] for p in range(1, len(value) // 2 + 1)):
        return "it is not random (too few distinct characters, or a block repeated)"
    return None


def configured_key(id_type: str) -> str | None:
    """The key's value as configured: the environment, else Airflow's Variables and secrets backends."""
    value = os.environ.get(env_name(id_type))
    if value:
        return value
    try:
        from airflow.sdk import Variable

        value = Variable.get(variable_name(id_type), default=None)
    except Exception:  # not in an Airflow environment: treated the same as missing
        value = None
    if value is None and not _in_airflow_task():
        # Outside a task (the CLI) the Task SDK reads only the environment and external secrets backends, not
        # the metadata DB, where the tasks of `partnership run` (dag.test, same metadata DB) will find it.
        try:
            from airflow.secrets.metastore import MetastoreBackend

            value = MetastoreBackend().get_variable(variable_name(id_type))
        except Exception:  # no metadata DB (yet): nothing stored there
            value = None
    return value or None


def _in_airflow_task() -> bool:
    task_runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


def get_key(id_type: str) -> bytes:
    """The key for one identifier type, refused if missing, a placeholder or weak; masked in Airflow's logs.

    Called only while a file is being pseudonymised (task run time) or by the CLI, never at DAG parse time.
    """
    value = configured_key(id_type)
    where = f"set {env_name(id_type)} or the Airflow Variable {variable_name(id_type)} in a secrets backend"
    if not value:
        raise KeyUnavailable(f"no pseudonymisation key for {id_type}: {where}")
    problem = key_problem(value)
    if problem:  # the message names the variable, never the value
        raise KeyUnavailable(
            f"the pseudonymisation key for {id_type} is refused: {problem}; {where}"
            ' (generate one: python -c "import secrets; print(secrets.token_hex(32))")'
        )
    _mask_in_airflow_logs(value)
    return value.encode()


def _mask_in_airflow_logs(value: str) -> None:
    """Register the key with Airflow's secrets masker (task process and supervisor): '***' in every log line."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow not installed: nothing of Airflow's to mask
        return
    mask_secret(value)


def fingerprint(key: bytes) -> str:
    """Which key made a batch, without the key: HMAC of a fixed label (not an identifier), 16 hex characters."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


LINKAGE_KEY_TYPE = "linkage"  # the key of the linkage tokens (partnership.linkage.tokens)


def key_types(ds: Dataset) -> list[str]:
    """The keys a dataset's files need: one per identifier type it pseudonymises, and the linkage key when it
    sends people's details for linkage."""
    types = {c.pseudonymise for c in ds.columns if c.pseudonymise}
    return sorted(types | ({LINKAGE_KEY_TYPE} if ds.linked_persons else set()))


def key_fingerprints(ds: Dataset) -> dict[str, str]:
    """{key type: fingerprint of its current key} for the keys a dataset's files need."""
    return {t: fingerprint(get_key(t)) for t in key_types(ds)}


def id_types() -> list[str]:
    """The key types some registry dataset needs (each identifier type, and linkage): each has its own key."""
    from partnership.registry import load_registry

    return sorted({t for ds in load_registry() for t in key_types(ds)})


def declare_rotation(url: str, id_type: str, reason: str | None) -> str:
    """Record in audit.key_rotation that the current key for id_type is the new one (who, when, why), so batches
    made with it load; returns its fingerprint (never the key)."""
    import getpass

    from partnership import warehouse

    new = fingerprint(get_key(id_type))
    with warehouse.connect(url) as conn:
        conn.execute(
            "insert into audit.key_rotation (id_type, new_fingerprint, reason, declared_by)"
            " values (%s, %s, %s, %s || ' as ' || session_user)",
            (id_type, new, reason, getpass.getuser()),
        )
    return new


def normalise(id_type: str, raw: str) -> str | None:
    """The identifier in its canonical form, or None if it is malformed or its check digit is wrong."""
    value = re.sub(r"[\s-]", "", raw).upper()
    if id_type == "nhs_number":
        return value if screening.nhs_number_valid(value) else None
    if id_type == "upn":
        return value if screening.upn_valid(value) else None
    if id_type == "pnc_id":
        m = _PNC.match(value)
        if not m or not screening.pnc_valid(*m.groups()):
            return None
        year, serial, letter = m.groups()
        return f"{year[-2:]}/{serial.zfill(7)}{letter}"  # 2-digit year, 7-digit serial: one form per person
    raise ValueError(f"unknown identifier type {id_type!r}")


def pseudonym(key: bytes, id_type: str, normalised: str) -> str:
    # The type is part of the message too: an NHS number and a UPN that happen to share characters differ.
    return hmac.new(key, f"{id_type}:{normalised}".encode(), hashlib.sha256).hexdigest()


@dataclass
class Rejected:
    column: str
    id_type: str
    count: int = 0
    rows: list[int] = field(default_factory=list)  # first few file rows, for the reason

    @property
    def text(self) -> str:
        rows = ", ".join(map(str, self.rows))
        return (
            f"column {self.column!r}: {self.count} row(s) rejected, {self.id_type} malformed or failing its check"
            f" digit (rows {rows}{', ...' if self.count > len(self.rows) else ''})"
        )


@dataclass
class Outcome:
    path: Path  # the pseudonymised copy
    rows_written: int
    rejected_rows: list[int]  # every rejected file row, sorted (to map copy rows back to file rows)
    rejected: list[Rejected]


def work_path(ds: Dataset, source: Path) -> Path:
    return settings.work_dir() / ds.landing_subdir / source.name


def pseudonymise_file(ds: Dataset, source: Path, encoding: str = "utf-8-sig") -> Outcome:
    """Stream ``source`` into its pseudonymised copy; the header has already passed the contract check."""
    columns = [(ds.column_names.index(c.name), c) for c in ds.columns if c.pseudonymise]
    keys = {c.pseudonymise: get_key(c.pseudonymise) for _, c in columns}
    target = work_path(ds, source)
    settings.private_folder(target.parent)  # a copy left by a crash is swept at the next run (retention.sweep_work)
    rejected = {c.name: Rejected(c.name, c.pseudonymise) for _, c in columns}
    rejected_rows: list[int] = []
    written = 0
    partial = target.with_name(target.name + ".partial")
    with (
        open(source, newline="", encoding=encoding) as src,
        open(partial, "w", newline="", encoding="utf-8", opener=settings.private_opener) as out,
    ):
        reader, writer = csv.reader(src), csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for row_number, record in enumerate(reader, start=2):
            bad = False
            for i, col in columns:
                raw = record[i]
                if raw == "":
                    continue  # missing is for the completeness expectations to judge, not this step
                canonical = normalise(col.pseudonymise, raw)
                if canonical is None:
                    r = rejected[col.name]
                    r.count += 1
                    if len(r.rows) < SHOWN_ROWS:
                        r.rows.append(row_number)
                    bad = True
                else:
                    record[i] = pseudonym(keys[col.pseudonymise], col.pseudonymise, canonical)
            if bad:
                rejected_rows.append(row_number)
                continue
            writer.writerow(record)
            written += 1
    partial.replace(target)  # a half-written copy is never mistaken for a finished one
    return Outcome(target, written, rejected_rows, [r for r in rejected.values() if r.count])


def source_row(copy_row: int, rejected_rows: list[int]) -> int:
    """The landed file's row number of a row of the pseudonymised copy (rejected rows are not in the copy)."""
    row = copy_row
    for r in rejected_rows:  # sorted ascending
        if r <= row:
            row += 1
        else:
            break
    return row
