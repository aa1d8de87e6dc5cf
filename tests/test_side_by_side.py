"""`partnership run` with Airflow's metadata in PostgreSQL (the embedded warehouse's case): DAGs that wait on none of
each other (the ingest DAGs) run side by side, each in a worker process with ``dag.test()``, and each DAG's own
outcome is reported. With SQLite (a warehouse given by WAREHOUSE_URL) they run one at a time, as before."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid

import psycopg
import pytest
from conftest import with_database

from partnership import pseudonymise, runner, settings, warehouse

SIDE_BY_SIDE = ["ingest_police__stop_search", "ingest_police__asb_incidents"]


def test_the_embedded_warehouse_keeps_airflow_in_postgresql_and_a_given_one_in_sqlite(data_dir):
    embedded = f"postgresql://postgres@/{warehouse.EMBEDDED_DATABASE}?host={settings.pgdata_dir()}"
    assert runner.metadata_db_url(embedded) == (
        f"postgresql+psycopg2://postgres@/{warehouse.EMBEDDED_AIRFLOW_DATABASE}?host={settings.pgdata_dir()}"
    )
    sqlite = f"sqlite:///{settings.airflow_home() / 'airflow.db'}"
    assert runner.metadata_db_url("postgresql://someone:secret@db.example.org:5432/warehouse") == sqlite
    # A data folder whose Airflow metadata is already in SQLite keeps it there (its Variables with it).
    settings.airflow_home().mkdir(parents=True)
    (settings.airflow_home() / "airflow.db").touch()
    assert runner.metadata_db_url(embedded) == sqlite


@pytest.fixture
def metadata_url(server_url):
    """A fresh PostgreSQL database for Airflow's metadata; dropped afterwards."""
    name = f"partnership_airflow_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield with_database(server_url, name).replace("postgresql://", "postgresql+psycopg2://")
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


RUN_SIDE_BY_SIDE = """
import json, os, sys
from partnership import runner
from partnership.demo.generator import generate
from partnership import settings
os.environ.update(runner.airflow_environment(os.environ["WAREHOUSE_URL"]))
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = os.environ["TEST_METADATA_URL"]
assert runner.runs_side_by_side()
generate(settings.landing_dir(), months=1, scale=0.1)
runner.migrate_airflow_db()
runner.sync_dags_to_metadata_db()
dag_ids = json.loads(sys.argv[1])
print(json.dumps({"pid": os.getpid(), "finished": list(runner.run_side_by_side(dag_ids, 2))}))
"""


@pytest.mark.integration
def test_ingest_dags_run_side_by_side_each_in_a_process_of_its_own(warehouse_url, data_dir, dbt_manifest, metadata_url):
    keys = {pseudonymise.env_name(t): secrets.token_hex(32) for t in pseudonymise.id_types()}
    env = {**os.environ, **keys, "WAREHOUSE_URL": warehouse_url, "TEST_METADATA_URL": metadata_url}
    result = subprocess.run(
        [sys.executable, "-c", RUN_SIDE_BY_SIDE, json.dumps([*SIDE_BY_SIDE, "no_such_dag"])],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    states = {dag_id: state for dag_id, state, _ in outcome["finished"]}
    assert states == {**dict.fromkeys(SIDE_BY_SIDE, "success"), "no_such_dag": "failed"}
    assert "no_such_dag raised KeyError" in result.stderr, "a DAG that could not run says why, and the rest go on"

    with psycopg.connect(warehouse.conninfo(metadata_url)) as conn:
        pids = dict(
            conn.execute(
                "select dag_id, array_agg(distinct pid) from task_instance where pid is not null group by dag_id"
            ).fetchall()
        )
    assert set(pids) == set(SIDE_BY_SIDE)
    (one,), (other,) = pids.values()
    assert one != other and outcome["pid"] not in (one, other), "two worker processes, neither the caller"
    with warehouse.connect(warehouse_url) as conn:
        loaded = conn.execute(
            "select dataset, count(*) from audit.load_batch where status = 'loaded' group by dataset"
        ).fetchall()
    assert {f"ingest_{dataset}" for dataset, files in loaded if files} == set(SIDE_BY_SIDE)
