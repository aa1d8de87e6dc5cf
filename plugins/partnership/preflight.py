"""Configuration checks run first in each DAG, so a missing setting fails one task once, saying what to set,
instead of failing every load or dbt task and waiting out their retries.

Each check returns the problems found (empty when all is well); the DAG tasks turn them into a failure that is
not retried (:func:`fail_on`). Messages name variables and connections, never their values.
"""

from __future__ import annotations

import psycopg
from airflow.sdk.exceptions import AirflowFailException

from partnership import pseudonymise, warehouse
from partnership.registry import Dataset

# What a failed connection means, by SQLSTATE. libpq's own text is never shown: it quotes what it could not parse,
# which may be the password (an unencoded "%", a missing "//", a password typed into the login field).
_SQLSTATE_MEANS = {
    "28P01": "the password was refused",
    "28000": "the role may not log in from here",
    "3D000": "the database does not exist",
    "08001": "the server could not be reached",
    "08006": "the server could not be reached",
}


class ConfigurationFailure(AirflowFailException):
    """A setting is missing or wrong: the task fails at once, and the alert may quote this message (ours)."""


def _reachable(conninfo: str, what: str) -> list[str]:
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as conn:
            conn.execute("select 1")
    except psycopg.ProgrammingError:
        return [f"{what} is not a valid PostgreSQL URL (percent-encode % @ / # ? in the password)"]
    except psycopg.Error as exc:
        meaning = _SQLSTATE_MEANS.get(exc.sqlstate or "", "the server could not be reached, or refused the login")
        return [f"{what}: cannot connect: {meaning} ({type(exc).__name__}, SQLSTATE {exc.sqlstate or 'none'})"]
    return []


def ingest_problems(ds: Dataset) -> list[str]:
    """The loader's warehouse (WAREHOUSE_URL) answers, and every pseudonymisation key the dataset needs is set."""
    problems = []
    try:
        problems += _reachable(warehouse.conninfo(), "WAREHOUSE_URL")
    except warehouse.WarehouseNotConfigured as exc:
        problems.append(str(exc))
    for id_type in pseudonymise.key_types(ds):
        try:
            pseudonymise.get_key(id_type)
        except pseudonymise.KeyUnavailable as exc:
            problems.append(str(exc))
    return problems


def connection_problems(conn_id: str, *, needs_password: bool) -> list[str]:
    """The Airflow connection exists, has what its users need, and answers."""
    from airflow.sdk import BaseHook

    env = f"AIRFLOW_CONN_{conn_id.upper()}"
    try:
        c = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - Airflow raises its own not-found error
        return [f"Airflow connection {conn_id!r} is not defined ({type(exc).__name__}): set {env} (docs/operating.md)"]
    problems = [
        f"Airflow connection {conn_id!r} has no {field}: set it in {env} (docs/operating.md)"
        for field, value in (("host", c.host), ("login", c.login), ("schema (the database)", c.schema))
        if not value
    ]
    if needs_password and not c.password:
        problems.append(
            f"Airflow connection {conn_id!r} has no password: dbt's PostgreSQL profile (cosmos) requires one. Set "
            f"the role's password in {env}; under trust authentication any placeholder will do (docs/operating.md)"
        )
    if not problems:
        problems += _reachable(warehouse.from_airflow_connection(conn_id), f"Airflow connection {conn_id!r}")
    return problems


def fail_on(problems: list[str]) -> None:
    """Fail the task at once, without retries: a retry cannot fix configuration."""
    if problems:
        raise ConfigurationFailure("configuration: " + "; ".join(problems))
