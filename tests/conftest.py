"""Shared fixtures. Airflow reads AIRFLOW_HOME when first imported, so it is set here, before any test module
imports airflow, to a throwaway folder (otherwise Airflow writes ~/airflow)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

# What the test processes of one session share (make test runs a pytest-xdist worker per core): the shared pipeline
# run's record, lock and data folder, and each process's Airflow home and dbt project. Made by the first process,
# which the workers are started from, and removed by it at the end of the session (pytest_sessionfinish).
SHARED_DIR_ENV = "PARTNERSHIP_TEST_SHARED_DIR"
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if not WORKER:
    os.environ[SHARED_DIR_ENV] = tempfile.mkdtemp(prefix="partnership-test-shared-")
SHARED_DIR = Path(os.environ[SHARED_DIR_ENV])
_airflow_home = SHARED_DIR / f"airflow-{WORKER or 'main'}"  # each process its own Airflow metadata database
_airflow_home.mkdir()
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_airflow_home / 'airflow.db'}"
os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"
# A pseudonymisation key made for this test session (tests that need a particular key set their own).
os.environ.setdefault("PSEUDONYMISATION_KEY_NHS_NUMBER", uuid.uuid4().hex + uuid.uuid4().hex)
os.environ.setdefault("PSEUDONYMISATION_KEY_LINKAGE", uuid.uuid4().hex + uuid.uuid4().hex)
# Each worker builds from its own copy of the dbt project: dbt writes its manifest, partial-parse file and docs into
# the project's target/ folder, and two workers writing there at once would read each other's half-written files.
if WORKER and "PARTNERSHIP_DBT_DIR" not in os.environ:
    _dbt_copy = SHARED_DIR / f"dbt-{WORKER}" / "dbt"
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "dbt", _dbt_copy, ignore=shutil.ignore_patterns("target", "logs")
    )
    os.environ["PARTNERSHIP_DBT_DIR"] = str(_dbt_copy)

import psycopg  # noqa: E402
import pytest  # noqa: E402

from partnership import settings, warehouse  # noqa: E402
from partnership.registry import get_dataset  # noqa: E402

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


PIPELINE_FIXTURES = {"pipeline_run", "pipeline_run_copy", "pipeline_run_module_copy"}


def pytest_collection_modifyitems(config, items):
    """The order pytest-xdist hands the tests out in (two at a time, `--maxschedchunk=2`): the real-scheduler
    test, the longest, first, then the tests of the shared pipeline run, so that one worker starts the scheduler
    while another makes the run, and the quick tests fill in at the end."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("scheduler") is None,
            not PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())),
        )
    )


def pytest_sessionfinish(session):
    """In the first process, after every worker has finished: drop what the shared pipeline run left."""
    if WORKER:
        return
    for record in SHARED_DIR.glob("pipeline_run-*.json"):
        run = json.loads(record.read_text())
        try:
            with psycopg.connect(warehouse.conninfo(run["server_url"]), autocommit=True) as conn:
                for name in (run["dbname"], run["template"]):
                    conn.execute(f'drop database if exists "{name}" with (force)')
        except psycopg.OperationalError:  # an embedded server, stopped with its worker: its files are gone too
            pass
    shutil.rmtree(SHARED_DIR, ignore_errors=True)


def _local_server_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        with psycopg.connect(LOCAL_SERVER, connect_timeout=3):
            return True
    except OSError:
        return False
    except psycopg.Error:
        return False


def with_database(url: str, name: str) -> str:
    """The same server URL with another database name (the last path segment, before any query)."""
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """A PostgreSQL server to create test databases on: the machine's, or an embedded one."""
    if _local_server_up():
        yield LOCAL_SERVER
        return
    data = tmp_path_factory.mktemp("embedded")
    previous = os.environ.get("PARTNERSHIP_DATA_DIR")
    os.environ["PARTNERSHIP_DATA_DIR"] = str(data)
    url = warehouse.start_embedded()
    yield with_database(url, "postgres")
    warehouse.stop_embedded()
    if previous is None:
        os.environ.pop("PARTNERSHIP_DATA_DIR", None)


@pytest.fixture
def warehouse_url(server_url, monkeypatch):
    """A fresh, initialised, empty warehouse database for one test; dropped afterwards."""
    name = f"partnership_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server_url, name)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    warehouse.init_warehouse(url)
    yield url
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty project data folder (landing, processed, quarantine) for one test."""
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path / "data"))
    return settings.data_dir()


@pytest.fixture
def crimes():
    return get_dataset("police__recorded_crime")


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata DB (this process's SQLite, under the AIRFLOW_HOME made above), migrated once, for tests
    that run a DAG with ``dag.test()`` in this process."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, timeout=600)


@pytest.fixture(scope="session")
def dbt_manifest():
    """dbt/target/manifest.json, which the transform DAG reads at parse time (a fresh clone has none)."""
    from partnership import runner

    runner.dbt("parse", url="postgresql://postgres@localhost/warehouse")  # dbt parse never connects
    return settings.DBT_PROJECT_DIR / "target" / "manifest.json"


@pytest.fixture
def login_role(server_url):
    """Make LOGIN roles (no password: the test server trusts local connections) that are members of the given
    group roles; returns (name, url) with the URL for the given database. Dropped afterwards."""
    made = []

    def make(database_url: str, *member_of: str) -> tuple[str, str]:
        name = f"pwtest_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
            conn.execute(f'create role "{name}" login')
            for role in member_of:
                conn.execute(f'grant "{role}" to "{name}"')
        made.append(name)
        return name, database_url.replace("//postgres@", f"//{name}@", 1)

    yield make
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        for name in made:
            conn.execute(f'drop role if exists "{name}"')


PARTNERSHIP = str(Path(__import__("sys").executable).with_name("partnership"))
# The pipeline the integration tests share: big enough for the planted figures to show through the noise.
PIPELINE_MONTHS, PIPELINE_SCALE = 6, 1.0
PSEUDONYMISATION_ENV = "PSEUDONYMISATION_KEY_NHS_NUMBER"
LINKAGE_KEY_ENV = "PSEUDONYMISATION_KEY_LINKAGE"


def any_of(values) -> re.Pattern[bytes]:
    """A pattern that finds any of the values in bytes. Built as a trie (values sharing a start share a branch),
    so a search tries one branch per byte, not every value: a plain alternation of thousands of values took the
    leak test minutes per file."""
    trie: dict = {}
    for value in values:
        node = trie
        for byte in value.encode():
            node = node.setdefault(byte, {})
        node[None] = {}  # a value ends here: finding it is enough, whatever longer value shares its start

    def branch(node) -> bytes:
        if None in node:
            return b""
        parts = [re.escape(bytes([byte])) + branch(child) for byte, child in sorted(node.items())]
        return parts[0] if len(parts) == 1 else b"(?:" + b"|".join(parts) + b")"

    if not trie:
        raise ValueError("no values to look for")
    return re.compile(branch(trie))


def values_in(text: bytes, values) -> set[str]:
    """Which of the values occur in the text: one pass of :func:`any_of` at every position, not a search of the
    whole text per value (3,000 values in the 6 MB of the dbt project took a minute that way).

    At each position the pattern finds the shortest value starting there; a longer one starting at the same
    place has that value as a prefix, so the values with another value as a prefix are looked for one by one."""
    values = set(values)
    empty = {""} & values  # in every text; in the pattern it would match at every position, and nothing else would
    values -= empty
    if not values:
        return empty
    found = empty | {m.group(1).decode() for m in re.finditer(b"(?=(" + any_of(values).pattern + b"))", text)}
    extensions = {v for v in values if any(v[:k] in values for k in range(1, len(v)))}
    return found | {v for v in extensions - found if v.encode() in text}


def run_cli(*args, env):
    result = subprocess.run([PARTNERSHIP, *args], env=env, capture_output=True, text=True, timeout=1200)
    print(result.stdout[-5000:], result.stderr[-5000:])
    return result


@contextlib.contextmanager
def _shared_lock(name: str):
    """A lock that every test process of this session takes in turn (the workers of pytest-xdist)."""
    with open(SHARED_DIR / f"{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, or when a worker dies holding it
        yield


def _pipeline_record(server_url: str) -> Path:
    """Where the shared run of this server is recorded (a worker that started an embedded server has its own)."""
    return SHARED_DIR / f"pipeline_run-{hashlib.sha256(server_url.encode()).hexdigest()[:12]}.json"


def _make_pipeline_run(server_url: str) -> dict:
    """`partnership run` into a fresh database, then a template copy of what it left (the copies of the run are
    made from the template, which nobody connects to, so a copy never waits on, or ends, a test reading the run)."""
    import secrets

    name = f"partnership_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server_url, name)
    data = Path(tempfile.mkdtemp(prefix="e2e-data-", dir=SHARED_DIR))
    run = {
        "server_url": server_url,
        "dbname": name,
        "template": f"{name}_template",
        "url": url,
        "data": str(data),
        "dbt_dir": str(settings.DBT_PROJECT_DIR),  # where dbt wrote for the run (target/, logs/); kept below
        "key": secrets.token_hex(32),  # made for this run: the leak test searches for it everywhere
        "linkage_key": secrets.token_hex(32),  # likewise
    }
    env = {**os.environ, **_run_variables(run)}
    try:
        result = run_cli("run", "--months", str(PIPELINE_MONTHS), "--scale", str(PIPELINE_SCALE), env=env)
        if result.returncode == 0:
            with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
                conn.execute(f'create database "{run["template"]}" template "{name}"')
                conn.execute(f'alter database "{run["template"]}" with allow_connections false')
            # What dbt left in the project's target/ and logs/, kept as the run left them: this worker's later
            # dbt commands write there again while other workers' tests read them.
            kept = SHARED_DIR / f"{name}-dbt"
            for folder in ("target", "logs"):
                if (settings.DBT_PROJECT_DIR / folder).exists():
                    shutil.copytree(settings.DBT_PROJECT_DIR / folder, kept / folder)
            run["dbt_dir"] = str(kept)
    except Exception:  # recorded as a failed run (its databases are dropped at the end), not made again elsewhere
        import traceback

        result = subprocess.CompletedProcess([PARTNERSHIP, "run"], -1, "", traceback.format_exc())
    return {**run, "returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}


def _run_variables(run: dict) -> dict[str, str]:
    return {
        "WAREHOUSE_URL": run["url"],
        "PARTNERSHIP_DATA_DIR": run["data"],
        PSEUDONYMISATION_ENV: run["key"],
        LINKAGE_KEY_ENV: run["linkage_key"],
    }


@pytest.fixture(scope="session")
def pipeline_run(server_url):
    """The README's first command (`partnership run`), once per test session, into a fresh database; shared by
    the tests that check what it produced, in every worker. Tests that load more use pipeline_run_copy, so this
    stays as the command left it. Its databases are dropped at the end of the session (pytest_sessionfinish)."""
    record = _pipeline_record(server_url)
    with _shared_lock(record.stem):  # the first worker to need it makes it; the others wait, then read it
        if not record.exists():
            record.write_text(json.dumps(_make_pipeline_run(server_url)))
    run = json.loads(record.read_text())
    result = subprocess.CompletedProcess([PARTNERSHIP, "run"], run["returncode"], run["stdout"], run["stderr"])
    if result.returncode != 0:
        print(result.stdout[-5000:], result.stderr[-5000:])
    assert result.returncode == 0, "the shared pipeline run failed; its output is above"
    yield {
        "url": run["url"],
        "template": run["template"],
        "data": Path(run["data"]),
        "dbt_dirs": [Path(run["dbt_dir"])],
        "env": {**os.environ, **_run_variables(run)},
        "result": result,
        "key": run["key"],
        "linkage_key": run["linkage_key"],
        "outputs": [result],
        "months": PIPELINE_MONTHS,
        "scale": PIPELINE_SCALE,
    }


def _copy_of(pipeline_run: dict, server_url: str, folder: Path):
    """A copy of the shared run: its database (CREATE DATABASE ... TEMPLATE, a file copy, seconds) and its data
    folder; yields the run's dict pointing at the copy, and drops the copy afterwards."""
    name = f"partnership_e2e_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}" template "{pipeline_run["template"]}"')
    url = with_database(server_url, name)
    data = folder / "data"
    shutil.copytree(pipeline_run["data"], data, symlinks=True)
    config = data / "airflow" / "airflow.cfg"
    if config.exists():  # Airflow wrote the original folder into it (log folders): the copy writes its own
        config.write_text(config.read_text().replace(str(pipeline_run["data"]), str(data)))
    env = {**pipeline_run["env"], "WAREHOUSE_URL": url, "PARTNERSHIP_DATA_DIR": str(data)}
    # A run of the copy builds in this process's dbt project, which may not be the one the shared run built in.
    dbt_dirs = list(dict.fromkeys([*pipeline_run["dbt_dirs"], settings.DBT_PROJECT_DIR]))
    yield {
        **pipeline_run,
        "url": url,
        "data": data,
        "env": env,
        "dbt_dirs": dbt_dirs,
        "outputs": list(pipeline_run["outputs"]),
    }
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def pipeline_run_copy(pipeline_run, server_url, tmp_path_factory):
    """A copy of the shared run for a test that loads more into it (a second run, a faulty extract): its
    database (CREATE DATABASE ... TEMPLATE, a file copy, seconds) and its data folder. The shared run stays as
    the README's command left it, whatever order the tests run in."""
    yield from _copy_of(pipeline_run, server_url, tmp_path_factory.mktemp("e2e-copy"))


@pytest.fixture(scope="module")
def pipeline_run_module_copy(pipeline_run, server_url, tmp_path_factory):
    """A copy of the shared run that the tests of one module share (they leave it as they found it): a built
    warehouse for tests that need one, at the cost of a database copy instead of a load and build of their own."""
    yield from _copy_of(pipeline_run, server_url, tmp_path_factory.mktemp("e2e-module-copy"))


def land_header_only(ds, name: str, *, marker: bool = True):
    """A file of the dataset holding only its header, in the landing zone (with its upload-complete marker)."""
    from partnership import settings

    path = settings.landing_dir() / ds.landing_subdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(",".join(ds.file_headers) + "\n")
    if marker:
        settings.upload_marker(path).touch()
    return path
