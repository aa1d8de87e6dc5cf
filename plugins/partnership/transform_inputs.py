"""What the transform reads, fingerprinted, so that a run with nothing new leaves the built warehouse as it is.

dbt reads the raw tables, the gate's records (audit.load_batch, audit.validation_result), each loaded row's
current person id (linkage.record_person_id) and its own project. Raw tables change only through the gate (a batch
loaded or superseded), retention (recorded deletions) or a released quarantine (the batch's record changes); a
person id changes only with a load or with a merge or split, which linkage records (audit.person_id_change: a
reviewer's "same", a full linkage run by hand). Those records and the project's checksums in the dbt manifest
say whether a new build could differ from the last one, and which nodes it could change: they are kept part by
part (the project, each dataset's batches, deletions, merges and splits), and a build leaves out the nodes none of
whose sources changed (:func:`unchanged_nodes`). No model reads the clock.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import psycopg

# Per dataset: its batches as dbt reads them (a file skipped as a duplicate of a loaded one changes nothing dbt
# builds) and how many check results they hold.
DATASETS_SQL = """
with counted as (
    select * from audit.load_batch where status <> 'skipped_duplicate'
)
select b.dataset,
    md5(string_agg(
        concat_ws(':', b.batch_id, b.status, b.resolution, b.superseded_by, b.replaces_batch, b.row_count),
        ',' order by b.batch_id
    )),
    (select count(*) from audit.validation_result v join counted c using (batch_id) where c.dataset = b.dataset)
from counted b
group by b.dataset
"""
CHANGES_SQL = """
select
    (select coalesce(max(deletion_id), 0) from audit.retention_deletion),
    (select coalesce(max(change_id), 0) from audit.person_id_change)
"""


# What of a node or source decides what dbt builds: not only its file's checksum, but its configuration from
# dbt_project.yml and the properties files (materialization, grants, hooks, meta such as person_level), what it
# reads and its columns. Not created_at and the like, which change at every parse.
NODE_PARTS = ("checksum", "config", "depends_on", "meta", "columns", "tags")
SOURCE_PARTS = ("schema", "identifier", "config", "meta", "columns")


def project_fingerprint(manifest_path: Path) -> str:
    """The dbt project as built: every node's and source's definition, every project macro's SQL, dbt's version."""
    manifest = json.loads(manifest_path.read_text())
    project = manifest["metadata"].get("project_name")
    parts: dict = {"dbt_version": manifest["metadata"].get("dbt_version")}
    parts.update((uid, {k: node.get(k) for k in NODE_PARTS}) for uid, node in manifest["nodes"].items())
    parts.update((uid, {k: src.get(k) for k in SOURCE_PARTS}) for uid, src in manifest.get("sources", {}).items())
    parts.update(
        (uid, hashlib.sha256(macro["macro_sql"].encode()).hexdigest())
        for uid, macro in manifest["macros"].items()
        if macro.get("package_name") == project
    )
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(conn: psycopg.Connection, manifest_path: Path) -> str:
    """What the build reads, part by part (JSON): the project, each dataset's batches, retention's deletions and
    linkage's merges and splits."""
    datasets = {name: f"{batches}/{checks}" for name, batches, checks in conn.execute(DATASETS_SQL).fetchall()}
    deletions, person_changes = conn.execute(CHANGES_SQL).fetchone()
    parts = {
        "project": project_fingerprint(manifest_path),
        "datasets": datasets,
        "retention_deletions": deletions,
        "person_id_changes": person_changes,
    }
    return json.dumps(parts, sort_keys=True)


def last_built(conn: psycopg.Connection) -> str | None:
    """The inputs of the last build that finished."""
    last = conn.execute(
        "select inputs_fingerprint from audit.transform_run order by transform_id desc limit 1"
    ).fetchone()
    return last[0] if last else None


def unchanged_nodes(manifest_path: Path, last: str | None, now: str) -> list[str]:
    """The models, seeds and snapshots whose inputs are as the last finished build read them: none of the sources
    they read, however indirectly, has changed since. The build leaves them as they are (and their tests).

    Every node is rebuilt (an empty list) when there is no earlier build, or its inputs were recorded before
    they were kept part by part, or the project or anything retention deleted differs: a deletion can reach
    an incremental model's rows directly, not only through its source. Otherwise the changed sources are the
    raw tables of datasets whose batches changed; the gate's records (schema ``audit``) when any did;
    linkage's person ids when a merge or split was recorded (a load gives person ids to its own rows only, which
    its dataset's staging reads already); and any other source whenever anything changed.
    """
    try:
        before = json.loads(last) if last else None
    except json.JSONDecodeError:  # recorded before the parts were kept
        before = None
    after = json.loads(now)
    if not isinstance(before, dict) or set(before) != set(after):
        return []
    if before["project"] != after["project"] or before["retention_deletions"] != after["retention_deletions"]:
        return []
    changed_datasets = {
        name
        for name in before["datasets"].keys() | after["datasets"].keys()
        if before["datasets"].get(name) != after["datasets"].get(name)
    }
    anything = bool(changed_datasets) or before["person_id_changes"] != after["person_id_changes"]
    manifest = json.loads(manifest_path.read_text())
    changed = set()
    for uid, source in manifest["sources"].items():
        schema, table = source["schema"], source.get("identifier") or source["name"]
        if schema == "raw":
            stale = table in changed_datasets
        elif schema == "audit":
            stale = bool(changed_datasets)
        elif schema == "linkage":
            stale = before["person_id_changes"] != after["person_id_changes"]
        else:
            stale = anything
        if stale:
            changed.add(uid)
    rebuilt, queue = set(changed), list(changed)
    while queue:
        for child in manifest["child_map"].get(queue.pop(), []):
            if child not in rebuilt:
                rebuilt.add(child)
                queue.append(child)
    return sorted(
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot") and uid not in rebuilt
    )


def record_built(conn: psycopg.Connection, inputs: str) -> None:
    """The transform finished with these inputs (read when it started)."""
    conn.execute("insert into audit.transform_run (inputs_fingerprint) values (%s)", (inputs,))


def unchanged_since_last_build(conn: psycopg.Connection, manifest_path: Path) -> bool:
    return last_built(conn) == fingerprint(conn, manifest_path)


def analyze_loaded_tables(conn: psycopg.Connection) -> list[str]:
    """ANALYZE the raw and linkage tables changed since their statistics were taken; return their names."""
    return [name for (name,) in conn.execute("select audit.analyze_loaded_tables()").fetchall()]
