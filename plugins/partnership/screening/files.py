"""The screens of a landed file: its name, its header, and its content streamed once, each distinct value of a
column judged once (plain files split at their line breaks, others read by the csv module); and the file name as
it may be shown outside the warehouse."""

from __future__ import annotations

import csv
import gc
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from partnership.registry import Dataset
from partnership.screening.check_digits import nhs_number_valid, pnc_valid, upn_valid
from partnership.screening.names import NAME_RULE
from partnership.screening.rules import (
    _DIGIT,
    _EMAIL,
    _HEX_KEY,
    _SEPARATORS,
    CONTENT_RULES,
    EMAIL_RULE,
    NAME_RULES,
    Finding,
    _nhs,
    _normalised,
    _prepared,
    content_rules,
    normalise_name,
)

SHOWN_ROWS = 5
JUDGED_CELLS = 100_000  # distinct clean cell values remembered while one file is screened (bounds the memory)

# -- the header and the file name --------------------------------------------------------------------------


def screen_header(header: list[str], exempt: set[str] = frozenset(), ds: Dataset | None = None) -> list[Finding]:
    """Header cells named as identifiers, or holding one. A cell the contract does not know is never quoted."""
    known = set(ds.file_headers) if ds else set()
    name_severity = ds.name_screen if ds else "warning"
    findings = []
    for cell, column in enumerate(header, start=1):
        if column in exempt:
            continue
        norm = normalise_name(column)
        for rule, pattern in NAME_RULES:
            if pattern.search(norm):
                findings.append(Finding(rule, cell, column if column in known else None, "header name"))
                break
        if column in known:  # the registry's own header: not something an agency typed
            continue
        for rule in dict.fromkeys(content_rules(column, names=True) + _glued_identifiers(column)):
            severity = name_severity if rule == NAME_RULE else "critical"
            findings.append(Finding(rule, cell, None, "header cell", severity))
    return findings


# In a header cell an identifier may be glued to its label ("Ref4010232137", "PupilA12345678901B"): headers never
# carry long digit runs, so a valid NHS number, UPN or PNC ID is looked for bounded by digits only.
_GLUED_NHS = re.compile(r"(?<![0-9])(?:[0-9]{3} ?[0-9]{3} ?[0-9]{4}|[0-9]{4} ?[0-9]{3} ?[0-9]{3})(?![0-9])")
_GLUED_UPN = re.compile(r"(?=([A-Za-z])((?: ?[0-9]){11}) ?([0-9A-Za-z]))")
_GLUED_PNC = re.compile(r"(?<![0-9])([0-9]{2}|[0-9]{4})( ?/ ?| )?([0-9]{1,7})([A-Za-z])")
# A file name carries dates and times ("2024-04-30T12-00-00Z", "30-04-2024v2", "_20240131_120000"), which would
# read as short PNC IDs ("00 00Z", "04 2024v") or as a letter and a UPN's digits: there, a PNC ID needs its full
# seven-digit serial, and a glued UPN its letter touching its first digit and no digit after it.
_GLUED_UPN_TOUCHING = re.compile(r"(?=([A-Za-z])([0-9](?: ?[0-9]){10}) ?([0-9A-Za-z])(?![0-9]))")


def _glued_identifiers(header_cell: str, file_name: bool = False) -> list[str]:
    cell = _SEPARATORS.sub(" ", _prepared(header_cell))
    rules = []
    if any(nhs_number_valid(m.group().replace(" ", "")) for m in _GLUED_NHS.finditer(cell)):
        rules.append(CONTENT_RULES[0][0])
    upns = (_GLUED_UPN_TOUCHING if file_name else _GLUED_UPN).finditer(cell)
    if any(upn_valid("".join(m.groups()).replace(" ", "")) for m in upns):
        rules.append(CONTENT_RULES[1][0])
    for m in _GLUED_PNC.finditer(cell):
        year, slash, serial, letter = m.groups()
        if (len(serial) == 7 or (slash and not file_name)) and pnc_valid(year, serial, letter):
            rules.append(CONTENT_RULES[2][0])
            break
    return rules


def screen_file_name(name: str) -> list[Finding]:
    """Identifiers in a file's name. Always critical: a name is shown everywhere (folders, task logs, audit).

    Dates and times are allowed: an extract's name carries its date. So a PNC ID counts only with its full
    seven-digit serial ("24-1234567A", "offender241234567A"): a short one is how a date and a letter read.
    """
    name = _prepared(name)
    words = _SEPARATORS.sub(" ", Path(name).stem)
    rules = [rule for rule in content_rules(words, dates=False, names=True) if rule != CONTENT_RULES[2][0]]
    # As in a header cell: an NHS number, UPN or PNC ID glued to a word ("ref4010232137"); dates stay allowed.
    rules += [rule for rule in _glued_identifiers(Path(name).stem, file_name=True) if rule not in rules]
    # An NHS number grouped 5-5 or 2-4-4 counts standing alone: in a name, each part between underscores stands
    # alone ("cases_2024-04_16197 30693"), or the date before it would make it part of a longer run of numbers.
    if CONTENT_RULES[0][0] not in rules and any(_nhs(_normalised(part)) for part in Path(name).stem.split("_")):
        rules.append(CONTENT_RULES[0][0])
    # Dots are separators above ("jo.bloggs" would read "jo bloggs"): the email rule reads the name as it is.
    if EMAIL_RULE not in rules and "@" in name and _EMAIL.search(name):
        rules.append(EMAIL_RULE)
    return [Finding(rule, None, where="file name") for rule in rules]


# -- the content, streamed once ----------------------------------------------------------------------------


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Python's cycle collector off inside the block. Splitting a file into records makes millions of lists and
    tuples, each freed by reference counting (no cycle among them), but their count keeps triggering collections
    that walk every object of the process: in a worker that has imported Great Expectations, that tripled the
    screen's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def screen_file(
    path: Path,
    ds: Dataset | None = None,
    encoding: str = "utf-8-sig",
    *,
    plain: bool | None = None,
    shape: RecordShape | None = None,
) -> list[Finding]:
    """Every identifier finding in the file: header cells first, then content, by column and rule.

    Streams the file once. A file that is not readable CSV returns what was found so far (the contract
    check reports the damage itself). Without a dataset every column counts as free text.

    ``plain``: whether the file's lines are its records (see :func:`partnership.validation.plain_lines`);
    looked at when not given. A plain file's lines are split at the delimiter, which is what the csv module
    does with them, at a fraction of its cost.

    ``shape``: filled in with how wide the records of a plain file are, for the contract
    (:func:`partnership.validation.check_contract`), which then need not read the file again.
    """
    if plain is None:
        from partnership.validation import plain_lines

        plain = plain_lines(path)
    with without_cyclic_gc():
        return _screen_file(path, ds, encoding, plain, shape)


def _screen_file(
    path: Path, ds: Dataset | None, encoding: str, plain: bool, shape: RecordShape | None = None
) -> list[Finding]:
    # Columns are matched by the header the file carries (police.uk layouts use their own headers).
    # Declared identifiers: those the gate pseudonymises, and the people's details it links and then drops.
    exempt = ({c.file_header for c in ds.columns if c.pseudonymise} | ds.linkage_columns) if ds else set()
    date_columns = {c.file_header for c in ds.columns if c.date_format} if ds else set()
    free_text = {c.file_header for c in ds.columns if c.free_text} if ds else None
    known = set(ds.file_headers) if ds else None
    name_severity = ds.name_screen if ds else "warning"
    hits: dict[tuple[int, str], Finding] = {}
    # Per column position, the values judged to trip no rule (a column's dates and names flags are fixed);
    # "size": how many are remembered in all, up to JUDGED_CELLS.
    clean: dict = {"size": 0}
    findings: list[Finding] = []
    try:
        with open(path, newline="", encoding=encoding) as f:
            # Cells as the writer meant them: a file sent with another delimiter is screened column by column
            # (its wrong delimiter is the contract check's to report, not a date of birth in one long cell).
            first_line = f.readline()
            f.seek(0)
            delimiter = next((d for d in ",;|\t" if d in first_line), ",")
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return []
            findings = screen_header(header, exempt, ds)
            screened = [
                (
                    i,
                    name if known is None or name in known else None,
                    name not in date_columns,
                    free_text is None or name in free_text,
                )
                for i, name in enumerate(header)
                if name not in exempt
            ]
            if plain:
                try:
                    first_row = 2  # the file row of the chunk's first record (the header is row 1)
                    if shape is not None:
                        shape.delimiter, shape.header_width = delimiter, len(header)
                    for chunk in _plain_records(f, delimiter):
                        _screen_chunk(chunk, first_row, screened, clean, hits, name_severity)
                        if shape is not None:
                            shape.add(chunk, first_row)
                        first_row += len(chunk)
                    if shape is not None:  # the whole file was read as plain lines: the widths are all of them
                        shape.known = True
                    return findings + list(hits.values())
                except (UnicodeDecodeError, NotPlain):
                    # Screened as the csv module reads it, which reports what it read before the damage.
                    return _screen_file(path, ds, encoding, plain=False)
            chunk: list[list[str]] = []
            first_row = 2  # the file row of the chunk's first record (the header is row 1)
            try:
                for record in reader:
                    chunk.append(record)
                    if len(chunk) == CHUNK_ROWS:
                        _screen_chunk(chunk, first_row, screened, clean, hits, name_severity)
                        first_row += len(chunk)
                        chunk = []
            finally:  # the records read before a decoding or CSV error are screened too
                _screen_chunk(chunk, first_row, screened, clean, hits, name_severity)
    except (UnicodeDecodeError, csv.Error):
        pass  # the contract check names the damage; report what was found before it
    return findings + list(hits.values())


CHUNK_ROWS = 20_000  # records screened at a time: a few MB of cells
PLAIN_BLOCK = 1 << 20  # characters of a plain file read at a time


class RecordShape:
    """How wide a plain file's records are, as the screen's pass over it found them: what the contract checks
    after the header (every record as wide as the header, at least one record), learnt without a second read.
    Known only once the screen has read the whole file as plain lines (not when it fell back to the csv module);
    it holds counts and row numbers, never a value."""

    def __init__(self) -> None:
        self.known = False
        self.delimiter = ","
        self.header_width = 0
        self.records = 0
        self.first_wrong_width: tuple[int, int] | None = None  # (file row, its fields) of the first such record

    def add(self, chunk: list[list[str]], first_row: int) -> None:
        self.records += len(chunk)
        if self.first_wrong_width is None and set(map(len, chunk)) != {self.header_width}:
            offset = next(i for i, record in enumerate(chunk) if len(record) != self.header_width)
            self.first_wrong_width = (first_row + offset, len(chunk[offset]))


class NotPlain(Exception):
    """A plain file's line the csv module would refuse (a field over its size limit)."""


def plain_line_blocks(f):
    """Lists of a plain file's lines (without their line endings), from where ``f`` stands. A line longer than
    the csv module's field size limit raises NotPlain (the csv module may refuse it)."""
    limit = csv.field_size_limit()
    rest = ""
    while block := f.read(PLAIN_BLOCK):
        lines = (rest + block).replace("\r\n", "\n").split("\n")
        rest = lines.pop()
        if len(rest) > limit or (lines and max(map(len, lines)) > limit):
            raise NotPlain
        if lines:
            yield lines
    if rest:
        yield [rest]


def _plain_records(f, delimiter: str):
    """Chunks of a plain file's records, from where ``f`` stands: each line split at the delimiter, as the csv
    module splits a line holding no quote (an empty line is a record of no field)."""
    for lines in plain_line_blocks(f):
        yield [line.split(delimiter) if line else [] for line in lines]


def _screen_chunk(chunk: list[list[str]], first_row: int, screened: list, clean: dict, hits: dict, name_severity):
    """Screen a run of records column by column: each distinct value of a column is judged once, and only the
    columns where some value trips a rule are walked row by row, for the findings' counts and row numbers.

    This finds exactly what judging each cell in turn finds: a cell's rules depend only on its value and its
    column's (dates, names) flags, and the findings are made in the order a row-by-row walk makes them (row,
    then column, then the rule's order), with the same counts and first rows."""
    if not chunk:
        return
    # A short record has no cell in the columns past its end (None here, passed over); a long one's extra cells
    # are in no screened column.
    columns = list(itertools.zip_longest(*chunk))
    events = []  # (row, column position, rule position, rule) of every hit, to be recorded in a row-major order
    for i, column, dates, names in screened:
        if i >= len(columns):
            break
        values = columns[i]
        flagged: dict[str, list[str]] = {}
        passed = clean.setdefault(i, set())  # this column's values already judged to trip no rule
        judged = set(values) - passed
        if all_hex_keys(judged):  # a column of record ids or pseudonymised keys: no rule applies
            continue
        for cell in judged:
            if cell is None or (cell.isascii() and _HEX_KEY.match(cell)):  # a pseudonymised key: no rule applies
                continue
            # Fast path: a cell with no digit and no "@" can only hold a name, looked for in free text.
            # (Not-ASCII cells are normalised first: "＠" and fullwidth digits are an "@" and digits.)
            if names or "@" in cell or _DIGIT.search(cell) or not cell.isascii():
                rules = content_rules(cell, dates=dates, names=names)
            else:
                rules = []
            if rules:
                flagged[cell] = rules
            elif clean["size"] < JUDGED_CELLS:  # extracts repeat values (codes, places): judged once per file
                passed.add(cell)
                clean["size"] += 1
        if flagged:
            for offset, cell in enumerate(values):
                rules = flagged.get(cell) if cell is not None else None
                if rules:
                    events.extend((first_row + offset, i, n, rule, column) for n, rule in enumerate(rules))
    events.sort(key=lambda e: e[:3])
    for row_number, i, _, rule, column in events:
        severity = name_severity if rule == NAME_RULE else "critical"
        _hit(hits, i, column, rule, severity, row_number)


_HEX_DIGITS = b"0123456789abcdef"


def all_hex_keys(values: set) -> bool:
    """Whether every value but an empty or missing cell is a 64-digit lower-case hex key (what :data:`_HEX_KEY`
    matches one by one), looked at in one pass over the joined values: a police.uk file's Crime IDs are all
    distinct, and matching each in turn was a fifth of the screen."""
    keys = values - {None, ""}
    if not keys or set(map(len, keys)) != {64}:
        return False
    joined = "\n".join(keys)
    if not joined.isascii():
        return False
    # Each key is 64 characters, so what is left after removing the hex digits must be the separators alone.
    return len(joined.encode("ascii").translate(None, _HEX_DIGITS)) == len(keys) - 1


def _hit(hits: dict, i: int, column: str | None, rule: str, severity: str, row_number: int) -> None:
    finding = hits.setdefault((i, rule), Finding(rule, i + 1, column, severity=severity))
    finding.count += 1
    if len(finding.rows) < SHOWN_ROWS:
        finding.rows.append(row_number)


# -- the file name as shown outside the warehouse ----------------------------------------------------------

# What the wildcard of a landing pattern may be, for a name to be shown outside the warehouse (an alert, a mapped
# task's name): a period written in digits ("2024-04", "2024_25", "20240401.1"). The name screen cannot know every
# person's name ("recorded_crime_2024-04_fred_bloggs.csv"), so a name that is more than its pattern and a period
# is withheld there, whatever it holds.
_SHOWN_WILDCARD = "[0-9][0-9._-]{0,30}"


def shown_file_name(ds: Dataset, name: str) -> str:
    """``name`` when it is exactly the dataset's landing pattern with a period for its ``*``; otherwise a
    stand-in naming no part of it (the full name stays in audit, for IG, and in ``partnership quarantine show``)."""
    pattern = "".join(
        _SHOWN_WILDCARD if part == "*" else re.escape(part) for part in re.split(r"(\*)", ds.landing_pattern)
    )
    if re.fullmatch(pattern, name):
        return name
    return "(name withheld: not the dataset's usual pattern)"
