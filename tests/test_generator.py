"""The synthetic extracts: deterministic, monthly, real Manchester geography, people shared across agencies."""

import csv
import hashlib
import json
import secrets

from partnership import settings
from partnership.demo.generator import People, generate, load_places
from partnership.registry import get_dataset, load_registry
from partnership.validation import validate_file


def _digest(files):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for paths in files.values() for p in paths}


def test_same_seed_writes_identical_files_and_another_seed_does_not(tmp_path):
    first = generate(tmp_path / "a", seed=7, months=2, scale=0.2)
    again = generate(tmp_path / "b", seed=7, months=2, scale=0.2)
    other = generate(tmp_path / "c", seed=8, months=2, scale=0.2)
    assert _digest(first) == _digest(again)
    assert _digest(first) != _digest(other)


def test_files_are_split_by_month_and_named_as_the_registry_expects(tmp_path):
    written = generate(tmp_path, months=4, first_month="2023-11", scale=0.2)
    assert set(written) == {ds.name for ds in load_registry()}
    for name, files in written.items():
        ds = get_dataset(name)
        expected = {"monthly": 4, "termly": 1, "annual": 1}[ds.cadence]  # Spring term's return is in March
        assert len(files) == expected, name
        for f in files:
            assert f.match(ds.landing_pattern) and f.parent == tmp_path / ds.landing_subdir
            with open(f, newline="") as fh:
                assert next(csv.reader(fh)) == ds.file_headers
        if ds.cadence == "monthly":
            assert [m in f.name for f, m in zip(files, ("2023-11", "2023-12", "2024-01", "2024-02"), strict=True)]


def test_locations_are_real_manchester_lsoas(tmp_path):
    manchester = {p.lsoa for p in load_places()}
    assert len(manchester) == 282
    files = generate(tmp_path, months=2, scale=0.2)["police__recorded_crime"]
    seen = {row["lsoa_code"] for f in files for row in csv.DictReader(open(f, newline=""))}
    assert seen <= manchester
    assert len(seen) > 100


def test_the_same_person_appears_in_several_agencies_files(tmp_path):
    """Each agency sends its people's details (the gate links them): one person's surname and date of birth, as
    agencies write them, turn up in police, youth justice, education and health files."""
    from partnership.linkage import standardise

    written = generate(tmp_path, months=6, scale=0.5)
    people_by_agency = {}
    for name, files in written.items():
        ds = get_dataset(name)
        people = people_by_agency.setdefault(ds.agency, set())
        for linked in ds.linked_persons:
            columns = {field: column for column, field in linked.fields}
            for f in files:
                for row in csv.DictReader(open(f, newline="")):
                    surname = standardise.surname(row[columns["surname"]])
                    dob = standardise.date_of_birth(row[columns["date_of_birth"]])
                    if surname and dob:
                        people.add((surname, dob))
    police, yj, edu, health = (people_by_agency[a] for a in ("police", "youth_justice", "education", "health"))
    assert police & yj and yj & edu and edu & health


def test_generated_files_pass_their_contract_and_suite(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("PSEUDONYMISATION_KEY_NHS_NUMBER", secrets.token_hex(32))
    from partnership.pseudonymise import pseudonymise_file
    from partnership.validation import validate_file

    for name, files in generate(tmp_path / "landing", months=1, first_month="2024-03", scale=0.2).items():
        ds, path = get_dataset(name), files[0]
        if any(c.pseudonymise for c in ds.columns):  # as the gate does: the pseudonymised copy is validated
            path = pseudonymise_file(ds, path).path
        report = validate_file(ds, path)
        assert report.success, report.reason()


def test_a_run_of_more_than_a_year_generates_children_of_youth_justice_age_every_month(tmp_path):
    # In the 13th month nobody in the generated population is 18 (adults were 18 or more at the start, young
    # people 16 at most), and after it the 18-year-olds are among the young people: the draw of a child dealt
    # with at 18 once returned anyone, and a 75-year-old's case failed the contract of that month's file.
    ds = get_dataset("youth_justice__cases")
    ages = {c.name: (c.min, c.max) for c in ds.columns if c.name in ("age_at_offence", "age_at_disposal")}
    files = generate(tmp_path, months=14, first_month="2024-04", scale=0.1)["youth_justice__cases"]
    for f in files[12:]:  # the 13th month, and the 14th
        rows = list(csv.DictReader(open(f, newline="")))
        assert rows, f.name
        for column, (low, high) in ages.items():
            assert all(low <= int(r[column]) <= high for r in rows), f"{f.name}: {column} outside {low}..{high}"
        assert validate_file(ds, f).success, f.name
    # From the 14th month the 18-year-olds are young people of the run's start, and they are found.
    assert any(r["age_at_disposal"] == "18" for r in csv.DictReader(open(files[13], newline="")))


def test_youth_justice_cases_arrive_in_the_month_of_their_disposal(tmp_path):
    # The YJB dates first-time entrants by the disposal: each monthly file holds the cases disposed of in its
    # month, with the offence some days to months before; a few children offended at 17 and were dealt with at 18.
    from datetime import date

    files = generate(tmp_path, months=3, first_month="2024-04", scale=0.5)["youth_justice__cases"]
    lags, aged_18 = [], 0
    for f, month in zip(files, ("2024-04", "2024-05", "2024-06"), strict=True):
        for r in csv.DictReader(open(f, newline="")):
            assert r["disposal_date"].startswith(month), f.name
            lag = (date.fromisoformat(r["disposal_date"]) - date.fromisoformat(r["offence_date"])).days
            assert lag >= 0
            lags.append(lag)
            assert 0 <= int(r["age_at_disposal"]) - int(r["age_at_offence"]) <= 1
            aged_18 += r["age_at_disposal"] == "18"
    assert sum(lag > 31 for lag in lags) > len(lags) / 4, "many offences were in an earlier month"
    assert aged_18 > 0


def test_attendance_returns_carry_the_pupils_ethnicity(tmp_path):
    files = generate(tmp_path, months=3, first_month="2024-05", scale=0.2)["education__attendance"]
    ethnicities = {r["ethnicity"] for f in files for r in csv.DictReader(open(f, newline=""))}
    assert {"White", "Black", "Asian", "Not stated"} <= ethnicities


def test_every_offence_code_generated_is_a_home_office_code_the_partnership_classifies():
    from partnership import settings
    from partnership.demo.generator import HO_CODES

    seeds = settings.DBT_PROJECT_DIR / "seeds"
    with open(seeds / "ho_offence_codes.csv", newline="") as f:
        home_office = {r["ho_code"] for r in csv.DictReader(f)}
    with open(seeds / "offence_code_classes.csv", newline="") as f:
        classified = {r["ho_offence_code"]: r["police_uk_crime_type"] for r in csv.DictReader(f)}
    for crime_type, codes in HO_CODES.items():
        for code in codes:
            assert code in home_office, code
            assert classified.get(code) == crime_type, code


def test_crimes_are_recorded_in_the_files_month_some_long_after_the_offence(tmp_path):
    from datetime import date

    (path,) = generate(tmp_path, months=1, first_month="2024-04", scale=1)["police__recorded_crime"]
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    recorded = [date.fromisoformat(r["recorded_date"]) for r in rows]
    delays = [(rec - date.fromisoformat(r["offence_date"])).days for rec, r in zip(recorded, rows, strict=True)]
    assert all(d.strftime("%Y-%m") == "2024-04" for d in recorded)
    assert min(delays) >= 0
    assert sum(d <= 7 for d in delays) / len(delays) > 0.8  # most recorded within a week
    assert any(d >= 365 for d in delays)  # historic offences, recorded years later
    assert {r["victim_type"] for r in rows if r["crime_type"] == "Robbery"} == {"Person", "Business"}


FIRE_EXAMPLE = settings.PROJECT_ROOT / "docs" / "examples" / "fire__firesetter_referrals.yml"


def registry_with_fire_example(tmp_path, monkeypatch, entry: str | None = None):
    """The registry with the fire example of docs/extending.md added (or ``entry`` in its place), as a data
    engineer onboarding GMFRS would have it."""
    folder = registry_without_fire(tmp_path, monkeypatch)
    (folder / FIRE_EXAMPLE.name).write_text(entry or FIRE_EXAMPLE.read_text())


def registry_without_fire(tmp_path, monkeypatch):
    """A copy of the registry without the fire example (so the test holds once GMFRS is really onboarded)."""
    import shutil

    from partnership import registry

    folder = tmp_path / "registry"
    shutil.copytree(registry.REGISTRY_DIR, folder, ignore=shutil.ignore_patterns(FIRE_EXAMPLE.name))
    monkeypatch.setattr(registry, "REGISTRY_DIR", folder)
    return folder


def test_a_dataset_with_only_a_registry_entry_is_generated_from_its_profile(tmp_path, monkeypatch, data_dir):
    # No demo module knows GMFRS: its entry's generation profile is all the generator reads.
    from partnership.validation import build_suite, validate_file

    registry_without_fire(tmp_path / "without", monkeypatch)
    before = generate(tmp_path / "before", months=2, scale=1)
    registry_with_fire_example(tmp_path, monkeypatch)
    fire = get_dataset("fire__firesetter_referrals")
    monkeypatch.setattr(settings, "EXPECTATIONS_DIR", tmp_path / "expectations")
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / f"{fire.name}.json").write_text(json.dumps(build_suite(fire)))

    after = generate(tmp_path / "after", months=2, scale=1)
    files = after.pop(fire.name)
    assert [f.name for f in files] == ["firesetter_referrals_2024-04.csv", "firesetter_referrals_2024-05.csv"]
    assert _digest(after) == _digest(before), "adding a dataset leaves every other extract byte-identical"
    rows = []
    for path in files:
        report = validate_file(fire, path)
        assert report.success, report.reason()
        rows += list(csv.DictReader(open(path, newline="")))
    assert 34 <= len(rows) <= 46  # 20 a month at scale 1, give or take 5% a month
    assert {r["outcome"] for r in rows} > {""}, "a share of outcomes is left blank, as the profile says"
    assert all(5 <= int(r["age_at_referral"]) <= 17 for r in rows)
    # The children are the population's: the details sent are theirs (as other agencies send them), give or take
    # a record's errors.
    from datetime import date

    from partnership.demo.identities import identity_of
    from partnership.linkage import standardise

    population = People(2024, 1, load_places())
    young = {}
    for person in map(population, range(population.first_young, population.first_cohort)):
        truth = identity_of(person, date(2024, 4, 1))
        young[standardise.surname(truth.surname), truth.dob] = person
    found = [
        young.get((standardise.surname(r["child_surname"]), standardise.date_of_birth(r["child_date_of_birth"])))
        for r in rows
    ]
    assert sum(p is not None for p in found) >= 0.8 * len(rows)  # a typing error or a swapped date: not found
    assert all(p.sex == r["sex"] for p, r in zip(found, rows, strict=True) if p)


def test_a_dataset_no_module_writes_and_with_no_profile_is_refused_by_name(tmp_path, monkeypatch):
    import pytest

    from partnership.demo.generator import GenerationError

    registry_with_fire_example(tmp_path, monkeypatch, FIRE_EXAMPLE.read_text().split("\ngeneration:")[0] + "\n")
    with pytest.raises(GenerationError, match="fire__firesetter_referrals.yml: no demo data can be made"):
        generate(tmp_path / "landing", months=1, scale=0.2)


def test_the_generator_never_overwrites_a_different_file_already_in_landing(tmp_path):
    import pytest

    from partnership.demo.generator import GenerationError

    files = generate(tmp_path, months=1, scale=0.2)
    crimes = files["police__recorded_crime"][0]
    generate(tmp_path, months=1, scale=0.2)  # the same bytes again: nothing changes, nothing is refused
    crimes.write_text(crimes.read_text() + "an agency's correction\n")
    with pytest.raises(GenerationError, match="already in the landing zone with other content"):
        generate(tmp_path, months=1, scale=0.2)
    assert crimes.read_text().endswith("an agency's correction\n"), "the landed file is as the agency sent it"
    assert not list(crimes.parent.glob(".*.generating"))
