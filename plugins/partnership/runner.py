"""Running the real DAGs and dbt from the command line (``dag.test()``: no scheduler or api-server needed).

Airflow keeps its metadata in the embedded PostgreSQL beside the warehouse, or (with a warehouse given by
WAREHOUSE_URL) in SQLite under the project data folder (``airflow/``): :func:`metadata_db_url`. The DAGs are read
from ``dags/`` exactly as a scheduler would read them, and run in the order their Assets give (:func:`run_order`);
on PostgreSQL, DAGs that wait on none of each other run side by side in processes of their own
(:func:`run_side_by_side`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from partnership import settings, warehouse

DBT_DOCS_FILES = ("index.html", "manifest.json", "catalog.json", "static_index.html")


@contextlib.contextmanager
def warehouse_for_cli(keep_running: bool = False):
    """WAREHOUSE_URL if set; otherwise the embedded server, stopped afterwards unless asked not to or it was
    running before (another command, a run in another terminal, may be using it)."""
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        yield url
        return
    already_running = (settings.pgdata_dir() / "postmaster.pid").exists()  # another command's: left running
    url = warehouse.start_embedded()
    try:
        yield url
    finally:
        if not keep_running and not already_running:
            _close_airflow_connections()  # Airflow's metadata may be on this server: closed before it stops
            warehouse.stop_embedded()


def _close_airflow_connections() -> None:
    """Close the connections Airflow's ORM holds, if this process imported Airflow (or its exit would roll back
    on a server that has stopped, and fail)."""
    airflow_settings = sys.modules.get("airflow.settings")
    if airflow_settings is not None:
        airflow_settings.dispose_orm()


def airflow_environment(url: str) -> dict[str, str]:
    """Environment for Airflow and dbt. Must be applied before anything imports airflow."""
    airflow_home = settings.airflow_home()
    env = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db_url(url),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings.cosmos_cache_dir()),
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


METADATA_CHOICE = "metadata-database"  # in AIRFLOW_HOME: where the data folder's Airflow metadata was put


def metadata_db_url(url: str) -> str:
    """Where Airflow keeps its metadata for this warehouse.

    With the embedded warehouse, the embedded server's `airflow` database: PostgreSQL takes concurrent writers,
    so the ingest DAGs run side by side (:func:`run_side_by_side`), as a scheduler would run them. Otherwise a
    SQLite file in the data folder, where DAGs run one at a time: a warehouse given by WAREHOUSE_URL gets no
    database it was not asked for, and a data folder whose Airflow is already in SQLite (migrated there before
    this choice was made) keeps it there, its Variables with it. Once made, the choice is recorded
    (:func:`remember_metadata_db`): an airflow.db that appears later does not move it.
    """
    sqlite = settings.airflow_home() / "airflow.db"
    embedded = warehouse.embedded_airflow_url(url)
    if embedded and _embedded_metadata_choice(sqlite) == "postgresql":
        return embedded
    return f"sqlite:///{sqlite}"


def _embedded_metadata_choice(sqlite: Path) -> str:
    recorded = settings.airflow_home() / METADATA_CHOICE
    if recorded.exists():
        return recorded.read_text().strip()
    return "postgresql" if _migrated_sqlite(sqlite) is False else "sqlite"


def _migrated_sqlite(path: Path) -> bool | None:
    """Whether the file is an Airflow metadata database (not an empty file a lookup left), read-only; None when
    that cannot be told now (the file locked, say): then SQLite is kept, and the choice not recorded."""
    import sqlite3

    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            return db.execute("select 1 from sqlite_master where name = 'alembic_version'").fetchone() is not None
    except sqlite3.Error:
        return None


def remember_metadata_db(url: str) -> None:
    """Record, for the embedded warehouse, where this data folder's Airflow metadata is (after its migration)."""
    recorded = settings.airflow_home() / METADATA_CHOICE
    sqlite = settings.airflow_home() / "airflow.db"
    if warehouse.embedded_airflow_url(url) and not recorded.exists() and _migrated_sqlite(sqlite) is not None:
        choice = "sqlite" if metadata_db_url(url).startswith("sqlite") else "postgresql"
        settings.write_private_atomically(recorded, choice + "\n")


def runs_side_by_side() -> bool:
    """Whether this process's Airflow metadata database takes concurrent writers (not SQLite)."""
    return not os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite").startswith("sqlite")


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


# The docs site: every model, seed, snapshot and source with its catalog and compiled SQL; data and unit tests are
# listed (from the manifest) but not compiled for it, which was half of `dbt docs generate` (10.4 s against 5.1 s,
# make run's warehouse): the build compiles them into target/compiled, where a failing test's SQL is read.
DOCS_GENERATE = ("docs", "generate", "--static", "--exclude", "resource_type:test", "resource_type:unit_test")


def write_dbt_docs(url: str) -> Path:
    """`dbt docs generate` against the warehouse, then copy the site out of dbt/target into the data folder.

    index.html reads manifest.json and catalog.json next to it, so it needs a web server (`python -m
    http.server` in the folder); static_index.html (`--static`) has both inlined and opens from the file.
    """
    dbt(*DOCS_GENERATE, url=url)
    return copy_dbt_docs()


def start_dbt_docs(url: str) -> DbtAlongside:
    """`dbt docs generate`, started (see :class:`DbtAlongside`): until it finishes, nothing may read dbt's
    manifest, which it writes again. Then :func:`copy_dbt_docs`."""
    return DbtAlongside(*DOCS_GENERATE, url=url)


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
    if not runs_side_by_side() and not (settings.airflow_home() / "airflow.db").exists():
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


def run_dag(dag, conf: dict | None = None) -> str:
    """Run one DAG to the end in this process, with the run's ``conf`` (its params); return its final state.

    Each ``dag.test()`` first parses the whole dags folder again and writes every DAG in it to the metadata DB
    (so that DAGs it triggers exist there): about two seconds, most of it the transform DAG's dbt graph. The
    first call in this process does that; later ones skip it (:func:`_bundle_already_synced`), as the files
    have not changed since, and run the DAG exactly as before.
    """
    synced = dag.dag_id in _synced_dag_ids
    with _bundle_already_synced(dag.dag_id) if synced else contextlib.nullcontext():
        run = dag.test(run_conf=conf)
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


def sync_dags_to_metadata_db() -> None:
    """Parse the dags folder and write every DAG in it to the metadata DB, as the first ``dag.test()`` of a process
    does (the same Airflow calls): done once before DAGs run side by side, so that no two processes write the
    same DAGs at once and none of them has to."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        sync_bag_to_db(bag, bundle.name, bundle.version)
    _synced_dag_ids.update(_dag_ids_in_metadata_db())


def run_side_by_side(
    dags: dict,
    dag_ids: list[str],
    processes: int,
    *,
    in_turn: frozenset[str] = frozenset(),
    before_running_here=lambda: None,
) -> Iterator[tuple[str, str, float]]:
    """Run DAGs that wait on none of each other in worker processes, at most ``processes`` at once; yield (DAG id,
    final state, seconds) as each finishes. A DAG whose run raised is reported as failed, with the error printed.

    The DAGs in ``in_turn`` run one after another in the order given, never two at once, and start before the
    rest (they are the longest chain); the others take the free processes in the order given (put the longest
    first). If the workers stop (one killed, say), the DAGs they had not finished run here, one at a time.

    Each worker is a fresh interpreter (spawned: Airflow's database engine is not to be shared across a fork)
    with this process's environment, which parses the dags folder once and runs its DAGs with ``dag.test()``
    as :func:`run_dag` does. :func:`sync_dags_to_metadata_db` must have run first. The metadata database must
    take concurrent writers (:func:`runs_side_by_side`). Leaving early (an error, Ctrl-C, the generator closed)
    cancels the DAGs not started and waits for those running, so nothing is stopped under them."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    one_at_a_time = [d for d in dag_ids if d in in_turn]
    any_time = [d for d in dag_ids if d not in in_turn]
    not_run: list[str] = []
    pool = ProcessPoolExecutor(
        max_workers=processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
    )
    running: dict = {}
    try:
        while one_at_a_time or any_time or running:
            while len(running) < processes and (one_at_a_time or any_time):
                turn_free = not any(d in in_turn for d in running.values())
                queue = one_at_a_time if one_at_a_time and turn_free else any_time
                if not queue:
                    break
                dag_id = queue.pop(0)
                try:
                    running[pool.submit(_run_in_worker, dag_id)] = dag_id
                except BrokenProcessPool:  # a worker died since the last DAG finished
                    not_run.append(dag_id)
                    break
            if not_run:
                done = set()
            else:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                dag_id = running.pop(future)
                try:
                    state, seconds = future.result()
                except BrokenProcessPool:
                    not_run.append(dag_id)
                    continue
                except Exception as exc:  # noqa: BLE001 - one DAG's error is that DAG's failure, not the run's
                    print(f"  {dag_id} raised {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                    state, seconds = "failed", float("nan")
                yield dag_id, state, seconds
            if not_run:  # the pool is broken: what it had not finished runs here
                not_run += [*running.values(), *one_at_a_time, *any_time]
                one_at_a_time, any_time, running = [], [], {}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if not_run:
        print(f"  the worker processes stopped: {len(not_run)} DAGs run here, one at a time", file=sys.stderr)
        before_running_here()
        for dag_id in sorted(set(not_run), key=dag_ids.index):
            yield dag_id, *_run_timed(dags[dag_id])


class WarmUp:
    """What this process would otherwise do at the start of the DAGs it runs itself after the ingest (the transform,
    the two reports), done beforehand in a thread: importing dbt, Great Expectations and the Board's report, and
    building Airflow's in-process execution API (its versioned routes are built on the first request, about three
    seconds of one core). Started while the ingest DAGs run in worker processes and a core is free; joined before
    this process runs a DAG again, so nothing of it runs beside a task. Any failure leaves the work to be done
    where it always was, at first use."""

    def __init__(self) -> None:
        import threading

        self.thread = threading.Thread(target=self._warm, name="partnership-warm-up", daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join()

    @staticmethod
    def _warm() -> None:
        import logging

        try:
            import dbt.cli.main  # noqa: F401 - cosmos's producer runs dbt in this process

            import partnership.board_report.build  # noqa: F401
            from partnership.validation.run import quiet_gx_logs

            with quiet_gx_logs():  # the IG report rebuilds the Data Docs index with GX
                import great_expectations  # noqa: F401

            import httpx
            from airflow.sdk.execution_time.supervisor import in_process_api_server

            # Any request builds the routes (a path that is not there too): the health check reads nothing.
            httpx.Client(transport=in_process_api_server().transport, base_url="http://in-process").get("/health/ping")
        except Exception:  # noqa: BLE001 - only ever a head start
            logging.getLogger(__name__).warning("warming up for the transform failed", exc_info=True)


_worker_dags: dict = {}  # in a worker process of run_side_by_side: the DAGs it parsed when it started


def _start_worker() -> None:
    _synced_dag_ids.update(_dag_ids_in_metadata_db())
    _worker_dags.update(load_dags())


def _run_in_worker(dag_id: str) -> tuple[str, float]:
    return _run_timed(_worker_dags[dag_id])


def _run_timed(dag) -> tuple[str, float]:
    """(final state, seconds) of one DAG's run; a run that raised is that DAG's failure, with the error printed."""
    started = time.time()
    try:
        state = run_dag(dag)
    except Exception as exc:  # noqa: BLE001 - one DAG's error is that DAG's failure, not the run's
        print(f"  {dag.dag_id} raised {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        state = "failed"
    return state, time.time() - started


def upstream_closure(upstream: dict[str, set[str]], dag_id: str) -> set[str]:
    """Every DAG the given one waits on, directly or through others (``upstream`` as :func:`asset_edges` gives)."""
    found, todo = set(), list(upstream[dag_id])
    while todo:
        up = todo.pop()
        if up not in found:
            found.add(up)
            todo.extend(upstream[up])
    return found


def side_by_side_groups(dags: dict, order: list[str]) -> list[list[str]]:
    """The DAGs of ``order`` (a run order) in consecutive groups whose DAGs may run side by side: none waits,
    through any chain of Assets (relays not run included), on another of its group."""
    upstream = asset_edges(dags)
    groups: list[list[str]] = []
    for dag_id in order:
        if groups and not upstream_closure(upstream, dag_id) & set(groups[-1]):
            groups[-1].append(dag_id)
        else:
            groups.append([dag_id])
    return groups


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
