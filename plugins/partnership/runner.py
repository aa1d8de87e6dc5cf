"""Running the real DAGs and dbt from the command line (``dag.test()``: no scheduler or api-server needed).

Airflow keeps its metadata in SQLite under the project data folder (``airflow/``); the DAGs are read from
``dags/`` exactly as a scheduler would read them, and run in the order their Assets give (:func:`run_order`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from partnership import settings, warehouse

DBT_DOCS_FILES = ("index.html", "manifest.json", "catalog.json", "static_index.html")


@contextlib.contextmanager
def warehouse_for_cli(keep_running: bool = False):
    """WAREHOUSE_URL if set; otherwise the embedded server, stopped afterwards unless asked not to."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        yield url
        return
    url = warehouse.start_embedded()
    try:
        yield url
    finally:
        if not keep_running:
            warehouse.stop_embedded()


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
    """Run a dbt command in the project (used for ``dbt parse``: the manifest cosmos reads). Its partial-parse
    file is what the transform's `dbt build` starts from, so the profile and target are named as cosmos names them."""
    subprocess.run(_dbt_command(*args), cwd=settings.DBT_PROJECT_DIR, env=_dbt_env(url), check=True)


def _dbt_command(*args: str) -> list[str]:
    dbt_bin = Path(sys.executable).with_name("dbt")
    return [str(dbt_bin), *args, "--profile", settings.DBT_PROFILE, "--target", settings.DBT_TARGET, "--quiet"]


def _dbt_env(url: str) -> dict[str, str]:
    return {**os.environ, **dbt_environment(url)}


class DbtAlongside:
    """A dbt command (as :func:`dbt` runs it) started in a process of its own, to work on the other core while
    this process does something that neither reads nor writes what dbt does. Always waited for, never killed:
    dbt writes its manifest in place, and a dbt stopped mid-write would leave half a manifest behind."""

    def __init__(self, *args: str, url: str) -> None:
        self.command = _dbt_command(*args)
        self.process = subprocess.Popen(self.command, cwd=settings.DBT_PROJECT_DIR, env=_dbt_env(url))

    def wait(self) -> int:
        return self.process.wait()

    def finish(self) -> None:
        """Wait for dbt; CalledProcessError if it failed."""
        if self.wait() != 0:
            raise subprocess.CalledProcessError(self.process.returncode, self.command)


def ensure_manifest(url: str) -> None:
    """Parse the dbt project if it has no manifest (the publish models' disclosure declarations and the
    incremental models retention deletes from are read from it)."""
    if not settings.dbt_manifest().exists():
        dbt("parse", url=url)


def write_dbt_docs(url: str) -> Path:
    """`dbt docs generate` against the warehouse, then copy the site out of dbt/target into the data folder.

    index.html reads manifest.json and catalog.json next to it, so it needs a web server (`python -m
    http.server` in the folder); static_index.html (`--static`) has both inlined and opens from the file.
    """
    dbt("docs", "generate", "--static", url=url)
    return copy_dbt_docs()


def start_dbt_docs(url: str) -> DbtAlongside:
    """`dbt docs generate`, started (see :class:`DbtAlongside`): until it finishes, nothing may read dbt's
    manifest, which it writes again. Then :func:`copy_dbt_docs`."""
    return DbtAlongside("docs", "generate", "--static", url=url)


def copy_dbt_docs() -> Path:
    """The site `dbt docs generate` wrote into dbt/target, copied into the data folder; its index.html."""
    import shutil

    out = settings.dbt_docs_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in DBT_DOCS_FILES:
        shutil.copy2(settings.DBT_PROJECT_DIR / "target" / name, out / name)
    return out / "index.html"


def migrate_airflow_db() -> None:
    """`airflow db migrate`, unless the metadata DB is already at this Airflow's migrations (a later run: the
    command's own start-up costs seconds even when it has nothing to do). Airflow's settings must be in place."""
    (settings.airflow_home()).mkdir(parents=True, exist_ok=True)
    if _airflow_db_migrated():
        return
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, stdout=subprocess.DEVNULL)


def _airflow_db_migrated() -> bool:
    """Whether the metadata DB exists and its migration heads are this Airflow's (as `airflow db
    check-migrations` asks). Any doubt answers no, and the migration runs."""
    if not (settings.airflow_home() / "airflow.db").exists():
        return False
    try:
        from airflow import settings as airflow_settings
        from airflow.utils import db

        try:
            db.check_migrations(timeout=1)  # raises TimeoutError (after a second) if any is not applied
            return True
        finally:
            airflow_settings.Session.remove()  # nothing held open while the migration (if any) writes
    except Exception:  # noqa: BLE001 - e.g. no alembic_version table yet: let the migration say what is wrong
        return False


def load_dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags


# The DAG ids whose dags-folder bundle dag.test() has parsed and written to the metadata DB in this process.
_synced_dag_ids: set[str] = set()


def run_dag(dag) -> str:
    """Run one DAG to the end in this process; return the run's final state.

    Each ``dag.test()`` first parses the whole dags folder again and writes every DAG in it to the metadata DB
    (so that DAGs it triggers exist there): about two seconds, most of it the transform DAG's dbt graph. The
    first call in this process does that; later ones skip it (:func:`_bundle_already_synced`), as the files
    have not changed since, and run the DAG exactly as before.
    """
    synced = dag.dag_id in _synced_dag_ids
    with _bundle_already_synced(dag.dag_id) if synced else contextlib.nullcontext():
        run = dag.test()
    if not synced:
        _synced_dag_ids.update(_dag_ids_in_metadata_db())
    return str(getattr(run.state, "value", run.state))


def _dag_ids_in_metadata_db() -> set[str]:
    from airflow.models.dag_version import DagVersion
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return set(session.scalars(select(DagVersion.dag_id).distinct()))


@contextlib.contextmanager
def _bundle_already_synced(dag_id: str):
    """Within it, ``dag.test()`` neither parses the dags folder nor writes it to the metadata DB: for a DAG that
    an earlier ``dag.test()`` of this process wrote there (it looks for the DAG's version right after). Patches
    the two names that ``dag.test()`` imports from Airflow's dagbag module when called (Airflow 3.3); if either
    is gone, nothing is patched."""
    from unittest import mock

    from airflow.dag_processing import dagbag

    if not all(hasattr(dagbag, n) for n in ("BundleDagBag", "sync_bag_to_db")):
        yield
        return

    def no_bag(**_kwargs):
        return None

    def no_sync(*_args, **_kwargs):
        return None

    with mock.patch.object(dagbag, "BundleDagBag", no_bag), mock.patch.object(dagbag, "sync_bag_to_db", no_sync):
        yield


# -- the order `partnership run` runs the DAGs in ------------------------------------------------------------


def _scheduled_on(dag) -> set[str]:
    """The URIs of the Assets a DAG is scheduled on (one Asset, any or all of several, or those or a time)."""
    found, todo = set(), [getattr(dag.timetable, "asset_condition", None)]
    while todo:
        condition = todo.pop()
        if isinstance(getattr(condition, "uri", None), str):
            found.add(condition.uri)
        todo.extend(getattr(condition, "objects", ()))
    return found


def _emits(dag) -> set[str]:
    """The URIs of the Assets a DAG's tasks declare as outlets. An Asset alias gives none: what it stands for
    is decided as the task runs."""
    return {a.uri for t in dag.tasks for a in (t.outlets or ()) if isinstance(getattr(a, "uri", None), str)}


def asset_edges(dags: dict) -> dict[str, set[str]]:
    """For each DAG, the DAGs that emit an Asset it is scheduled on (its upstream DAGs)."""
    emitted_by: dict[str, set[str]] = {}
    for dag_id, dag in dags.items():
        for uri in _emits(dag):
            emitted_by.setdefault(uri, set()).add(dag_id)
    return {
        dag_id: {up for uri in _scheduled_on(dag) for up in emitted_by.get(uri, ())} - {dag_id}
        for dag_id, dag in dags.items()
    }


def run_order(dags: dict) -> list[str]:
    """The DAGs `partnership run` runs, in an order the Assets give: each after every DAG that emits an Asset it
    is scheduled on (even one that is not run itself, such as settle_deliveries between the loads and the
    transform).

    Run are the DAGs scheduled on an Asset, but not the relays tagged dag_defaults.RELAY_TAG (watch_landing,
    settle_deliveries), which only pass Assets on for an unattended scheduler: run here, one after another,
    each DAG simply follows the ones it waits on. A DAG runs once here, so each runs as late as the DAGs after
    it allow (then it sees everything done before it); ties go by DAG id.
    """
    from partnership.dag_defaults import RELAY_TAG

    upstream = asset_edges(dags)
    downstream: dict[str, set[str]] = {dag_id: set() for dag_id in dags}
    for dag_id, ups in upstream.items():
        for up in ups:
            downstream[up].add(dag_id)
    height: dict[str, int] = {}  # the longest chain of DAGs after this one

    def height_of(dag_id: str, path: tuple[str, ...] = ()) -> int:
        if dag_id in path:
            raise ValueError(f"the DAGs' Assets form a cycle: {' -> '.join((*path, dag_id))}")
        if dag_id not in height:
            height[dag_id] = max((1 + height_of(d, (*path, dag_id)) for d in downstream[dag_id]), default=0)
        return height[dag_id]

    run = [dag_id for dag_id, dag in dags.items() if _scheduled_on(dag) and RELAY_TAG not in (dag.tags or ())]
    return sorted(run, key=lambda dag_id: (-height_of(dag_id), dag_id))
