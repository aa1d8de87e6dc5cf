"""The synthetic extracts: deterministic, monthly, real Manchester geography, people shared across agencies."""

import csv
import hashlib

from partnership.generator import generate, load_places
from partnership.registry import get_dataset, load_registry


def _digest(files):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for paths in files.values() for p in paths}


def test_same_seed_writes_identical_files_and_another_seed_does_not(tmp_path):
    first = generate(tmp_path / "a", seed=7, months=2, scale=0.2)
    again = generate(tmp_path / "b", seed=7, months=2, scale=0.2)
    other = generate(tmp_path / "c", seed=8, months=2, scale=0.2)
    assert _digest(first) == _digest(again)
    assert _digest(first) != _digest(other)


def test_one_file_per_dataset_and_month_named_as_the_registry_expects(tmp_path):
    written = generate(tmp_path, months=3, first_month="2023-11", scale=0.2)
    assert set(written) == {ds.name for ds in load_registry()}
    for name, files in written.items():
        ds = get_dataset(name)
        months = ("2023-11", "2023-12", "2024-01")
        assert [f.name for f in files] == [ds.landing_pattern.replace("*", m) for m in months]
        assert all(f.match(ds.landing_pattern) for f in files)
        with open(files[0], newline="") as f:
            assert next(csv.reader(f)) == ds.column_names


def test_locations_are_real_manchester_lsoas(tmp_path):
    manchester = {p.lsoa for p in load_places()}
    assert len(manchester) == 282
    files = generate(tmp_path, months=2, scale=0.2)["police__recorded_crime"]
    seen = {row["lsoa_code"] for f in files for row in csv.DictReader(open(f, newline=""))}
    assert seen <= manchester
    assert len(seen) > 100


def test_the_same_person_key_appears_in_several_agencies_files(tmp_path):
    written = generate(tmp_path, months=6, scale=0.5)
    keys_by_agency = {}
    for name, files in written.items():
        ds = get_dataset(name)
        keys = keys_by_agency.setdefault(ds.agency, set())
        for f in files:
            for row in csv.DictReader(open(f, newline="")):
                keys.update(row[c] for c in ds.person_key_columns if row[c])
    police, yj, edu, health = (keys_by_agency[a] for a in ("police", "youth_justice", "education", "health"))
    assert police & yj and yj & edu and edu & health
    assert police & yj & edu & health, "some young people are known to all four agencies"


def test_generated_files_carry_no_column_outside_the_contract(tmp_path):
    for name, files in generate(tmp_path, months=1, scale=0.2).items():
        header = next(csv.reader(open(files[0], newline="")))
        assert header == get_dataset(name).column_names
