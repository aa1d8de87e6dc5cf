"""One list of batch statuses (partnership.batch_status): the database allows exactly those, and every status
the SQL names, in the Python modules and in the dbt models, is one of them, so a typo or a renamed status
cannot quietly match nothing."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from partnership import settings, sync, warehouse
from partnership.batch_status import BatchStatus

ROOT = settings.PROJECT_ROOT
# `status = 'x'`, `status <> 'x'`, `status in ('x', 'y')`, `new.status = ''x''` (SQL inside a quoted string)
STATUS_LITERALS = re.compile(r"\bstatus\s*(?:=|<>|!=|\bin\b)\s*(\(\s*'{1,2}[^)]*\)|'{1,2}[a-z_]+'{1,2})", re.I)


def statuses_named(text: str) -> set[str]:
    return {value for match in STATUS_LITERALS.findall(text) for value in re.findall(r"'{1,2}([a-z_]+)'{1,2}", match)}


def sql_sources() -> dict[Path, str]:
    files = [*(ROOT / "plugins" / "partnership").rglob("*.py"), *(ROOT / "dbt" / "models").rglob("*.sql")]
    return {path: path.read_text() for path in files if "status" in path.read_text()}


def test_the_finder_sees_each_way_the_sql_names_a_status():
    sql = """where status = 'loaded' and b.status in ('loaded', 'quarantined')
             or status <> 'skipped_duplicate' or new.status = ''superseded'' or status IN ('loding')"""
    assert statuses_named(sql) == {"loaded", "quarantined", "skipped_duplicate", "superseded", "loding"}


def test_every_status_the_sql_names_is_a_batch_status():
    allowed = {status.value for status in BatchStatus}
    named = {path.relative_to(ROOT).as_posix(): statuses_named(text) for path, text in sql_sources().items()}
    assert {path: sorted(found - allowed) for path, found in named.items() if found - allowed} == {}
    # The scan reads the modules that decide on a status: the loader, the gate's audit, dbt's load months.
    assert named["plugins/partnership/loader.py"] and named["plugins/partnership/batch_audit.py"]
    assert named["dbt/models/intermediate/int_load_months.sql"]


@pytest.mark.integration
def test_the_database_allows_exactly_the_batch_statuses(warehouse_url):
    insert = "insert into audit.load_batch (dataset, file_name, file_sha256, status) values (%s, %s, %s, %s)"
    for n, status in enumerate([*BatchStatus, "loded"]):
        with warehouse.connect(warehouse_url) as conn:  # as the owner: the loader's own rules are not tested here
            if status == "loded":
                with pytest.raises(psycopg.errors.CheckViolation):
                    conn.execute(insert, ("police__recorded_crime", f"{n}.csv", f"{n:064d}", status))
            else:
                conn.execute(insert, ("police__recorded_crime", f"{n}.csv", f"{n:064d}", status))
    assert _count(warehouse_url) == len(BatchStatus)


def test_the_staging_model_accepts_exactly_the_batch_statuses():
    """dbt's accepted_values on the audit source's status is a second copy of the list: it must be this one."""
    import yaml

    sources = yaml.safe_load((ROOT / "dbt" / "models" / "staging" / "audit" / "_audit__sources.yml").read_text())
    items = [*sources.get("models", []), *(t for s in sources.get("sources", []) for t in s["tables"])]
    with_status = [item for item in items if any(c["name"] == "status" for c in item.get("columns", []))]
    accepted = [sync.accepted_values_by_column(item).get("status") for item in with_status]
    assert accepted and all(set(values) == {status.value for status in BatchStatus} for values in accepted)


def _count(url: str) -> int:
    with warehouse.connect(url) as conn:
        return conn.execute("select count(*) from audit.load_batch").fetchone()[0]


@pytest.mark.integration
def test_a_warehouse_made_with_an_older_status_list_gets_the_current_one(warehouse_url):
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("alter table audit.load_batch drop constraint load_batch_status_check")
        conn.execute(
            "alter table audit.load_batch add constraint load_batch_status_check"
            " check (status in ('loading', 'loaded', 'quarantined', 'skipped_duplicate'))"
        )
    warehouse.init_warehouse(warehouse_url)
    with warehouse.connect(warehouse_url) as conn:
        definition = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint where conname = 'load_batch_status_check'"
        ).fetchone()[0]
    assert set(re.findall(r"'([a-z_]+)'", definition)) == {status.value for status in BatchStatus}
