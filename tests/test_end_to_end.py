"""The README's first command, end to end: generated extracts through the real Airflow DAGs (dag.test()),
GX, COPY and cosmos/dbt into a real PostgreSQL. Mart values are checked against figures computed here,
independently, from the generated files and the ONS lookup."""

import contextlib
import csv
import hmac
import re
import shutil
import sqlite3
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from conftest import PIPELINE_MONTHS as MONTHS
from conftest import PIPELINE_SCALE as SCALE
from conftest import any_of, run_cli, values_in

from partnership import settings, warehouse
from partnership.registry import get_dataset, load_registry

pytestmark = pytest.mark.integration


def query(url, sql, *params):
    with warehouse.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def rows_of(folder: Path, dataset: str):
    ds = get_dataset(dataset)
    for path in sorted((folder / ds.landing_subdir).glob(ds.landing_pattern)):
        with open(path, newline="") as f:
            yield from csv.DictReader(f)


def rows_with_current_people(run: dict, dataset: str):
    """The kept copies' rows, each linked person as their current person id (a merge after the load counts, as
    staging reads it): the copies hold the ids the gate wrote."""
    ds = get_dataset(dataset)
    batches = dict(
        query(
            run["url"],
            f"select file_name, batch_id from audit.load_batch where dataset = '{ds.name}' and status = 'loaded'",
        )
    )
    current = {
        (source, batch, row): person
        for source, batch, row, person in query(
            run["url"], "select source, batch_id, source_row, person_id from linkage.record_person_id"
        )
    }
    for path in sorted((run["data"] / "processed" / ds.landing_subdir).glob(ds.landing_pattern)):
        with open(path, newline="") as f:
            for row_number, row in enumerate(csv.DictReader(f), start=2):
                for p in ds.linked_persons:
                    key = (f"{ds.name}:{p.person}", batches[path.name], row_number)
                    row[p.person] = current.get(key, row[p.person])
                yield row


def age_band(age: int) -> str:
    for upper, band in ((10, "0-9"), (18, "10-17"), (25, "18-24"), (35, "25-34"), (50, "35-49"), (65, "50-64")):
        if age < upper:
            return band
    return "65+"


def test_the_run_succeeds_and_reports_where_results_are(pipeline_run):
    result = pipeline_run["result"]
    assert result.returncode == 0
    out = result.stdout
    for ds in load_registry():
        assert f"ingest_{ds.name}: success" in out
    assert "transform_warehouse: success" in out
    assert "Rows per mart:" in out and "marts.fct_crimes_by_ward_month" in out
    assert str(pipeline_run["data"] / "landing") in out


def test_the_transform_keeps_its_dbt_parse_in_its_own_data_folder(pipeline_run):
    """Cosmos's cache (dbt's partial-parse file for the next build, the profile it wrote) is the data folder's own,
    not /tmp/cosmos, which every checkout and warehouse on the machine shares and where a file parsed against
    another database makes dbt parse the whole project again. The profile it keeps names no password."""
    cache = pipeline_run["data"] / "cosmos"
    assert (cache / "transform_warehouse__dbt" / "target" / "partial_parse.msgpack").is_file()
    profiles = list((cache / "profile").rglob("profiles.yml"))
    assert profiles and all("password: '{{ env_var(" in p.read_text() for p in profiles)


def test_every_generated_file_is_loaded_exactly_once(pipeline_run):
    counts = dict(
        query(
            pipeline_run["url"],
            "select dataset, count(*) from audit.load_batch where status = 'loaded' group by dataset",
        )
    )
    processed = pipeline_run["data"] / "processed"
    files = {ds.name: len(list((processed / ds.landing_subdir).glob(ds.landing_pattern))) for ds in load_registry()}
    assert counts == files
    assert all(files[ds.name] == MONTHS for ds in load_registry() if ds.cadence == "monthly")
    assert list((pipeline_run["data"] / "landing").rglob("*.csv")) == []


def test_each_files_gate_and_load_records_travel_as_one_xcom_each(pipeline_run):
    """validate hands load one record, and load shows the batch it made as one: Airflow would otherwise infer
    multiple_outputs from their `-> dict` annotation and store every field again as an XCom of its own."""
    import sqlite3

    with sqlite3.connect(pipeline_run["data"] / "airflow" / "airflow.db") as db:
        keys = db.execute(
            "select task_id, key, count(*) from xcom where dag_id = 'ingest_police__recorded_crime'"
            " and task_id in ('ingest_file.validate', 'ingest_file.load') group by task_id, key"
        ).fetchall()
    assert sorted(keys) == [
        ("ingest_file.load", "return_value", MONTHS),
        ("ingest_file.validate", "return_value", MONTHS),
    ]


def test_crimes_by_ward_month_match_the_police_files(pipeline_run):
    # The extracts carry 2011 LSOAs; dim_geography resolves them through ONS's LSOA 2011 -> 2021 best fit to the
    # 2021 LSOA's ward (May 2022).
    reference = settings.DBT_PROJECT_DIR / "seeds" / "reference"
    with open(reference / "ons_lsoa11_to_lsoa21.csv", newline="") as f:
        lsoa21_of = {r["lsoa11_code"]: r["lsoa21_code"] for r in csv.DictReader(f)}
    with open(reference / "ons_lsoa21_to_ward22.csv", newline="") as f:
        ward_of_lsoa21 = {r["lsoa21_code"]: r["ward22_code"] for r in csv.DictReader(f)}
    ward_of = {lsoa11: ward_of_lsoa21[lsoa21] for lsoa11, lsoa21 in lsoa21_of.items()}
    expected = Counter(
        (ward_of[r["lsoa_code"]], date.fromisoformat(r["recorded_date"]).replace(day=1), r["crime_type"])
        for r in rows_of(pipeline_run["data"] / "processed", "police__recorded_crime")
    )
    actual = {
        (w, m, t): n
        for w, m, t, n in query(
            pipeline_run["url"],
            "select ward_code, month_start, crime_type, crime_count from marts.fct_crimes_by_ward_month",
        )
    }
    assert actual == dict(expected)
    assert len({w for w, _, _ in actual}) == 32, "crime falls in every Manchester ward"


def test_cross_agency_cohort_matches_the_files(pipeline_run):
    agencies = defaultdict(set)
    latest = {}  # person -> (date, age) of their latest contact

    def seen(key, agency, age, day):
        if not key:
            return
        agencies[key].add(agency)
        contact = (day, int(age))
        latest[key] = max(latest.get(key, contact), contact)

    def years_between(earlier, later):
        (y0, m0, d0), (y1, m1, d1) = (map(int, earlier[:10].split("-")), map(int, later[:10].split("-")))
        return y1 - y0 - ((m1, d1) < (m0, d0))

    # A contact is dated when the agency dealt with the person: police by the recorded date (with the age then),
    # youth justice by the disposal.
    for r in rows_with_current_people(pipeline_run, "police__recorded_crime"):
        since = years_between(r["offence_date"], r["recorded_date"])
        for key, age in ((r["victim_person_key"], r["victim_age"]), (r["suspect_person_key"], r["suspect_age"])):
            seen(key, "police", int(age) + since if age else 0, r["recorded_date"])
    for r in rows_with_current_people(pipeline_run, "youth_justice__cases"):
        seen(r["child_person_key"], "youth_justice", r["age_at_disposal"], r["disposal_date"])
    for r in rows_with_current_people(pipeline_run, "education__exclusions"):
        seen(r["pupil_person_key"], "education", r["age_at_start"], r["start_date"])
    for r in rows_with_current_people(pipeline_run, "health__ae_assault_attendances"):
        seen(r["patient_person_key"], "health", r["age"], r["arrival_datetime"][:10])

    expected = Counter((len(agencies[k]), age_band(latest[k][1])) for k in agencies)
    actual = {
        (n, band): people
        for n, band, people in query(
            pipeline_run["url"], "select agency_count, age_band, people from marts.fct_cross_agency_cohort"
        )
    }
    assert actual == dict(expected)
    assert any(n == 4 for n, _ in actual), "the planted cohort is known to all four agencies"


def test_the_ig_report_measures_linkage_against_the_generated_truth(pipeline_run):
    """The run's IG report compares the person ids linkage gave with who the generator's records really are
    (issue 16: precision at least 0.99 and recall at least 0.95 across agencies, and for each pair of agencies
    with enough pairs to tell), and gives the match rate by ethnic group, sex and age band."""
    page = (pipeline_run["data"] / "reports" / "ig" / "index.html").read_text()

    def figure(metric):
        return float(re.search(rf'data-metric="{metric}" data-value="([0-9.]+)"', page)[1])

    assert figure("linkage-precision") >= 0.99 and figure("linkage-recall") >= 0.95
    true_pairs = {
        (a, b): int(n.replace(",", ""))
        for a, b, n in re.findall(r'data-metric="linkage-true-pairs" data-a="(\w+)" data-b="(\w+)">([0-9,]+)<', page)
    }
    cross = {pair: n for pair, n in true_pairs.items() if pair[0] != pair[1]}
    assert {"education", "health", "police", "youth_justice"} <= {a for pair in cross for a in pair}
    for metric, floor in (("linkage-pair-precision", 0.99), ("linkage-pair-recall", 0.95)):
        found = re.findall(rf'data-metric="{metric}" data-a="(\w+)" data-b="(\w+)">([0-9.]+)<', page)
        low = [(a, b, v) for a, b, v in found if a != b and cross[a, b] >= 100 and float(v) < floor]
        assert found and low == [], low
    dimensions = set(re.findall(r'data-metric="linkage-group-rate" data-dimension="([a-z ]+)"', page))
    assert dimensions == {"ethnic group", "sex", "age band"}


def test_a_second_run_loads_nothing_twice(pipeline_run_copy, tmp_path):
    run = pipeline_run_copy
    url = run["url"]
    before = query(url, "select dataset, count(*) from audit.load_batch where status = 'loaded' group by 1 order by 1")
    raw_before = query(url, "select count(*) from raw.police__recorded_crime")
    # Besides the run's own extracts (the same bytes again), an agency re-sends a file the warehouse loaded.
    from partnership.demo.generator import generate

    resent = generate(tmp_path / "resent", months=MONTHS, scale=SCALE)["police__recorded_crime"][0]
    # (under a name of its own: the run's generator writes its own files' names, and takes those back)
    landed = shutil.copy(resent, run["data"] / "landing" / "police" / "recorded_crime" / f"{resent.stem}-again.csv")
    settings.upload_marker(Path(landed)).touch()
    result = run_cli("run", "--months", str(MONTHS), "--scale", str(SCALE), env=run["env"])
    run["outputs"].append(result)
    assert result.returncode == 0
    assert (
        query(url, "select dataset, count(*) from audit.load_batch where status = 'loaded' group by 1 order by 1")
        == before
    )
    assert query(url, "select count(*) from raw.police__recorded_crime") == raw_before
    # The generated extracts are taken back before any DAG runs (the warehouse holds them); the re-sent file
    # goes through its ingest DAG and is recorded as a duplicate of the batch that loaded it.
    assert f"{sum(n for _, n in before)} of them the warehouse already loaded" in result.stdout
    skipped = query(url, "select count(*) from audit.load_batch where status = 'skipped_duplicate'")[0][0]
    assert skipped == 1, "the re-sent file, and nothing else, was recorded as a duplicate"
    assert "skipped_duplicate" in result.stdout
    assert "ingest_police__asb_incidents: skipped, no file waits" in result.stdout
    assert "transform_warehouse: skipped, nothing new since the last build" in result.stdout
    assert_the_key_is_nowhere(run, tmp_path)


def test_a_bad_file_is_quarantined_and_everything_else_still_loads(pipeline_run_copy, tmp_path):
    run = pipeline_run_copy
    from partnership.demo.generator import generate

    url, data = run["url"], run["data"]
    landing = data / "landing"
    # Two more months of youth justice cases and police crimes only: the other agency's loads and the transform
    # must go on beside the failed one (the other datasets would only add ingest time).
    for name, paths in generate(landing, first_month="2025-01", months=2, scale=SCALE).items():
        if name not in ("youth_justice__cases", "police__recorded_crime"):
            for path in paths:
                path.unlink()
                settings.upload_marker(path).unlink(missing_ok=True)
    bad, good = sorted((landing / "youth_justice" / "cases").glob("*.csv"))
    bad.write_text(bad.read_text().replace(",Referral order,", ",Sent to bed early,", 1))
    settings.upload_marker(bad).touch()  # re-sent: the file, then its marker (docs/operating.md: Upload-complete rule)
    police_before = query(url, "select count(*) from raw.police__recorded_crime")[0][0]
    yj_before = query(url, "select count(*) from raw.youth_justice__cases")[0][0]
    good_rows = sum(1 for _ in open(good)) - 1

    result = run_cli("run", "--no-generate", env=run["env"])
    run["outputs"].append(result)

    assert result.returncode == 1, "a quarantined file fails its DAG run, visibly"
    states = dict(re.findall(r"^  (\w+): (\w+) \(\d+ s\)$", result.stdout, re.MULTILINE))
    assert {dag for dag, state in states.items() if state != "success"} == {"ingest_youth_justice__cases"}, states
    assert {"ingest_police__recorded_crime", "transform_warehouse", "board_report", "ig_report"} <= set(states)
    assert "dbt docs failed" not in result.stderr
    assert (data / "quarantine" / "youth_justice" / "cases" / bad.name).exists()
    assert query(url, "select count(*) from raw.youth_justice__cases")[0][0] == yj_before + good_rows, (
        "the other file of the same dataset and run still loads"
    )
    assert query(url, "select count(*) from raw.police__recorded_crime")[0][0] > police_before
    status, reason = query(url, "select status, reason from audit.load_batch where file_name = %s", bad.name)[0]
    assert status == "quarantined" and "column 'outcome'" in reason
    # New months add to the marts; earlier months are untouched (record ids never clash between extracts).
    crimes_in_mart = query(url, "select sum(crime_count) from marts.fct_crimes_by_ward_month")[0][0]
    assert crimes_in_mart == query(url, "select count(*) from raw.police__recorded_crime")[0][0]
    assert_the_key_is_nowhere(run, tmp_path)


# Every relation dbt builds that an analyst or the publication reads, as its rows: md5 of them in one order.
CONTENTS_SQL = """
select table_schema || '.' || table_name from information_schema.tables
where table_schema in ('staging', 'intermediate', 'marts', 'publish') order by 1
"""


def contents(url) -> dict[str, str]:
    with warehouse.connect(url) as conn:
        return {
            name: conn.execute(
                f"select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from {name} x"
            ).fetchone()[0]
            for (name,) in conn.execute(CONTENTS_SQL).fetchall()
        }


def relation_ids(url, *names) -> dict[str, int]:
    """Each relation's file: dbt builds a table as a new relation and loads a seed into its truncated table, each
    a new file, so a table or seed not built again keeps its file."""
    with warehouse.connect(url) as conn:
        filenode = "select pg_relation_filenode(%s::regclass)"
        return {name: conn.execute(filenode, (name,)).fetchone()[0] for name in names}


def last_transform_node_tasks(data: Path) -> dict[str, tuple[str, int]]:
    """Each node task of the last transform run `partnership run` made: (state, tries), from Airflow's metadata
    (SQLite in the data folder, the run's warehouse being a given server's)."""
    with contextlib.closing(sqlite3.connect(data / "airflow" / "airflow.db")) as db:
        return {
            task_id: (state, tries)
            for task_id, state, tries in db.execute(
                "select task_id, state, try_number from task_instance where dag_id = 'transform_warehouse'"
                " and task_id like 'dbt.%\\_build' escape '\\' and run_id = (select run_id from dag_run"
                " where dag_id = 'transform_warehouse' order by id desc limit 1)"
            )
        }


def test_a_delivery_rebuilds_only_what_reads_it_and_gives_what_a_full_build_gives(pipeline_run_copy):
    run = pipeline_run_copy
    from partnership.demo.generator import generate

    url, landing = run["url"], run["data"] / "landing"
    # One more month of the council's ASB requests only (not linked: no person id of another agency changes).
    for name, paths in generate(landing, first_month="2025-01", months=1, scale=SCALE).items():
        if name != "council__asb_requests":
            for path in paths:
                path.unlink()
                settings.upload_marker(path).unlink(missing_ok=True)
    asb_mart, crime_mart = "marts.fct_asb_requests", "marts.fct_crimes_by_ward_month"
    seed = "reference.ho_offence_codes"
    before = relation_ids(url, asb_mart, crime_mart, seed)

    result = run_cli("run", "--no-generate", env=run["env"])
    assert result.returncode == 0
    assert "transform_warehouse: success" in result.stdout
    after = relation_ids(url, asb_mart, crime_mart, seed)
    assert after[asb_mart] != before[asb_mart], "what reads the new batch is built again"
    assert after[crime_mart] == before[crime_mart], "a police mart is left as the last build left it"
    assert after[seed] == before[seed], "so is reference data"
    # The tasks of the nodes left out were skipped after the build and never started; the others reported.
    tasks = last_transform_node_tasks(run["data"])
    assert tasks["dbt.fct_crimes_by_ward_month_model_build"] == ("skipped", 0)
    assert tasks["dbt.ho_offence_codes_seed_build"] == ("skipped", 0)
    assert tasks["dbt.fct_asb_requests_model_build"] == ("success", 1)
    assert {tries for state, tries in tasks.values() if state == "skipped"} == {0}
    left_out = contents(url)

    rebuilt = run_cli("run", "--no-generate", "--rebuild", env=run["env"])
    assert rebuilt.returncode == 0
    assert relation_ids(url, crime_mart)[crime_mart] != before[crime_mart], "--rebuild builds every node"
    assert contents(url) == left_out, "the build that left nodes out gives exactly what a full build gives"


def test_navigator_nhs_numbers_arrive_only_as_their_keyed_pseudonyms(pipeline_run, tmp_path):
    """Every NHS number the trust sent is in raw as HMAC-SHA256 under the run's key, computed here independently."""
    # Made again outside the run's data folder, which other tests search for what was sent.
    regenerated = generate_again(tmp_path / "sent")
    sent = [r for p in regenerated["health__navigator_referrals"] for r in csv.DictReader(open(p, newline=""))]
    key = pipeline_run["key"].encode()
    expected = {
        (
            r["referral_id"],
            hmac.new(key, f"nhs_number:{r['nhs_number'].replace(' ', '')}".encode(), "sha256").hexdigest(),
        )
        for r in sent
    }
    loaded = set(
        query(
            pipeline_run["url"],
            "select referral_id, nhs_number from raw.health__navigator_referrals where referral_id < 'NV2025'",
        )
    )
    assert loaded == expected and len(loaded) > MONTHS
    linked = query(
        pipeline_run["url"], "select count(*) from staging.stg_health__navigator_referrals where referral_id < 'NV2025'"
    )[0][0]
    assert linked == len(expected)
    processed = "".join(
        p.read_text() for p in (pipeline_run["data"] / "processed" / "health" / "navigator_referrals").rglob("*.csv")
    )
    assert not any(r["nhs_number"] in processed for r in sent), "no NHS number outlives the gate on disk"
    for p in regenerated["health__navigator_referrals"]:
        p.unlink()


def _files_containing(needle: bytes, *folders: Path) -> list[str]:
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and needle in path.read_bytes():
                found.append(str(path))
    return found


def assert_the_key_is_nowhere(run: dict, tmp_path: Path) -> None:
    """Logs, every warehouse table, Airflow's metadata (XComs, task logs), GX results, the data folder and dbt's
    compiled SQL and logs: the run's pseudonymisation key must not be in any of them."""

    for key in (run["key"], run["linkage_key"]):
        _assert_nowhere(run, key, tmp_path)


def _assert_nowhere(run: dict, key: str, tmp_path: Path) -> None:
    from psycopg import sql

    # The search itself must be able to find it (so that finding nothing means something).
    (tmp_path / "planted.txt").write_text(f"x{key}y")
    assert _files_containing(key.encode(), tmp_path) == [str(tmp_path / "planted.txt")]

    for result in run["outputs"]:
        assert key not in result.stdout and key not in result.stderr
    data = run["data"]
    airflow_db = data / "airflow" / "airflow.db"
    assert airflow_db.exists()
    # dbt's target/ and logs/ of every project the runs built in (a test worker builds in its own copy)
    dbt_folders = [d / name for d in run["dbt_dirs"] for name in ("target", "logs")]
    assert any(folder.is_dir() for folder in dbt_folders)
    folders = [data, *(folder for folder in dbt_folders if folder.exists())]
    assert _files_containing(key.encode(), *folders) == []

    with warehouse.connect(run["url"]) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema not in ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert len(tables) > 10
        hits = [
            (s, t)
            for s, t in tables
            if conn.execute(
                sql.SQL("select count(*) from {}.{} r where r::text like %s").format(
                    sql.Identifier(s), sql.Identifier(t)
                ),
                (f"%{key}%",),
            ).fetchone()[0]
        ]
    assert hits == []
    # XComs: the metadata database holds them (and task instance records); search its rows too, not just bytes.
    import sqlite3

    with sqlite3.connect(airflow_db) as db:
        xcoms = db.execute("select count(*), sum(instr(cast(value as text), ?) > 0) from xcom", (key,)).fetchone()
    assert xcoms[0] > 0 and not xcoms[1]


def test_no_detail_sent_for_linkage_is_anywhere_after_the_run(pipeline_run, tmp_path):
    """The names, dates of birth, postcodes and identifiers the agencies sent for linkage (the same files made again
    from the same seed) are in no warehouse table, kept file, log or XCom: only the gate's tokens and person ids."""
    import re
    import sqlite3

    from psycopg import sql

    regenerated = generate_again(tmp_path / "sent")
    details: set[str] = set()
    for ds in load_registry():
        for path in regenerated.get(ds.name, []) if ds.linkage_columns else []:
            with open(path, newline="") as f:
                details |= {v for row in csv.DictReader(f) for c, v in row.items() if c in ds.linkage_columns and v}
    # Whole values, compared cell by cell. Left out: a surname such as White that is also an ethnic group, and
    # dates of birth written as ISO dates, which other dates (an offence's, a term's) equal by chance; the other
    # half of the dates of birth, written day first as no loaded column is, are searched for.
    allowed = {v for ds in load_registry() for c in ds.columns for v in c.allowed or ()}
    # And a surname that is also a place or a word in the project's reference data (Bolton, North).
    seeds = {
        cell
        for path in (settings.DBT_PROJECT_DIR / "seeds").rglob("*.csv")
        for row in csv.reader(open(path, newline="", encoding="utf-8"))
        for cell in row
    }
    details = {v for v in details - allowed - seeds if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v)}
    # Values no other text holds by chance, searched for anywhere in files, logs and XComs: dates of birth,
    # postcodes and identifiers.
    distinctive = {v for v in details if re.search(r"[0-9]", v) and len(v) >= 6}
    # Less any the project's code holds: dbt's manifest is made from code alone (its own date_spine macro's
    # comment has 01/01/2016), and the run's docs and target folders carry it.
    project_text = (pipeline_run["data"] / "docs" / "dbt" / "manifest.json").read_bytes() + b"".join(
        p.read_bytes()
        for p in settings.DBT_PROJECT_DIR.rglob("*.*")
        if p.is_file() and "target" not in p.parts and "logs" not in p.parts
    )
    distinctive -= values_in(project_text, distinctive)
    assert len(details) > 1000 and len(distinctive) > 500

    with warehouse.connect(pipeline_run["url"]) as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema not in ('pg_catalog', 'information_schema')"
            " and data_type in ('text', 'character varying', 'character', 'date')"
        ).fetchall()
        assert len(columns) > 100
        # A column that took a detail column holds many different people's details; a word of the warehouse's
        # own (a geography level "Ward", an age band) may equal a surname or two. A leak is a column holding any
        # distinctive value, or NAMES_BY_CHANCE or more different names. The details go in a temporary table,
        # joined to each column (one hashed join a column, not a scan of a long array per row).
        conn.execute("create temporary table sent_detail (value text primary key, distinctive boolean not null)")
        with conn.cursor().copy("copy sent_detail from stdin") as copy:
            for value in sorted(details):
                copy.write_row((value, value in distinctive))
        conn.execute("analyze sent_detail")
        hits = []
        for s, t, c in columns:
            query = sql.SQL(
                "select count(distinct x.{2}::text), count(distinct x.{2}::text) filter (where d.distinctive),"
                " min(x.{2}::text) from {0}.{1} x join sent_detail d on d.value = x.{2}::text"
            )
            names, distinct, example = conn.execute(
                query.format(sql.Identifier(s), sql.Identifier(t), sql.Identifier(c))
            ).fetchone()
            if distinct or names >= NAMES_BY_CHANCE:
                hits.append((s, t, c, names, example))
    assert hits == []

    data = pipeline_run["data"]
    needles = any_of(distinctive)
    texts = [r.stdout + r.stderr for r in pipeline_run["outputs"]]
    assert not any(needles.search(t.encode()) for t in texts)
    for folder in (data, *(d / "target" for d in pipeline_run["dbt_dirs"])):
        assert folder.is_dir()
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix != ".db":
                assert not needles.search(path.read_bytes()), path
    with sqlite3.connect(data / "airflow" / "airflow.db") as db:
        for (value,) in db.execute("select cast(value as text) from xcom"):
            assert not needles.search((value or "").encode())


NAMES_BY_CHANCE = 5  # different surnames or forenames a column may hold as words of its own (Ward, Day)


def generate_again(folder: Path) -> dict[str, list[Path]]:
    """The run's extracts, made again from the same seed (the generator writes the same bytes every time)."""
    from partnership.demo.generator import generate

    return generate(folder, months=MONTHS, scale=SCALE)


def test_the_pseudonymisation_key_is_nowhere_after_the_run(pipeline_run, tmp_path):
    assert_the_key_is_nowhere(pipeline_run, tmp_path)  # and after a second run and a quarantine: the tests above


def test_values_in_finds_exactly_the_values_a_search_for_each_finds():
    # The leak test leaves out the values the project's own text holds; one missed would be a false alarm, one
    # too many a value the search no longer looks for.
    import random

    rng = random.Random(16)
    values = {"".join(rng.choices("0123/", k=rng.randint(2, 7))) for _ in range(400)}
    values |= {"401023213", "4010232137", "40102321370", "0232137"}  # prefixes, and one inside another
    text = "".join(rng.choices("0123/4", k=20_000)).encode() + b"x4010232137x"
    assert values_in(text, values) == {v for v in values if v.encode() in text}
    assert {"401023213", "4010232137", "0232137"} <= values_in(text, values)
    assert "40102321370" not in values_in(text, values)
    assert values_in(b"ab", {"", "ab"}) == {"", "ab"} and values_in(b"ab", set()) == set()


def test_the_leak_search_finds_every_value_a_plain_alternation_finds():
    # any_of builds the leak test's search as a trie; a wrong trie would let that test pass over a leak.
    import random
    import re

    rng = random.Random(14)
    values = {f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1990, 2015)}" for _ in range(300)}
    values |= {f"M{rng.randint(1, 40)} {rng.randint(1, 9)}AB" for _ in range(300)} | {"401023213", "4010232137"}
    plain = re.compile("|".join(map(re.escape, values)).encode())
    trie = any_of(values)
    noise = "".join(rng.choices("0123456789 /MAB\n", k=200_000)).encode()
    for value in [*sorted(values)[::37], "4010232137"]:
        planted = noise[:5000] + value.encode() + noise[5000:]
        assert trie.search(planted) and plain.search(planted)
    assert bool(trie.search(noise)) == bool(plain.search(noise))
    assert trie.search(b"no detail here") is None
