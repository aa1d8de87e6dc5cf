"""`partnership run` skips the transform when nothing it reads changed since the last build (transform_inputs.py):
a load, a retention deletion, a merge of person ids or a changed dbt project must make the next run build; a file
skipped as a duplicate must not."""

import json
import shutil

import psycopg
import pytest

from partnership import loader, transform_inputs, warehouse
from partnership.demo.generator import generate
from partnership.linkage import matching
from partnership.registry import get_dataset

pytestmark = pytest.mark.integration


def manifest(path, checksum):
    path.write_text(
        json.dumps(
            {
                "metadata": {"project_name": "partnership"},
                "nodes": {"model.partnership.fct_example": {"checksum": {"checksum": checksum}}},
                "macros": {"macro.partnership.example": {"package_name": "partnership", "macro_sql": "select 1"}},
            }
        )
    )
    return path


def test_the_build_is_current_until_something_it_reads_changes(warehouse_url, data_dir, tmp_path):
    crimes = get_dataset("police__recorded_crime")
    first, second = generate(data_dir / "landing", months=2, scale=0.1)["police__recorded_crime"]
    project = manifest(tmp_path / "manifest.json", "v1")

    def current():
        with warehouse.connect(warehouse_url) as conn:
            return transform_inputs.unchanged_since_last_build(conn, project)

    def build():  # what the transform DAG records once it has built and published
        with warehouse.connect(warehouse_url) as conn:
            transform_inputs.record_built(conn, transform_inputs.fingerprint(conn, project))

    resent = shutil.copy(first, first.with_name(first.name.replace(".csv", "-resent.csv")))
    assert not current(), "never built"
    loaded = loader.ingest_file(crimes, first)
    build()
    assert current()

    assert loader.ingest_file(crimes, resent).status == "skipped_duplicate"
    assert current(), "a duplicate changes nothing dbt builds"

    assert loader.ingest_file(crimes, second).status == "loaded"
    assert not current(), "a new batch is built"
    build()
    assert current()

    with warehouse.connect(warehouse_url) as conn:  # as retention records a deletion of a batch's rows
        conn.execute(
            "insert into audit.retention_deletion (dataset, batch_id, target, rows_deleted, rule) "
            "values ('police__recorded_crime', %s, 'raw.police__recorded_crime', 1, 'test')",
            (loaded.batch_id,),
        )
    assert not current(), "deleted rows are rebuilt out of the marts"
    build()
    assert current()

    with warehouse.connect(warehouse_url) as conn:  # as a reviewer's "same" records the merge it makes
        run_id = conn.execute("insert into linkage.link_run default values returning run_id").fetchone()[0]
        matching.record_change(conn, run_id, "merge", 2, 1, 3)
    assert not current(), "a merge changes the person ids staging reads"
    build()
    assert current()

    manifest(project, "v2")
    assert not current(), "a changed model is built"


def test_the_transformer_brings_the_statistics_of_what_the_gate_loaded_up_to_date(
    warehouse_url, data_dir, login_role, monkeypatch
):
    """Loads land just before a build, before autovacuum analyses them: the transform's own role ANALYZEs the raw
    and linkage tables that changed (it owns none of them), and only those."""
    from partnership import security

    path = generate(months=1, scale=0.1)["probation__caseload"][0]
    assert loader.ingest_file(get_dataset("probation__caseload"), path).status == "loaded"
    _, transformer_url = login_role(warehouse_url, security.TRANSFORMER)
    with warehouse.connect(transformer_url) as conn:
        analyzed = transform_inputs.analyze_loaded_tables(conn)
        assert {"raw.probation__caseload", "linkage.person_record"} <= set(analyzed)
        assert all(name.split(".")[0] in ("raw", "linkage") for name in analyzed)
    with warehouse.connect(warehouse_url) as conn:
        counted = conn.execute(
            "select reltuples from pg_class where oid = 'raw.probation__caseload'::regclass"
        ).fetchone()[0]
        assert counted > 0, "the planner now knows the table's rows"
    # The loader may use the audit schema, but not this function: only the transform calls it.
    _, loader_url = login_role(warehouse_url, security.LOADER)
    with warehouse.connect(loader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        transform_inputs.analyze_loaded_tables(conn)
    assert "function" in str(refused.value)
