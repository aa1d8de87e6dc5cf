"""Linkage fields as agencies hold them, put into one form before they are tokenised.

Two records of one person differ in ways that are not the person: case, spaces and punctuation, accents, a
middle name, a nickname for a forename, a postcode written without its space, a date written day-first. Each
function here returns the field's one canonical form, or None when the value is missing or cannot be read (a
missing field is neither agreement nor disagreement when records are compared).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from partnership import pseudonymise

# The forms a date of birth arrives in from the partners' systems, tried in turn; day first, as in the UK.
_DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ].*)?$"),  # ISO, perhaps with a time
    re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})$"),  # 31/01/2009, 31-01-2009, 31.01.2009
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),  # 20090131
)
# A UK postcode: outward code (area, district) and inward code (sector digit, unit letters). BFPO and the
# Girobank postcode are not people's homes and are not linkage evidence.
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")
_SEX = {"M": "M", "MALE": "M", "1": "M", "F": "F", "FEMALE": "F", "2": "F"}
_NOT_A_NAME = {"", "UNKNOWN", "NOTKNOWN", "NK", "NONE", "NULL", "NA", "BABY", "INFANT", "UNBORN"}


def _letters(raw: str) -> str:
    """Upper-case A-Z and spaces: accents taken off (José -> JOSE), other characters out, spaces collapsed."""
    plain = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^A-Z ]", "", plain.upper().replace("-", " ")).split())


def forename(raw: str | None) -> str | None:
    """The first given name only (a middle name is recorded by some agencies and not others)."""
    words = _letters(raw or "").split()
    return words[0] if words and words[0] not in _NOT_A_NAME else None


def surname(raw: str | None) -> str | None:
    """Every part of the surname, run together: SMITH-JONES, Smith Jones and SMITHJONES are one surname."""
    value = _letters(raw or "").replace(" ", "")
    return value if value not in _NOT_A_NAME else None


@functools.cache
def nicknamer():
    """The published nickname list (read from disk once per process)."""
    from nicknames import NickNamer  # carltonnorthern/nicknames: a published, hand-curated list (Apache-2.0)

    return NickNamer()


def forename_group(name: str | None) -> frozenset[str]:
    """The name and every formal name it is a nickname of (BILL -> BILL, WILLIAM, ...): two forenames whose groups
    meet may be one person's (Bill and William; Alex and Alexander)."""
    if not name:
        return frozenset()
    return frozenset({name} | {_letters(c).replace(" ", "") for c in nicknamer().canonicals_of(name)})


def date_of_birth(raw: str | None) -> date | None:
    value = (raw or "").strip()
    for pattern in _DATE_FORMATS:
        m = pattern.match(value)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:  # 31/02/2009: not a date
                return None
    return None


def postcode(raw: str | None) -> str | None:
    """'M1 1AA' (outward code, a space, inward code) from any case and spacing, or None if not a postcode."""
    value = re.sub(r"\s", "", (raw or "").upper())
    m = _POSTCODE.match(value)
    return f"{m[1]} {m[2]}" if m else None


def postcode_sector(code: str) -> str:
    return code[:-2]  # 'M1 1AA' -> 'M1 1'


def postcode_district(code: str) -> str:
    return code.split(" ")[0]  # 'M1 1AA' -> 'M1'


def sex(raw: str | None) -> str | None:
    """M or F; unknown, not specified and indeterminate are no evidence either way."""
    return _SEX.get((raw or "").strip().upper())


def identifier(id_type: str, raw: str | None) -> str | None:
    """An NHS number, UPN or PNC ID in the pseudonymisation step's canonical form (check digit checked)."""
    return pseudonymise.normalise(id_type, raw) if raw and raw.strip() else None
