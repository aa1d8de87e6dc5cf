"""The dbt project's layers run one way (README, issue 13): staging (1:1 with sources) -> shared (conformed
dimensions from staging and seeds) -> intermediate (located, classified events) -> marts (aggregates) -> publish.
Read from the manifest: a model's layer is its folder under dbt/models (fqn[1]), and what it reads is its
depends_on nodes. Every violation is reported by name, so a failure says which model reads what.

Known violations that other owners are fixing are listed in KNOWN_VIOLATIONS with who fixes them; an entry that
no longer happens fails the test too, so the list can only shrink."""

from __future__ import annotations

import json

import pytest

# What each layer may read. Sources and seeds count as layers of their own.
ALLOWED = {
    "staging": {"source"},
    # A dimension may be built from another dimension (dim_geography takes its population from dim_population,
    # and both use the LSOA 2011 -> 2021 bridge): still nothing above the shared layer.
    "shared": {"staging", "seed", "shared"},
    "intermediate": {"staging", "shared", "seed", "intermediate"},
    "marts": {"intermediate", "shared", "seed", "marts"},
    "publish": {"marts"},
}

# (model, parent) pairs allowed to break the rules for now, each with who removes it and why. None today: an entry
# must name its owner, and the tests below fail once it no longer happens, so the list can only shrink.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}

# Intermediate models nobody reads yet, with who gives them a consumer. None today.
KNOWN_UNCONSUMED: dict[str, str] = {}


def _layer(unique_id: str, nodes: dict) -> str:
    kind = unique_id.split(".", 1)[0]
    if kind in ("source", "seed"):
        return kind
    node = nodes[unique_id]
    return node["fqn"][1] if node["resource_type"] == "model" else node["resource_type"]


@pytest.fixture(scope="module")
def manifest(dbt_manifest):
    return json.loads(dbt_manifest.read_text())


@pytest.fixture(scope="module")
def models(manifest):
    return {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}


def violations(manifest: dict) -> dict[tuple[str, str], str]:
    """(model, parent) -> 'model (layer) reads parent (layer)' for every read the layering forbids."""
    nodes = {**manifest["nodes"], **manifest["sources"]}
    found = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        layer = node["fqn"][1]
        for parent in node["depends_on"]["nodes"]:
            parent_layer = _layer(parent, nodes)
            if parent_layer not in ALLOWED.get(layer, set()):
                parent_name = parent.split(".")[-1] if parent.startswith("source.") else nodes[parent]["name"]
                found[(node["name"], parent_name)] = f"{node['name']} ({layer}) reads {parent_name} ({parent_layer})"
    return found


def test_every_model_sits_in_a_known_layer(models):
    unknown = sorted(f"{n['name']} ({n['original_file_path']})" for n in models.values() if n["fqn"][1] not in ALLOWED)
    assert unknown == [], f"models outside the layers {sorted(ALLOWED)}: {unknown}"


def test_no_model_reads_a_layer_it_may_not(manifest):
    found = violations(manifest)
    new = sorted(message for pair, message in found.items() if pair not in KNOWN_VIOLATIONS)
    assert new == [], "layer violations:\n" + "\n".join(new)


def test_known_violations_are_still_real(manifest):
    # A fixed violation must leave the allow-list, so the list only shrinks.
    found = violations(manifest)
    fixed = sorted(
        f"{model} -> {parent} ({owner})"
        for (model, parent), owner in KNOWN_VIOLATIONS.items()
        if (model, parent) not in found
    )
    assert fixed == [], "fixed, remove from KNOWN_VIOLATIONS:\n" + "\n".join(fixed)


def test_the_layer_rules_catch_a_mart_reading_staging():
    # The rule itself can fail: a made-up mart reading a staging model is reported by name.
    manifest = {
        "nodes": {
            "model.p.stg_x": {
                "resource_type": "model",
                "name": "stg_x",
                "fqn": ["p", "staging", "stg_x"],
                "depends_on": {"nodes": []},
            },
            "model.p.fct_x": {
                "resource_type": "model",
                "name": "fct_x",
                "fqn": ["p", "marts", "x", "fct_x"],
                "depends_on": {"nodes": ["model.p.stg_x"]},
            },
        },
        "sources": {},
    }
    assert violations(manifest) == {("fct_x", "stg_x"): "fct_x (marts) reads stg_x (staging)"}


def test_every_intermediate_model_has_a_consumer(manifest, models):
    consumers: dict[str, set[str]] = {}
    for node in [*models.values(), *manifest.get("exposures", {}).values()]:
        for parent in node["depends_on"]["nodes"]:
            consumers.setdefault(parent, set()).add(node["name"])
    unconsumed = {n["name"] for uid, n in models.items() if n["fqn"][1] == "intermediate" and not consumers.get(uid)}
    assert sorted(unconsumed - set(KNOWN_UNCONSUMED)) == [], "intermediate models nobody reads"
    assert sorted(set(KNOWN_UNCONSUMED) - unconsumed) == [], "now consumed: remove from KNOWN_UNCONSUMED"
