"""A model's never-null columns are checked by one dbt test, `not_null_columns` (dbt/macros): one dbt node per model
where a `not_null` per column was a node each, and dbt's cost per node was most of a build's time. The test must
still fail on a null in any of the columns, and say which column."""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest

from partnership import runner

MART, FIRST_COLUMN, COLUMN = "fct_crimes_by_ward_month", "ward_code", "crime_count"


@pytest.fixture(scope="module")
def manifest(dbt_manifest):
    return json.loads(dbt_manifest.read_text())


def test_never_null_columns_are_one_test_per_model_not_one_per_column(manifest):
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and n.get("test_metadata")]
    # On models and seeds a per-column not_null stays only where it has a condition of its own (a `where`), which
    # one query cannot share. (Two source columns keep theirs: sources are not built, and their tests are few.)
    per_column = [
        n["name"]
        for n in tests
        if n["test_metadata"]["name"] == "not_null"
        and not n["config"]["where"]
        and (n.get("attached_node") or "").startswith(("model.", "seed."))
    ]
    assert per_column == []
    per_model = {}
    for n in tests:
        if n["test_metadata"]["name"] == "not_null_columns":
            per_model.setdefault(n["attached_node"], []).append(n["test_metadata"]["kwargs"]["columns"])
    assert all(len(lists) == 1 for lists in per_model.values()), "a model's never-null columns in one list"
    columns = per_model[f"model.partnership.{MART}"][0]
    assert columns[0] == FIRST_COLUMN and columns[-1] == COLUMN  # the integration test below nulls both


@pytest.mark.integration
def test_a_null_in_any_listed_column_fails_the_models_test_naming_the_column(pipeline_run_copy, tmp_path):
    url, target = pipeline_run_copy["url"], tmp_path / "target"
    select = ("--select", f"{MART},test_name:not_null_columns", "--target-path", str(target))
    runner.dbt("test", *select, url=url)  # as built: passes

    # Nulls in the first and the last of the mart's listed columns.
    with psycopg.connect(url) as conn:
        for column, rows in ((FIRST_COLUMN, 2), (COLUMN, 3)):
            nulled = conn.execute(
                f"update marts.{MART} set {column} = null"
                f" where ctid in (select ctid from marts.{MART} where {column} is not null limit {rows})"
            ).rowcount
            assert nulled == rows
    with pytest.raises(subprocess.CalledProcessError):
        runner.dbt("test", *select, url=url)
    [result] = json.loads((target / "run_results.json").read_text())["results"]
    assert result["status"] == "fail" and result["failures"] == 2  # two columns hold nulls
    # The failing rows say which columns and how many rows each: the test's own SQL, as dbt compiled it.
    [compiled] = (target / "compiled").rglob("not_null_columns_*.sql")
    with psycopg.connect(url) as conn:
        assert sorted(conn.execute(compiled.read_text()).fetchall()) == [(COLUMN, 3), (FIRST_COLUMN, 2)]
