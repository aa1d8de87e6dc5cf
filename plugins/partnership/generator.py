"""Seeded synthetic agency extracts, written to the landing zone as the agencies would send them.

Agency data are not public, so the project makes its own: monthly CSV files per dataset, using the real
Manchester LSOAs (ONS lookup and IMD, copied into ``dbt/seeds``). One pool of pseudonymised people feeds
every agency, so the same person key turns up in police, youth justice, education and A&E files; a
cohort of young people is deliberately known to several agencies at once.

The same seed and options always write byte-identical files, so a re-run lands files the warehouse has
already loaded (and the loader skips them by checksum). Rows are written as they are made: nothing holds a
whole extract in memory.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from partnership import settings
from partnership.registry import get_dataset

MANCHESTER = "E08000003"
CITY_CENTRE_WARDS = {"Deansgate", "Piccadilly"}
CRIME_TYPES = {  # police.uk crime type: share of recorded crime (roughly Manchester's mix)
    "Violence and sexual offences": 0.34,
    "Other theft": 0.10,
    "Criminal damage and arson": 0.08,
    "Vehicle crime": 0.08,
    "Burglary": 0.07,
    "Shoplifting": 0.07,
    "Public order": 0.09,
    "Theft from the person": 0.03,
    "Robbery": 0.03,
    "Drugs": 0.03,
    "Bicycle theft": 0.02,
    "Possession of weapons": 0.02,
    "Other crime": 0.04,
}
VICTIMLESS = {"Drugs", "Possession of weapons", "Public order"}
YJ_OFFENCES = [
    "Violence against the person",
    "Robbery",
    "Theft and handling",
    "Criminal damage",
    "Drugs",
    "Public order",
    "Possession of weapons",
    "Motoring",
    "Other",
]
YJ_OUTCOMES = [
    "Community resolution",
    "Youth caution",
    "Youth conditional caution",
    "Referral order",
    "Youth rehabilitation order",
    "Custody",
]
YJ_OUTCOME_WEIGHTS = [30, 20, 15, 20, 12, 3]
EXCLUSION_REASONS = [
    "Physical assault against a pupil",
    "Physical assault against an adult",
    "Verbal abuse or threatening behaviour",
    "Use or threat of use of an offensive weapon",
    "Bullying",
    "Racist abuse",
    "Drug and alcohol related",
    "Damage",
    "Theft",
    "Persistent disruptive behaviour",
    "Other",
]
AE_SITES = [
    "Manchester Royal Infirmary",
    "Royal Manchester Children's Hospital",
    "Wythenshawe Hospital",
    "North Manchester General Hospital",
]
AE_METHODS = ["Body part", "Blunt object", "Knife or blade", "Firearm", "Glass or bottle", "Other", "Unknown"]
AE_METHOD_WEIGHTS = [55, 12, 10, 1, 9, 8, 5]
AE_LOCATIONS = ["Street", "Home", "Licensed premises", "School", "Public transport", "Other", "Unknown"]
AE_LOCATION_WEIGHTS = [35, 25, 18, 4, 5, 8, 5]

# Rows per month at scale 1.
MONTHLY_VOLUME = {
    "police__recorded_crime": 1000,
    "youth_justice__cases": 35,
    "education__exclusions": 120,
    "health__ae_assault_attendances": 80,
    "health__navigator_referrals": 25,
}


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


@dataclass
class Person:
    key: str
    age_at_start: int
    birth_month: int  # 1-12: the month index (from the first month generated) of the first birthday
    cohort: bool  # one of the young people known to several agencies

    def age(self, month_index: int) -> int:
        """Age in the given month: no date of birth is ever made, only ages."""
        return self.age_at_start + (month_index + 12 - self.birth_month) // 12


@dataclass(frozen=True)
class Place:
    lsoa: str
    ward: str
    weight: float


def load_places(seeds_dir: Path = settings.DBT_PROJECT_DIR / "seeds") -> list[Place]:
    """Manchester LSOAs, weighted so crime concentrates in deprived areas and the city centre."""
    with open(seeds_dir / "imd2015_lsoa11.csv", newline="") as f:
        decile = {r["lsoa11_code"]: int(r["imd_decile"]) for r in csv.DictReader(f)}
    places = []
    with open(seeds_dir / "ons_lsoa11_to_ward19.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["district_code"] != MANCHESTER:
                continue
            weight = 11 - decile.get(r["lsoa11_code"], 5)
            if r["ward19_name"] in CITY_CENTRE_WARDS:
                weight *= 4
            places.append(Place(r["lsoa11_code"], r["ward19_name"], float(weight)))
    return places


def month_starts(first: str, months: int) -> list[date]:
    year, month = (int(x) for x in first.split("-"))
    out = []
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _days_in_month(first: date) -> int:
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


class _Extract:
    """One dataset's monthly file, opened for streaming rows into it."""

    def __init__(self, landing: Path, name: str, month: date):
        ds = get_dataset(name)
        self.columns = ds.column_names
        folder = landing / ds.landing_subdir
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / ds.landing_pattern.replace("*", f"{month:%Y-%m}")
        self._file = open(self.path, "w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=self.columns, lineterminator="\n")
        self._writer.writeheader()
        self.rows = 0

    def write(self, row: dict) -> None:
        self._writer.writerow(row)
        self.rows += 1

    def close(self) -> None:
        self._file.close()


def generate(
    landing: Path | None = None,
    *,
    seed: int = 2024,
    first_month: str = "2024-04",
    months: int = 12,
    scale: float = 1.0,
) -> dict[str, list[Path]]:
    """Write every dataset's monthly extracts; return the files written per dataset."""
    landing = Path(landing or settings.landing_dir())
    rng = random.Random(seed)
    places = load_places()
    place_weights = [p.weight for p in places]

    def person_key(i: int) -> str:
        return hashlib.sha256(f"synthetic-person:{seed}:{i}".encode()).hexdigest()

    n_adults, n_young, n_cohort = int(6000 * scale), int(2500 * scale), max(int(200 * scale), 15)
    adults = [Person(person_key(i), rng.randint(18, 75), rng.randint(1, 12), False) for i in range(n_adults)]
    young = [Person(person_key(n_adults + i), rng.randint(5, 16), rng.randint(1, 12), False) for i in range(n_young)]
    cohort = [
        Person(person_key(n_adults + n_young + i), rng.randint(12, 16), rng.randint(1, 12), True)
        for i in range(n_cohort)
    ]
    seen_by_yj: set[str] = set()
    nav_rng = random.Random(f"{seed}:navigator")
    written: dict[str, list[Path]] = {name: [] for name in MONTHLY_VOLUME}

    def volume(name: str) -> int:
        base = MONTHLY_VOLUME[name] * scale
        return max(1, int(rng.gauss(base, base * 0.05)))

    def next_id(name: str, month: date, digits: int) -> str:
        """Record ids carry their month (CR + YYYYMM + sequence), so extracts of different runs never clash."""
        counters[name] += 1
        return f"{month:%Y%m}{counters[name]:0{digits}d}"

    def young_aged(m: int, low: int, high: int, cohort_share: float) -> Person:
        pool = cohort if rng.random() < cohort_share else young
        for _ in range(50):
            p = rng.choice(pool)
            if low <= p.age(m) <= high:
                return p
        return rng.choice([p for p in young + cohort if low <= p.age(m) <= high])

    for m, month in enumerate(month_starts(first_month, months)):
        days = _days_in_month(month)
        counters = dict.fromkeys(MONTHLY_VOLUME, 0)

        def day(month: date = month, days: int = days) -> date:
            return month + timedelta(days=rng.randrange(days))

        out = _Extract(landing, "police__recorded_crime", month)
        for _ in range(volume("police__recorded_crime")):
            crime_type = rng.choices(list(CRIME_TYPES), weights=list(CRIME_TYPES.values()))[0]
            victim = suspect = None
            if crime_type not in VICTIMLESS and rng.random() < 0.8:
                victim = young_aged(m, 10, 17, 0.3) if rng.random() < 0.1 else rng.choice(adults)
            if rng.random() < 0.3:
                suspect = young_aged(m, 10, 17, 0.5) if rng.random() < 0.25 else rng.choice(adults)
            out.write(
                {
                    "crime_reference": "CR" + next_id("police__recorded_crime", month, 6),
                    "offence_date": day().isoformat(),
                    "crime_type": crime_type,
                    "lsoa_code": rng.choices(places, weights=place_weights)[0].lsoa,
                    "domestic_abuse_flag": "Y"
                    if crime_type == "Violence and sexual offences" and rng.random() < 0.3
                    else "N",
                    "victim_person_key": victim.key if victim else "",
                    "victim_age": victim.age(m) if victim else "",
                    "suspect_person_key": suspect.key if suspect else "",
                    "suspect_age": suspect.age(m) if suspect else "",
                }
            )
        out.close()
        written["police__recorded_crime"].append(out.path)

        out = _Extract(landing, "youth_justice__cases", month)
        for _ in range(volume("youth_justice__cases")):
            child = young_aged(m, 10, 17, 0.7)
            out.write(
                {
                    "case_id": "YJ" + next_id("youth_justice__cases", month, 4),
                    "child_person_key": child.key,
                    "age_at_offence": child.age(m),
                    "offence_date": day().isoformat(),
                    "offence_category": rng.choice(YJ_OFFENCES),
                    "outcome": rng.choices(YJ_OUTCOMES, weights=YJ_OUTCOME_WEIGHTS)[0],
                    "first_time_entrant": "N" if child.key in seen_by_yj else "Y",
                    "home_lsoa_code": rng.choices(places, weights=place_weights)[0].lsoa if rng.random() < 0.95 else "",
                }
            )
            seen_by_yj.add(child.key)
        out.close()
        written["youth_justice__cases"].append(out.path)

        out = _Extract(landing, "education__exclusions", month)
        school_holiday = month.month == 8
        for _ in range(volume("education__exclusions") // (10 if school_holiday else 1)):
            pupil = young_aged(m, 5, 16, 0.5)
            kind = rng.choices(["FIXD", "LNCH", "PERM"], weights=[85, 10, 5])[0]
            out.write(
                {
                    "exclusion_id": "EX" + next_id("education__exclusions", month, 4),
                    "pupil_person_key": pupil.key,
                    "school_id": f"SCH{rng.randint(1, 60):03d}",
                    "exclusion_type": kind,
                    "start_date": day().isoformat(),
                    "sessions": 1 if kind == "LNCH" else rng.randint(1, 10),
                    "reason": rng.choice(EXCLUSION_REASONS),
                    "age_at_start": pupil.age(m),
                }
            )
        out.close()
        written["education__exclusions"].append(out.path)

        out = _Extract(landing, "health__ae_assault_attendances", month)
        for _ in range(volume("health__ae_assault_attendances")):
            patient = young_aged(m, 10, 17, 0.8) if rng.random() < 0.25 else rng.choice(adults)
            arrival = day()
            out.write(
                {
                    "attendance_id": "AE" + next_id("health__ae_assault_attendances", month, 5),
                    "patient_person_key": patient.key,
                    "arrival_datetime": f"{arrival.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
                    "age": patient.age(m),
                    "sex": rng.choices(["M", "F", "U"], weights=[70, 29, 1])[0],
                    "site": AE_SITES[1] if patient.age(m) < 16 else rng.choice(AE_SITES),
                    "assault_method": rng.choices(AE_METHODS, weights=AE_METHOD_WEIGHTS)[0],
                    "location_type": rng.choices(AE_LOCATIONS, weights=AE_LOCATION_WEIGHTS)[0],
                    "incident_lsoa_code": rng.choices(places, weights=place_weights)[0].lsoa
                    if rng.random() < 0.8
                    else "",
                }
            )
        out.close()
        written["health__ae_assault_attendances"].append(out.path)

        # The trust sends raw NHS numbers here (the gate pseudonymises them); its own random stream keeps the
        # other datasets' files unchanged.
        out = _Extract(landing, "health__navigator_referrals", month)
        base = MONTHLY_VOLUME["health__navigator_referrals"] * scale
        for _ in range(max(1, int(nav_rng.gauss(base, base * 0.05)))):
            pool = cohort if nav_rng.random() < 0.8 else young
            young_person = next(
                (p for p in (nav_rng.choice(pool) for _ in range(50)) if 10 <= p.age(m) <= 17), cohort[0]
            )
            nhs = synthetic_nhs_number(young_person.key)
            out.write(
                {
                    "referral_id": "NV" + next_id("health__navigator_referrals", month, 4),
                    "nhs_number": f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" if nav_rng.random() < 0.3 else nhs,
                    "referral_date": (month + timedelta(days=nav_rng.randrange(days))).isoformat(),
                    "age": young_person.age(m),
                    "sex": nav_rng.choices(["M", "F"], weights=[75, 25])[0],
                    "engaged": "Y" if nav_rng.random() < 0.6 else "N",
                }
            )
        out.close()
        written["health__navigator_referrals"].append(out.path)
    return written
