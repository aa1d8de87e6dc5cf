"""Linking the people of one landed file, at the gate: each person's details (the registry's
``linked_persons``) are tokenised into the linkage index and linked, and the file's copy is written with the
partnership person id in the person column and without the details.

Two passes over the file, streaming: the first sends every person's tokens to the index (COPY) and links them
(:func:`partnership.linkage.matching.link_new`, in the same transaction); the second writes the copy. The
details are only ever in the landed file: not in the copy, the index, a log or a check result (which hold
counts). Each index record is keyed by the file's checksum and row, so a file sent again re-uses its records
and quarantine or retention can remove a file's records.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from partnership import settings, warehouse
from partnership.linkage import index, matching, tokens
from partnership.registry import Dataset, LinkedPerson

PERSON_ID_PREFIX = "PW"


def person_id_text(person_id: int) -> str:
    return f"{PERSON_ID_PREFIX}{person_id}"


def source_of(ds: Dataset, person: LinkedPerson) -> str:
    """The index's name for one dataset's person column: ``<dataset>:<column>``."""
    return f"{ds.name}:{person.person}"


def record_key(file_sha256: str, row: int) -> str:
    return f"{file_sha256[:16]}:{row}"


@dataclass(frozen=True)
class LinkedPersonCount:
    person: str  # the person column
    records: int  # rows with at least one usable detail (tokenised and linked)
    without_details: int  # rows with none: the person column is left empty
    persons: int  # distinct person ids among them
    known_before: int  # rows whose person was already in the index from other records


@dataclass(frozen=True)
class LinkedFile:
    path: Path  # the copy, with person ids and without the details
    counts: list[LinkedPersonCount]
    review_pairs: int
    merges: int


def _tokens_by_row(ds: Dataset, source: Path, encoding: str, key: bytes):
    """(person, file row, tokens) for every person with a usable detail, streaming."""
    with open(source, newline="", encoding=encoding) as f:
        reader = csv.reader(f)
        header = next(reader)
        at = {name: i for i, name in enumerate(header)}
        people = [(p, [(at[column], field) for column, field in p.fields]) for p in ds.linked_persons]
        tokenise = tokens.Tokeniser(key)  # this file's only
        for row, record in enumerate(reader, start=2):
            for person, fields in people:
                values = {field: record[i] for i, field in fields if record[i].strip()}
                if values:
                    yield person, row, tokenise(values)


def link_file(ds: Dataset, source: Path, file_sha256: str, target: Path, encoding: str = "utf-8-sig") -> LinkedFile:
    """Tokenise, index and link the file's people; write ``target``: the dataset's columns, each linked person's
    column holding their person id."""
    key = tokens.linkage_key()
    with warehouse.connect() as conn:
        record_ids = index.add_records(
            conn,
            (
                (source_of(ds, person), record_key(file_sha256, row), t)
                for person, row, t in _tokens_by_row(ds, source, encoding, key)
            ),
        )
        result = matching.link_new(conn, record_ids)
        ids = index.person_ids_of(conn, record_ids)  # (source, record key) -> person id
        known = index.known_elsewhere(conn, record_ids)
    counts = {p.person: [0, 0, set(), 0] for p in ds.linked_persons}
    settings.private_folder(target.parent)
    partial = target.with_name(target.name + ".partial")
    with (
        open(source, newline="", encoding=encoding) as src,
        open(partial, "w", newline="", encoding="utf-8", opener=settings.private_opener) as out,
    ):
        reader, writer = csv.reader(src), csv.writer(out, lineterminator="\n")
        at = {name: i for i, name in enumerate(next(reader))}
        writer.writerow([c.file_header for c in ds.columns])
        linked = {p.person: source_of(ds, p) for p in ds.linked_persons}
        for row, record in enumerate(reader, start=2):
            values = []
            for c in ds.columns:
                if c.name not in linked:
                    values.append(record[at[c.file_header]])
                    continue
                person_id = ids.get((linked[c.name], record_key(file_sha256, row)))
                count = counts[c.name]
                if person_id is None:
                    count[1] += 1
                    values.append("")
                else:
                    count[0] += 1
                    count[2].add(person_id)
                    values.append(person_id_text(person_id))
            writer.writerow(values)
    partial.replace(target)
    return LinkedFile(
        target,
        [
            LinkedPersonCount(p, n, none, len(persons), known.get(linked[p], 0))
            for p, (n, none, persons, _) in counts.items()
        ],
        result.review_pairs,
        result.merges,
    )


def link_within_file(ds: Dataset, source: Path, target: Path, encoding: str = "utf-8-sig") -> Path:
    """The copy the gate would write, made without the warehouse: people are linked only within this file and only
    by the deterministic rules (a shared identifier, or the same name, date of birth and postcode), with a key
    made for the call and forgotten. For checking an extract offline (``validation.validate_file``): the person
    ids mean nothing outside the copy."""
    import secrets

    key = secrets.token_bytes(32)
    strong = ("nhs_number", "upn", "pnc_id", "name_dob_postcode")
    first_seen: dict[bytes, int] = {}
    ids: dict[tuple[str, int], int] = {}
    for person, row, t in _tokens_by_row(ds, source, encoding, key):
        found = [first_seen[v] for v in (getattr(t, f) for f in strong) if v in first_seen]
        person_id = min(found) if found else len(first_seen) + len(ids) + 1
        for v in (getattr(t, f) for f in strong):
            if v:
                first_seen.setdefault(v, person_id)
        ids[person.person, row] = person_id
    with (
        open(source, newline="", encoding=encoding) as src,
        open(target, "w", newline="", encoding="utf-8") as out,
    ):
        reader, writer = csv.reader(src), csv.writer(out, lineterminator="\n")
        at = {name: i for i, name in enumerate(next(reader))}
        writer.writerow([c.file_header for c in ds.columns])
        linked = {p.person for p in ds.linked_persons}
        for row, record in enumerate(reader, start=2):
            writer.writerow(
                [
                    (person_id_text(ids[c.name, row]) if (c.name, row) in ids else "")
                    if c.name in linked
                    else record[at[c.file_header]]
                    for c in ds.columns
                ]
            )
    return target
