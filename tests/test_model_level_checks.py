"""A model's never-null columns, and its columns' accepted values, are each checked by one dbt test of the model,
`not_null_columns` and `accepted_values_columns` (dbt/macros): one dbt node per model where a `not_null` or an
`accepted_values` per column was a node each, and dbt's cost per node was most of a build's time. Each must still
fail on a bad value in any of its columns, and say which column."""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest

from partnership import runner

MART, FIRST_COLUMN, COLUMN = "fct_crimes_by_ward_month", "ward_code", "crime_count"
COHORT = "fct_cohort_overlap"  # accepted values of an integer column (agency_count) and a text one (age_band)


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


def failing_rows(url: str, target, model: str, test_name: str, changes) -> tuple[dict, list[tuple]]:
    """Run the model's test as built (it passes), make the changes (column, SQL value, rows) in the mart's table,
    run it again (it fails); dbt's result, and the rows the test's own SQL (as dbt compiled it) returns."""
    select = ("--select", f"{model},test_name:{test_name}", "--target-path", str(target))
    runner.dbt("test", *select, url=url)
    with psycopg.connect(url) as conn:
        for column, value, rows in changes:
            changed = conn.execute(
                f"update marts.{model} set {column} = {value}"
                f" where ctid in (select ctid from marts.{model} where {column} is not null limit {rows})"
            ).rowcount
            assert changed == rows
    with pytest.raises(subprocess.CalledProcessError):
        runner.dbt("test", *select, url=url)
    [result] = json.loads((target / "run_results.json").read_text())["results"]
    [compiled] = (target / "compiled").rglob(f"{test_name}_*.sql")
    with psycopg.connect(url) as conn:
        return result, sorted(conn.execute(compiled.read_text()).fetchall())


@pytest.mark.integration
def test_a_null_in_any_listed_column_fails_the_models_test_naming_the_column(pipeline_run_copy, tmp_path):
    # Nulls in the first and the last of the mart's listed columns.
    changes = ((FIRST_COLUMN, "null", 2), (COLUMN, "null", 3))
    url, target = pipeline_run_copy["url"], tmp_path / "target"
    result, rows = failing_rows(url, target, MART, "not_null_columns", changes)
    assert result["status"] == "fail" and result["failures"] == 2  # two columns hold nulls
    assert rows == [(COLUMN, 3), (FIRST_COLUMN, 2)]  # which columns, and how many rows each


def test_accepted_values_are_one_test_per_model_not_one_per_column(manifest):
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and n.get("test_metadata")]
    # Left on its column: a list given as a Jinja expression (hour_of_week's range(168)), which dbt renders only there.
    per_column = [n for n in tests if n["test_metadata"]["name"] == "accepted_values"]
    assert all(isinstance(n["test_metadata"]["kwargs"]["values"], str) for n in per_column), per_column
    per_model = [n for n in tests if n["test_metadata"]["name"] == "accepted_values_columns"]
    assert len({n["attached_node"] for n in per_model}) == len(per_model), "a model's accepted values in one test"
    [cohort] = [n for n in per_model if n["attached_node"] == f"model.partnership.{COHORT}"]
    assert {"agency_count", "age_band"} <= set(cohort["test_metadata"]["kwargs"]["columns"])


@pytest.mark.integration
def test_a_value_not_accepted_in_any_listed_column_fails_the_models_test_naming_it(pipeline_run_copy, tmp_path):
    # A null passes, as with dbt's accepted_values; values not accepted in an integer and a text column fail.
    changes = (("age_band", "null", 1), ("agency_count", "7", 2), ("age_band", "'Not a band'", 1))
    url, target = pipeline_run_copy["url"], tmp_path / "target"
    result, rows = failing_rows(url, target, COHORT, "accepted_values_columns", changes)
    assert result["status"] == "fail" and result["failures"] == 2  # one row per column and value not accepted
    assert rows == [("age_band", "Not a band", 1), ("agency_count", "7", 2)]
