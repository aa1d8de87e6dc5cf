"""Incremental where it pays (issue 5): loading one more month after a full build adds that month's batches to the
incremental models and rewrites none of the rows built before, except the earlier copy of a record that the new
month's extract corrects, which it replaces with no duplicate.

Generated extracts are loaded through the real ingest DAGs (dag.test(), as `partnership run` runs them) into a
fresh warehouse and built with `dbt build` of the incremental models and what they read, twice (the transform DAG
builds the same models through cosmos; dbt directly gives its run_results too). A row not
rewritten keeps its PostgreSQL xmin (the transaction that wrote it); the incremental models are every
incremental model in the dbt manifest, found the way retention finds them."""

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from partnership import retention, runner, settings, warehouse
from partnership.demo.generator import generate
from partnership.registry import get_dataset

integration = pytest.mark.integration

MONTHS, SCALE = 3, 0.2
NEW_MONTH = "2024-07"  # generated months run from 2024-04: three built first, then this one
# A record of the first month, sent again corrected in the new month's extract: dataset -> (key, field, values);
# the correction is the first of the values that differs from the record's.
CORRECTIONS = {
    "police__recorded_crime": ("crime_reference", "outcome", ("Unable to prosecute suspect", "Under investigation")),
    "police__asb_incidents": ("incident_reference", "asb_category", ("Environmental", "Personal")),
    "health__ae_assault_attendances": ("attendance_id", "assault_method", ("Firearm", "Blunt object")),
}
# Where each correction shows in the dataset's incremental model.
CORRECTED_COLUMN = {
    "police__recorded_crime": "outcome",
    "police__asb_incidents": "asb_category",
    "health__ae_assault_attendances": "assault_method",
}
# The incremental models that keep linked persons: model -> (staging model, key, person columns). Each person id
# must be the one staging gives now, after record linkage merged people.
PERSON_COLUMNS = {
    "int_crimes_classified": (
        "stg_police__recorded_crime",
        "crime_reference",
        ("victim_person_key", "suspect_person_key"),
    ),
    "int_ae_assault_attendances_located": (
        "stg_health__ae_assault_attendances",
        "attendance_id",
        ("patient_person_key",),
    ),
}


def query(url, sql, *params):
    with warehouse.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def land(generated, files, landing):
    for path in files:
        target = landing / path.relative_to(generated)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        settings.upload_marker(target).touch()  # uploaded in full (docs/operating.md: Upload-complete rule)


def correct_a_first_month_record(dataset, generated_files):
    """The first record of the first month's file, corrected (one field changed), sent with the new month in a
    file of its own: a file carries the month its records fall in (the loader checks), here 2024-04's."""
    key, field, values = CORRECTIONS[dataset]
    first = generated_files[0]
    with open(first, newline="") as f:
        reader = csv.DictReader(f)
        record, fields = next(reader), reader.fieldnames
    header = get_dataset(dataset).column(field).file_header
    record[header] = next(v for v in values if v != record[header])
    resent = first.with_name(f"{first.stem}-resent-{NEW_MONTH}.csv")  # still matches the landing pattern
    with open(resent, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerow(record)
    generated_files.append(resent)
    return record[get_dataset(dataset).column(key).file_header], record[header]


def merge_a_victim_into_another_person(url):
    """A reviewer decides a pending pair is one person, where the person whose id goes is a crime's victim or
    suspect: the crime's row, built already, now has a stale id unless the next build builds it again."""
    from partnership.linkage import review

    with warehouse.connect(url) as conn:
        pair = conn.execute(
            "select p.a_record_id || '-' || p.b_record_id"
            " from linkage.review_pair p"
            " join linkage.person_record a on a.record_id = p.a_record_id"
            " join linkage.person_record b on b.record_id = p.b_record_id"
            " join linkage.record_person ap on ap.record_id = a.record_id"
            " join linkage.record_person bp on bp.record_id = b.record_id"
            " join linkage.loaded_record la on la.record_id = a.record_id"
            " join linkage.loaded_record lb on lb.record_id = b.record_id"
            " where ap.person_id <> bp.person_id"
            "   and (case when ap.person_id > bp.person_id then a.source else b.source end)"
            "       like 'police\\_\\_recorded\\_crime:%%'"
            " order by 1 limit 1"
        ).fetchone()
        assert pair, "linkage left a pair of a crime's person and another for review"
        done = review.decide(conn, pair[0], "same", "one person: the incremental test's merge")
    assert "merged" in done, done
    return done


def rows_in(path):
    with open(path, newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def incremental_models(manifest):
    """(copy, unique-key columns) for every incremental model of the manifest."""
    nodes = {n["name"]: n for n in json.loads(manifest.read_text())["nodes"].values()}
    found = []
    for copies in retention.incremental_copies(manifest).values():
        for copy in copies:
            key = nodes[copy.model]["config"]["unique_key"]
            found.append((copy, [key] if isinstance(key, str) else list(key)))
    return found


def snapshot(url, copy, key):
    """key -> (batch_id, xmin) of every row, and the table's row count (a duplicate key would differ)."""
    cols = ", ".join(key)
    rows = query(url, f"select {cols}, batch_id, xmin::text from {copy.relation}")
    count = query(url, f"select count(*) from {copy.relation}")[0][0]
    return {tuple(r[: len(key)]): (r[-2], r[-1]) for r in rows}, count


def persons(url, copy):
    """key -> the person ids of each row of a model that keeps linked persons (empty for any other)."""
    if copy.model not in PERSON_COLUMNS:
        return {}
    _, key, columns = PERSON_COLUMNS[copy.model]
    rows = query(url, f"select {key}, {', '.join(columns)} from {copy.relation}")
    return {(r[0],): r[1:] for r in rows}


INGEST = """
import os
from partnership import runner
os.environ.update(runner.airflow_environment(os.environ["WAREHOUSE_URL"]))
runner.migrate_airflow_db()
dags = runner.load_dags()
for dag_id in sorted(d for d in dags if d.startswith("ingest_")):
    print(dag_id, runner.run_dag(dags[dag_id]), flush=True)
"""


def ingest_through_the_dags(env):
    """Every ingest DAG, run to the end with dag.test() in a child process (Airflow reads its environment once)."""
    result = subprocess.run([sys.executable, "-c", INGEST], env=env, capture_output=True, text=True, timeout=900)
    states = dict(line.split() for line in result.stdout.splitlines() if line.startswith("ingest_"))
    assert states and set(states.values()) == {"success"}, result.stdout[-3000:] + result.stderr[-3000:]


def dbt_build(url, target):
    """`dbt build` of every incremental model and all it reads (with their tests); the run's results (rows written
    per model) by model name. The rest of the project reads these models and cannot change them. Both builds use
    one target folder: the second starts from the first's partial-parse file instead of parsing the whole project
    again (a new target folder has none)."""
    runner.dbt("build", "--select", "+config.materialized:incremental", "--target-path", str(target), url=url)
    results = json.loads((target / "run_results.json").read_text())["results"]
    failed = [(r["unique_id"], r["status"]) for r in results if r["status"] in ("error", "fail", "skipped")]
    assert not failed, failed  # exposures report "no-op"
    return {r["unique_id"].split(".")[-1]: r for r in results if r["unique_id"].startswith("model.")}


@integration
def test_one_more_month_adds_only_its_rows_and_replaces_only_corrected_records(
    warehouse_url, data_dir, tmp_path, dbt_manifest
):
    generated = tmp_path / "generated"
    files = generate(generated, months=MONTHS + 1, scale=SCALE)
    corrected = {d: correct_a_first_month_record(d, files[d]) for d in CORRECTIONS}
    later = [p for paths in files.values() for p in paths if NEW_MONTH in p.name]
    earlier = [p for paths in files.values() for p in paths if NEW_MONTH not in p.name]
    env = {**os.environ, "WAREHOUSE_URL": warehouse_url, "PARTNERSHIP_DATA_DIR": str(data_dir)}

    land(generated, earlier, settings.landing_dir())
    ingest_through_the_dags(env)
    dbt_build(warehouse_url, tmp_path / "dbt-target")

    models = incremental_models(dbt_manifest)
    assert {copy.model for copy, _ in models} >= {
        "int_crimes_classified",
        "int_asb_incidents_located",
        "int_ae_assault_attendances_located",
        "int_street_crime_located",
    }
    before = {copy.model: snapshot(warehouse_url, copy, key) for copy, key in models}
    persons_before = {copy.model: persons(warehouse_url, copy) for copy, _ in models}
    for copy, _ in models:
        assert before[copy.model][1] > 0, f"{copy.model} was built"
    last_batch = query(warehouse_url, "select max(batch_id) from audit.load_batch")[0][0]

    merge_a_victim_into_another_person(warehouse_url)
    rows_sent = {p: rows_in(p) for p in later}
    land(generated, later, settings.landing_dir())
    ingest_through_the_dags(env)
    second = dbt_build(warehouse_url, tmp_path / "dbt-target")  # parses only what changed: nothing

    for copy, key in models:
        rows_before, _ = before[copy.model]
        rows_after, count_after = snapshot(warehouse_url, copy, key)
        new_batches = {
            b
            for (b,) in query(
                warehouse_url,
                "select batch_id from audit.load_batch where dataset = %s and status = 'loaded' and batch_id > %s",
                copy.dataset,
                last_batch,
            )
        }
        new_files = [p for p in files[copy.dataset] if NEW_MONTH in p.name]
        assert len(new_batches) == len(new_files), f"{copy.dataset}: the new month and any resent file loaded"
        sent = sum(rows_sent[p] for p in new_files)
        replaced = {(corrected[copy.dataset][0],)} if copy.dataset in CORRECTIONS else set()
        # Rows whose person linkage gave a new id (the merge above, and any the new month's linkage made).
        persons_after = persons(warehouse_url, copy)
        relinked = {k for k, ids in persons_before[copy.model].items() if k not in replaced and persons_after[k] != ids}

        # History is not rebuilt: every earlier row is the very row version written by the first build, but for
        # the corrected record and the rows of a person who now has another id, built again in their own batch.
        unchanged = {k: v for k, v in rows_before.items() if k not in replaced | relinked}
        assert {k: rows_after.get(k) for k in unchanged} == unchanged, f"{copy.model} rewrote earlier rows"
        for k in relinked:
            assert rows_after[k][0] == rows_before[k][0] and rows_after[k][1] != rows_before[k][1]
        # The new month arrived: one row per record sent (the correction included), in the new batches; and
        # that, with the relinked rows, is all dbt wrote.
        arrived = {k for k, (b, _) in rows_after.items() if b in new_batches}
        assert len(arrived) == sent > 0
        assert second[copy.model]["adapter_response"]["rows_affected"] == sent + len(relinked)
        assert set(rows_after) == set(unchanged) | relinked | arrived
        assert count_after == len(rows_after) == len(rows_before) + sent - len(replaced), "no duplicates"

        for k in replaced:  # the corrected record: replaced, in the new batch, with the new value
            assert rows_after[k][0] in new_batches and rows_after[k][1] != rows_before[k][1]
            column = CORRECTED_COLUMN[copy.dataset]
            assert query(warehouse_url, f"select {column} from {copy.relation} where {key[0]} = %s", k[0]) == [
                (corrected[copy.dataset][1],)
            ]

        # No row keeps a stale person id: each is the one staging gives now (the merged victim's crime included).
        if copy.model in PERSON_COLUMNS:
            staging, key_column, columns = PERSON_COLUMNS[copy.model]
            current = query(warehouse_url, f"select {key_column}, {', '.join(columns)} from staging.{staging}")
            assert persons_after == {(r[0],): r[1:] for r in current}
    assert any(
        ids != persons_before["int_crimes_classified"].get(k)
        for k, ids in persons(warehouse_url, next(c for c, _ in models if c.model == "int_crimes_classified")).items()
        if k in persons_before["int_crimes_classified"]
    ), "the merged person's crime took the new id"


def test_every_incremental_model_is_keyed_indexed_by_batch_and_open_to_retention(dbt_manifest):
    """What retention and the next month's build rely on, for every incremental model (dbt parse only)."""
    nodes = [n for n in json.loads(dbt_manifest.read_text())["nodes"].values() if n["resource_type"] == "model"]
    incremental = [n for n in nodes if n["config"]["materialized"] == "incremental"]
    assert len(incremental) >= 4
    copies = {c.model for found in retention.incremental_copies(dbt_manifest).values() for c in found}
    for node in incremental:
        config = node["config"]
        assert node["name"] in copies, "names its retention source and record date"
        assert config["unique_key"] and config["incremental_strategy"] == "delete+insert", node["name"]
        indexed = [i["columns"] for i in config["indexes"]]
        assert any(columns[0] == "batch_id" for columns in indexed), node["name"]
        # delete+insert deletes by the key, and a row whose person has a new id is found again by it
        key = [config["unique_key"]] if isinstance(config["unique_key"], str) else config["unique_key"]
        assert {"columns": key, "unique": True} in [
            {"columns": i["columns"], "unique": i.get("unique", False)} for i in config["indexes"]
        ]
        hooks = " ".join(h["sql"] for h in config["post-hook"])
        assert "allow_retention_deletes()" in hooks, f"{node['name']}: the loader may delete its expired rows"
        if node["schema"] == "intermediate" and node["name"] != "int_street_crime_located":  # person-level
            assert "restrict_rows_to_partners" in hooks, node["name"]
