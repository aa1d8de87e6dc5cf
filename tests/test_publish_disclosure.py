"""The publish schema as the README's pipeline leaves it: every table there went through disclosure control, and
the attacker's audit (`partnership publish-audit`, reading only the published tables and their declarations)
recovers no suppressed count to an interval narrower than the protection width, from all tables together."""

import json

import pytest
from conftest import run_cli

from partnership import warehouse

pytestmark = pytest.mark.integration


def models(manifest):
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


@pytest.fixture(scope="module")
def manifest(pipeline_run):
    """The manifest of the project the run built (a test worker of another process has its own copy)."""
    return json.loads((pipeline_run["dbt_dirs"][0] / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def publish_models(manifest):
    found = [node for node in models(manifest) if node["fqn"][1] == "publish"]
    assert found, "no publish models in the manifest"
    return found


def tables_in(url, schema):
    with warehouse.connect(url) as conn:
        return {
            r[0]
            for r in conn.execute("select table_name from information_schema.tables where table_schema = %s", (schema,))
        }


def test_every_publish_table_went_through_disclosure_control(pipeline_run, publish_models):
    declared = {node["name"] for node in publish_models if node["config"]["meta"].get("disclosure")}
    assert {node["name"] for node in publish_models} == declared  # every publish model declares its cells
    assert {node["schema"] for node in publish_models} == {"publish_staging"}  # dbt never writes publish itself
    assert tables_in(pipeline_run["url"], "publish") == declared
    with warehouse.connect(pipeline_run["url"]) as conn:
        for name in declared:
            columns = {
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'publish' "
                    "and table_name = %s",
                    (name,),
                )
            }
            counts = next(n for n in publish_models if n["name"] == name)["config"]["meta"]["disclosure"]["counts"]
            assert {f"{c}_suppressed" for c in counts} <= columns, name


def test_every_mart_says_whether_it_may_be_published(manifest):
    marts = {
        node["name"]: node["config"]["meta"].get("publication")
        for node in models(manifest)
        if node["schema"] == "marts"
    }
    assert {name: status for name, status in marts.items() if status not in ("publishable", "internal_only")} == {}


def test_every_publishable_fact_mart_has_a_published_version(manifest, publish_models):
    publishable = {
        node["unique_id"]
        for node in models(manifest)
        if node["schema"] == "marts"
        and node["name"].startswith("fct_")
        and node["config"]["meta"].get("publication") == "publishable"
    }
    covered = {parent for node in publish_models for parent in node["depends_on"]["nodes"]}
    assert publishable, "no mart is marked publishable"
    assert publishable <= covered, f"publishable marts with no publish version: {sorted(publishable - covered)}"


def test_the_attackers_audit_recovers_nothing_from_the_publish_schema(pipeline_run):
    result = run_cli("publish-audit", env=pipeline_run["env"])
    assert result.returncode == 0, result.stdout
    assert "21 publish tables audited" in result.stdout
    assert " 0 recoverable below the protection width" in result.stdout


def test_the_audit_fails_on_an_unprotected_publication(pipeline_run):
    # publish_staging holds the same tables before protection: read as if published, small counts show.
    result = run_cli("publish-audit", "--schema", "publish_staging", env=pipeline_run["env"])
    assert result.returncode == 1
    assert "LEAK pub_" in result.stdout and "a count from 1 to 9" in result.stdout
