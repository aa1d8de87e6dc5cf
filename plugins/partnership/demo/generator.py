"""Seeded synthetic agency extracts, written to the landing zone as the agencies would send them.

Agency data are not public, so the project makes its own: one CSV file per dataset and month (termly and
annual datasets when due), named by the registry's landing pattern and laid out by its columns, using the
real Manchester LSOAs and wards (ONS lookup and IMD, in ``dbt/seeds``). One population of pseudonymised
people feeds every agency, so the same person key turns up in police, youth justice, education, health and
probation files.

This module holds the run (:class:`Generator`, :func:`generate`); beside it are the data tables
(``tables.py``), the people and places (``population.py``), the offence definitions (``offences.py``) and one
module per agency writing its extracts (``police.py``, ``youth_justice.py``, ``education.py``, ``health.py``,
``council.py``, ``probation.py``).

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
import filecmp
import random
from datetime import date, timedelta
from pathlib import Path

from partnership import settings
from partnership.demo import identities, profiled
from partnership.demo.council import council
from partnership.demo.education import education
from partnership.demo.health import health
from partnership.demo.offences import OffenceRules, load_offence_rules
from partnership.demo.police import police, stop_search
from partnership.demo.population import (
    People,
    Person,
    Place,
    days_in_month,
    load_gm_places,
    load_places,
    month_starts,
    synthetic_nhs_number,
)
from partnership.demo.probation import probation
from partnership.demo.tables import ADMISSION_AGE_BANDS, HO_CODES, PLANTED, POPULATION_TOTAL, REFERRALS
from partnership.demo.youth_justice import youth_justice
from partnership.landing import sha256_of
from partnership.linkage import files as linkage_files
from partnership.linkage import quality as linkage_quality
from partnership.registry import get_dataset, load_registry

# Names the tests, the benchmarks and the defect injector read from here (the tables and people live beside it).
__all__ = [
    "ADMISSION_AGE_BANDS",
    "HO_CODES",
    "PLANTED",
    "REFERRALS",
    "Generator",
    "OffenceRules",
    "People",
    "Person",
    "Place",
    "generate",
    "load_gm_places",
    "load_places",
    "month_starts",
    "synthetic_nhs_number",
]


class GenerationError(RuntimeError):
    """The registry asks for a dataset the generator cannot make."""


# The datasets the agency modules here write (with the planted figures); any other is drawn from its registry
# entry's generation profile (profiled.py).
WRITTEN_BY_MODULES = frozenset(
    {
        "council__asb_case_reviews",
        "council__asb_requests",
        "education__ap_placements",
        "education__attendance",
        "education__exclusions",
        "health__ae_assault_attendances",
        "health__alcohol_admissions",
        "health__navigator_referrals",
        "health__treatment_episodes",
        "police__asb_incidents",
        "police__recorded_crime",
        "police__stop_search",
        "police_uk__street_crime",
        "probation__caseload",
        "reference__lsoa_population",
        "youth_justice__cases",
    }
)


def datasets_drawn_from_profiles() -> list:
    """The registry's datasets no agency module writes; each must say in its entry how it is drawn."""
    drawn = []
    for ds in load_registry():
        from_profile = ds.generation is not None and ds.generation.drawn_from_profile
        if ds.name in WRITTEN_BY_MODULES and from_profile:
            raise GenerationError(f"registry/{ds.name}.yml: a demo module writes it; drop generation.columns")
        if ds.name not in WRITTEN_BY_MODULES:
            if not from_profile:
                raise GenerationError(
                    f"registry/{ds.name}.yml: no demo data can be made for it: give it generation.columns"
                    " (docs/extending.md, Adding a dataset)"
                )
            drawn.append(ds)
    return drawn


# The errors agencies' records of people's details have (typing errors, nicknames, a move, a missing identifier).
LINKAGE_NOISE = identities.Noise()


def _text(value):
    return value.key if isinstance(value, Person) else value


class Extract:
    """One dataset's file, opened for streaming rows into it in the registry's column order.

    A row gives each person column the :class:`Person` it is about. For a dataset that sends people's details
    for linkage (the registry's ``linked_persons``) the person is written as those details, as the agency holds
    them, each record with its own errors (:mod:`partnership.demo.identities`); otherwise as the person's key.
    Who each such record really is goes, when ``truth_dir`` is given, to a truth sample for the linkage-quality
    assessment (:mod:`partnership.linkage.quality`), never into the extract.
    """

    def __init__(self, landing: Path, name: str, label: str, first_month: date, truth_dir: Path | None = None):
        ds = get_dataset(name)
        self.ds, self.first_month, self.truth_dir = ds, first_month, truth_dir
        self._truth: list[tuple[str, int, int, str, str, str]] = []  # source, file row, person, groups
        linked = {p.person: p.detail_columns(ds) for p in ds.linked_persons}
        self.columns = [h for c in ds.columns for h in linked.get(c.name, [c.name])]
        folder = landing / ds.landing_subdir
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / ds.landing_pattern.replace("*", label)
        # A file of that name already landed is never overwritten: the extract is written beside it (a name no
        # landing pattern matches) and compared when complete (close).
        self._writing = self.path.with_name(f".{self.path.name}.generating") if self.path.exists() else self.path
        self._file = open(self._writing, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(ds.file_headers)
        self.rows = 0

    def write(self, row: dict) -> None:
        for linked in self.ds.linked_persons:
            person = row.get(linked.person)
            if isinstance(person, Person):
                # Seeded by the record, so the same run writes the same bytes (the loader skips them by checksum).
                rng = random.Random(f"{self.ds.name}:{linked.person}:{person.key}:{self.rows}")
                truth = identities.identity_of(person, self.first_month)
                details = identities.recorded_details(rng, truth, [f for _, f in linked.fields], LINKAGE_NOISE)
                self._truth.append(
                    (
                        linkage_files.source_of(self.ds, linked),
                        self.rows + 2,  # the file's line: its header is line 1
                        truth.person,
                        truth.ethnic_group,
                        truth.sex,
                        truth.age_band,
                    )
                )
                # A loaded column read for linkage (sex) keeps the value the row gave it.
                row.update({c: details[f] for c, f in linked.fields if c not in self.ds.column_names})
        self._writer.writerow([_text(row.get(c, "")) for c in self.columns])
        self.rows += 1

    def close(self) -> None:
        self._file.close()
        if self._writing != self.path:
            same = filecmp.cmp(self._writing, self.path, shallow=False)
            self._writing.unlink()
            if not same:
                raise GenerationError(
                    f"{self.path} is already in the landing zone with other content: it was not overwritten; move it"
                    " away (or load it) before generating"
                )
        settings.upload_marker(self.path).touch()  # complete, as an agency should say (docs/operating.md)
        if self.truth_dir and self._truth:
            self._write_truth()

    def _write_truth(self) -> None:
        """The truth sample of this file's linked records, keyed as the gate keys them in the linkage index."""
        sha256 = sha256_of(self.path)
        folder = self.truth_dir / self.ds.name
        settings.private_folder(folder)
        with open(
            folder / f"{self.path.name}.truth.csv", "w", newline="", encoding="utf-8", opener=settings.private_opener
        ) as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(linkage_quality.TRUTH_COLUMNS)
            for source, row, *rest in self._truth:
                writer.writerow([source, linkage_files.record_key(sha256, row), *rest])


class Generator:
    """One run: the seeded random stream, the people and places, and the files written so far. Each agency's
    extracts are written by a function of its own module (police, youth_justice, education, health, council,
    probation), called with the generator in a fixed order, so the draws from the one stream come in the same
    order every time."""

    def __init__(
        self, landing: Path, seed: int, first_month: str, months: int, scale: float, truth_dir: Path | None = None
    ):
        self.landing, self.months, self.scale, self.seed, self.truth_dir = landing, months, scale, seed, truth_dir
        self.rng = random.Random(seed)
        self.places = load_places()
        self.gm_places = load_gm_places()
        self.gm_place_weights = [p.weight for p in self.gm_places]
        self.place_weights = [p.weight for p in self.places]
        self.people = People(seed, scale, self.places)
        self.offence_rules = load_offence_rules()
        self.month_list = month_starts(first_month, months)
        self.seen_by_yj: set[str] = set()
        self.written: dict[str, list[Path]] = {}

    # -- helpers ---------------------------------------------------------------------------------------

    def open(self, name: str, label: str) -> Extract:
        out = Extract(self.landing, name, label, self.month_list[0], self.truth_dir)
        self.written.setdefault(name, []).append(out.path)
        return out

    def place(self) -> Place:
        return self.rng.choices(self.places, weights=self.place_weights)[0]

    def rows_per_month(self, name: str) -> int:
        profile = get_dataset(name).generation
        if profile is None:
            raise GenerationError(f"registry/{name}.yml: no generation.rows_per_month")
        return profile.rows_per_month

    def volume(self, name: str, m: int) -> int:
        """Rows of the month's extract: the registry's generation.rows_per_month at scale 1, give or take 5%."""
        base = self.rows_per_month(name) * self.scale
        if name.startswith("police__") and m == PLANTED["collapse_month_index"]:
            base *= PLANTED["collapse_factor"]
        return max(1, int(self.rng.gauss(base, base * 0.05)))

    def day(self, month: date) -> date:
        return month + timedelta(days=self.rng.randrange(days_in_month(month)))

    # -- the run ---------------------------------------------------------------------------------------

    def run(self) -> dict[str, list[Path]]:
        drawn = datasets_drawn_from_profiles()
        self.population()
        for m, month in enumerate(self.month_list):
            police(self, m, month)
            stop_search(self, m, month)
            youth_justice(self, m, month)
            education(self, m, month)
            health(self, m, month)
            council(self, m, month)
            probation(self, m, month)
            for ds in drawn:
                profiled.write_month(self, ds, m, month)
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


def generate(
    landing: Path | None = None,
    *,
    seed: int = 2024,
    first_month: str = "2024-04",
    months: int = 12,
    scale: float = 1.0,
    truth_dir: Path | None = None,
) -> dict[str, list[Path]]:
    """Write every dataset's extracts for the months asked; return the files written per dataset. With
    ``truth_dir``, who each linked record really is goes there too (the linkage-quality truth sample)."""
    landing = Path(landing or settings.landing_dir())
    return Generator(landing, seed, first_month, months, scale, truth_dir).run()
