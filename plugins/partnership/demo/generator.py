"""Seeded synthetic agency extracts, written to the landing zone as the agencies would send them.

Agency data are not public, so the project makes its own: one CSV file per dataset and month (termly and
annual datasets when due), named by the registry's landing pattern and laid out by its columns, using the
real Manchester LSOAs and wards (ONS lookup and IMD, in ``dbt/seeds``). One population of pseudonymised
people feeds every agency, so the same person key turns up in police, youth justice, education, health and
probation files.

The same seed and options always write byte-identical files, so a re-run lands files the warehouse has
already loaded (and the loader skips them by checksum). Rows are written as they are made and people are
computed from their index (nothing holds the population or an extract in memory), so five million police
rows fit in a few tens of megabytes.

Planted figures (tests find them back in the warehouse; see :data:`PLANTED` and the README):

- crime concentrates in deprived LSOAs (weight 11 - IMD decile) and the city centre (Deansgate and
  Piccadilly wards, weight x4);
- serious-violence victims (Manchester 2022 definition, from the offence definition seeds) are 20 to 34 years
  old in 60% of crimes; robbery victims are 15 to 23 in 60% and live outside the city in a third;
- 84% of suspects of serious violence are male;
- a cohort of young people (300 at scale 1) is known to police (as suspects), youth justice and education;
- repeat victims (150 at scale 1) are each the victim of a crime every other month;
- police volume collapses to 10% in the fourth month generated (as when GMP's recording system changed);
- the GMP police.uk street-level file covers all ten Greater Manchester districts, with Manchester at 27% of
  the force's victim-based crime (Community Safety Strategy 2022-25, 2021/22); the other districts' rows are
  drawn from their own random stream, so Manchester's rows (and every other extract) are unchanged;
- stop and search falls on Black people at about three times their share of the population;
- 59% of alcohol treatment exits are successful; alcohol-specific admissions run at about 1,066 per 100,000
  residents a year (Manchester 2019/20); the synthetic population is about 550,000.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from partnership import settings
from partnership.registry import get_dataset

MANCHESTER = "E08000003"
CITY_CENTRE_WARDS = {"Deansgate", "Piccadilly"}

PLANTED = {
    "sv_victim_aged_20_to_34": 0.60,
    "robbery_victim_aged_15_to_23": 0.60,
    "robbery_victim_outside_city": 1 / 3,
    "sv_suspect_male": 0.84,
    "cohort_size_per_scale": 300,  # known to police, youth justice and education
    "repeat_victims_per_scale": 150,  # each the victim of a crime every other month
    "collapse_month_index": 3,  # the fourth month generated
    "collapse_factor": 0.10,
    "stop_search_black_share": 0.30,  # vs 12% of the population: about three times
    "alcohol_exits_successful": 0.59,
    "alcohol_admissions_per_100k_year": 1066,
    "manchester_share_of_gm_victim_based": 0.27,  # of police.uk victim-based crime in GMP's street-level file
}

ETHNIC_GROUPS = ["White", "Asian", "Black", "Mixed", "Other"]
ETHNIC_WEIGHTS = [57, 21, 12, 5, 5]  # roughly Manchester's population (Census 2021)
NOT_STATED = 0.08  # share of records with no ethnicity recorded

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
VICTIMLESS = {"Drugs", "Possession of weapons", "Public order", "Other crime"}
VICTIM_BASED_TYPES = {t: w for t, w in CRIME_TYPES.items() if t not in VICTIMLESS}
OTHER_TYPES = {t: w for t, w in CRIME_TYPES.items() if t in VICTIMLESS}
# Home Office offence codes per crime type, with their relative frequency (the partnership's classification of
# each code: dbt/seeds/offence_code_classes.csv; the codes and their descriptions: dbt/seeds/ho_offence_codes.csv).
HO_CODES = {
    "Violence and sexual offences": {
        "001/01": 0.15,  # murder
        "004/01": 0.05,  # manslaughter
        "002/00": 0.3,  # attempted murder
        "003/01": 2,  # threats to kill
        "005/01": 4,  # wounding with intent to do GBH (s.18)
        "008/01": 8,  # GBH without intent (s.20)
        "008/06": 25,  # ABH (s.47)
        "008/47": 0.5,  # racially or religiously aggravated ABH
        "105/01": 33,  # common assault
        "195/94": 8,  # harassment
        "008/65": 3,  # stalking involving fear of violence
        "008/67": 3,  # controlling or coercive behaviour
        "008/72": 3,  # threatening communications
        "019/08": 2,  # rape of a female aged 16 or over
        "019/07": 0.5,  # rape of a female aged under 16
        "020/05": 3,  # sexual assault on a female
        "017/15": 0.7,  # sexual assault on a male
        "088/09": 1,  # exposure
    },
    # 034/01 robbery, 034/02 assault with intent to rob: business or personal by the victim type (ROBBERY_BUSINESS).
    "Robbery": {"034/01": 90, "034/02": 10},
    "Burglary": {"028/03": 60, "028/02": 7, "029/00": 1, "030/02": 28, "031/00": 1},
    "Vehicle crime": {"045/10": 55, "048/01": 30, "037/01": 2, "126/00": 13},
    "Theft from the person": {"039/00": 1},
    "Shoplifting": {"046/00": 1},
    "Bicycle theft": {"044/00": 1},
    "Other theft": {"049/10": 80, "040/00": 8, "053/25": 10, "047/00": 2},
    "Criminal damage and arson": {"056/01": 3, "056/02": 12, "058/00": 82, "058/04": 3},
    "Drugs": {"092/30": 10, "092/41": 10, "092/50": 15, "092/61": 65},
    "Possession of weapons": {"008/26": 60, "008/11": 20, "008/64": 5, "081/04": 10, "005/14": 5},
    "Public order": {"125/12": 50, "125/09": 20, "125/11": 15, "066/01": 10, "066/16": 5},
    "Other crime": {"054/01": 40, "033/00": 20, "079/01": 10, "802/00": 30},
}
ROBBERY_BUSINESS = 0.15  # share of robberies of business property (Home Office class 34A; the rest 34B)
BUSINESS_BURGLARY = {"030/02", "031/00"}  # burglary other than in a dwelling: a business or community victim
# Weapon used or threatened, by offence type (share of crimes), and which weapon: mostly a knife.
WEAPON_SHARE = {
    "homicide": 0.45,
    "attempted_murder": 0.5,
    "threats_to_kill": 0.15,
    "gbh_with_intent": 0.35,
    "gbh_without_intent": 0.15,
    "abh": 0.06,
    "robbery": 0.3,
    "rape": 0.02,
    "sexual_assault": 0.01,
}
WEAPONS = {"Knife or sharp instrument": 0.7, "Firearm": 0.05, "Other weapon": 0.25}
POSSESSION_WEAPON = {
    "possession_blade": "Knife or sharp instrument",
    "possession_firearm": "Firearm",
    "possession_weapon": "Other weapon",
}
# Days from offence to recording: most within a week; some weeks or months later; a few historic (years later,
# most often sexual offences). The extract is cut by recorded date, so these rows carry older offence dates.
RECORDING_DELAY = {"same week": 0.88, "weeks or months": 0.09, "historic": 0.03}
HISTORIC_SEXUAL = 0.25  # share of rape and sexual assault recorded years after the offence
OUTCOMES = [
    "Under investigation",
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Local resolution",
    "Offender given a caution",
    "Awaiting court outcome",
    "Charged or summonsed",
    "Action to be taken by another organisation",
    "Further investigation is not in the public interest",
]
OUTCOME_WEIGHTS = [20, 35, 20, 5, 2, 4, 8, 3, 3]
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
# Days from offence to disposal: out of court (community resolution, cautions) and at court.
YJ_LAG_OUT_OF_COURT = (7, 75)
YJ_LAG_COURT = (30, 240)
YJ_AGED_18_SHARE = 0.03  # offended at 17, dealt with at 18: an adult first-time entrant, not a YJB one
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
SEARCH_LEGISLATION = {
    "Misuse of Drugs Act 1971 (section 23)": ("Controlled drugs", 60),
    "Police and Criminal Evidence Act 1984 (section 1)": ("Offensive weapons", 30),
    "Criminal Justice and Public Order Act 1994 (section 60)": ("Offensive weapons", 10),
}
SEARCH_OUTCOMES = {
    "A no further action disposal": 70,
    "Arrest": 15,
    "Community resolution": 8,
    "Khat or Cannabis warning": 3,
    "Penalty Notice for Disorder": 2,
    "Summons / charged by post": 2,
}
ASB_REQUEST_CATEGORIES = {
    "Neighbour dispute": 25,
    "Noise": 20,
    "Intimidation or harassment": 15,
    "Public space ASB": 15,
    "Off-road bikes": 6,
    "Fly-tipping": 8,
    "Drug-related": 6,
    "Other": 5,
}
TREATMENT_SUBSTANCES = {"Opiate": 45, "Non-opiate only": 20, "Alcohol only": 25, "Non-opiate and alcohol": 10}
TREATMENT_EXITS = [
    "Dropped out",
    "Transferred in custody",
    "Transferred not in custody",
    "Treatment withdrawn",
    "Died",
    "Other",
]
REFERRALS = {"Criminal justice": 30, "Self": 35, "GP": 15, "Hospital": 8, "Social services": 7, "Other": 5}
ADMISSION_AGE_BANDS = {"0-17": 2, "18-24": 8, "25-34": 17, "35-49": 33, "50-64": 28, "65+": 12}

# Rows per month at scale 1 (the police figure is about Manchester's monthly recorded crime / 7).
MONTHLY_VOLUME = {
    "police__recorded_crime": 1000,
    "police__asb_incidents": 600,
    "police__stop_search": 150,
    "youth_justice__cases": 35,
    "education__exclusions": 120,
    "education__ap_placements": 12,
    "health__ae_assault_attendances": 80,
    "health__treatment_episodes": 120,
    "council__asb_requests": 250,
    "council__asb_case_reviews": 2,
    "probation__caseload": 1500,
    "health__navigator_referrals": 25,
}
POPULATION_TOTAL = 552_000
# Terms: the month an attendance return is sent -> (term, month and day the term started).
TERMS = {12: ("Autumn", 9, 1), 3: ("Spring", 1, 4), 7: ("Summer", 4, 15)}


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


def _days_in_month(first: date) -> int:
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
        for _ in range(5000):
            p = self.young_person(rng) if high < 18 or (low < 18 and rng.random() < 0.4) else self.adult(rng)
            if (
                low <= p.age(m) <= high
                and (outside is None or p.outside_city == outside)
                and (sex is None or p.sex == sex)
            ):
                return p
        return p  # practically unreachable; keeps the generator total


class _Extract:
    """One dataset's file, opened for streaming rows into it in the registry's column order."""

    def __init__(self, landing: Path, name: str, label: str):
        ds = get_dataset(name)
        self.columns = ds.column_names
        folder = landing / ds.landing_subdir
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / ds.landing_pattern.replace("*", label)
        self._file = open(self.path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(ds.file_headers)
        self.rows = 0

    def write(self, row: dict) -> None:
        self._writer.writerow([row.get(c, "") for c in self.columns])
        self.rows += 1

    def close(self) -> None:
        self._file.close()
        settings.upload_marker(self.path).touch()  # complete, as an agency should say (docs/operating.md)


def _ethnicity(rng: random.Random, person: Person) -> str:
    return "Not stated" if rng.random() < NOT_STATED else person.ethnicity


@dataclass(frozen=True)
class OffenceRules:
    """The offence definitions of dbt/seeds (offence_code_classes, the ONS hierarchy, offence_definition_rules),
    read so that the generator plants its serious-violence figures on the crimes the warehouse will count."""

    offences: dict  # (code, victim_type or None) -> {offence_type, ho_class, offence_subgroup, offence_group}
    rules: list  # rule rows of the definition versions in force

    def offence(self, code: str, victim_type: str | None) -> dict:
        return self.offences.get((code, None)) or self.offences[(code, victim_type)]

    def meets(self, definition_version: str, code: str, victim_type: str | None, weapon: str, domestic: str) -> bool:
        offence = self.offence(code, victim_type)
        for rule in self.rules:
            if rule["definition_version"] != definition_version:
                continue
            on, value = rule["match_on"], rule["match_value"]
            if on != "any" and offence.get(on) != value:
                continue
            if rule["weapon"] == "knife" and weapon != "Knife or sharp instrument":
                continue
            if rule["weapon"] == "weapon" and not weapon:
                continue
            if rule["domestic_abuse"] not in ("any", domestic):
                continue
            if rule["victim_sex"] != "any" or rule["hate_flagged"] != "any":
                continue  # not needed for serious violence
            return True
        return False


def _offence_rules(seeds_dir: Path | None = None) -> OffenceRules:
    seeds_dir = seeds_dir or settings.DBT_PROJECT_DIR / "seeds"

    def rows(name: str) -> list[dict]:
        with open(seeds_dir / name, newline="") as f:
            return list(csv.DictReader(f))

    hierarchy = {
        r["ho_offence_code"]: r
        for name in ("ho_offence_classification.csv", "ho_offence_classification_additions.csv")
        for r in rows(name)
    }
    offences = {}
    for r in rows("offence_code_classes.csv"):
        classes = (
            {None: r["ho_class"]}
            if not r["ho_class_business"]
            else {"Person": r["ho_class"], "Business": r["ho_class_business"]}
        )
        for victim_type, ho_class in classes.items():
            h = hierarchy[ho_class]
            subgroup = h["offence_subgroup"] or (
                "Homicide" if h["offence_description"] == "Homicide" else h["offence_group"]
            )
            offences[(r["ho_offence_code"], victim_type)] = {
                "offence_type": r["offence_type"],
                "ho_class": ho_class,
                "offence_subgroup": subgroup,
                "offence_group": h["offence_group"],
            }
    return OffenceRules(offences, rows("offence_definition_rules.csv"))


class Generator:
    def __init__(self, landing: Path, seed: int, first_month: str, months: int, scale: float):
        self.landing, self.months, self.scale, self.seed = landing, months, scale, seed
        self.rng = random.Random(seed)
        self.places = load_places()
        self.gm_places = load_gm_places()
        self.gm_place_weights = [p.weight for p in self.gm_places]
        self.place_weights = [p.weight for p in self.places]
        self.people = People(seed, scale, self.places)
        self.offence_rules = _offence_rules()
        self.month_list = month_starts(first_month, months)
        self.seen_by_yj: set[str] = set()
        self.written: dict[str, list[Path]] = {}

    # -- helpers ---------------------------------------------------------------------------------------

    def open(self, name: str, label: str) -> _Extract:
        out = _Extract(self.landing, name, label)
        self.written.setdefault(name, []).append(out.path)
        return out

    def place(self) -> Place:
        return self.rng.choices(self.places, weights=self.place_weights)[0]

    def volume(self, name: str, m: int) -> int:
        base = MONTHLY_VOLUME[name] * self.scale
        if name.startswith("police__") and m == PLANTED["collapse_month_index"]:
            base *= PLANTED["collapse_factor"]
        return max(1, int(self.rng.gauss(base, base * 0.05)))

    def day(self, month: date) -> date:
        return month + timedelta(days=self.rng.randrange(_days_in_month(month)))

    # -- the run ---------------------------------------------------------------------------------------

    def run(self) -> dict[str, list[Path]]:
        self.population()
        for m, month in enumerate(self.month_list):
            self.police(m, month)
            self.stop_search(m, month)
            self.youth_justice(m, month)
            self.education(m, month)
            self.health(m, month)
            self.council(m, month)
            self.probation(m, month)
        return self.written

    def population(self) -> None:
        """Synthetic stand-in for the ONS mid-year estimates: population by LSOA and single year of age."""
        ref = date(self.month_list[0].year - 1, 6, 30)
        out = self.open("reference__lsoa_population", str(ref.year))
        per_lsoa = POPULATION_TOTAL / len(self.places)
        # A young city: most people 18 to 40 (shares of an LSOA's residents by single year of age).
        weights = [1.0 if age < 18 else 2.0 if age < 40 else 1.1 if age < 65 else 0.55 for age in range(91)]
        shares = [w / sum(weights) for w in weights]
        self.population_total = 0
        for place in sorted(self.places, key=lambda p: p.lsoa):
            for age in range(91):
                residents = int(per_lsoa * shares[age] * self.rng.uniform(0.85, 1.15))
                self.population_total += residents
                out.write(
                    {"lsoa_code": place.lsoa, "age": age, "reference_date": ref.isoformat(), "population": residents}
                )
        out.close()

    def police(self, m: int, month: date) -> None:
        rng, people = self.rng, self.people
        label = f"{month:%Y-%m}"
        crimes = self.open("police__recorded_crime", label)
        asb = self.open("police__asb_incidents", label)
        street = self.open("police_uk__street_crime", f"{label}-greater-manchester")
        seq = 0
        mcr_street = Counter()  # Manchester's rows in the street-level file: victim-based, other crime, ASB

        def write_crime(crime_type: str, suspect: Person | None = None, victim: Person | None = None) -> None:
            nonlocal seq
            seq += 1
            code = rng.choices(list(HO_CODES[crime_type]), weights=list(HO_CODES[crime_type].values()))[0]
            if crime_type == "Robbery":
                victim_type = "Business" if rng.random() < ROBBERY_BUSINESS else "Person"
            elif code in BUSINESS_BURGLARY or crime_type == "Shoplifting":
                victim_type = "Business"
            elif crime_type in VICTIMLESS:
                victim_type = ""
            else:
                victim_type = "Person"
            offence_type = self.offence_rules.offence(code, victim_type or None)["offence_type"]
            if offence_type in POSSESSION_WEAPON:
                weapon = POSSESSION_WEAPON[offence_type]
            elif rng.random() < WEAPON_SHARE.get(offence_type, 0):
                weapon = rng.choices(list(WEAPONS), weights=list(WEAPONS.values()))[0]
            else:
                weapon = ""
            violent = crime_type == "Violence and sexual offences"
            domestic = "Y" if violent and rng.random() < 0.25 else "N"
            serious = self.offence_rules.meets("SV-MCR-2022", code, victim_type or None, weapon, domestic)
            recorded = self.day(month)
            delay = rng.choices(list(RECORDING_DELAY), weights=list(RECORDING_DELAY.values()))[0]
            if offence_type in ("rape", "sexual_assault") and rng.random() < HISTORIC_SEXUAL:
                delay = "historic"
            if delay == "same week":
                offence_day = recorded - timedelta(days=rng.choices(range(8), weights=[40, 25, 10, 7, 6, 5, 4, 3])[0])
            elif delay == "weeks or months":
                offence_day = recorded - timedelta(days=rng.randrange(8, 180))
            else:
                offence_day = recorded - timedelta(days=rng.randrange(365, 365 * 20))
            place = self.place()
            hour = rng.choices(
                range(24), weights=[5, 4, 3, 2, 1, 1, 1, 2, 3, 3, 4, 4, 4, 4, 4, 5, 6, 6, 6, 7, 8, 8, 7, 6]
            )[0]
            if victim is None and crime_type not in VICTIMLESS and rng.random() < 0.85:
                if crime_type == "Robbery":
                    outside = rng.random() < PLANTED["robbery_victim_outside_city"]
                    if rng.random() < PLANTED["robbery_victim_aged_15_to_23"]:
                        victim = people.aged(rng, m, 15, 23, outside=outside)
                    else:
                        victim = people.aged(rng, m, 24, 80, outside=outside)
                elif serious:
                    young_adult = rng.random() < PLANTED["sv_victim_aged_20_to_34"]
                    victim = people.aged(rng, m, 20, 34) if young_adult else people.aged(rng, m, 35, 80)
                elif rng.random() < 0.1:
                    victim = people.aged(rng, m, 10, 17)
                else:
                    victim = people.adult(rng)
            if suspect is None and rng.random() < (0.6 if serious else 0.3):
                if serious:
                    sex = "M" if rng.random() < PLANTED["sv_suspect_male"] else "F"
                    suspect = people.aged(rng, m, 14, 60, sex=sex)
                elif rng.random() < 0.25:
                    suspect = people.aged(rng, m, 10, 17)
                else:
                    suspect = people.adult(rng)
            night = hour >= 20 or hour < 4
            reference = f"CR{month:%Y%m}{seq:06d}"
            outcome = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0]
            crimes.write(
                {
                    "crime_reference": reference,
                    "offence_date": offence_day.isoformat(),
                    "recorded_date": recorded.isoformat(),
                    "offence_time": "" if rng.random() < 0.05 else f"{hour:02d}:{rng.randrange(60):02d}",
                    "ho_offence_code": code,
                    "crime_type": crime_type,
                    "lsoa_code": place.lsoa,
                    "domestic_abuse_flag": domestic,
                    "hate_strand": rng.choice(["Race", "Religion", "Sexual orientation", "Disability", "Transgender"])
                    if crime_type in ("Violence and sexual offences", "Public order") and rng.random() < 0.04
                    else "",
                    "weapon": weapon,
                    "night_time_economy_flag": "Y" if place.city_centre and night and rng.random() < 0.7 else "N",
                    "street_community_flag": "Y" if place.city_centre and rng.random() < 0.05 else "N",
                    "victim_type": victim_type,
                    "victim_person_key": victim.key if victim else "",
                    "victim_age": victim.age(m) if victim else "",
                    "victim_sex": victim.sex if victim else "",
                    "victim_ethnicity": _ethnicity(rng, victim) if victim else "",
                    "victim_home_lsoa": ("Outside Manchester" if victim.outside_city else victim.home.lsoa)
                    if victim
                    else "",
                    "suspect_person_key": suspect.key if suspect else "",
                    "suspect_age": suspect.age(m) if suspect else "",
                    "suspect_sex": suspect.sex if suspect else "",
                    "suspect_ethnicity": _ethnicity(rng, suspect) if suspect else "",
                    "outcome": outcome,
                }
            )
            mcr_street["other" if crime_type in VICTIMLESS else "victim_based"] += 1
            street.write(
                {
                    "crime_id": hashlib.sha256(reference.encode()).hexdigest(),
                    "month": label,
                    "reported_by": "Greater Manchester Police",
                    "falls_within": "Greater Manchester Police",
                    "location": f"On or near {place.ward}",
                    "lsoa_code": place.lsoa,
                    "lsoa_name": place.lsoa_name,
                    "crime_type": crime_type,
                    "last_outcome_category": outcome,
                }
            )

        for _ in range(self.volume("police__recorded_crime", m)):
            write_crime(rng.choices(list(CRIME_TYPES), weights=list(CRIME_TYPES.values()))[0])
        for member in people.cohort_members_due(m, self.months):  # planted cohort: known to police
            write_crime(rng.choice(["Shoplifting", "Public order", "Other theft", "Drugs"]), member)
        for victim in people.repeat_victims_due(m):  # planted repeat victims: a crime every other month
            write_crime(
                rng.choice(["Burglary", "Other theft", "Vehicle crime", "Theft from the person"]), victim=victim
            )
        crimes.close()

        for seq_asb in range(1, self.volume("police__asb_incidents", m) + 1):
            place = self.place()
            hour = rng.randrange(24)
            category = rng.choices(["Personal", "Nuisance", "Environmental"], weights=[25, 65, 10])[0]
            asb.write(
                {
                    "incident_reference": f"ASB{month:%Y%m}{seq_asb:06d}",
                    "incident_datetime": f"{self.day(month).isoformat()}T{hour:02d}:{rng.randrange(60):02d}:00",
                    "asb_category": category,
                    "lsoa_code": place.lsoa,
                    "covid_related_flag": "N",
                    "night_time_economy_flag": "Y" if place.city_centre and (hour >= 20 or hour < 4) else "N",
                    "street_community_flag": "Y" if place.city_centre and rng.random() < 0.1 else "N",
                }
            )
            mcr_street["asb"] += 1
            street.write(
                {
                    "crime_id": "",
                    "month": label,
                    "reported_by": "Greater Manchester Police",
                    "falls_within": "Greater Manchester Police",
                    "location": f"On or near {place.ward}",
                    "lsoa_code": place.lsoa,
                    "lsoa_name": place.lsoa_name,
                    "crime_type": "Anti-social behaviour",
                }
            )
        asb.close()
        self.rest_of_greater_manchester(street, label, mcr_street)
        street.close()

    def rest_of_greater_manchester(self, street: _Extract, label: str, mcr: Counter) -> None:
        """GMP's street-level file also holds the other nine districts: rows sized so that Manchester makes
        the planted share of the force's victim-based crime (and of its other crime and ASB). Drawn from a
        stream of their own, so adding them changes none of the rows above or of any later extract."""
        rng = random.Random(f"gm-street:{self.seed}:{label}")
        share = PLANTED["manchester_share_of_gm_victim_based"]
        others = (1 - share) / share
        batches = [
            (round(mcr["victim_based"] * others), VICTIM_BASED_TYPES),
            (round(mcr["other"] * others), OTHER_TYPES),
            (round(mcr["asb"] * others), {"Anti-social behaviour": 1}),
        ]
        seq = 0
        for rows, types in batches:
            for _ in range(rows):
                seq += 1
                crime_type = rng.choices(list(types), weights=list(types.values()))[0]
                place = rng.choices(self.gm_places, weights=self.gm_place_weights)[0]
                asb = crime_type == "Anti-social behaviour"
                street.write(
                    {
                        "crime_id": "" if asb else hashlib.sha256(f"GM{label}{seq:07d}".encode()).hexdigest(),
                        "month": label,
                        "reported_by": "Greater Manchester Police",
                        "falls_within": "Greater Manchester Police",
                        "location": f"On or near {place.ward}",
                        "lsoa_code": place.lsoa,
                        "lsoa_name": place.lsoa_name,
                        "crime_type": crime_type,
                        "last_outcome_category": "" if asb else rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0],
                    }
                )

    def stop_search(self, m: int, month: date) -> None:
        rng = self.rng
        out = self.open("police__stop_search", f"{month:%Y-%m}-greater-manchester")
        black = PLANTED["stop_search_black_share"]
        weights = [0.70 * (1 - black), 0.20 * (1 - black), black, 0.06 * (1 - black), 0.04 * (1 - black)]
        for _ in range(self.volume("police__stop_search", m)):
            legislation = rng.choices(list(SEARCH_LEGISLATION), weights=[w for _, w in SEARCH_LEGISLATION.values()])[0]
            located = rng.random() < 0.9
            outcome = rng.choices(list(SEARCH_OUTCOMES), weights=list(SEARCH_OUTCOMES.values()))[0]
            out.write(
                {
                    "search_type": rng.choices(
                        ["Person search", "Vehicle search", "Person and Vehicle search"], weights=[85, 5, 10]
                    )[0],
                    "search_datetime": f"{self.day(month).isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}"
                    ":00+00:00",
                    "part_of_policing_operation": "False",
                    "latitude": f"{rng.uniform(53.40, 53.54):.6f}" if located else "",
                    "longitude": f"{rng.uniform(-2.32, -2.15):.6f}" if located else "",
                    "gender": rng.choices(["Male", "Female", "Other"], weights=[88, 11, 1])[0],
                    "age_range": rng.choices(["10-17", "18-24", "25-34", "over 34"], weights=[15, 35, 30, 20])[0],
                    "officer_defined_ethnicity": rng.choices(ETHNIC_GROUPS, weights=weights)[0],
                    "legislation": legislation,
                    "object_of_search": SEARCH_LEGISLATION[legislation][0],
                    "outcome": outcome,
                    "outcome_linked_to_object": "True"
                    if outcome != "A no further action disposal" and rng.random() < 0.6
                    else "False",
                    "removal_of_more_than_outer_clothing": "True" if rng.random() < 0.03 else "False",
                }
            )
        out.close()

    @staticmethod
    def _yj_months_back(earlier: date, month: date) -> int:
        """Whole calendar months from ``earlier``'s month back from ``month`` (a first of month)."""
        return (month.year - earlier.year) * 12 + month.month - earlier.month

    @staticmethod
    def _yj_month_start(month: date, back: int) -> date:
        index = month.year * 12 + month.month - 1 - back
        return date(index // 12, index % 12 + 1, 1)

    def youth_justice(self, m: int, month: date) -> None:
        """Cases disposed of in the month (the file's month is the disposal's), each offence some weeks before:
        out-of-court outcomes follow within weeks, court outcomes within months (YJB: Youth Justice Statistics,
        time from offence to completion). A few children offended at 17 and were dealt with at 18."""
        rng, people = self.rng, self.people
        out = self.open("youth_justice__cases", f"{month:%Y-%m}")
        children = [people.aged(rng, m, 10, 17) for _ in range(self.volume("youth_justice__cases", m))]
        # A cohort member can outgrow youth justice in a run of more than two years: 18 is the oldest at disposal.
        children += [child for child in people.cohort_members_due(m, self.months) if child.age(m) <= 18]
        children += [people.aged(rng, m, 18, 18) for _ in range(max(1, round(len(children) * YJ_AGED_18_SHARE)))]
        for seq, child in enumerate(children, start=1):
            disposal = self.day(month)
            outcome = rng.choices(YJ_OUTCOMES, weights=YJ_OUTCOME_WEIGHTS)[0]
            out_of_court = outcome in ("Community resolution", "Youth caution", "Youth conditional caution")
            offence = disposal - timedelta(days=rng.randint(*(YJ_LAG_OUT_OF_COURT if out_of_court else YJ_LAG_COURT)))
            age_at_offence = child.age(m - self._yj_months_back(offence, month))
            if age_at_offence > 17:  # aged 18 at disposal: the offence was before the 18th birthday
                # The last month they were 17: within a year for most; longer for a cohort member in a long run.
                back = next(k for k in itertools.count(1) if child.age(m - k) <= 17)
                offence = self.day(self._yj_month_start(month, back))
                age_at_offence = 17
            elif age_at_offence < 10:  # too young then: the offence was in the disposal's month
                offence = month + timedelta(days=rng.randrange(disposal.day))
                age_at_offence = child.age(m)
            start = disposal + timedelta(days=rng.randint(10, 40)) if outcome != "Community resolution" else None
            out.write(
                {
                    "case_id": f"YJ{month:%Y%m}{seq:04d}",
                    "child_person_key": child.key,
                    "age_at_offence": age_at_offence,
                    "offence_date": offence.isoformat(),
                    "disposal_date": disposal.isoformat(),
                    "age_at_disposal": child.age(m),
                    "offence_category": rng.choice(YJ_OFFENCES),
                    "outcome": outcome,
                    "gravity_score": rng.choices(range(1, 9), weights=[10, 25, 25, 15, 10, 8, 5, 2])[0],
                    "first_time_entrant": "N" if child.key in self.seen_by_yj else "Y",
                    "intervention_start_date": start.isoformat() if start else "",
                    "intervention_end_date": (start + timedelta(days=rng.randint(90, 365))).isoformat()
                    if start and rng.random() < 0.5
                    else "",
                    "home_lsoa_code": "" if child.outside_city else child.home.lsoa,
                    "sex": child.sex,
                    "ethnicity": _ethnicity(rng, child),
                }
            )
            self.seen_by_yj.add(child.key)
        out.close()

    def education(self, m: int, month: date) -> None:
        rng, people = self.rng, self.people
        label = f"{month:%Y-%m}"
        out = self.open("education__exclusions", label)
        holiday = month.month == 8
        pupils = [
            people.aged(rng, m, 5, 16) for _ in range(self.volume("education__exclusions", m) // (10 if holiday else 1))
        ]
        pupils += people.cohort_members_due(m, self.months)
        for seq, pupil in enumerate(pupils, start=1):
            kind = rng.choices(["FIXD", "LNCH", "PERM"], weights=[85, 10, 5])[0]
            age = pupil.age(m)
            out.write(
                {
                    "exclusion_id": f"EX{month:%Y%m}{seq:04d}",
                    "pupil_person_key": pupil.key,
                    "school_id": pupil.school,
                    "exclusion_type": kind,
                    "start_date": self.day(month).isoformat(),
                    "sessions": 1 if kind == "LNCH" else rng.randint(1, 10),
                    "reason": rng.choice(EXCLUSION_REASONS),
                    "age_at_start": age,
                    "year_group": min(max(age - 5, 0), 13),
                    "sex": pupil.sex,
                    "ethnicity": _ethnicity(rng, pupil),
                }
            )
        out.close()

        out = self.open("education__ap_placements", label)
        for seq in range(1, self.volume("education__ap_placements", m) + 1):
            pupil = people.cohort_or_aged(rng, 0.5, m, 11, 16)
            start = self.day(month)
            out.write(
                {
                    "placement_id": f"AP{month:%Y%m}{seq:04d}",
                    "pupil_person_key": pupil.key,
                    "provider_type": rng.choices(
                        ["Pupil referral unit", "AP academy", "Independent AP", "Other"], weights=[45, 30, 20, 5]
                    )[0],
                    "start_date": start.isoformat(),
                    "end_date": (start + timedelta(days=rng.randint(30, 200))).isoformat()
                    if rng.random() < 0.4
                    else "",
                    "reason": rng.choices(
                        ["Permanent exclusion", "Behaviour support", "Medical", "Awaiting school place", "Other"],
                        weights=[35, 35, 15, 10, 5],
                    )[0],
                    "age_at_start": max(pupil.age(m), 4),
                }
            )
        out.close()

        if month.month in TERMS:  # the attendance return for the term just ending
            term, start_month, start_day = TERMS[month.month]
            start = date(month.year if start_month <= month.month else month.year - 1, start_month, start_day)
            out = self.open("education__attendance", label)
            # A sample of the city's pupils (all of the cohort among them), one row per pupil and term.
            pupils = range(min(people.young, int(5000 * self.scale) + 100))
            for j in [*pupils, *range(people.young, people.young + people.cohort)]:
                pupil = people(people.first_young + j)
                age = pupil.age(m)
                if not 5 <= age <= 16:
                    continue
                possible = rng.randint(110, 140)
                absence_rate = (
                    rng.betavariate(2, 5) * 0.6 if pupil.index >= people.first_cohort else rng.betavariate(1.2, 20)
                )
                missed = min(possible, int(possible * absence_rate))
                out.write(
                    {
                        "pupil_person_key": pupil.key,
                        "school_id": pupil.school,
                        "term_start_date": start.isoformat(),
                        "term": term,
                        "sessions_possible": possible,
                        "sessions_missed": missed,
                        "persistent_absence_flag": "Y" if missed >= possible * 0.1 else "N",
                        "age_at_term_start": age,
                        "ethnicity": _ethnicity(rng, pupil),
                    }
                )
            out.close()

    def health(self, m: int, month: date) -> None:
        rng, people = self.rng, self.people
        label = f"{month:%Y-%m}"
        out = self.open("health__ae_assault_attendances", label)
        for seq in range(1, self.volume("health__ae_assault_attendances", m) + 1):
            if rng.random() < 0.1:
                patient = people(people.first_cohort + rng.randrange(people.cohort))
            elif rng.random() < 0.2:
                patient = people.aged(rng, m, 10, 17)
            else:
                patient = people.adult(rng)
            linked = rng.random() < (0.9 if patient.index >= people.first_cohort else 0.6)
            arrival = self.day(month)
            out.write(
                {
                    "attendance_id": f"AE{month:%Y%m}{seq:05d}",
                    "patient_person_key": patient.key if linked else "",
                    "arrival_datetime": f"{arrival.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
                    "age": patient.age(m),
                    "sex": patient.sex,
                    "site": AE_SITES[1] if patient.age(m) < 16 else rng.choice(AE_SITES),
                    "assault_method": rng.choices(AE_METHODS, weights=AE_METHOD_WEIGHTS)[0],
                    "location_type": rng.choices(AE_LOCATIONS, weights=AE_LOCATION_WEIGHTS)[0],
                    "incident_lsoa_code": self.place().lsoa if rng.random() < 0.8 else "",
                }
            )
        out.close()

        # Aggregate by nature: a count per LSOA, month and age band. Tied to the real city's size, not scale.
        admissions = Counter()
        expected = PLANTED["alcohol_admissions_per_100k_year"] * self.population_total / 100_000 / 12
        for _ in range(int(rng.gauss(expected, expected * 0.03))):
            band = rng.choices(list(ADMISSION_AGE_BANDS), weights=list(ADMISSION_AGE_BANDS.values()))[0]
            admissions[(self.place().lsoa, band)] += 1
        out = self.open("health__alcohol_admissions", label)
        for (lsoa, band), count in sorted(admissions.items()):
            out.write({"lsoa_code": lsoa, "month": label, "age_band": band, "admissions": count})
        out.close()

        # A&E Navigators: the trust sends raw NHS numbers here (its agreement allows it, for linkage); the gate
        # replaces each with the partnership pseudonym before anything is loaded.
        out = self.open("health__navigator_referrals", label)
        for seq in range(1, self.volume("health__navigator_referrals", m) + 1):
            young = people.cohort_or_aged(rng, 0.8, m, 10, 17)
            nhs = synthetic_nhs_number(young.key)
            out.write(
                {
                    "referral_id": f"NV{month:%Y%m}{seq:04d}",
                    "nhs_number": f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" if rng.random() < 0.3 else nhs,
                    "referral_date": self.day(month).isoformat(),
                    "age": min(max(young.age(m), 10), 25),
                    "sex": young.sex,
                    "engaged": "Y" if rng.random() < 0.6 else "N",
                }
            )
        out.close()

        out = self.open("health__treatment_episodes", label)
        for seq in range(1, self.volume("health__treatment_episodes", m) + 1):
            client = people.aged(rng, m, 18, 75)
            substance = rng.choices(list(TREATMENT_SUBSTANCES), weights=list(TREATMENT_SUBSTANCES.values()))[0]
            start = self.day(month)
            exited = rng.random() < 0.6
            success = PLANTED["alcohol_exits_successful"] if substance == "Alcohol only" else 0.45
            out.write(
                {
                    "episode_id": f"TX{month:%Y%m}{seq:04d}",
                    "client_person_key": client.key,
                    "substance_group": substance,
                    "start_date": start.isoformat(),
                    "exit_date": (start + timedelta(days=rng.randint(30, 270))).isoformat() if exited else "",
                    "exit_reason": ("Successful completion" if rng.random() < success else rng.choice(TREATMENT_EXITS))
                    if exited
                    else "",
                    "referral_source": rng.choices(list(REFERRALS), weights=list(REFERRALS.values()))[0],
                    "age": client.age(m),
                    "sex": client.sex,
                }
            )
        out.close()

    def council(self, m: int, month: date) -> None:
        rng = self.rng
        label = f"{month:%Y-%m}"
        # Covid-related requests were 40% in 2021/22 (1,224 of 3,027); a few per cent outside the pandemic.
        covid_share = 0.40 if date(2020, 3, 1) <= month < date(2022, 4, 1) else 0.02
        out = self.open("council__asb_requests", label)
        for seq in range(1, self.volume("council__asb_requests", m) + 1):
            out.write(
                {
                    "request_id": f"RFS{month:%Y%m}{seq:06d}",
                    "received_date": self.day(month).isoformat(),
                    "ward_code": self.place().ward_code,
                    "category": rng.choices(
                        list(ASB_REQUEST_CATEGORIES), weights=list(ASB_REQUEST_CATEGORIES.values())
                    )[0],
                    "covid_related_flag": "Y" if rng.random() < covid_share else "N",
                }
            )
        out.close()
        out = self.open("council__asb_case_reviews", label)
        for seq in range(1, self.volume("council__asb_case_reviews", m) + 1):
            applied = self.day(month)
            met = rng.random() < 0.7
            out.write(
                {
                    "review_id": f"CRV{month:%Y%m}{seq:04d}",
                    "application_date": applied.isoformat(),
                    "ward_code": self.place().ward_code,
                    "threshold_met": "Y" if met else "N",
                    "action_plan_date": (applied + timedelta(days=rng.randint(10, 40))).isoformat() if met else "",
                    "outcome": rng.choice(["Action plan agreed", "Referred to another agency", "Open"])
                    if met
                    else "No further action",
                }
            )
        out.close()

    def probation(self, m: int, month: date) -> None:
        rng, people = self.rng, self.people
        out = self.open("probation__caseload", f"{month:%Y-%m}")
        caseload = int(MONTHLY_VOLUME["probation__caseload"] * self.scale)
        for j in range(caseload):  # the same people month after month: a snapshot of the caseload
            person = people(people.repeat + j)
            age = person.age(m)
            d = hashlib.sha256(f"probation:{person.key}".encode()).digest()
            accommodation = ["Settled", "Settled", "Settled", "Unsettled", "Homeless", "Custody"][d[0] % 6]
            reoffends = 0.35 if accommodation in ("Unsettled", "Homeless") else 0.15
            band = (
                "18-24"
                if age < 25
                else "25-34"
                if age < 35
                else "35-49"
                if age < 50
                else "50-64"
                if age < 65
                else "65+"
            )
            out.write(
                {
                    "person_key": person.key,
                    "snapshot_month": f"{month:%Y-%m}",
                    "age_band": band,
                    "sex": person.sex,
                    "ethnicity": person.ethnicity,
                    "accommodation": accommodation,
                    "ete_status": ["Employed", "Education or training", "Unemployed", "Not available for work"][
                        d[1] % 4
                    ],
                    "cohort": "IOM" if d[2] < 25 else "MAPPA" if d[2] < 40 else "None",
                    "proven_reoffence_flag": "Y" if rng.random() < reoffends / 12 * (m + 1) else "N",
                }
            )
        out.close()


def generate(
    landing: Path | None = None,
    *,
    seed: int = 2024,
    first_month: str = "2024-04",
    months: int = 12,
    scale: float = 1.0,
) -> dict[str, list[Path]]:
    """Write every dataset's extracts for the months asked; return the files written per dataset."""
    landing = Path(landing or settings.landing_dir())
    return Generator(landing, seed, first_month, months, scale).run()
