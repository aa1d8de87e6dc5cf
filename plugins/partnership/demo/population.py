"""The synthetic people and the places they live: Manchester's LSOAs (and the rest of Greater Manchester's),
weighted by deprivation, and a population computed from the seed (person i is the same person every time)."""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from partnership import settings
from partnership.demo.tables import CITY_CENTRE_WARDS, ETHNIC_GROUPS, ETHNIC_WEIGHTS, MANCHESTER, NOT_STATED, PLANTED


def synthetic_nhs_number(person_key: str) -> str:
    """A fake NHS number for a synthetic person: in the 999 range the NHS keeps for testing, valid modulus 11."""
    from partnership.screening import nhs_number_valid

    n = int(person_key[:12], 16) % 10**6
    while True:
        body = f"999{n:06d}"
        for check in "0123456789":
            if nhs_number_valid(body + check):
                return body + check
        n = (n + 1) % 10**6  # about 1 in 11 bodies has no valid check digit


@dataclass(frozen=True)
class Place:
    lsoa: str
    lsoa_name: str
    ward: str
    ward_code: str
    weight: float
    city_centre: bool


def load_places(seeds_dir: Path | None = None) -> list[Place]:
    """Manchester LSOAs, weighted so crime concentrates in deprived areas and the city centre."""
    seeds_dir = seeds_dir or settings.DBT_PROJECT_DIR / "seeds"
    with open(seeds_dir / "imd2015_lsoa11.csv", newline="") as f:
        decile = {r["lsoa11_code"]: int(r["imd_decile"]) for r in csv.DictReader(f)}
    places = []
    with open(seeds_dir / "ons_lsoa11_to_ward19.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["district_code"] != MANCHESTER:
                continue
            centre = r["ward19_name"] in CITY_CENTRE_WARDS
            weight = (11 - decile.get(r["lsoa11_code"], 5)) * (4 if centre else 1)
            places.append(
                Place(r["lsoa11_code"], r["lsoa11_name"], r["ward19_name"], r["ward19_code"], float(weight), centre)
            )
    return places


def load_gm_places(seeds_dir: Path | None = None) -> list[Place]:
    """The other nine Greater Manchester districts' LSOAs, weighted by deprivation as Manchester's are."""
    seeds_dir = seeds_dir or settings.DBT_PROJECT_DIR / "seeds"
    with open(seeds_dir / "imd2015_lsoa11.csv", newline="") as f:
        decile = {r["lsoa11_code"]: int(r["imd_decile"]) for r in csv.DictReader(f)}
    with open(seeds_dir / "ons_lsoa11_to_ward19.csv", newline="") as f:
        return [
            Place(
                r["lsoa11_code"],
                r["lsoa11_name"],
                r["ward19_name"],
                r["ward19_code"],
                float(11 - decile.get(r["lsoa11_code"], 5)),
                False,
            )
            for r in csv.DictReader(f)
            if r["district_code"] != MANCHESTER
        ]


def month_starts(first: str, months: int) -> list[date]:
    year, month = (int(x) for x in first.split("-"))
    out = []
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def days_in_month(first: date) -> int:
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


@dataclass(frozen=True)
class Person:
    index: int
    key: str
    age_at_start: int
    birth_month: int  # 1-12: the month index (from the first month generated) of the first birthday
    sex: str
    ethnicity: str
    home: Place
    outside_city: bool  # lives outside Manchester (a visitor to the city)
    school: str

    def age(self, month_index: int) -> int:
        """Age in the given month: no date of birth is ever made, only ages."""
        return self.age_at_start + (month_index + 12 - self.birth_month) // 12


class NobodyOfThatAge(ValueError):
    """No one in the generated population has that age in that month (see People.aged)."""


class People:
    """A population computed from the seed: person i is the same person every time it is asked for.

    Index ranges: repeat victims, then adults, then young people (5 to 16 at the start), then the cohort.
    """

    def __init__(self, seed: int, scale: float, places: list[Place]):
        self.seed, self.places = seed, places
        self.repeat = max(int(PLANTED["repeat_victims_per_scale"] * scale), 5)
        self.adults = max(int(100_000 * scale), 1000)
        self.young = max(int(20_000 * scale), 500)
        self.cohort = max(int(PLANTED["cohort_size_per_scale"] * scale), 10)
        self.first_young = self.repeat + self.adults
        self.first_cohort = self.first_young + self.young

    def __call__(self, i: int) -> Person:
        d = hashlib.sha256(f"synthetic-person:{self.seed}:{i}".encode()).digest()
        key = hashlib.sha256(d).hexdigest()  # the partnership pseudonym, as the agencies would send it
        if i < self.first_young:
            age0 = 18 + d[0] % 58
        elif i < self.first_cohort:
            age0 = 5 + d[0] % 12
        else:
            age0 = 12 + d[0] % 5
        ethnicity = random.Random(d[1:9]).choices(ETHNIC_GROUPS, weights=ETHNIC_WEIGHTS)[0]
        home = self.places[int.from_bytes(d[9:12], "big") % len(self.places)]
        return Person(
            i,
            key,
            age0,
            1 + d[12] % 12,
            "M" if d[13] < 128 else "F",
            ethnicity,
            home,
            d[14] < 31,
            f"SCH{1 + d[15] % 60:03d}",
        )

    def adult(self, rng: random.Random) -> Person:
        return self(self.repeat + rng.randrange(self.adults))

    def young_person(self, rng: random.Random) -> Person:
        return self(self.first_young + rng.randrange(self.young))

    def cohort_members_due(self, month_index: int, months: int) -> list[Person]:
        """Each cohort member is planted in one month (spread evenly), so any run of months holds all."""
        return [self(self.first_cohort + j) for j in range(self.cohort) if j % months == month_index]

    def cohort_or_aged(self, rng: random.Random, cohort_share: float, m: int, low: int, high: int) -> Person:
        """A cohort member with the given probability, else anyone aged low..high in month m."""
        if rng.random() < cohort_share:
            return self(self.first_cohort + rng.randrange(self.cohort))
        return self.aged(rng, m, low, high)

    def repeat_victims_due(self, month_index: int) -> list[Person]:
        """Half the planted repeat victims each month, alternating: each is a victim every other month."""
        return [self(j) for j in range(self.repeat) if (j + month_index) % 2 == 0]

    def aged(
        self, rng: random.Random, m: int, low: int, high: int, *, outside: bool | None = None, sex: str | None = None
    ) -> Person:
        """A person aged low..high in month m (rejection sampling over the right pools)."""

        def fits(p: Person) -> bool:
            return (
                low <= p.age(m) <= high
                and (outside is None or p.outside_city == outside)
                and (sex is None or p.sex == sex)
            )

        for _ in range(5000):
            p = self.young_person(rng) if high < 18 or (low < 18 and rng.random() < 0.4) else self.adult(rng)
            if fits(p):
                return p
        # A year into a run nobody in the adult pool is 18 any more: those who are were young people at its start.
        for _ in range(5000):
            p = self.young_person(rng) if rng.random() < 0.5 else self.adult(rng)
            if fits(p):
                return p
        raise NobodyOfThatAge(f"nobody aged {low} to {high} in month {m} of the generated population")


def recorded_ethnicity(rng: random.Random, person: Person) -> str:
    """The person's ethnicity as an agency's record holds it: some records leave it out."""
    return "Not stated" if rng.random() < NOT_STATED else person.ethnicity
