"""Running the real DAGs from the command line with ``dag.test()``: no scheduler or api-server needed.

Airflow keeps its metadata in SQLite under the project data folder (``airflow/``); the DAGs are read from
``dags/`` exactly as a scheduler would read them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from partnership import settings, warehouse


def airflow_environment(url: str) -> dict[str, str]:
    """Environment for Airflow and dbt. Must be applied before anything imports airflow."""
    airflow_home = settings.airflow_home()
    env = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # The dbt build's node states are backed up for a retry when it fails, not rewritten into a Variable
        # after each of its ~1,200 XComs: that rewrite grows with the project (about 60 s of a 163 s build).
        "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
        # Variables named like this are masked in logs and hidden in the UI (Airflow's own words miss them).
        "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "pseudonymisation_key",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        "WAREHOUSE_URL": url,
        "PARTNERSHIP_RETRY_DELAY_SECONDS": os.environ.get("PARTNERSHIP_RETRY_DELAY_SECONDS", "5"),
    }
    # The connections of dbt and publish (the transformer), of the IG report (the IG reviewer) and of the Board's
    # report (the board reporter, which it also sets as its role); in docker-compose each has its own LOGIN role,
    # here all are the one URL.
    connection = json.dumps(airflow_connection(url))
    for name in ("AIRFLOW_CONN_WAREHOUSE", "AIRFLOW_CONN_WAREHOUSE_IG_REPORT", "AIRFLOW_CONN_WAREHOUSE_BOARD_REPORT"):
        env[name] = connection
    env.update(dbt_environment(url))
    return env


def airflow_connection(url: str) -> dict:
    """The Airflow connection (as JSON fields) for a warehouse URL. The embedded server trusts local socket users,
    but cosmos requires some password: any placeholder will do there."""
    parts = warehouse.url_parts(url)
    return {
        "conn_type": "postgres",
        "host": parts["host"],
        "port": parts["port"],
        "login": parts["user"],
        "password": parts["password"] or "unused-trust-auth",
        "schema": parts["dbname"],
    }


def dbt_environment(url: str) -> dict[str, str]:
    """Variables read by dbt/profiles.yml when dbt runs outside Airflow."""
    parts = warehouse.url_parts(url)
    return {
        "DBT_PROFILES_DIR": str(settings.DBT_PROJECT_DIR),
        "PARTNERSHIP_DB_HOST": parts["host"],
        "PARTNERSHIP_DB_PORT": str(parts["port"]),
        "PARTNERSHIP_DB_USER": parts["user"],
        "PARTNERSHIP_DB_PASSWORD": parts["password"],
        "PARTNERSHIP_DB_NAME": parts["dbname"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def dbt(*args: str, url: str) -> None:
    """Run a dbt command in the project (used for ``dbt parse``: the manifest cosmos reads)."""
    env = {**os.environ, **dbt_environment(url)}
    dbt_bin = Path(sys.executable).with_name("dbt")
    subprocess.run([str(dbt_bin), *args, "--quiet"], cwd=settings.DBT_PROJECT_DIR, env=env, check=True)


def migrate_airflow_db() -> None:
    (settings.airflow_home()).mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, stdout=subprocess.DEVNULL)


def load_dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags


def run_dag(dag) -> str:
    """Run one DAG to the end in this process; return the run's final state."""
    run = dag.test()
    return str(getattr(run.state, "value", run.state))
