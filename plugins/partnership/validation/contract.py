"""The contract, checked before GX reads a value: readable UTF-8 text, not empty, a header that is exactly
the registry's columns, and every row as wide as the header."""

from __future__ import annotations

import csv
import hashlib
import itertools
from pathlib import Path
from typing import TYPE_CHECKING

from partnership.registry import Dataset
from partnership.validation.results import CheckResult

if TYPE_CHECKING:
    from partnership.screening import RecordShape

ENCODING = "utf-8-sig"  # UTF-8, with or without a byte-order mark (Excel writes one)


def check_contract(
    ds: Dataset, path: Path, *, plain: bool | None = None, shape: RecordShape | None = None
) -> CheckResult | None:
    """The file-level contract; returns the first failure, or None when the file may go on to GX.

    Reads the file once as CSV records, exactly as the loader will copy them: every record must have as
    many fields as the header (a short, long or blank line would otherwise fail only at COPY time).
    ``plain``: whether its lines are its records (:func:`plain_lines`; looked at when not given): then they are
    split at the delimiter, as the csv module would, at a fraction of its cost. ``shape``: the records' widths
    as the identifier screen's pass over the same plain file found them (``screening.screen_file``'s
    ``shape``); when it knows them for this header, only the header is read here.
    """
    from partnership.screening import without_cyclic_gc

    if plain is None:
        plain = plain_lines(path)
    with without_cyclic_gc():
        return _check_contract(ds, path, plain, shape)


def _check_contract(ds: Dataset, path: Path, plain: bool, shape: RecordShape | None = None) -> CheckResult | None:
    from partnership.screening import NotPlain, plain_line_blocks

    expected = ds.file_headers
    try:
        with open(path, newline="", encoding=ENCODING) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                return CheckResult("file is empty", None, False)
            missing = [c for c in expected if c not in header]
            extra = [c for c in header if c not in expected]
            if missing:
                return CheckResult("required column is missing", missing[0], False, len(missing))
            if extra:
                # Named by position, never quoted: a header the contract does not know may be an identifier.
                more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
                cell = header.index(extra[0]) + 1
                return CheckResult(
                    "column is not in the contract",
                    None,
                    False,
                    len(extra),
                    message=f"header cell {cell} is not in the contract{more}",
                )
            if header != expected:
                return CheckResult(f"columns are out of order; expected {', '.join(expected)}", None, False)
            known = shape is not None and shape.known and shape.delimiter == "," and shape.header_width == len(header)
            if plain and known:
                # The screen split every line of this file at its commas after the same header, as the loops below
                # would (the gate gives the shape of the file it checks, learnt in the same encoding).
                if shape.first_wrong_width:
                    row, fields = shape.first_wrong_width
                    return _wrong_width(fields, header, row)
                return _rows_found(shape.records)
            records = 0
            if plain:
                try:
                    for lines in plain_line_blocks(f):
                        # A line's fields are its commas and one, but an empty line is a record of no field.
                        if "" in lines or set(map(str.count, lines, itertools.repeat(","))) != {len(header) - 1}:
                            offset = next(i for i, line in enumerate(lines) if len(_split(line)) != len(header))
                            return _wrong_width(len(_split(lines[offset])), header, records + offset + 2)
                        records += len(lines)
                except (UnicodeDecodeError, NotPlain):
                    return _check_contract(ds, path, plain=False)  # the csv module names the damage
            for row_number, record in enumerate(reader, start=2):
                records += 1
                if len(record) != len(header):
                    return _wrong_width(len(record), header, row_number)
    except UnicodeDecodeError as exc:
        return CheckResult(
            f"file is not UTF-8 text (undecodable byte at offset {exc.start} of a read block)", None, False
        )
    except csv.Error as exc:
        return CheckResult(f"malformed CSV near row {reader.line_num}: {exc}", None, False)
    return _rows_found(records)


def _rows_found(records: int) -> CheckResult | None:
    return None if records else CheckResult("file has a header but no rows", None, False)


PLAIN_BLOCK = 1 << 22  # bytes read at a time


def plain_lines(path: Path) -> bool:
    """Whether each line of the file is one record, read alike by Python's csv module (the screen, the contract)
    and by PostgreSQL's CSV format (COPY): no quote character anywhere (so no quoted field, no field holding a
    delimiter or a line break, and no quoted empty field, which PostgreSQL would load as '' rather than NULL), no
    NUL byte (PostgreSQL text cannot hold it: such a file takes the row-by-row path, where the server refuses it),
    and one line ending throughout ("\\n", or "\\r\\n" for every line: PostgreSQL refuses mixed endings, and a lone
    "\\r" ends a record for Python only). Such a file can be split
    at its line breaks and delimiters, and its bytes sent to COPY, instead of being parsed record by record."""
    return _read_through(path, None)[1]


def sha256_and_plain_lines(path: Path) -> tuple[str, bool]:
    """The file's SHA-256 and :func:`plain_lines`, from one read of it: the gate needs both of each file it
    validates and again when it loads it."""
    return _read_through(path, hashlib.sha256())


def _read_through(path: Path, digest) -> tuple[str | None, bool]:
    crlf = lf = cr = 0
    lone_lf = False  # a "\n" in a block with no "\r": a bare line ending (mixed, if some other line has "\r\n")
    quoted = False  # a quote or a NUL byte: not plain, whatever follows
    ended_cr = False  # the last block ended with "\r": this block's first "\n" may complete its "\r\n"
    with open(path, "rb") as f:
        while block := f.read(PLAIN_BLOCK):
            if digest is not None:
                digest.update(block)
            if quoted:
                continue
            if b'"' in block or b"\0" in block:
                quoted = True
                if digest is None:
                    break
                continue
            # Searching for a byte is several times faster than counting it, and most files hold no "\r":
            # their blocks are only searched.
            if ended_cr or b"\r" in block:
                crlf, lf, cr = crlf + block.count(b"\r\n"), lf + block.count(b"\n"), cr + block.count(b"\r")
                if block.endswith(b"\r"):  # a "\r\n" cut in two by the block: count it whole
                    crlf += f.peek(1)[:1] == b"\n"
            else:
                lone_lf = lone_lf or b"\n" in block
            ended_cr = block.endswith(b"\r")
    plain = not quoted and cr == crlf and (crlf == 0 or (crlf == lf and not lone_lf))
    return (digest.hexdigest() if digest is not None else None), plain


def _split(line: str) -> list[str]:
    """A plain file's line as the csv module reads it (an empty line is a record of no field)."""
    return line.split(",") if line else []


def _wrong_width(fields: int, header: list[str], row_number: int) -> CheckResult:
    return CheckResult(f"row has {fields} fields, the header has {len(header)}", None, False, 1, [row_number])
