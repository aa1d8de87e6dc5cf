"""Every table in the publish schema, as the README's pipeline leaves it, is safe to publish: no count from 1 to
9 is shown, and no suppressed count can be recovered by subtracting published cells from a published total.
Every publishable fact mart has a suppressed version there. Cells and totals are read from each publish model's
declaration (config.meta.disclosure in its yml), the same one dbt's suppression used."""

import json
from collections import defaultdict

import pytest

from partnership import settings, warehouse

pytestmark = pytest.mark.integration


def models(manifest):
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


@pytest.fixture(scope="module")
def manifest(pipeline_run):
    return json.loads((settings.DBT_PROJECT_DIR / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def publish_models(manifest):
    found = [node for node in models(manifest) if node["schema"] == "publish"]
    assert found, "no publish models in the manifest"
    return found


def test_every_publish_table_declares_its_cells(pipeline_run, publish_models):
    with warehouse.connect(pipeline_run["url"]) as conn:
        tables = {
            r[0]
            for r in conn.execute("select table_name from information_schema.tables where table_schema = 'publish'")
        }
    declared = {node["name"] for node in publish_models if node["config"]["meta"].get("disclosure")}
    assert tables == declared  # nothing lands in publish without disclosure control


def test_every_mart_says_whether_it_may_be_published(manifest):
    marts = {
        node["name"]: node["config"]["meta"].get("publication")
        for node in models(manifest)
        if node["schema"] == "marts"
    }
    assert {name: status for name, status in marts.items() if status not in ("publishable", "internal_only")} == {}


def test_every_publishable_fact_mart_has_a_suppressed_version(manifest, publish_models):
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


def test_no_published_count_is_from_1_to_9_or_recoverable_from_a_total(pipeline_run, publish_models):
    checked = 0
    for node in publish_models:
        spec = node["config"]["meta"]["disclosure"]
        dims, counts, total_value = spec["dims"], spec["counts"], spec.get("total_value", "All")
        with warehouse.connect(pipeline_run["url"]) as conn:
            cur = conn.execute(f'select {", ".join(dims + counts)} from publish."{node["name"]}"')
            rows = [dict(zip([c.name for c in cur.description], r, strict=True)) for r in cur]
        for count in counts:
            shown = [r[count] for r in rows if r[count] is not None]
            assert not [n for n in shown if 1 <= n <= spec.get("threshold", 9)], f"{node['name']}.{count}"
            for along in spec.get("total_dims", []):
                groups = defaultdict(list)
                for r in rows:
                    groups[tuple(r[d] for d in dims if d != along)].append(r)
                for key, cells in groups.items():
                    total = [c for c in cells if c[along] == total_value]
                    parts = [c for c in cells if c[along] != total_value]
                    if not total or not parts:
                        continue  # no equation: nothing to subtract from
                    unknown = [c for c in cells if c[count] is None]
                    # One unknown in "total = sum of parts" is solved by subtraction.
                    assert len(unknown) != 1, f"{node['name']}.{count} along {along} at {key}: {unknown[0]} recoverable"
                    checked += 1
    assert checked > 0
