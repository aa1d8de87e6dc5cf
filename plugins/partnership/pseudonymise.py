"""Keyed pseudonymisation at the gate: raw identifiers an agreement lets an agency send are replaced before load.

A registry column with ``pseudonymise: nhs_number`` (or ``upn``, ``pnc_id``) holds a raw identifier in the
landed file. The gate normalises it (spaces and hyphens out, upper case), checks its check digit, and writes
``HMAC-SHA256(key, normalised)`` as 64 lower-case hex characters into a pseudonymised copy of the file, in the
working folder (``<data>/work/<agency>/<dataset>/``). That copy is what GX validates and COPY loads; the
original, which holds the identifiers, is deleted once the copy is loaded. A row whose identifier is invalid
is left out of the copy, and its row number (never its value) is recorded.

One key per identifier type, so a leaked NHS-number key does not expose UPNs. The same key is used for every
agency, so the same person gets the same pseudonym whoever sent them. Keys come from the environment
(``PSEUDONYMISATION_KEY_NHS_NUMBER``...) or, inside an Airflow task, from the secrets backend through
``Variable.get("pseudonymisation_key_nhs_number")``. They are never logged, returned or stored.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from partnership import screening, settings
from partnership.registry import Dataset

MIN_KEY_CHARS = 32  # at least 128 bits if hex; a short key would make the pseudonyms guessable
SHOWN_ROWS = 5
_PNC = re.compile(r"^(\d{2}|\d{4})/(\d{1,7})([A-Z])$")


class KeyUnavailable(RuntimeError):
    """No usable key for an identifier type: a configuration fault, not a data fault (the file stays landed)."""


def env_name(id_type: str) -> str:
    return f"PSEUDONYMISATION_KEY_{id_type.upper()}"


def get_key(id_type: str) -> bytes:
    """The key for one identifier type: the environment first, then Airflow's Variables/secrets backend.

    Called only while a file is being pseudonymised (task run time), never at DAG parse time.
    """
    value = os.environ.get(env_name(id_type))
    if not value:
        try:
            from airflow.sdk import Variable

            value = Variable.get(f"pseudonymisation_key_{id_type}", default=None)
        except Exception:  # outside a task, or no such Variable: treated the same as missing
            value = None
    if not value or len(value) < MIN_KEY_CHARS:
        # The message names the variable, never a value.
        raise KeyUnavailable(
            f"no pseudonymisation key for {id_type}: set {env_name(id_type)} (at least {MIN_KEY_CHARS} characters)"
            f" or the Airflow Variable pseudonymisation_key_{id_type} in a secrets backend"
        )
    return value.encode()


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
