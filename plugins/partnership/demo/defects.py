"""Faulty extracts on demand, made from good generated ones, for testing the gate.

Each kind turns a good file into the kind of bad file agencies really send. The file is rewritten by
streaming (good file in, bad file out), never read whole. ``partnership generate --defect KIND`` applies one
to a dataset's first generated file.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from partnership.registry import Dataset

Rows = Iterator[list[str]]


def _first_column(ds: Dataset, test: Callable) -> int:
    """The file position of the first column that passes ``test`` (a linked person's column is not in the file:
    the agency sends the person's details in its place)."""
    headers = ds.file_headers
    for c in ds.columns:
        if c.file_header in headers and test(c):
            return headers.index(c.file_header)
    raise ValueError(f"{ds.name} has no column this defect can use")


def _edit_row(row_number: int, column: int, value: str) -> Callable[[Rows], Rows]:
    def edit(rows: Rows) -> Rows:
        for i, row in enumerate(rows, start=1):
            if i == row_number:
                row = row[:column] + [value] + row[column + 1 :]
            yield row

    return edit


def missing_column(ds: Dataset) -> Callable[[Rows], Rows]:
    drop = _first_column(ds, lambda c: c.name not in ds.key_columns and c.name != ds.record_date_column)
    return lambda rows: (row[:drop] + row[drop + 1 :] for row in rows)


def extra_column(ds: Dataset) -> Callable[[Rows], Rows]:
    def add(rows: Rows) -> Rows:
        for i, row in enumerate(rows):
            yield row + (["free_text_notes"] if i == 0 else ["see case file"])

    return add


def wrong_type(ds: Dataset) -> Callable[[Rows], Rows]:
    column = _first_column(ds, lambda c: c.type in ("integer", "decimal", "date", "datetime", "month"))
    return _edit_row(3, column, "not known")


def date_out_of_range(ds: Dataset) -> Callable[[Rows], Rows]:
    column = _first_column(ds, lambda c: c.name == ds.record_date_column)
    value = {"month": "1999-01", "datetime": "1999-01-01T00:00:00"}.get(
        ds.column(ds.record_date_column).type, "1999-01-01"
    )
    return _edit_row(3, column, value)


def future_date(ds: Dataset) -> Callable[[Rows], Rows]:
    column = _first_column(ds, lambda c: c.name == ds.record_date_column)
    future = date(date.today().year + 2, 1, 15)
    value = {"month": f"{future:%Y-%m}", "datetime": f"{future.isoformat()}T12:00:00"}.get(
        ds.column(ds.record_date_column).type, future.isoformat()
    )
    return _edit_row(3, column, value)


def duplicate_records(ds: Dataset) -> Callable[[Rows], Rows]:
    def repeat(rows: Rows) -> Rows:
        first = None
        for i, row in enumerate(rows):
            if i == 1:
                first = row
            yield row
        if first:
            yield first  # the first record again, at the end of the file

    return repeat


def unknown_code(ds: Dataset) -> Callable[[Rows], Rows]:
    return _edit_row(3, _first_column(ds, lambda c: c.allowed), "Code not in the contract")


def direct_identifier(ds: Dataset) -> Callable[[Rows], Rows]:
    from partnership.demo.population import synthetic_nhs_number

    def add(rows: Rows) -> Rows:
        for i, row in enumerate(rows):
            yield row + (["nhs_number"] if i == 0 else [synthetic_nhs_number(f"{i:064x}")])

    return add


def unchanged(ds: Dataset) -> Callable[[Rows], Rows]:
    """Rows as they are: the defect is in how the file is written (encoding, delimiter, truncation)."""
    return lambda rows: rows


def empty_file(ds: Dataset) -> Callable[[Rows], Rows]:
    return lambda rows: iter(())


KINDS: dict[str, Callable[[Dataset], Callable[[Rows], Rows]]] = {
    "missing_column": missing_column,
    "extra_column": extra_column,
    "wrong_type": wrong_type,
    "date_out_of_range": date_out_of_range,
    "future_date": future_date,
    "duplicate_records": duplicate_records,
    "unknown_code": unknown_code,
    "direct_identifier": direct_identifier,
    "wrong_encoding": unchanged,
    "truncated_file": unchanged,
    "empty_file": empty_file,
    "wrong_delimiter": unchanged,
}
# How each kind is written: the CSV dialect and encoding of the faulty file.
_ENCODING = {"wrong_encoding": "utf-16"}  # what a spreadsheet's "Unicode text" export gives
_DELIMITER = {"wrong_delimiter": ";"}


def inject(ds: Dataset, path: Path, kind: str, *, seed: int = 0) -> Path:
    """Rewrite ``path`` (a good extract of ``ds``) in place as a faulty extract of the given kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown defect {kind!r}; choose from {', '.join(KINDS)}")
    path = Path(path)
    tmp = path.with_name(path.name + ".defect")
    transform = KINDS[kind](ds)
    with (
        open(path, newline="", encoding="utf-8") as src,
        open(tmp, "w", newline="", encoding=_ENCODING.get(kind, "utf-8")) as dst,
    ):
        writer = csv.writer(dst, delimiter=_DELIMITER.get(kind, ","), lineterminator="\n")
        writer.writerows(transform(csv.reader(src)))
    if kind == "truncated_file":  # cut mid-record, as an interrupted transfer leaves it
        size = tmp.stat().st_size
        with open(tmp, "r+b") as f:
            f.truncate(int(size * random.Random(seed).uniform(0.4, 0.8)))
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":  # make sure the last record is really cut
                f.seek(-1, os.SEEK_END)
                f.truncate()
    os.replace(tmp, path)
    return path
