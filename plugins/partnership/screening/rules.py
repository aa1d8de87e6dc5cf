"""The identifier rules: header names that name an identifier, and the content rules that recognise one in a
cell (NHS number, UPN, PNC ID, phone number, full postcode, e-mail address, date of birth; people's names in free
text are in :mod:`partnership.screening.names`), with :class:`Finding`, what a screen reports."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from partnership.screening.check_digits import nhs_number_valid, pnc_valid, upn_valid
from partnership.screening.names import NAME_RULE, _person_name

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

# What people type between the parts of an identifier: every Unicode space (no-break, thin, figure, tab...),
# dots, hyphens and dashes, underscores. Content rules match on the cell with each run of these made one space.
_SEPARATORS = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff._\-\u2010-\u2015\u2212]+")
# A label written in front of an identifier ("NHS4010232137", "nhs_...", "NHS no: ...", "UPN: ..."): taken
# out, so the identifier stands alone.
_LABEL = re.compile(r"(?i)(?<![a-z])(?:nhs|upn|pnc)(?: ?(?:no|num|number|id)(?![a-z]))?[ :#=]*")
# The short labels people type glued to the number itself ("Ref4010232137", "pt4010232137", "PupilA123..."):
# only these words, never letters in general ("NV2024010012" is a referral id, whatever its digits).
_GLUED_LABEL = re.compile(r"(?i)(?<![a-z])(?:(?:ref|id|patient|pt|no|num|pupil)(?=[0-9])|pupil(?=[a-z][0-9]))")

# Ten digits, written whole or grouped 3-3-4 or 4-3-3; a slash may join two ("<nhs>/<nhs>"). A PNC ID's serial
# is at most seven digits, so "YY/NNNNNNNL" is never ten digits.
_NHS = re.compile(r"(?<!\w)(?:\d{3} ?\d{3} ?\d{4}|\d{4} ?\d{3} ?\d{3})(?!\w)")
# Other groupings (2-4-4, 5-5, 4-6, "(161) 973 0693"...): two or three groups of two or more digits, ten in
# all, standing alone: a longer run ("2024 04 01 13:05", a timestamp's parts) is not read in pieces.
_NHS_GROUPED = re.compile(r"(?<![\w:])(?<!\d )\(?(\d{2,8})\)? (\d{2,8})(?: (\d{2,6}))?(?![\w:])(?! \(?\d)")
_UPN = re.compile(r"(?<![A-Za-z0-9])([A-Za-z])((?: ?\d){11}) ?([0-9A-Za-z])(?![A-Za-z0-9])")
# YY/serial or YYYY/serial and the check letter; the slash may be a space, or left out when the serial is
# written in full (seven digits): "24/123A", "24 123A", "241234567A".
_PNC = re.compile(r"(?<![\w/])(\d{2}|\d{4})( ?/ ?| )?(\d{1,7})([A-Za-z])(?!\w)")
# The local part may hold any letter ("jö@..."). Bounded as RFC 5321 bounds them (local part 64, labels 63):
# each match attempt looks a bounded way back from an "@", so a long run of address characters costs linear
# time, not quadratic.
_EMAIL = re.compile(r"[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,63}")
# UK numbers: +44 or 0, then 9 or 10 digits starting 1, 2, 3, 7 or 8, with spaces or brackets.
# "+44", "(+44)" or "0044", then "(0)" or "0 " sometimes; or "0" or "(0".
# An extension may follow, glued ("07700900123ext12").
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\(\+44\)|\+44|0044) ?(?:\(0\) ?|0 )?|\(?0)([1-37-8][\d ()]{8,13}\d)(?!(?!(?i:ext)\.? ?\d)\w)"
)
# A full postcode: outward code and the inward code "9AA". A district ("M14") or sector ("M14 5") is allowed.
_POSTCODE = re.compile(r"(?<!\w)([A-Za-z]{1,2}\d[A-Za-z\d]?) ?(\d[ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2})(?!\w)")

# Dates, anywhere in a cell; a date followed by a time is a timestamp (when something happened), not a birth.
# Midnight is no time: "12/03/2009 00:00" is how a spreadsheet writes a date (of birth, perhaps).
_NOT_A_TIME = r"(?![T ]?(?!0?0:00(?::00(?:\.0+)?)?(?![\d:.]))\d{1,2}:\d{2})"
# A full stop after a date ends the sentence ("born 12/03/2009."); one followed by more ("1.2.2024.5") does not.
_DMY = re.compile(r"(?<![\w/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-]|\.\w)" + _NOT_A_TIME)
_YMD = re.compile(r"(?<![\w/.-])((?:19|20)\d{2})([/.-])(\d{1,2})\2(\d{1,2})(?!(?!T\d)[\w/-]|\.\w|-\d)" + _NOT_A_TIME)
# "12 03 2009": day, a two-digit month and a four-digit year, spaced ("1 2 2024" is more likely a list).
_DMY_SPACED = re.compile(r"(?<![\w/.:-])(\d{1,2}) (\d{2}) ((?:19|20)\d{2})(?![\w/:-]|\.\w| \d)" + _NOT_A_TIME)
# "2009 03 12": a four-digit year, then a two-digit month and day, spaced.
_YMD_SPACED = re.compile(r"(?<![\w/.:-])((?:19|20)\d{2}) (\d{2}) (\d{2})(?![\w/:-]|\.\w| \d)" + _NOT_A_TIME)
_COMPACT = re.compile(r"(?<!\w)((?:19|20)\d{2})(\d{2})(\d{2})(?!\w)")
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# "12 March 2009", "12-Mar-09", "12th of March 2009", "12 March, 2009", "12Mar2009" (run together: a 4-digit year).
_DAY_MONTH_YEAR = re.compile(
    rf"(?i)(?<!\w)(\d{{1,2}})(?:st|nd|rd|th)?(?:[ -]|[ -]?of |(?=[a-z]{{3}}[a-z.]*\d{{4}}(?!\w))){_MONTH}"
    r"(?:[ -],? ?|, ?|(?=\d{4}(?!\w)))(\d{4}|\d{2})(?!\w)"
)
_MONTH_DAY_YEAR = re.compile(rf"(?i)(?<!\w){_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})(?!\w)")


# Invisible fillers that are letters to Unicode (category Lo): Hangul fillers.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")


def _prepared(text: str) -> str:
    """The text as it reads: NFKC (fullwidth "０７７００", "＠" and "／" become "07700", "@" and "/"; no-break and
    other spaces one space), Unicode format characters (zero-width space, joiners, word joiner, byte-order mark),
    soft hyphens, Hangul fillers and the combining marks NFKC leaves standing alone (categories Mn and Me: the
    combining grapheme joiner, variation selectors, a combining low line or keycap) dropped, so digits joined by
    them are contiguous, and every decimal digit (Arabic-Indic...) written 0-9. NFKC runs first, so an accent
    that composes with its letter ("e" and U+0301 are "é") stays. ASCII text is returned as it is."""
    if text.isascii():
        return text
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(ch)
        if category in ("Cf", "Mn", "Me") or ch == "\u00ad" or ch in _FILLERS:
            continue
        out.append(str(unicodedata.decimal(ch)) if category == "Nd" and not ch.isascii() else ch)
    return "".join(out)


def _normalised(cell: str) -> str:
    return _GLUED_LABEL.sub(" ", _LABEL.sub(" ", _SEPARATORS.sub(" ", cell)))


def _nhs(cell: str) -> bool:
    if any(nhs_number_valid(m.group().replace(" ", "")) for m in _NHS.finditer(cell)):
        return True
    return any(nhs_number_valid("".join(g for g in m.groups() if g)) for m in _NHS_GROUPED.finditer(cell))


def _upn(cell: str) -> bool:
    return any(upn_valid("".join(m.groups()).replace(" ", "")) for m in _UPN.finditer(cell))


def _pnc(cell: str) -> bool:
    for m in _PNC.finditer(cell):
        year, slash, serial, letter = m.groups()
        if (slash or len(serial) == 7) and pnc_valid(year, serial, letter):
            return True
    return False


def _phone(cell: str) -> bool:
    for m in _PHONE.finditer(cell):
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) in (9, 10):
            return True
    return False


def _postcode(cell: str) -> bool:
    # Postcodes written in lower case are still postcodes; but "a1 2bc" inside prose is rare enough to flag.
    return _POSTCODE.search(cell) is not None


_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f]+")


def _real_date(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _date(cell: str) -> bool:
    """A calendar date in any common writing (12/03/09, 2009/03/12, 20090312, 12 March 2009...)."""
    cell = _SPACES.sub(" ", cell)
    if "/" in cell or "." in cell or "-" in cell:
        if any(_real_date(int(m.group(1)), int(m.group(3))) for m in _DMY.finditer(cell)):
            return True
        if any(_real_date(int(m.group(4)), int(m.group(3))) for m in _YMD.finditer(cell)):
            return True
    if any(_real_date(int(m.group(1)), int(m.group(2))) for m in _DMY_SPACED.finditer(cell)):
        return True
    if any(_real_date(int(m.group(3)), int(m.group(2))) for m in _YMD_SPACED.finditer(cell)):
        return True
    if any(_real_date(int(m.group(3)), int(m.group(2))) for m in _COMPACT.finditer(cell)):
        return True
    if any(1 <= int(m.group(1)) <= 31 for m in _DAY_MONTH_YEAR.finditer(cell)):
        return True
    return any(1 <= int(m.group(2)) <= 31 for m in _MONTH_DAY_YEAR.finditer(cell))


# Rules on the normalised cell: (rule, test).
CONTENT_RULES: list[tuple[str, object]] = [
    ("NHS number (10 digits passing the modulus-11 check)", _nhs),
    ("UPN (13 characters with a valid DfE check letter)", _upn),
    ("PNC ID (YY/NNNNNNN with a valid check letter)", _pnc),
    ("UK phone number", _phone),
    ("full UK postcode", _postcode),
]
EMAIL_RULE = "email address"
DOB_RULE = "dates in a column the contract does not declare as a date (possible dates of birth)"
_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Finding:
    rule: str
    cell: int | None  # the column's position in the header (1 = first); None for the file name
    column: str | None = None  # the column's header, only when the contract knows it (others are not echoed)
    where: str = "rows"  # "rows", or "header name", "header cell", "file name": where the identifier is
    severity: str = "critical"  # a name in free text may be "warning" (the registry's name_screen)
    count: int = 0
    rows: list[int] = field(default_factory=list)  # file row numbers (header = 1) of the first hits

    @property
    def text(self) -> str:
        if self.where == "file name":
            return f"file name holds an identifier ({self.rule})"
        if self.where == "header cell":
            return f"header cell {self.cell} holds an identifier ({self.rule})"
        if self.where == "header name":
            return f"header cell {self.cell} is named as a direct identifier ({self.rule})"
        label = f"column {self.column!r}" if self.column else f"header cell {self.cell} (not in the contract)"
        rows = f" at rows {', '.join(map(str, self.rows))}" if self.rows else ""
        return f"{label}: direct identifier ({self.rule}) in {self.count} row(s){rows}"

    def describe(self, file_name: str) -> str:
        return f"{file_name}: {self.text}"


def normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


_DIGIT = re.compile(r"\d")
# Cells no content rule can trip, passed over before the rules run (most cells with digits are these): numbers
# of up to 7 digits or with at most 9 digits in all (ages, counts, coordinates, amounts), and ISO dates and
# timestamps in the columns declared as dates.
_SHORT_NUMBER = re.compile(r"-?\d{1,7}|-?\d{1,3}\.\d{1,6}")
# A plain decimal number ("53.4808333333", "-2.2426111111", "4010232137.0"): its "." is a decimal point, not a
# separator, and its fraction holds no identifier (a coordinate with ten decimals passes modulus 11 one time in
# eleven). Its integer part is screened: a spreadsheet writes an NHS number as "4010232137.0". A leading zero
# ("07700.900123") is no number's: that is read with "." as a separator. Dotted NHS numbers have two dots.
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?")


def content_rules(cell: str, *, dates: bool = True, names: bool = False) -> list[str]:
    """The rules a cell trips. ``dates``: look for dates of birth; ``names``: for people's names (free text)."""
    rules: list[str] = []
    cell = _prepared(cell)
    if len(cell) < 5 or _HEX_KEY.match(cell):  # the shortest identifiers: "M15RU", "Mr Li"
        return rules
    if _DIGIT.search(cell) and not _SHORT_NUMBER.fullmatch(cell) and (dates or not _ISO_DATE.fullmatch(cell)):
        decimal = _DECIMAL.fullmatch(cell)
        if decimal:
            cell = decimal.group(1)
        normalised = _normalised(cell)
        rules += [rule for rule, test in CONTENT_RULES if test(normalised)]
        if dates and _date(cell):
            rules.append(DOB_RULE)
    if "@" in cell and _EMAIL.search(cell):
        rules.append(EMAIL_RULE)
    if names and _person_name(cell):
        rules.append(NAME_RULE)
    return rules
