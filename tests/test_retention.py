"""Retention against a real PostgreSQL and real files: exactly the expired raw rows and files are deleted, each
deletion is recorded, a dry run deletes nothing, the incremental dbt models lose their copies of the expired
rows too, and the governance DAG does the same through Airflow."""

import calendar
import csv
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest
from conftest import with_database

from partnership import loader, retention, runner, security, warehouse
from partnership.demo.generator import generate
from partnership.registry import get_dataset, load_registry

pytestmark = pytest.mark.integration

TODAY = date(2030, 5, 15)
# TODAY minus each dataset's retention_months, worked out by hand.
CUTOFFS = {
    "police__recorded_crime": (84, date(2023, 5, 15)),
    "youth_justice__cases": (72, date(2024, 5, 15)),
    "education__exclusions": (72, date(2024, 5, 15)),
    "health__ae_assault_attendances": (36, date(2027, 5, 15)),
}


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def set_mtime(path: Path, day: date) -> None:
    stamp = datetime(day.year, day.month, day.day, 12).timestamp()
    os.utime(path, (stamp, stamp))


def query(url, sql, *params):
    with warehouse.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def expired_rows_by_batch(url, data_dir, cutoffs) -> Counter:
    """(dataset, batch) -> rows recorded before the cutoff, counted from the loaded files themselves."""
    batch_of = {(d, f): b for b, d, f in query(url, "select batch_id, dataset, file_name from audit.load_batch")}
    expected = Counter()
    for ds in load_registry():
        for path in (data_dir / "processed" / ds.landing_subdir).glob(ds.landing_pattern):
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    recorded = row[ds.column(ds.record_date_column).file_header]
                    recorded = recorded + "-01" if len(recorded) == 7 else recorded[:10]  # months count from day 1
                    if date.fromisoformat(recorded) < cutoffs[ds.name]:
                        expected[(ds.name, batch_of[(ds.name, path.name)])] += 1
    return expected


def raw_counts(url):
    return {ds.name: query(url, f"select count(*) from {ds.raw_table}")[0][0] for ds in load_registry()}


@pytest.fixture(scope="module")
def loaded_once(server_url, dbt_manifest, tmp_path_factory):
    """Three months of every dataset loaded; a quarantined police file; a police file waiting in landing. Made
    once per module (a database and a data folder); each test gets its own copy (landed_and_loaded)."""
    database = f"partnership_ret_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{database}"')
    url = with_database(server_url, database)
    data_dir = tmp_path_factory.mktemp("retention-loaded") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", url)
        mp.setenv("PARTNERSHIP_DATA_DIR", str(data_dir))
        warehouse.init_warehouse(url)
        for name, paths in generate(months=3, scale=0.1).items():
            for path in paths:
                assert loader.ingest_file(get_dataset(name), path).status == "loaded"
        crimes = get_dataset("police__recorded_crime")
        landing = data_dir / "landing" / crimes.landing_subdir
        first_file = data_dir / "processed" / crimes.landing_subdir / "recorded_crime_2024-04.csv"
        header = first_file.read_text().splitlines()[0]
        (landing / "recorded_crime_bad.csv").write_text(header + "\nnot,a,valid,row\n")
        with pytest.raises(loader.QuarantinedFile):
            loader.ingest_file(crimes, landing / "recorded_crime_bad.csv")
        waiting = landing / "recorded_crime_2024-09.csv"
        waiting.write_text(header + "\n")

        for path in data_dir.rglob("*"):
            if path.is_file():
                set_mtime(path, date(2025, 1, 1))  # kept, except for health (cutoff 2027-05-15)
        quarantined = sorted((data_dir / "quarantine" / crimes.landing_subdir).iterdir())
        assert [p.name for p in quarantined] == ["recorded_crime_bad.csv", "recorded_crime_bad.csv.reason.json"]
        for path in quarantined:
            set_mtime(path, date(2023, 1, 1))  # before police's cutoff: deleted
        set_mtime(waiting, date(2023, 5, 15))  # on the cutoff day itself: kept
    yield database, data_dir
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{database}" with (force)')


@pytest.fixture
def landed_and_loaded(loaded_once, server_url, data_dir, monkeypatch):
    """A copy of loaded_once for one test: its database (CREATE DATABASE ... TEMPLATE) and its data folder (file
    times kept); dropped afterwards."""
    template, template_data = loaded_once
    name = f"partnership_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}" template "{template}"')
    url = with_database(server_url, name)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    shutil.copytree(template_data, data_dir, dirs_exist_ok=True)  # copy2: modification times as set above
    yield url
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_the_cutoffs_are_today_minus_each_retention_period(warehouse_url):
    with warehouse.connect(warehouse_url) as conn:
        for name, (months, cutoff) in CUTOFFS.items():
            assert get_dataset(name).retention_months == months
            assert retention.cutoff(conn, get_dataset(name), TODAY) == cutoff == months_before(TODAY, months)


def test_retention_deletes_exactly_the_expired_rows_and_files_and_records_each(landed_and_loaded, data_dir, login_role):
    url = landed_and_loaded
    cutoffs = {ds.name: months_before(TODAY, ds.retention_months) for ds in load_registry()}
    cutoffs.update({name: cutoff for name, (_, cutoff) in CUTOFFS.items()})
    expected_rows = expired_rows_by_batch(url, data_dir, cutoffs)
    datasets_hit = {name for name, _ in expected_rows}
    assert datasets_hit >= {"youth_justice__cases", "education__exclusions", "health__ae_assault_attendances"}, (
        "the data should expire wholly (health), partly (youth justice, education) and not at all (police)"
    )
    assert "police__recorded_crime" not in datasets_hit
    # Files last modified 2025-01-01 expire where the cutoff is later: the 36-month health datasets.
    short_lived = [ds for ds in load_registry() if cutoffs[ds.name] > date(2025, 1, 1)]
    assert {ds.name for ds in short_lived} >= {"health__ae_assault_attendances"}
    expected_files = {
        *(p for ds in short_lived for p in (data_dir / "processed" / ds.landing_subdir).glob("*.csv")),
        *(data_dir / "quarantine" / "police" / "recorded_crime").iterdir(),
    }
    kept_files = len(list(data_dir.rglob("*.csv"))) - len([p for p in expected_files if p.suffix == ".csv"])
    before = raw_counts(url)

    planned = retention.enforce_retention(url, today=TODAY, dry_run=True)
    assert raw_counts(url) == before and all(p.exists() for p in expected_files), "a dry run deletes nothing"
    assert query(url, "select count(*) from audit.retention_deletion") == [(0,)]

    _, loader_url = login_role(url, security.LOADER)  # what the governance DAG connects as in production
    done = retention.enforce_retention(loader_url, today=TODAY, deleted_by="test")
    assert done == planned

    recorded_rows = query(
        url, "select dataset, batch_id, rows_deleted from audit.retention_deletion where rows_deleted is not null"
    )
    assert {(d, b): n for d, b, n in recorded_rows} == dict(expected_rows)
    assert len(recorded_rows) == len(expected_rows), "one record per dataset and batch"
    after = raw_counts(url)
    for ds in load_registry():
        deleted = sum(n for (name, _), n in expected_rows.items() if name == ds.name)
        assert after[ds.name] == before[ds.name] - deleted
        as_date = "({} || '-01')::date" if ds.column(ds.record_date_column).type == "month" else "left({}, 10)::date"
        oldest = query(url, f"select min({as_date.format(ds.record_date_column)}) from {ds.raw_table}")[0][0]
        assert oldest is None or oldest >= cutoffs[ds.name]

    recorded_files = query(
        url, "select target, batch_id, rule, deleted_by from audit.retention_deletion where rows_deleted is null"
    )
    assert {Path(t) for t, _, _, _ in recorded_files} == expected_files
    assert not any(p.exists() for p in expected_files)
    assert (data_dir / "landing" / "police" / "recorded_crime" / "recorded_crime_2024-09.csv").exists()
    assert len(list(data_dir.rglob("*.csv"))) == kept_files, "other datasets' files and the waiting file stay"
    quarantine_batch = query(url, "select batch_id from audit.load_batch where status = 'quarantined'")[0][0]
    for target, batch_id, rule, who in recorded_files:
        assert who == "test"
        if "quarantine" in target:
            assert batch_id == quarantine_batch and rule == "retention_months=84: file last modified before 2023-05-15"
        else:
            assert "retention_months=36" in rule
            if "ae_assault_attendances" in target:  # a loaded file's deletion names its batch
                assert batch_id is not None

    assert retention.enforce_retention(url, today=TODAY) == [], "nothing left to delete"


def test_retention_deletes_the_expired_copies_in_incremental_models(warehouse_url, data_dir, dbt_manifest, login_role):
    """Incremental models keep their own copies of raw rows: retention deletes the expired ones there too, found
    through the manifest, one audit record per model and batch, as the loader (the governance DAG's role)."""
    for name, paths in generate(months=3, scale=0.1).items():
        for path in paths:
            assert loader.ingest_file(get_dataset(name), path).status == "loaded"
    runner.dbt("build", "--select", "+config.materialized:incremental", url=warehouse_url)
    copies = retention.incremental_copies(dbt_manifest)
    ae_copy = "intermediate.int_ae_assault_attendances_located"
    assert [c.relation for c in copies["health__ae_assault_attendances"]] == [ae_copy]
    assert {c.relation for found in copies.values() for c in found} >= {
        "intermediate.int_crimes_classified",
        "intermediate.int_asb_incidents_located",
        "intermediate.int_street_crime_located",
    }

    # Two years on, A&E (36 months) expires up to 2024-05-15, part way through the data; the rest (84 and 240
    # months) keep everything.
    today = date(2027, 5, 15)
    cutoffs = {ds.name: months_before(today, ds.retention_months) for ds in load_registry()}
    assert cutoffs["health__ae_assault_attendances"] == date(2024, 5, 15)
    expected = expired_rows_by_batch(warehouse_url, data_dir, cutoffs)
    expected_ae = {b: n for (d, b), n in expected.items() if d == "health__ae_assault_attendances"}
    assert len(expected_ae) == 2, "April wholly and May partly"
    counts_before = {
        c.relation: query(warehouse_url, f"select count(*) from {c.relation}")[0][0]
        for found in copies.values()
        for c in found
    }

    _, loader_url = login_role(warehouse_url, security.LOADER)
    done = retention.enforce_retention(loader_url, today=today, deleted_by="test", manifest=dbt_manifest)

    copy_deletions = {(d.target, d.batch_id): d.rows for d in done if d.target.startswith("intermediate.")}
    assert copy_deletions == {(ae_copy, b): n for b, n in expected_ae.items()}, "the generator sends no corrections"
    recorded = query(
        warehouse_url,
        "select batch_id, rows_deleted, rule from audit.retention_deletion where target = %s order by 1",
        ae_copy,
    )
    assert {b: n for b, n, _ in recorded} == expected_ae
    assert all("incremental model int_ae_assault_attendances_located: arrival_date" in r for _, _, r in recorded)
    # The copy now holds exactly what a full rebuild from staging would: the records raw still has.
    assert query(warehouse_url, f"select min(arrival_date) >= '2024-05-15' from {ae_copy}") == [(True,)]
    assert set(query(warehouse_url, f"select attendance_id from {ae_copy}")) == set(
        query(warehouse_url, "select attendance_id from staging.stg_health__ae_assault_attendances")
    )
    for relation, rows in counts_before.items():
        deleted = sum(n for (target, _), n in copy_deletions.items() if target == relation)
        assert query(warehouse_url, f"select count(*) from {relation}")[0][0] == rows - deleted

    assert retention.enforce_retention(loader_url, today=today, manifest=dbt_manifest) == [], "nothing left"


def test_an_incremental_model_without_retention_meta_stops_retention_before_any_deletion(
    landed_and_loaded, tmp_path, dbt_manifest
):
    manifest = json.loads(dbt_manifest.read_text())
    node = next(n for n in manifest["nodes"].values() if n["name"] == "int_asb_incidents_located")
    del node["config"]["meta"]["retention_source"]
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(manifest))
    before = raw_counts(landed_and_loaded)
    with pytest.raises(ValueError, match="int_asb_incidents_located must name the registry dataset"):
        retention.enforce_retention(landed_and_loaded, today=TODAY, manifest=broken)
    assert raw_counts(landed_and_loaded) == before
    assert query(landed_and_loaded, "select count(*) from audit.retention_deletion") == [(0,)]


def test_the_cli_dry_run_lists_without_deleting(landed_and_loaded, data_dir):
    url = landed_and_loaded
    before = raw_counts(url)
    env = {**os.environ, "WAREHOUSE_URL": url, "PARTNERSHIP_DATA_DIR": str(data_dir)}
    cli = str(Path(sys.executable).with_name("partnership"))
    result = subprocess.run([cli, "retention", "--dry-run"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "(dry run: nothing deleted)" in result.stdout
    assert raw_counts(url) == before
    assert query(url, "select count(*) from audit.retention_deletion") == [(0,)]


def test_the_governance_dag_enforces_retention_through_airflow(warehouse_url, data_dir, dbt_manifest):
    """The real DAG, run with dag.test(): health data from 37 months ago expires today, partly."""
    today = date.today()
    first = months_before(today, 37).strftime("%Y-%m")
    for name, paths in generate(first_month=first, months=2, scale=0.1).items():
        for path in paths:
            loader.ingest_file(get_dataset(name), path)
    cutoffs = {ds.name: months_before(today, ds.retention_months) for ds in load_registry()}
    expected = expired_rows_by_batch(warehouse_url, data_dir, cutoffs)
    assert {name for name, _ in expected} == {"health__ae_assault_attendances", "health__navigator_referrals"}

    script = (
        "import os\n"
        "from partnership import runner\n"
        "os.environ.update(runner.airflow_environment(os.environ['WAREHOUSE_URL']))\n"
        "runner.migrate_airflow_db()\n"
        "print('state:', runner.run_dag(runner.load_dags()['governance_retention']))\n"
    )
    env = {**os.environ, "WAREHOUSE_URL": warehouse_url, "PARTNERSHIP_DATA_DIR": str(data_dir)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert "state: success" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]

    recorded = query(warehouse_url, "select dataset, batch_id, rows_deleted, deleted_by from audit.retention_deletion")
    assert {(d, b): n for d, b, n, _ in recorded} == dict(expected)
    assert all(who.startswith("airflow:governance_retention/") for _, _, _, who in recorded)


# -- files on disk: work/ leftovers, quarantined identifiers, one failure at a time -------------------------


def quarantine_with_an_nhs_number(path):
    """Add an NHS-number column (values made now) to a generated youth justice file, so the screen rejects it."""
    import random

    from synthetic_ids import append_column, nhs_number

    rng = random.Random(21)
    append_column(path, "nhs_number", lambda: nhs_number(rng))
    with pytest.raises(loader.QuarantinedFile):
        loader.ingest_file(get_dataset("youth_justice__cases"), path)


def test_quarantined_files_are_purged_after_a_short_period(warehouse_url, data_dir, dbt_manifest, login_role):
    """Kept 30 days (the registry's quarantine_days) for IG to look at, not the dataset's 6 years; the reason
    file stays as the trail. Any quarantined file may hold identifiers, whatever got it quarantined and whatever
    its resolution says (a resolution written without the file leaving quarantine must not keep it for years)."""
    from datetime import timedelta

    from partnership import quarantine

    cases = get_dataset("youth_justice__cases")
    assert cases.quarantine_days == 30
    with_ids, wrong_value = generate(data_dir / "landing", months=2, scale=0.2)["youth_justice__cases"]
    quarantine_with_an_nhs_number(with_ids)
    wrong_value.write_text(wrong_value.read_text().replace(",Referral order,", ",Sent to bed early,", 1))
    with pytest.raises(loader.QuarantinedFile):
        loader.ingest_file(cases, wrong_value)
    (ids_batch,) = query(warehouse_url, "select batch_id from audit.load_batch where file_name = %s", with_ids.name)[0]
    (value_batch,) = query(
        warehouse_url, "select batch_id from audit.load_batch where file_name = %s", wrong_value.name
    )[0]
    folder = data_dir / "quarantine" / cases.landing_subdir
    _, loader_url = login_role(warehouse_url, security.LOADER)  # the governance DAG's role
    with warehouse.connect(loader_url) as conn:  # said to be released, yet still in quarantine
        conn.execute("update audit.load_batch set resolution = 'released' where batch_id = %s", (value_batch,))

    soon = retention.enforce_retention(loader_url, today=date.today() + timedelta(days=29), manifest=dbt_manifest)
    assert soon == [] and (folder / with_ids.name).exists()

    done = retention.enforce_retention(
        loader_url, today=date.today() + timedelta(days=31), deleted_by="test", manifest=dbt_manifest
    )
    assert sorted((d.target, d.batch_id) for d in done) == [
        (str(folder / with_ids.name), ids_batch),
        (str(folder / wrong_value.name), value_batch),
    ]
    for name in (with_ids.name, wrong_value.name):
        assert not (folder / name).exists() and not (folder / f"{name}.reason.json").exists()
    trail = json.loads((folder / f"{with_ids.name}.purged.json").read_text())
    assert trail["batch_id"] == ids_batch, "the reason file stays, for the IG trail"
    (rule, who), *more = query(
        warehouse_url, "select rule, deleted_by from audit.retention_deletion where batch_id = %s", ids_batch
    )
    assert not more and who == "test" and rule.startswith("quarantine_days=30")
    (resolution,) = query(warehouse_url, "select resolution from audit.load_batch where batch_id = %s", ids_batch)[0]
    assert resolution.startswith("purged")
    assert quarantine.list_quarantined() == []


def test_a_quarantined_file_of_a_dataset_sending_raw_nhs_numbers_is_purged_after_the_short_period(
    warehouse_url, data_dir, dbt_manifest
):
    """Whatever got it quarantined (here a wrong sex code), the quarantined original holds the raw NHS numbers
    the agreement lets the agency send for pseudonymisation: it goes after 30 days too, not after 3 years."""
    from datetime import timedelta

    nav = get_dataset("health__navigator_referrals")
    landed = generate(data_dir / "landing", months=1, scale=0.2)[nav.name][0]
    with open(landed, newline="") as f:
        rows = list(csv.reader(f))
    rows[1][rows[0].index("sex")] = "Q"
    with open(landed, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    with pytest.raises(loader.QuarantinedFile):
        loader.ingest_file(nav, landed)
    quarantined = data_dir / "quarantine" / nav.landing_subdir / landed.name
    assert quarantined.exists()

    retention.enforce_retention(warehouse_url, today=date.today() + timedelta(days=29), manifest=dbt_manifest)
    assert quarantined.exists()
    done = retention.enforce_retention(warehouse_url, today=date.today() + timedelta(days=31), manifest=dbt_manifest)
    assert [d.target for d in done] == [str(quarantined)]
    assert not quarantined.exists() and quarantined.with_name(landed.name + ".purged.json").exists()


def test_a_file_quarantined_for_a_column_no_agreement_vetted_is_purged_after_the_short_period(
    warehouse_url, data_dir, dbt_manifest
):
    """An unknown column is where an identifier the screen missed would sit: the file goes after 30 days."""
    from datetime import timedelta

    from synthetic_ids import append_column

    cases = get_dataset("youth_justice__cases")
    landed = generate(data_dir / "landing", months=1, scale=0.2)[cases.name][0]
    append_column(landed, "ref", lambda: "x")
    with pytest.raises(loader.QuarantinedFile, match="not in the contract"):
        loader.ingest_file(cases, landed)
    quarantined = data_dir / "quarantine" / cases.landing_subdir / landed.name
    done = retention.enforce_retention(warehouse_url, today=date.today() + timedelta(days=31), manifest=dbt_manifest)
    assert [d.target for d in done] == [str(quarantined)] and not quarantined.exists()


def test_an_expired_file_whose_name_holds_an_identifier_is_deleted_under_a_withheld_name(
    warehouse_url, data_dir, dbt_manifest, caplog
):
    """A file that never matched its landing pattern was never screened; retention must not write its name into
    audit or the log when it deletes it."""
    import random

    from synthetic_ids import nhs_number

    n = nhs_number(random.Random(31))
    stray = data_dir / "landing" / get_dataset("youth_justice__cases").landing_subdir / f"notes_{n}.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("x\n")
    set_mtime(stray, date(2000, 1, 1))
    with caplog.at_level("INFO"):
        done = retention.enforce_retention(warehouse_url, manifest=dbt_manifest)
    assert not stray.exists() and [d.target for d in done if "name-withheld-" in d.target]
    recorded = " ".join(t for (t,) in query(warehouse_url, "select target from audit.retention_deletion"))
    assert "name-withheld-" in recorded and n not in recorded and n not in caplog.text


def test_leftovers_in_work_are_swept_by_retention_and_at_the_start_of_each_ingest_run(
    warehouse_url, data_dir, dbt_manifest
):
    from partnership.ingest import build_ingest_dag

    nav = get_dataset("health__navigator_referrals")
    # A run that crashed after its load committed and before mark_done: the pseudonymised copy stays in work/.
    landed = generate(data_dir / "landing", months=1, scale=0.2)[nav.name][0]
    loaded = loader.load(nav, loader.validate(nav, landed))
    interrupted = Path(loaded.path)
    assert interrupted.parent == data_dir / "work" / nav.landing_subdir and interrupted.exists()
    stale = interrupted.with_name("navigator_referrals_2023-01.csv.partial")  # a pseudonymisation cut short
    stale.write_text("referral_id\n")
    set_mtime(stale, date(2024, 1, 1))
    unloaded = interrupted.with_name("navigator_referrals_2024-05.csv")  # a copy whose run stopped before its load
    unloaded.write_text("referral_id\n")

    # Retention sweeps what is older than a day (an ingest run may be using a newer copy).
    done = retention.enforce_retention(warehouse_url, deleted_by="test", manifest=dbt_manifest)
    assert [d.target for d in done] == [str(stale)]
    assert not stale.exists() and interrupted.exists()

    # The ingest DAG's first step sweeps everything left there: one run per dataset at a time. The loaded copy
    # is the batch's kept copy (reprocess reads it): filed away as mark_done would have, not deleted.
    dag = build_ingest_dag(nav)
    found = dag.get_task("find_new_files").python_callable(dag=dag, run_id="manual__sweep")
    assert found == [str(landed)], "the landed original waits, to be skipped as already loaded"
    assert not interrupted.exists() and not unloaded.exists()
    assert [p.name for p in (data_dir / "processed" / nav.landing_subdir).iterdir()] == [interrupted.name]
    recorded = query(
        warehouse_url, "select target, batch_id, rule, deleted_by from audit.retention_deletion order by deletion_id"
    )
    assert [(t, b) for t, b, _, _ in recorded] == [(str(stale), None), (str(unloaded), None)]
    assert all("work" in rule for _, _, rule, _ in recorded)
    assert recorded[1][3] == f"airflow:{dag.dag_id}/manual__sweep"


def test_a_validation_record_left_in_work_is_swept_with_the_copies(warehouse_url, data_dir):
    """validate writes each accepted file's checks beside its copy in work/; a run cut short before load leaves it."""
    crimes = get_dataset("police__recorded_crime")
    landed = generate(data_dir / "landing", months=1, scale=0.2)[crimes.name][0]
    sidecar = Path(loader.validate(crimes, landed).checks_path)
    assert sidecar == data_dir / "work" / crimes.landing_subdir / (landed.name + ".checks.json") and sidecar.exists()
    swept = retention.sweep_work(crimes, warehouse_url, deleted_by="test")
    copy = sidecar.with_name(landed.name)  # the gate's copy (people linked), which the load never read
    assert sorted((d.target, d.batch_id) for d in swept) == sorted([(str(copy), None), (str(sidecar), None)])
    assert not sidecar.exists() and landed.exists(), "the landed file waits for the next run"


def test_a_corrupt_reason_file_fails_alone_and_retention_goes_on(warehouse_url, data_dir, dbt_manifest, capsys):
    """A reason file cut short (as a crash mid-write leaves it) is a failure of its own: the files before it keep
    their committed audit records, later datasets are still done, and the command ends non-zero."""
    from partnership import cli

    health, cases = get_dataset("health__ae_assault_attendances"), get_dataset("youth_justice__cases")
    first = data_dir / "processed" / health.landing_subdir / "ae_assault_attendances_2020-01.csv"
    corrupt = data_dir / "quarantine" / health.landing_subdir / "ae_assault_attendances_2020-02.csv.reason.json"
    later = data_dir / "processed" / cases.landing_subdir / "cases_2010-01.csv"
    for path, text in ((first, "attendance_id\n"), (corrupt, '{"dataset": "health__ae_ass'), (later, "case_id\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        set_mtime(path, date(2005, 1, 1))  # past every retention period

    with pytest.raises(retention.RetentionIncomplete) as incomplete:
        retention.enforce_retention(warehouse_url, deleted_by="test", manifest=dbt_manifest)
    assert [f.target for f in incomplete.value.failures] == [str(corrupt)]
    assert [d.target for d in incomplete.value.deletions] == [str(first), str(later)]
    assert corrupt.exists() and not first.exists() and not later.exists()
    recorded = query(warehouse_url, "select target from audit.retention_deletion order by deletion_id")
    assert recorded == [(str(first),), (str(later),)], "committed, although a later file failed"

    assert cli.main(["retention"]) == 1
    assert str(corrupt) in capsys.readouterr().err


def test_a_loaded_copy_left_in_work_when_filing_failed_is_filed_away_not_swept(warehouse_url, data_dir):
    """A load that committed and then could not file its pseudonymised copy away (mark_done failed: a full disk,
    a killed worker) leaves the only kept copy of the batch in work/. The next run's sweep files it into
    processed/, where reprocess finds it, instead of deleting it as a copy of an interrupted run."""
    from partnership import reprocess

    nav = get_dataset("health__navigator_referrals")
    (landed,) = generate(data_dir / "landing", months=1, scale=0.2)[nav.name]
    loaded = loader.load(nav, loader.validate(nav, landed))
    copy = loaded.path
    assert copy.parent == data_dir / "work" / nav.landing_subdir and copy.exists()  # mark_done never ran
    # reprocess works on copies in folders of its own; one left there by a killed reprocess is not the kept copy
    reprocessing = copy.parent / "reprocess-batch-1" / copy.name
    reprocessing.parent.mkdir()
    shutil.copyfile(copy, reprocessing)

    swept = retention.sweep_work(nav, warehouse_url, deleted_by="test")
    assert [d.target for d in swept] == [str(reprocessing)], "nothing of the loaded batch's own copy is deleted"
    assert not copy.exists() and not reprocessing.exists()
    (kept,) = (data_dir / "processed" / nav.landing_subdir).iterdir()
    assert kept.name == landed.name
    month = query(warehouse_url, "select min(referral_date) from raw.health__navigator_referrals")[0][0][:7]
    (done,) = reprocess.reprocess(nav, month, "the kept copy is found after the sweep")
    assert done.new_batch > loaded.batch_id
