"""Synthetic people as agencies record them for linkage, with the noise real extracts have, and the truth kept
aside (for the linkage-quality tests and benchmark only: never loaded).

Each person has a true forename, surname, date of birth, sex, postcode and, as they apply, an NHS number (the NHS
test range, 999...), a UPN (children) and a PNC ID (some of those known to police). Agencies hold different fields
(:data:`AGENCY_FIELDS`) and record each person once or more, each record with its own errors, at the rates in
:class:`Noise`: typing errors, nicknames, another spelling of a name (more often for the group named in
``Noise.respelling_by_group``, which plants a linkage bias for the quality report to find), day and month swapped,
a wrong digit in a date of birth, a move of house, a missing identifier. Twins share surname, date of birth and
postcode. Names come from the screen's published lists (ONS baby names; the US census surnames), most frequent
first, drawn with Zipf weights so that common names are common. Twins have different forenames.
"""

from __future__ import annotations

import functools
import itertools
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from partnership.demo.population import Person
from partnership.demo.tables import ETHNIC_GROUPS, ETHNIC_WEIGHTS
from partnership.screening import FORENAMES, NAMES_DIR, nhs_number_valid
from partnership.screening.check_digits import pnc_check_letter, upn_check_letter

REFERENCE_DATE = date(2025, 3, 31)
AGE_BANDS = (
    (0, 9, "0-9"),
    (10, 17, "10-17"),
    (18, 24, "18-24"),
    (25, 44, "25-44"),
    (45, 64, "45-64"),
    (65, 200, "65+"),
)
# The linkage fields each agency holds (as in the registry's linkage declarations).
AGENCY_FIELDS = {
    "police": ("forename", "surname", "date_of_birth", "sex", "postcode", "pnc_id"),
    "youth_justice": ("forename", "surname", "date_of_birth", "sex", "postcode", "pnc_id", "upn"),
    "education": ("forename", "surname", "date_of_birth", "sex", "postcode", "upn"),
    "health": ("nhs_number", "forename", "surname", "date_of_birth", "sex", "postcode"),
}


@dataclass(frozen=True)
class Noise:
    """The chance of each error in one record (independent of each other)."""

    forename_typo: float = 0.03
    surname_typo: float = 0.03
    nickname: float = 0.06  # a known nickname for the forename (Bill for William)
    respelling: float = 0.02  # another spelling of a name (Mohammed, Muhammad)
    respelling_by_group: dict[str, float] = field(default_factory=dict)  # {ethnic group: rate} where different
    dob_swapped: float = 0.01  # day and month swapped (when both are 12 or under)
    dob_typo: float = 0.01  # one of day or year off by one
    moved: float = 0.10  # a postcode from another address (the person moved between records)
    postcode_missing: float = 0.03
    identifier_missing: float = 0.10  # an NHS number, UPN or PNC ID the agency would hold, not recorded
    sex_missing: float = 0.01
    twins: float = 0.01  # share of people with a twin (same surname, date of birth and postcode)

    def respelling_for(self, group: str) -> float:
        return self.respelling_by_group.get(group, self.respelling)


CLEAN = Noise(0, 0, 0, 0, {}, 0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class TruePerson:
    person: int
    forename: str
    surname: str
    dob: date
    sex: str
    postcode: str
    ethnic_group: str
    nhs_number: str
    upn: str  # "" for an adult
    pnc_id: str  # "" for most people

    @property
    def age(self) -> int:
        return (REFERENCE_DATE - self.dob).days // 365

    @property
    def age_band(self) -> str:
        return next(label for lo, hi, label in AGE_BANDS if lo <= self.age <= hi)


@dataclass(frozen=True)
class LinkageRecord:
    agency: str
    record_key: str
    fields: dict[str, str]  # the raw linkage fields as the agency recorded them
    person: int  # the truth: for tests and the benchmark only
    ethnic_group: str
    sex: str
    age_band: str


@functools.cache
def _surnames() -> list[str]:
    return (NAMES_DIR / "surnames.txt").read_text().split()


@functools.cache
def _forenames() -> list[str]:
    return sorted(FORENAMES, key=_forename_rank)


@functools.cache
def _forename_ranks() -> dict[str, int]:
    return {name: i for i, name in enumerate((NAMES_DIR / "forenames.txt").read_text().split())}


def _forename_rank(name: str) -> int:
    return _forename_ranks().get(name, 10**6)


@functools.cache
def _zipf_cumulative(n: int, exponent: float = 0.7) -> list[float]:
    # 0.7: the commonest of 5,000 surnames is then 2.5% of people (Smith is about 1.2% in England and Wales); at
    # 1.0 it would be 11%, and common names would be far commoner than they are.
    return list(itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(n)))


def _zipf_choice(rng: random.Random, names: list[str]) -> str:
    return rng.choices(names, cum_weights=_zipf_cumulative(len(names)))[0]


def _nhs_numbers() -> Iterator[str]:
    """Valid NHS numbers in the range the NHS keeps for testing (999 000 000 0 upwards), in order."""
    for body in range(999_000_000, 1_000_000_000):
        for check in "0123456789":
            if nhs_number_valid(f"{body}{check}"):
                yield f"{body}{check}"
                break


def _unique_pnc_id(index: int) -> str:
    """A PNC ID of its own for each person index below 249,999,975 (25 years of 9,999,999 serials). Random ones
    met by chance, and so linked two people deterministically: 28 false merges at scale 40."""
    year, serial = f"{index // 9_999_999 % 25:02d}", f"{index % 9_999_999 + 1:07d}"
    return f"{year}/{serial}{pnc_check_letter(year, serial)}"


def _postcode(rng: random.Random) -> str:
    """A Manchester-shaped postcode (M1 to M40); not checked against the real list, and never loaded."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"M{rng.randint(1, 40)} {rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def population(size: int, seed: int = 0, noise: Noise = Noise()) -> list[TruePerson]:
    rng = random.Random(f"linkage-population:{seed}")
    nhs = _nhs_numbers()
    households = [_postcode(rng) for _ in range(max(size // 3, 1))]
    people: list[TruePerson] = []
    while len(people) < size:
        i = len(people)
        age = rng.randint(0, 89)
        dob = REFERENCE_DATE - timedelta(days=age * 365 + rng.randint(0, 364))
        group = rng.choices(ETHNIC_GROUPS, weights=ETHNIC_WEIGHTS)[0]
        surname, postcode = _zipf_choice(rng, _surnames()), rng.choice(households)
        born = 1 + (1 if rng.random() < noise.twins else 0)
        forenames: set[str] = set()
        for _ in range(min(born, size - len(people))):
            i = len(people)
            forename = _zipf_choice(rng, _forenames())
            while forename in forenames:  # twins are not given one name
                forename = _zipf_choice(rng, _forenames())
            forenames.add(forename)
            upn = ""
            if age < 19:
                body = f"{rng.randint(0, 10**12 - 1):012d}"
                upn = upn_check_letter(body) + body
            pnc = ""
            if age >= 10 and rng.random() < 0.15:
                # The year and serial once drawn here are still drawn: the rest of the population as it was.
                rng.randint(0, 24)
                rng.randint(1, 9_999_999)
                pnc = _unique_pnc_id(i)
            people.append(
                TruePerson(
                    i,
                    forename,
                    surname,
                    dob,
                    rng.choice("MF"),
                    postcode,
                    group,
                    next(nhs),
                    upn,
                    pnc,
                )
            )
    return people


def _typo(rng: random.Random, name: str) -> str:
    """One character replaced, dropped, doubled, or two swapped."""
    if len(name) < 3:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + rng.choice(string.ascii_lowercase) + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


_RESPELLINGS = (("mm", "m"), ("oh", "u"), ("ou", "u"), ("ee", "i"), ("ph", "f"), ("y", "i"), ("a", "e"), ("o", "u"))


def _respell(rng: random.Random, name: str) -> str:
    """Another way of writing the name in Latin letters (as a transliteration differs): Mohammed -> Muhammed."""
    lowered = name.lower()
    options = [(a, b) for a, b in _RESPELLINGS if a in lowered[1:]] or [(lowered[-1], lowered[-1] + "h")]
    a, b = rng.choice(options)
    i = lowered.index(a, 1)
    return (name[0] + lowered[1:i] + b + lowered[i + len(a) :]).capitalize()


@functools.cache
def _nicknames(name: str) -> tuple[str, ...]:
    from partnership.linkage.standardise import nicknamer  # the list linkage reads, loaded once per process

    return tuple(sorted(n.capitalize() for n in nicknamer().nicknames_of(name) if n.isalpha()))


def _dob_text(rng: random.Random, dob: date) -> str:
    """As a partner's system might write it: ISO, or day first with slashes."""
    return dob.isoformat() if rng.random() < 0.5 else dob.strftime("%d/%m/%Y")


def recorded_details(rng: random.Random, person: TruePerson, fields, noise: Noise) -> dict[str, str]:
    """The person's linkage fields (any of LINKAGE_FIELDS) as one agency's record holds them, with its errors."""
    forename, surname, dob, postcode = person.forename, person.surname, person.dob, person.postcode
    if rng.random() < noise.nickname and _nicknames(forename):
        forename = rng.choice(_nicknames(forename))
    if rng.random() < noise.forename_typo:
        forename = _typo(rng, forename)
    if rng.random() < noise.surname_typo:
        surname = _typo(rng, surname)
    respelling = noise.respelling_for(person.ethnic_group)
    if rng.random() < respelling:
        forename = _respell(rng, forename)
    if rng.random() < respelling:
        surname = _respell(rng, surname)
    if rng.random() < noise.dob_swapped and dob.day <= 12:
        dob = dob.replace(month=dob.day, day=dob.month)
    if rng.random() < noise.dob_typo:
        try:
            dob = dob.replace(year=dob.year + rng.choice((-1, 1))) if rng.random() < 0.5 else dob + timedelta(1)
        except ValueError:  # 29 February in another year
            dob = dob + timedelta(1)
    if rng.random() < noise.moved:
        postcode = _postcode(rng)
    if rng.random() < noise.postcode_missing:
        postcode = ""
    values = {
        "forename": forename.upper() if rng.random() < 0.3 else forename,
        "surname": surname.upper() if rng.random() < 0.3 else surname,
        "date_of_birth": _dob_text(rng, dob),
        "sex": "" if rng.random() < noise.sex_missing else person.sex,
        "postcode": postcode.replace(" ", "") if rng.random() < 0.2 else postcode,
        "nhs_number": person.nhs_number,
        "upn": person.upn,
        "pnc_id": person.pnc_id,
    }
    for id_type in ("nhs_number", "upn", "pnc_id"):
        if rng.random() < noise.identifier_missing:
            values[id_type] = ""
    return {f: values[f] for f in fields}


def record_of(rng: random.Random, person: TruePerson, agency: str, record_key: str, noise: Noise) -> LinkageRecord:
    fields = recorded_details(rng, person, AGENCY_FIELDS[agency], noise)
    return LinkageRecord(agency, record_key, fields, person.person, person.ethnic_group, person.sex, person.age_band)


@functools.lru_cache(maxsize=100_000)
def identity_of(person: Person, first_month: date) -> TruePerson:
    """The details of one of the demo generator's people (:class:`partnership.demo.population.Person`), computed
    from their key: the same person has the same name, date of birth, postcode and identifiers in every agency's
    extract. The date of birth agrees with the ages the extracts give (the birthday falls in the month
    ``Person.birth_month`` months after ``first_month``)."""
    rng = random.Random(f"identity:{person.key}")
    birthday = first_month.month - 1 + person.birth_month
    year = first_month.year + birthday // 12 - person.age_at_start - 1
    dob = date(year, birthday % 12 + 1, rng.randint(1, 28))
    # The NHS's test range holds a million bodies (about 1 in 11 has no valid check digit), one per person: beyond
    # the first million people (scale 8 and above) a person has none, as if never recorded, rather than another
    # person's (a shared NHS number links two people deterministically: 1,794 false merges at scale 40).
    nhs = ""
    if person.index < 1_000_000:
        body = 999_000_000 + person.index
        nhs = next((f"{body}{c}" for c in "0123456789" if nhs_number_valid(f"{body}{c}")), "")
    upn = ""
    if person.age_at_start < 19:
        digits = f"{rng.randint(0, 10**12 - 1):012d}"
        upn = upn_check_letter(digits) + digits
    pnc = ""
    if person.age_at_start >= 10 and rng.random() < 0.3:
        # The year and serial once drawn here are still drawn, so the person's other details stay as they were.
        rng.randint(0, 24)
        rng.randint(1, 9_999_999)
        pnc = _unique_pnc_id(person.index)
    return TruePerson(
        person.index,
        _zipf_choice(rng, _forenames()),
        _zipf_choice(rng, _surnames()),
        dob,
        person.sex,
        _postcode(rng),
        person.ethnicity,
        nhs,
        upn,
        pnc,
    )


def records(people: list[TruePerson], seed: int = 0, noise: Noise = Noise()) -> Iterator[LinkageRecord]:
    """Each person's records: known to health with chance 0.6, education while of school age, police 0.25 (0.35
    for those with a PNC ID: all of them), youth justice 0.3 of children 10 to 17 with a PNC ID; 1 to 3 records
    in each agency that knows them."""
    rng = random.Random(f"linkage-records:{seed}")
    serial = itertools.count(1)
    for person in people:
        known = []
        if rng.random() < 0.6:
            known.append("health")
        if 4 <= person.age <= 18:
            known.append("education")
        if person.pnc_id or (person.age >= 10 and rng.random() < 0.25):
            known.append("police")
        if person.pnc_id and 10 <= person.age <= 17 and rng.random() < 0.3:
            known.append("youth_justice")
        for agency in known:
            for _ in range(rng.choice((1, 1, 2, 3))):
                yield record_of(rng, person, agency, f"{agency}-{next(serial)}", noise)
