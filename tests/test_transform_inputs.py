"""`partnership run` skips the transform when nothing it reads changed since the last build (transform_inputs.py):
a load, a retention deletion or a changed dbt project must make the next run build; a file skipped as a
duplicate must not."""

import json
import shutil

import pytest

from partnership import loader, transform_inputs, warehouse
from partnership.demo.generator import generate
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

    manifest(project, "v2")
    assert not current(), "a changed model is built"
