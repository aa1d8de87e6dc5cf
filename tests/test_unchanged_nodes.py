"""The transform leaves out of its build the dbt nodes none of whose inputs changed since the last finished build
(transform_inputs.unchanged_nodes): a dataset's new batch rebuilds what reads its raw table and the gate's records,
a merge of person ids what reads linkage, and the project or a retention deletion everything."""

import json

import pytest

from partnership.transform_inputs import unchanged_nodes

SOURCES = {
    "source.p.police.crime": {"schema": "raw", "name": "crime", "identifier": "police__crime"},
    "source.p.council.asb": {"schema": "raw", "name": "asb", "identifier": "council__asb"},
    "source.p.audit.load_batch": {"schema": "audit", "name": "load_batch"},
    "source.p.linkage.record_person_id": {"schema": "linkage", "name": "record_person_id"},
}
PARENTS = {  # each node and what it reads
    "seed.p.offence_codes": [],
    "model.p.dim_offence": ["seed.p.offence_codes"],
    "model.p.stg_crime": ["source.p.police.crime", "source.p.linkage.record_person_id"],
    "model.p.stg_asb": ["source.p.council.asb"],
    "model.p.stg_batches": ["source.p.audit.load_batch"],
    "model.p.fct_crime": ["model.p.stg_crime", "model.p.dim_offence"],
    "model.p.fct_scorecard": ["model.p.fct_crime", "model.p.stg_asb"],
    "test.p.not_null_fct_crime": ["model.p.fct_crime"],
}
EVERY_NODE = sorted(uid for uid in PARENTS if not uid.startswith("test."))


@pytest.fixture
def manifest(tmp_path):
    children: dict[str, list[str]] = {uid: [] for uid in [*SOURCES, *PARENTS]}
    for uid, parents in PARENTS.items():
        for parent in parents:
            children[parent].append(uid)
    nodes = {uid: {"resource_type": uid.split(".")[0]} for uid in PARENTS}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"sources": SOURCES, "nodes": nodes, "child_map": children}))
    return path


def inputs(**changes) -> str:
    parts = {
        "project": "v1",
        "datasets": {"police__crime": "b1/10", "council__asb": "b2/4"},
        "retention_deletions": 0,
        "person_id_changes": 7,
    }
    return json.dumps({**parts, **changes}, sort_keys=True)


def test_a_dataset_s_new_batch_rebuilds_what_reads_it_and_the_gate_s_records(manifest):
    asb_loaded = inputs(datasets={"police__crime": "b1/10", "council__asb": "b2,b3/9"})
    assert unchanged_nodes(manifest, inputs(), asb_loaded) == [
        "model.p.dim_offence",
        "model.p.fct_crime",
        "model.p.stg_crime",
        "seed.p.offence_codes",
    ]


def test_a_merge_of_person_ids_rebuilds_what_reads_linkage(manifest):
    merged = inputs(person_id_changes=8)
    assert unchanged_nodes(manifest, inputs(), merged) == [
        "model.p.dim_offence",
        "model.p.stg_asb",
        "model.p.stg_batches",
        "seed.p.offence_codes",
    ]


def test_a_dataset_whose_batches_all_went_counts_as_changed(manifest):
    gone = inputs(datasets={"police__crime": "b1/10"})
    assert "model.p.stg_asb" not in unchanged_nodes(manifest, inputs(), gone)


@pytest.mark.parametrize(
    "last",
    [
        None,  # never built
        "abc/3/0/7/v1",  # recorded before the inputs were kept part by part
        inputs(project="v0"),  # the dbt project changed
        inputs(retention_deletions=-1),  # retention deleted rows, maybe from an incremental model's own table
    ],
)
def test_everything_is_built_when_the_last_build_cannot_vouch_for_any_node(manifest, last):
    assert unchanged_nodes(manifest, last, inputs()) == []


def test_with_nothing_changed_every_node_is_left_as_it_is(manifest):
    assert unchanged_nodes(manifest, inputs(), inputs()) == EVERY_NODE


def test_a_change_of_configuration_alone_changes_the_project(tmp_path):
    """A property such as meta.person_level (row security) or a materialization, set in a yml file, leaves the
    model's SQL file and so its checksum as they were: the project's fingerprint must differ all the same, so
    that every node is built again with it."""
    from partnership.transform_inputs import project_fingerprint

    def project(meta):
        path = tmp_path / "manifest.json"
        node = {"resource_type": "model", "checksum": {"checksum": "abc"}, "config": {"materialized": "table"}}
        path.write_text(
            json.dumps(
                {
                    "metadata": {"project_name": "p", "dbt_version": "1.11.0"},
                    "nodes": {"model.p.int_people": {**node, "meta": meta}},
                    "sources": {},
                    "macros": {},
                }
            )
        )
        return project_fingerprint(path)

    assert project({"person_level": True}) != project({"person_level": False})
    assert project({"person_level": True}) == project({"person_level": True})
