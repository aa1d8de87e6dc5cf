"""`partnership run` with Airflow's metadata in PostgreSQL (the embedded warehouse's case): DAGs that wait on none of
each other (the ingest DAGs) run side by side, each in a worker process with ``dag.test()``, and each DAG's own
outcome is reported. With SQLite (a warehouse given by WAREHOUSE_URL) they run one at a time, as before."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import subprocess
import sys
import uuid

import psycopg
import pytest
from conftest import any_of, with_database

from partnership import pseudonymise, runner, settings, warehouse


def _migrated_sqlite(path):
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("create table alembic_version (version_num text)")
        db.commit()


def test_the_embedded_warehouse_keeps_airflow_in_postgresql_and_a_given_one_in_sqlite(data_dir):
    embedded = warehouse.embedded_url()
    postgresql = f"postgresql+psycopg2://postgres@/{warehouse.EMBEDDED_AIRFLOW_DATABASE}?host={settings.pgdata_dir()}"
    sqlite = f"sqlite:///{settings.airflow_home() / 'airflow.db'}"
    assert runner.metadata_db_url(embedded) == postgresql
    assert runner.metadata_db_url("postgresql://someone@db.example.org:5432/warehouse") == sqlite
    # An empty airflow.db (a Variable looked up in SQLite makes one) is no Airflow metadata.
    settings.airflow_home().mkdir(parents=True)
    (settings.airflow_home() / "airflow.db").touch()
    assert runner.metadata_db_url(embedded) == postgresql


def test_a_data_folder_keeps_its_airflow_where_it_was_first_put(data_dir):
    embedded = warehouse.embedded_url()
    sqlite = settings.airflow_home() / "airflow.db"
    runner.remember_metadata_db(embedded)  # as `partnership run` does after migrating
    _migrated_sqlite(sqlite)  # later: `airflow standalone` with this AIRFLOW_HOME, say
    assert runner.metadata_db_url(embedded).startswith("postgresql+psycopg2://")

    # A folder whose Airflow was migrated into SQLite before the choice existed keeps it there (its Variables too).
    (settings.airflow_home() / runner.METADATA_CHOICE).unlink()
    assert runner.metadata_db_url(embedded) == f"sqlite:///{sqlite}"
    runner.remember_metadata_db(embedded)
    sqlite.unlink()
    assert runner.metadata_db_url(embedded) == f"sqlite:///{sqlite}"


@pytest.fixture
def metadata_url(server_url):
    """A fresh PostgreSQL database for Airflow's metadata; dropped afterwards."""
    name = f"partnership_airflow_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield with_database(server_url, name).replace("postgresql://", "postgresql+psycopg2://")
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


# Two DAGs whose files go through record linkage (run in turn) and two that do not.
LINKING = ["ingest_education__ap_placements", "ingest_youth_justice__cases"]
NOT_LINKING = ["ingest_police__asb_incidents", "ingest_police__stop_search"]

RUN_DAGS = """
import json, os
from partnership import cli_run, runner
os.environ.update(runner.airflow_environment(os.environ["WAREHOUSE_URL"]))
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = os.environ["TEST_METADATA_URL"]
assert runner.runs_side_by_side()
runner.migrate_airflow_db()
dags = runner.load_dags()
order = [d for d in runner.run_order(dags) if d in json.loads(os.environ["TEST_DAGS"])]
failed, _ = cli_run.run_dags(dags, order, os.environ["WAREHOUSE_URL"], rebuild=False, side_by_side=True)
print(json.dumps({"pid": os.getpid(), "failed": failed}))
"""


@pytest.mark.integration
def test_ingest_dags_run_side_by_side_and_those_that_link_people_in_turn(
    warehouse_url, data_dir, dbt_manifest, metadata_url
):
    from partnership.demo.generator import generate
    from partnership.registry import get_dataset

    written = generate(settings.landing_dir(), months=1, scale=0.1)
    sent = set()  # what the agencies sent about people: never to be in Airflow's metadata
    for dag_id in LINKING:
        ds = get_dataset(dag_id.removeprefix("ingest_"))
        for path in written[ds.name]:
            with open(path, newline="") as f:
                sent |= {v for row in csv.DictReader(f) for c, v in row.items() if c in ds.linkage_columns}
    sent = {v for v in sent if re.search(r"[0-9]", v) and len(v) >= 6}  # dates of birth, postcodes, numbers
    keys = {pseudonymise.env_name(t): secrets.token_hex(32) for t in pseudonymise.id_types()}
    assert len(sent) > 20

    env = {
        **os.environ,
        **keys,
        "WAREHOUSE_URL": warehouse_url,
        "TEST_METADATA_URL": metadata_url,
        "TEST_DAGS": json.dumps(LINKING + NOT_LINKING),
    }
    result = subprocess.run([sys.executable, "-c", RUN_DAGS], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["failed"] == []
    assert "running 4 DAGs side by side" in result.stdout
    for dag_id in LINKING + NOT_LINKING:
        assert f"  {dag_id}: success" in result.stdout

    with psycopg.connect(warehouse.conninfo(metadata_url)) as conn:
        pids = {p for (p,) in conn.execute("select distinct pid from task_instance where pid is not null")}
        runs = conn.execute(
            "select dag_id, start_date, end_date from dag_run where dag_id = any(%s) order by start_date", (LINKING,)
        ).fetchall()
        tables = [t for (t,) in conn.execute("select tablename from pg_tables where schemaname = 'public'")]
        dumped = "\n".join(str(row) for t in tables for (row,) in conn.execute(f'select r::text from "{t}" r'))
    assert len(pids) == 2 and outcome["pid"] not in pids, "two worker processes ran the tasks, not the caller"
    assert [dag_id for dag_id, _, _ in runs] == LINKING, "the DAGs that link people, in run order"
    assert runs[0][2] <= runs[1][1], "one after the other: the linkage sees the files in one order"
    assert "ingest_police__stop_search" in dumped
    assert any_of(sent).search(f"({min(sent)})".encode()), "the search finds what it looks for"
    assert not any_of(list(keys.values())).search(dumped.encode()), "a key is in Airflow's metadata"
    assert not any_of(sent).search(dumped.encode()), "a detail sent for linkage is in Airflow's metadata"

    with warehouse.connect(warehouse_url) as conn:
        loaded = {d for (d,) in conn.execute("select distinct dataset from audit.load_batch where status = 'loaded'")}
    assert {f"ingest_{d}" for d in loaded} == set(LINKING + NOT_LINKING)
