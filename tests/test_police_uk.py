"""Real police.uk street-level files load unchanged, row for row, quirks and all."""

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from partnership import loader, runner, warehouse
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
        (landing / f"{f.name}.done").touch()  # uploaded in full (docs/operating.md: Upload-complete rule)
        with open(f, newline="") as fh:
            expected.update((row["Month"], row["Crime type"]) for row in csv.DictReader(fh))

    outcomes = [loader.ingest_file(ds, path) for path in loader.find_new_files(ds)]

    assert [o.status for o in outcomes] == ["loaded", "loaded"]
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


# -- re-issued months ----------------------------------------------------------------------------------------
# police.uk republishes a month's file when outcomes change, and an export may differ only in its line endings:
# neither has a record key to match on, so a file for a month already loaded supersedes that month's rows.

NOVEMBER, DECEMBER = REAL_FILES


def dbt_run(url, tmp_path, *select):
    """`dbt run` of the models asked only, into a target folder of the test's own."""
    runner.dbt("run", "--select", " ".join(select), "--target-path", str(tmp_path / "dbt-target"), url=url)


def reissue(source: Path, target: Path, change=None) -> None:
    """A re-export of a file: each row changed by ``change`` (a dict -> dict), and the other line endings than
    the source's (police.uk's own files end lines with CRLF)."""
    other_endings = "\n" if b"\r\n" in source.read_bytes()[:4096] else "\r\n"
    with open(source, newline="") as f:
        reader = csv.DictReader(f)
        rows = [change(dict(r)) if change else r for r in reader]
    with open(target, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=reader.fieldnames, lineterminator=other_endings)
        writer.writeheader()
        writer.writerows(rows)


def land_and_load(ds, data_dir, source: Path, name: str | None = None, *, reexported=False, change=None) -> dict:
    """Land a copy of a file (verbatim, or re-exported: other line endings, rows changed) and load it."""
    landing = data_dir / "landing" / ds.landing_subdir
    landing.mkdir(parents=True, exist_ok=True)
    target = landing / (name or source.name)
    if reexported or change:
        reissue(source, target, change)
    else:
        shutil.copy(source, target)
    return loader.ingest_file(ds, target)


def first_crime_id(path: Path) -> str:
    with open(path, newline="") as f:
        return next(r["Crime ID"] for r in csv.DictReader(f) if r["Crime ID"])


def test_a_reissued_month_replaces_the_earlier_file_and_is_never_counted_twice(warehouse_url, data_dir, tmp_path):
    ds = get_dataset("police_uk__street_crime")
    crime = first_crime_id(NOVEMBER)

    def outcome_updated(row):
        if row["Crime ID"] == crime:
            row["Last outcome category"] = "Offender given a caution"
        return row

    with open(NOVEMBER, newline="") as f:
        november_rows = sum(1 for _ in csv.DictReader(f))
    first = land_and_load(ds, data_dir, NOVEMBER)
    endings_only = land_and_load(
        ds, data_dir, NOVEMBER, reexported=True
    )  # the same rows, other line endings: another checksum
    updated = land_and_load(ds, data_dir, NOVEMBER, change=outcome_updated)  # police.uk republished an outcome
    assert [o.status for o in (first, endings_only, updated)] == ["loaded"] * 3

    dbt_run(warehouse_url, tmp_path, "stg_police_uk__street_crime")
    with warehouse.connect(warehouse_url) as conn:
        raw_rows = conn.execute("select count(*) from raw.police_uk__street_crime").fetchone()[0]
        counted, batches = conn.execute(
            "select count(*), array_agg(distinct batch_id) from staging.stg_police_uk__street_crime"
        ).fetchone()
        copies, outcome = conn.execute(
            "select count(*), max(last_outcome_category) from staging.stg_police_uk__street_crime where crime_id = %s",
            (crime,),
        ).fetchone()
        audit = conn.execute(
            "select batch_id, supersedes from audit.load_batch where status = 'loaded' order by batch_id"
        ).fetchall()
    assert raw_rows == 3 * november_rows, "raw keeps every file loaded: the audit trail"
    assert counted == november_rows and batches == [updated.batch_id], "each record counts once"
    assert (copies, outcome) == (1, "Offender given a caution"), "the latest file's outcome wins"
    assert audit == [
        (first.batch_id, None),
        (
            endings_only.batch_id,
            f"2022-11 (Surrey Police): {november_rows} rows supersede batch {first.batch_id}'s {november_rows}",
        ),
        (
            updated.batch_id,
            f"2022-11 (Surrey Police): {november_rows} rows supersede batch {endings_only.batch_id}'s {november_rows}",
        ),
    ]


def test_a_file_of_two_months_reissued_for_one_keeps_the_other_month(warehouse_url, data_dir, tmp_path):
    ds = get_dataset("police_uk__street_crime")
    both = tmp_path / "surrey-street.csv"  # no month in its name: it may hold several
    with open(both, "w", newline="") as out:
        out.write(NOVEMBER.read_text())
        out.write("".join(DECEMBER.read_text().splitlines(keepends=True)[1:]))
    counts = {}
    for f, month in ((NOVEMBER, "2022-11"), (DECEMBER, "2022-12")):
        with open(f, newline="") as fh:
            counts[month] = sum(1 for _ in csv.DictReader(fh))
    two_months = land_and_load(ds, data_dir, both)
    december_again = land_and_load(ds, data_dir, DECEMBER)

    dbt_run(warehouse_url, tmp_path, "stg_police_uk__street_crime")
    with warehouse.connect(warehouse_url) as conn:
        by_month = conn.execute(
            "select to_char(month, 'YYYY-MM'), batch_id, count(*) from staging.stg_police_uk__street_crime"
            " group by 1, 2 order by 1"
        ).fetchall()
        supersedes = conn.execute(
            "select supersedes from audit.load_batch where batch_id = %s", (december_again.batch_id,)
        ).fetchone()[0]
    assert by_month == [
        ("2022-11", two_months.batch_id, counts["2022-11"]),  # not re-issued: still counted, from the first file
        ("2022-12", december_again.batch_id, counts["2022-12"]),
    ]
    assert (
        supersedes == f"2022-12 (Surrey Police): {counts['2022-12']} rows supersede batch {two_months.batch_id}'s"
        f" {counts['2022-12']}"
    )


def as_british_transport_police(row):
    """The same rows as another force's file: British Transport Police report crimes in Surrey too."""
    return row | {"Reported by": "British Transport Police", "Falls within": "British Transport Police"}


def load_months(url, tmp_path, dataset="police_uk__street_crime"):
    dbt_run(url, tmp_path, "+int_load_months")
    with warehouse.connect(url) as conn:
        return conn.execute(
            "select to_char(data_month, 'YYYY-MM'), rows_loaded from intermediate.int_load_months"
            " where dataset = %s order by 1",
            (dataset,),
        ).fetchall()


def test_another_forces_file_for_the_same_month_supersedes_nothing(warehouse_url, data_dir, tmp_path):
    """police.uk files are per force (supersedes_by within: reported_by): BTP's November leaves Surrey's counted."""
    ds = get_dataset("police_uk__street_crime")
    with open(NOVEMBER, newline="") as f:
        november_rows = sum(1 for _ in csv.DictReader(f))
    surrey = land_and_load(ds, data_dir, NOVEMBER)
    btp = land_and_load(ds, data_dir, NOVEMBER, "2022-11-btp-street.csv", change=as_british_transport_police)
    surrey_again = land_and_load(ds, data_dir, NOVEMBER, reexported=True)  # supersedes Surrey's November only

    dbt_run(warehouse_url, tmp_path, "stg_police_uk__street_crime")
    with warehouse.connect(warehouse_url) as conn:
        by_force = conn.execute(
            "select reported_by, batch_id, count(*) from staging.stg_police_uk__street_crime group by 1, 2 order by 1"
        ).fetchall()
        supersedes = conn.execute(
            "select batch_id, supersedes from audit.load_batch where status = 'loaded' order by batch_id"
        ).fetchall()
    assert by_force == [
        ("British Transport Police", btp.batch_id, november_rows),
        ("Surrey Police", surrey_again.batch_id, november_rows),
    ]
    assert supersedes == [
        (surrey.batch_id, None),
        (btp.batch_id, None),
        (
            surrey_again.batch_id,
            f"2022-11 (Surrey Police): {november_rows} rows supersede batch {surrey.batch_id}'s {november_rows}",
        ),
    ]
    # Each force's file counts once in the month's delivered rows (the scorecard's data quality).
    assert load_months(warehouse_url, tmp_path) == [("2022-11", 2 * november_rows)]


def test_a_reexported_month_counts_once_in_the_months_delivered(warehouse_url, data_dir, tmp_path):
    ds = get_dataset("police_uk__street_crime")
    counts = {}
    for f in (NOVEMBER, DECEMBER):
        with open(f, newline="") as fh:
            counts[f.name[:7]] = sum(1 for _ in csv.DictReader(fh))
    land_and_load(ds, data_dir, NOVEMBER)
    land_and_load(ds, data_dir, NOVEMBER, reexported=True)  # the same rows, other line endings
    land_and_load(ds, data_dir, DECEMBER)
    assert load_months(warehouse_url, tmp_path) == [("2022-11", counts["2022-11"]), ("2022-12", counts["2022-12"])]


def test_the_incremental_street_crime_model_drops_the_rows_a_reissue_supersedes(warehouse_url, data_dir, tmp_path):
    """int_street_crime_located keeps its own copy of each batch: a re-issued month must replace it there too."""
    ds = get_dataset("police_uk__street_crime")
    with open(NOVEMBER, newline="") as f:
        november_rows = sum(1 for _ in csv.DictReader(f))
    runner.dbt("seed", "--target-path", str(tmp_path / "dbt-target"), url=warehouse_url)
    land_and_load(ds, data_dir, NOVEMBER)
    dbt_run(warehouse_url, tmp_path, "+int_street_crime_located")
    reissued = land_and_load(ds, data_dir, NOVEMBER, reexported=True)
    dbt_run(warehouse_url, tmp_path, "int_street_crime_located")  # an incremental run, as next month's
    with warehouse.connect(warehouse_url) as conn:
        built = conn.execute(
            "select count(*), array_agg(distinct batch_id) from intermediate.int_street_crime_located"
        ).fetchone()
    assert built == (november_rows, [reissued.batch_id])


STOP_SEARCH_HEADER = get_dataset("police__stop_search").file_headers


def stop_search_file(path: Path, outcome_of_first: str = "A no further action disposal", searches: int = 10) -> None:
    """January 2024 searches in the police.uk stop-and-search layout (no person is identifiable)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(STOP_SEARCH_HEADER)
        for i in range(searches):
            writer.writerow(
                [
                    "Person search",
                    f"2024-01-{i + 2:02d}T1{i}:00:00+00:00",
                    "False",
                    "",
                    "53.48",
                    "-2.24",
                    "Male",
                    "18-24",
                    "",
                    "White",
                    "Misuse of Drugs Act 1971 (section 23)",
                    "Controlled drugs",
                    outcome_of_first if i == 0 else "A no further action disposal",
                    "False",
                    "False",
                ]
            )


def test_a_reissued_stop_search_month_replaces_the_earlier_file(warehouse_url, data_dir, tmp_path):
    ds = get_dataset("police__stop_search")
    made = tmp_path / "made"
    made.mkdir()
    stop_search_file(made / "first.csv")
    stop_search_file(made / "reissued.csv", outcome_of_first="Arrest")
    first = land_and_load(ds, data_dir, made / "first.csv", "2024-01-stop-and-search.csv")
    endings_only = land_and_load(ds, data_dir, made / "first.csv", "2024-01-stop-and-search.csv", reexported=True)
    updated = land_and_load(ds, data_dir, made / "reissued.csv", "2024-01-stop-and-search.csv")
    assert [o.status for o in (first, endings_only, updated)] == ["loaded"] * 3

    dbt_run(warehouse_url, tmp_path, "stg_police__stop_search")
    with warehouse.connect(warehouse_url) as conn:
        counted, arrests = conn.execute(
            "select count(*), count(*) filter (where outcome = 'Arrest') from staging.stg_police__stop_search"
        ).fetchone()
        supersedes = conn.execute(
            "select supersedes from audit.load_batch where batch_id = %s", (updated.batch_id,)
        ).fetchone()[0]
    assert (counted, arrests) == (10, 1)
    assert supersedes == f"2024-01: 10 rows supersede batch {endings_only.batch_id}'s 10"


def test_a_reissue_holding_far_fewer_rows_than_it_supersedes_is_flagged(warehouse_url, data_dir, tmp_path):
    """A file holding only part of a month would hide the rest of it: loaded, as the latest issue, but flagged."""
    ds = get_dataset("police__stop_search")
    stop_search_file(tmp_path / "whole.csv")
    stop_search_file(tmp_path / "part.csv", searches=2)
    whole = land_and_load(ds, data_dir, tmp_path / "whole.csv", "2024-01-stop-and-search.csv")
    part = land_and_load(ds, data_dir, tmp_path / "part.csv", "2024-01-stop-and-search.csv")
    with warehouse.connect(warehouse_url) as conn:
        flags = conn.execute("select flags from audit.load_batch where batch_id = %s", (part.batch_id,)).fetchone()[0]
    assert part.status == "loaded"
    assert flags == (
        f"2024-01-stop-and-search.csv: 2024-01: 2 rows supersede batch {whole.batch_id}'s 10, under 50%: "
        "check the file holds the whole month"
    )
