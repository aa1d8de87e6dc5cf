"""What the transform reads, fingerprinted, so that a run with nothing new leaves the built warehouse as it is.

dbt reads the raw tables, the gate's records (audit.load_batch, audit.validation_result), each loaded row's
current person id (linkage.record_person_id) and its own project. Raw tables change only through the gate (a batch
loaded or superseded), retention (recorded deletions) or a released quarantine (the batch's record changes); a
person id changes only with a load or with a merge or split, which linkage records (audit.person_id_change: a
reviewer's "same", a full linkage run by hand). Those records and the project's checksums in the dbt manifest
say whether a new build could differ from the last one. No model reads the clock.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import psycopg

INPUTS_SQL = """
with counted as (  -- a file skipped as a duplicate of a loaded one changes nothing dbt builds
    select * from audit.load_batch where status <> 'skipped_duplicate'
)
select
    (select md5(coalesce(string_agg(
        concat_ws(':', batch_id, status, resolution, superseded_by, replaces_batch, row_count), ',' order by batch_id
     ), '')) from counted),
    (select count(*) from audit.validation_result where batch_id in (select batch_id from counted)),
    (select coalesce(max(deletion_id), 0) from audit.retention_deletion),
    (select coalesce(max(change_id), 0) from audit.person_id_change)
"""


def project_fingerprint(manifest_path: Path) -> str:
    """The dbt project as built: every node's checksum and every project macro's SQL."""
    manifest = json.loads(manifest_path.read_text())
    project = manifest["metadata"].get("project_name")
    parts = {uid: node.get("checksum", {}).get("checksum") for uid, node in manifest["nodes"].items()}
    parts.update(
        (uid, hashlib.sha256(macro["macro_sql"].encode()).hexdigest())
        for uid, macro in manifest["macros"].items()
        if macro.get("package_name") == project
    )
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def fingerprint(conn: psycopg.Connection, manifest_path: Path) -> str:
    batches, checks, deletions, person_changes = conn.execute(INPUTS_SQL).fetchone()
    return f"{batches}/{checks}/{deletions}/{person_changes}/{project_fingerprint(manifest_path)}"


def record_built(conn: psycopg.Connection, inputs: str) -> None:
    """The transform finished with these inputs (read when it started)."""
    conn.execute("insert into audit.transform_run (inputs_fingerprint) values (%s)", (inputs,))


def unchanged_since_last_build(conn: psycopg.Connection, manifest_path: Path) -> bool:
    last = conn.execute(
        "select inputs_fingerprint from audit.transform_run order by transform_id desc limit 1"
    ).fetchone()
    return last is not None and last[0] == fingerprint(conn, manifest_path)


def analyze_loaded_tables(conn: psycopg.Connection) -> list[str]:
    """ANALYZE the raw and linkage tables changed since their statistics were taken; return their names."""
    return [name for (name,) in conn.execute("select audit.analyze_loaded_tables()").fetchall()]
