"""Identifier screening: the first gate. A landed file that carries a direct identifier is rejected whole.

Pseudonymised data is still personal data, but a direct identifier (NHS number, UPN, PNC ID, name, date of
birth, full postcode, email, phone number) must never reach the warehouse. The screens, streaming over the
file once:

- the file name, and each header cell: named as an identifier (``nhs_number``, ``surname``, ``dob``...) or
  holding one (a header the agency typed a value into);
- by content, in every column: values that look like an identifier, with check digits verified where the
  identifier has them (NHS modulus 11, the DfE UPN check letter, the PNC check letter) so ordinary numbers do
  not trip the screen. Separators and labels are taken out first: ``401\u00a0023\u00a02137``, ``401.023.2137``,
  ``NHS4010232137``, ``nhs_4010232137``, ``Ref4010232137`` and ``40102 32137`` are one number (glued, only the short
  labels people type: Ref, ID, patient, pt, no, num, Pupil). A plain decimal number (``53.4010232137``, a
  coordinate) keeps its decimal point: only its integer part is screened;
- people's names in the columns the registry marks ``free_text``: a title and a capitalised word, or a known
  forename followed by a known surname (an initial between them passed over; "Smith, John" too), outside
  place names ("On or near Victoria Road"). A warning unless the dataset's ``name_screen`` is ``critical``:
  the lists are published name lists, and miss some names.

Allowed: LSOA codes, postcode districts and sectors (``M14``, ``M14 5``), ages, age bands, timestamps and the
64-hex pseudonymised keys. A column the registry declares ``pseudonymise: <type>`` is exempt: the agreement
lets the agency send that identifier there, and the gate replaces it (see :mod:`partnership.pseudonymise`).

Findings name the column, the rule and row numbers; never the value. A header the contract does not know is
never quoted either (it may be the identifier): it is named by its position, "header cell 7".
"""

from __future__ import annotations

import csv
import gc
import itertools
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from partnership.registry import Dataset

SHOWN_ROWS = 5
JUDGED_CELLS = 100_000  # distinct clean cell values remembered while one file is screened (bounds the memory)

# -- check digits ------------------------------------------------------------------------------------------


def _ascii_digits(text: str) -> bool:
    """0-9 only: ``str.isdigit()`` is also true for "²" and "٣", which ``int()`` refuses or reads."""
    return text.isascii() and text.isdigit()


def nhs_number_valid(digits: str) -> bool:
    """NHS number: 10 digits, the last a modulus-11 check digit over the first nine (weights 10..2)."""
    if len(digits) != 10 or not _ascii_digits(digits):
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
        total += (int(ch) if _ascii_digits(ch) else UPN_LETTERS.index(ch)) * position
    return UPN_LETTERS[total % 23]


def upn_valid(upn: str) -> bool:
    upn = upn.upper()
    if len(upn) != 13 or upn[0] not in UPN_LETTERS or not _ascii_digits(upn[1:12]):
        return False
    if not (_ascii_digits(upn[12]) or upn[12] in UPN_LETTERS):  # a temporary UPN ends in a letter
        return False
    return upn_check_letter(upn[1:]) == upn[0]


PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"  # index = (YY followed by the 7-digit serial) modulo 23


def pnc_check_letter(year: str, serial: str) -> str:
    return PNC_LETTERS[int(year[-2:] + serial.zfill(7)) % 23]


def pnc_valid(year: str, serial: str, letter: str) -> bool:
    if not (_ascii_digits(year) and _ascii_digits(serial) and len(year) in (2, 4) and 1 <= len(serial) <= 7):
        return False
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


# -- people's names in free text ---------------------------------------------------------------------------

NAMES_DIR = Path(__file__).parent / "reference" / "names"  # published lists; source and licence in its README


def _name_list(file: str) -> frozenset[str]:
    return frozenset(line.strip() for line in (NAMES_DIR / file).read_text().splitlines() if line.strip())


FORENAMES = _name_list("forenames.txt")
SURNAMES = _name_list("surnames.txt")
TITLES = frozenset("Mr Mrs Ms Miss Mx Dr Master Sir Dame Lady Lord Prof Professor Rev Revd Father Sister Cllr".split())
# A run of capitalised words holding one of these is a place ("On or near Mary Rose Close", "Victoria Park"),
# however many of its words are also people's names.
PLACE_WORDS = frozenset(
    """Road Rd Street St Lane Ln Avenue Ave Park Station Close Way Drive Court Ct Crescent Cres Place Pl Square Sq
    Terrace Gardens Garden Grove Hill Hills Row Walk Mews Rise Green Vale View Parade Hall House Houses Centre
    Center Field Fields Wood Woods Bridge Brook Church Chapel Cathedral Abbey School College Academy University
    Hospital Surgery Market Shopping Retail Estate Industrial Business Farm Mill Mills Lodge Manor Castle Tower
    Towers Bank Quay Wharf Dock Docks Yard Gate Gates End Common Heath Moor Marsh Meadow Meadows Cottages
    Buildings Arcade Precinct Approach Circus Boulevard Broadway Highway Bypass Link Path Passage Alley Stadium
    Airport Railway Car Petrol Nightclub Police Fire Library Theatre Cinema Club Hotel Pub Inn Arms Supermarket
    Store Shop Sports Recreation Area Ground Grounds Playground Football Cricket Golf Course Parking Leisure Village
    Town City Valley Cross Corner Hollow Croft Fold Garth Nook Chase Copse Dene Dale Glen Holme Mead Orchard
    Paddock Pastures Ridge Spinney Wynd Embankment Esplanade Promenade Plaza Point Reach Side Lea Leys Acre Acres
    Bottom Brow Top Lake Pond River Canal Mount Beck Water Island Gallery Museum Works Junction Roundabout
    Services Terminal Port Harbour Beach Pier Marina Forest Fountain Meade Royal Saint Old New Upper Lower North
    South East West Great Little High Mall Hotel Motorway Interchange Subway Underpass Flyover Tunnel Platt Oaks
    Elms Pines Willows Limes Beeches Birches Firs Cedars Laurels Poplars Maples Hollies Rowans Brae Clough Ings
    Heights Oval Circle Cottage Courtyard Retreat Sidings Steps Twitchel Ginnel Hurst Bay Cove Cliffs Sands Shore
    Seafront Dunes Slipway Jetty Lagoon Loch Estuary Headland Creek Isle Rocks Crag Tor Downs Links""".split()
)
NAME_RULE = "person name (a title, or a forename and surname, in free text)"
# A capitalised word, or one in capitals ("MR JOHN SMITH": compared as "Mr John Smith").
# An initial ("John A. Smith", "Mr J. Smith") is a capital standing alone.
_CAPITALISED = re.compile(
    r"[A-Z][a-z]+(?:['\u2019-][A-Z]?[a-z]+)*|[A-Z]{2,}(?:['\u2019-][A-Z]+)*(?![a-z])|(?<![A-Za-z])[A-Z](?![\w'\u2019-])"
)
_WORD_GAP = re.compile(r"\.?[ \t]+")  # between words of one run ("Mr. Smith", "Jo  Bloggs"; NBSP is a space by now)
_COMMA_GAP = re.compile(r",[ \t]*")  # "Smith, John": a surname, a comma, a forename


def _person_name(cell: str) -> bool:
    """A title and a capitalised word, or a known forename then a known surname, in a run of capitalised words
    holding no street or place word. police.uk's "On or near Berry Meade" names a place by its place word, so
    "near" alone excuses nothing: "stood near Jo Bloggs" is a person."""
    run: list[str] = []  # adjacent capitalised words
    before: list[str] = []  # the run before this one, when a comma alone parts them
    end = -1
    for m in _CAPITALISED.finditer(cell):
        word = m.group()
        word = word.capitalize() if len(word) > 1 and word.isupper() else word
        if run and _WORD_GAP.fullmatch(cell, end, m.start()):
            run.append(word)
        else:
            if run and (_names_someone(run) or _surname_first(before, run)):
                return True
            before = run if run and _COMMA_GAP.fullmatch(cell, end, m.start()) else []
            run = [word]
        end = m.end()
    return bool(run) and (_names_someone(run) or _surname_first(before, run))


def _names_someone(run: list[str]) -> bool:
    if len(run) < 2 or not PLACE_WORDS.isdisjoint(run):
        return False
    # An initial between a forename and a surname is passed over ("John A Smith"); after a title it is a name.
    names = [word for i, word in enumerate(run) if len(word) > 1 or (i and run[i - 1] in TITLES)]
    return any(
        first in TITLES or (first in FORENAMES and second in SURNAMES)
        for first, second in zip(names, names[1:], strict=False)
    )


def _surname_first(before: list[str], run: list[str]) -> bool:
    """A known surname, a comma, a known forename ("Smith, John"), neither run holding a place word."""
    if not before or not PLACE_WORDS.isdisjoint(before) or not PLACE_WORDS.isdisjoint(run):
        return False
    return before[-1] in SURNAMES and run[0] in FORENAMES


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
    path: Path, ds: Dataset | None = None, encoding: str = "utf-8-sig", *, plain: bool | None = None
) -> list[Finding]:
    """Every identifier finding in the file: header cells first, then content, by column and rule.

    Streams the file once. A file that is not readable CSV returns what was found so far (the contract
    check reports the damage itself). Without a dataset every column counts as free text.

    ``plain``: whether the file's lines are its records (see :func:`partnership.validation.plain_lines`);
    looked at when not given. A plain file's lines are split at the delimiter, which is what the csv module
    does with them, at a fraction of its cost.
    """
    if plain is None:
        from partnership.validation import plain_lines

        plain = plain_lines(path)
    with without_cyclic_gc():
        return _screen_file(path, ds, encoding, plain)


def _screen_file(path: Path, ds: Dataset | None, encoding: str, plain: bool) -> list[Finding]:
    # Columns are matched by the header the file carries (police.uk layouts use their own headers).
    exempt = {c.file_header for c in ds.columns if c.pseudonymise} if ds else set()
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
                    for chunk in _plain_records(f, delimiter):
                        _screen_chunk(chunk, first_row, screened, clean, hits, name_severity)
                        first_row += len(chunk)
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
        for cell in set(values) - passed:
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


def _hit(hits: dict, i: int, column: str | None, rule: str, severity: str, row_number: int) -> None:
    finding = hits.setdefault((i, rule), Finding(rule, i + 1, column, severity=severity))
    finding.count += 1
    if len(finding.rows) < SHOWN_ROWS:
        finding.rows.append(row_number)


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
