"""Real police.uk street-level files load unchanged, row for row, quirks and all."""

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from partnership import loader, warehouse
from partnership.registry import get_dataset

pytestmark = pytest.mark.integration

REAL_FILES = sorted((Path(__file__).parent / "data" / "police_uk").glob("*-street.csv"))


def test_the_real_files_are_here():
    assert [f.name for f in REAL_FILES] == ["2022-11-surrey-street.csv", "2022-12-surrey-street.csv"]


def test_official_files_load_row_for_row(warehouse_url, data_dir):
    ds = get_dataset("police_uk__street_crime")
    landing = data_dir / "landing" / ds.landing_subdir
    landing.mkdir(parents=True)
    expected = Counter()
    for f in REAL_FILES:
        shutil.copy(f, landing / f.name)
        (landing / f"{f.name}.done").touch()  # uploaded in full (README: Upload-complete rule)
        with open(f, newline="") as fh:
            expected.update((row["Month"], row["Crime type"]) for row in csv.DictReader(fh))

    outcomes = [loader.ingest_file(ds, path) for path in loader.find_new_files(ds)]

    assert [o["status"] for o in outcomes] == ["loaded", "loaded"]
    with warehouse.connect(warehouse_url) as conn:
        loaded = Counter(
            {
                (m, t): n
                for m, t, n in conn.execute(
                    "select month, crime_type, count(*) from raw.police_uk__street_crime group by 1, 2"
                )
            }
        )
        asb_without_id = conn.execute(
            "select count(*) from raw.police_uk__street_crime where crime_type = 'Anti-social behaviour' "
            "and crime_id is null"
        ).fetchone()[0]
        without_lsoa = conn.execute(
            "select count(*) from raw.police_uk__street_crime where lsoa_code is null"
        ).fetchone()[0]
    assert loaded == expected
    assert sum(loaded.values()) == 7331 + 6440
    assert asb_without_id == 1152 + 982, "ASB rows keep their blank Crime ID"
    assert without_lsoa == 238 + 407, "rows without a location are kept, not dropped"
