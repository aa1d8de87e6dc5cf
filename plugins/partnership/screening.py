"""Identifier screening: the first gate. A landed file that carries a direct identifier is rejected whole.

Pseudonymised data is still personal data, but a direct identifier (NHS number, UPN, PNC ID, name, date of
birth, full postcode, email, phone number) must never reach the warehouse. Two screens, both streaming over
the file once:

- by column name: a header that names an identifier (``nhs_number``, ``surname``, ``dob``, ``postcode``...);
- by content, in every column: values that look like an identifier, with check digits verified where the
  identifier has them (NHS modulus 11, the DfE UPN check letter, the PNC check letter) so ordinary numbers do
  not trip the screen.

Allowed: LSOA codes, postcode districts and sectors (``M14``, ``M14 5``), ages, age bands and the 64-hex
pseudonymised keys. A column the registry declares ``pseudonymise: <type>`` is exempt: the agreement lets the
agency send that identifier there, and the gate replaces it (see :mod:`partnership.pseudonymise`).

Findings name the column, the rule and row numbers; never the value.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from partnership.registry import Dataset

SHOWN_ROWS = 5

# -- check digits ------------------------------------------------------------------------------------------


def nhs_number_valid(digits: str) -> bool:
    """NHS number: 10 digits, the last a modulus-11 check digit over the first nine (weights 10..2)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE: 23 letters, no I, O or S


def upn_check_letter(body: str) -> str:
    """DfE UPN check letter for the 12 characters after it: sum of value x position (2..13), modulo 23."""
    total = 0
    for position, ch in enumerate(body, start=2):
        total += (int(ch) if ch.isdigit() else UPN_LETTERS.index(ch)) * position
    return UPN_LETTERS[total % 23]


def upn_valid(upn: str) -> bool:
    upn = upn.upper()
    if len(upn) != 13 or upn[0] not in UPN_LETTERS or not upn[1:12].isdigit():
        return False
    if not (upn[12].isdigit() or upn[12] in UPN_LETTERS):  # a temporary UPN ends in a letter
        return False
    return upn_check_letter(upn[1:]) == upn[0]


PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"  # index = (YY followed by the 7-digit serial) modulo 23


def pnc_check_letter(year: str, serial: str) -> str:
    return PNC_LETTERS[int(year[-2:] + serial.zfill(7)) % 23]


def pnc_valid(year: str, serial: str, letter: str) -> bool:
    return pnc_check_letter(year, serial) == letter.upper()


# -- rules ------------------------------------------------------------------------------------------------

# Column names are compared lower-cased with runs of non-alphanumerics as "_".
NAME_RULES: list[tuple[str, re.Pattern]] = [
    ("NHS number column", re.compile(r"(^|_)nhs(_?(no|num|number|id))?($|_)")),
    ("UPN column", re.compile(r"(^|_)upn($|_)|unique_pupil_number")),
    ("PNC ID column", re.compile(r"(^|_)pnc(_?(id|no|num|number))?($|_)|police_national_computer")),
    (
        "person name column",
        re.compile(
            r"(^|_)(forenames?|surname|first_?name|last_?name|full_?name|given_?names?|family_?name|middle_?names?)$"
            r"|^(person_|patient_|child_|pupil_|victim_|suspect_|offender_|client_|parent_)?names?$"
        ),
    ),
    ("date of birth column", re.compile(r"(^|_)(dob|d_o_b|date_of_birth|birth_?date|birthdate|born_on)($|_)")),
    ("postcode column", re.compile(r"post_?code(?!_?(district|sector|area))")),
    ("email column", re.compile(r"e_?mail")),
    ("phone number column", re.compile(r"phone|mobile|telephone|(^|_)tel(_?no)?$")),
    ("address column", re.compile(r"(^|_)(home_|street_)?address(_?line_?\d)?$")),
]

_NHS = re.compile(r"(?<![\w/])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\w/])")
_UPN = re.compile(r"(?<!\w)([A-Za-z]\d{11}[0-9A-Za-z])(?!\w)")
_PNC = re.compile(r"(?<![\w/])(\d{2}|\d{4})/(\d{1,7})([A-Za-z])(?!\w)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# UK numbers: +44 or 0, then 9 or 10 digits starting 1, 2, 3, 7 or 8, with spaces, hyphens or brackets.
_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|\(?0)([1-37-8][\d\s()-]{8,13}\d)(?![\w])")
# A full postcode: outward code and the inward code "9AA". A district ("M14") or sector ("M14 5") is allowed.
_POSTCODE = re.compile(r"(?<!\w)([A-Za-z]{1,2}\d[A-Za-z\d]?) ?(\d[ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2})(?!\w)")
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})\s*$")


def _nhs(cell: str) -> bool:
    return any(nhs_number_valid("".join(m.groups())) for m in _NHS.finditer(cell))


def _upn(cell: str) -> bool:
    return any(upn_valid(m.group(1)) for m in _UPN.finditer(cell))


def _pnc(cell: str) -> bool:
    return any(pnc_valid(*m.groups()) for m in _PNC.finditer(cell))


def _phone(cell: str) -> bool:
    for m in _PHONE.finditer(cell):
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) in (9, 10):
            return True
    return False


def _postcode(cell: str) -> bool:
    # Postcodes written in lower case are still postcodes; but "a1 2bc" inside prose is rare enough to flag.
    return _POSTCODE.search(cell) is not None


CONTENT_RULES: list[tuple[str, object]] = [
    ("NHS number (10 digits passing the modulus-11 check)", _nhs),
    ("UPN (13 characters with a valid DfE check letter)", _upn),
    ("PNC ID (YY/NNNNNNN with a valid check letter)", _pnc),
    ("email address", lambda cell: "@" in cell and _EMAIL.search(cell) is not None),
    ("UK phone number", _phone),
    ("full UK postcode", _postcode),
]
DOB_RULE = "dates in a column the contract does not declare as a date (possible dates of birth)"
_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Finding:
    column: str
    rule: str
    count: int = 0
    rows: list[int] = field(default_factory=list)  # file row numbers (header = 1) of the first hits

    @property
    def text(self) -> str:
        rows = f" at rows {', '.join(map(str, self.rows))}" if self.rows else ""
        what = f"{self.count} row(s){rows}" if self.count else "its name"
        return f"column {self.column!r}: direct identifier ({self.rule}) in {what}"

    def describe(self, file_name: str) -> str:
        return f"{file_name}: {self.text}"


def normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def screen_header(header: list[str], exempt: set[str] = frozenset()) -> list[Finding]:
    findings = []
    for column in header:
        if column in exempt:
            continue
        norm = normalise_name(column)
        for rule, pattern in NAME_RULES:
            if pattern.search(norm):
                findings.append(Finding(column, rule))
                break
    return findings


def screen_file(path: Path, ds: Dataset | None = None, encoding: str = "utf-8-sig") -> list[Finding]:
    """Every identifier finding in the file: header names first, then content, by column and rule.

    Streams the file once. A file that is not readable CSV returns what was found so far (the contract
    check reports the damage itself).
    """
    # Columns are matched by the header the file carries (police.uk layouts use their own headers).
    exempt = {c.file_header for c in ds.columns if c.pseudonymise} if ds else set()
    date_columns = {c.file_header for c in ds.columns if c.date_format} if ds else set()
    hits: dict[tuple[str, str], Finding] = {}
    findings: list[Finding] = []
    try:
        with open(path, newline="", encoding=encoding) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                return []
            findings = screen_header(header, exempt)
            screened = [(i, name) for i, name in enumerate(header) if name not in exempt]
            for row_number, record in enumerate(reader, start=2):
                for i, name in screened:
                    if i >= len(record):
                        break
                    cell = record[i]
                    # Fast path: every content rule needs a digit or an "@"; keys are 64 hex characters.
                    if not cell or _HEX_KEY.match(cell) or not (any(ch.isdigit() for ch in cell) or "@" in cell):
                        continue
                    if name not in date_columns and _DATE.match(cell):
                        _hit(hits, name, DOB_RULE, row_number)
                        continue
                    for rule, test in CONTENT_RULES:
                        if test(cell):
                            _hit(hits, name, rule, row_number)
    except (UnicodeDecodeError, csv.Error):
        pass  # the contract check names the damage; report what was found before it
    return findings + list(hits.values())


def _hit(hits: dict, column: str, rule: str, row_number: int) -> None:
    finding = hits.setdefault((column, rule), Finding(column, rule))
    finding.count += 1
    if len(finding.rows) < SHOWN_ROWS:
        finding.rows.append(row_number)
