"""The project's roles: the NOLOGIN group roles and what each is for, the services' LOGIN roles, which roles
read which schemas and audit tables, and the partners' roles from the registry's sharing terms."""

from __future__ import annotations

import os
from dataclasses import dataclass

from partnership.registry import load_registry

PREFIX = "pw_"
OWNER = PREFIX + "owner"  # owns the schemas and the tables init creates
LOADER = PREFIX + "loader"  # the ingest and governance DAGs: write raw and audit
TRANSFORMER = PREFIX + "transformer"  # dbt: reads raw, builds staging, intermediate, marts, publish, reference
ANALYST = PREFIX + "analyst"  # aggregate marts and publish only
RESTRICTED_ANALYST = PREFIX + "restricted_analyst"  # also person-level intermediate tables, under row security
IG_REVIEWER = PREFIX + "ig_reviewer"  # audit and reference data; no person-level data
BOARD_REPORTER = PREFIX + "board_reporter"  # the Board's report: the publish schema and the gate's verdicts only
GROUP_ROLES = (OWNER, LOADER, TRANSFORMER, ANALYST, RESTRICTED_ANALYST, IG_REVIEWER, BOARD_REPORTER)
MEMBERSHIPS = ((ANALYST, RESTRICTED_ANALYST),)  # (role, member): a restricted analyst is an analyst too


@dataclass(frozen=True)
class ServiceLogin:
    """The LOGIN role a service connects as, a member of one group role. Its password comes from the environment
    (never logged or recorded); with no password there, init neither creates the role nor changes it."""

    group: str
    default_name: str
    name_variable: str  # another name, e.g. for a second warehouse on the same cluster (roles are cluster-wide)
    password_variable: str

    @property
    def name(self) -> str:
        return os.environ.get(self.name_variable) or self.default_name

    @property
    def password(self) -> str | None:
        return os.environ.get(self.password_variable) or None


def _service_login(group: str) -> ServiceLogin:
    variable = "PARTNERSHIP_" + group.removeprefix(PREFIX).upper()
    return ServiceLogin(group, f"{group}_login", f"{variable}_LOGIN", f"{variable}_PASSWORD")


# The loader: ingest and governance DAGs (retention) and the quarantine CLI. The transformer: dbt and publish.
# The IG reviewer: the IG report. The board reporter: the Board's report. docker-compose.yml gives each its URL;
# the superuser stays in airflow-init.
LOGINS = {group: _service_login(group) for group in (LOADER, TRANSFORMER, IG_REVIEWER, BOARD_REPORTER)}

# Schemas dbt writes, and who may read every table or view in them. dbt/dbt_project.yml gives dbt models the
# same `+grants` (tests/test_security.py checks they agree: dbt revokes grants its config does not list).
DBT_READERS = {
    "staging": (),  # typed copies of raw, person-level and not row-filtered: the transformer only
    "intermediate": (RESTRICTED_ANALYST,),
    "marts": (ANALYST,),
    "publish_staging": (),  # unprotected candidates for publication: the transformer only
    "publish": (ANALYST, BOARD_REPORTER),  # written by partnership.publish (the transformer), not by dbt
    "reference": (IG_REVIEWER,),
}
# dbt schemas holding incremental models, whose expired rows retention deletes (as the loader).
RETENTION_SCHEMAS = ("intermediate",)
# Audit tables: which roles may do what. The IG reviewer reads them all.
AUDIT_GRANTS = {
    # dbt reads the gate's verdicts for the scorecard's data-quality status (int_load_months).
    "load_batch": {LOADER: "select, insert, update", TRANSFORMER: "select"},
    "validation_result": {LOADER: "select, insert", TRANSFORMER: "select"},
    "retention_deletion": {LOADER: "select, insert", TRANSFORMER: "select"},  # deleted rows change the marts
    "transform_run": {TRANSFORMER: "select, insert"},  # what each finished transform read (transform_inputs.py)
    "access_change": {},  # written by init only (as the owner); nobody may rewrite the history of access
    "partner_access": {RESTRICTED_ANALYST: "select"},  # row policies look it up as the querying role
    "key_rotation": {LOADER: "select"},  # declared by `partnership keys rotate` (the owner); the loader checks it
    "late_delivery": {LOADER: "select, insert"},  # partnership.timeliness.record_late, from the freshness check
    "reprocess": {LOADER: "select, insert"},  # `partnership reprocess` records each re-run (as the loader)
    # linkage's merges and splits of person ids; the transform's inputs count them (a merge changes staging's ids)
    "person_id_change": {LOADER: "select, insert", TRANSFORMER: "select"},
    # linkage quality against a truth sample (partnership.linkage.quality), assessed as the loader
    "linkage_assessment": {LOADER: "select, insert"},
    "linkage_assessment_pair": {LOADER: "select, insert"},
    "linkage_assessment_group": {LOADER: "select, insert"},
}


def partner_role(partner: str) -> str:
    return f"{PREFIX}partner_{partner}"


def partner_access_rows() -> set[tuple[str, str]]:
    """(partner role, agency) pairs from the registry: each agency sees its own rows and shares with shared_with."""
    return {(partner_role(partner), ds.agency) for ds in load_registry() for partner in (ds.agency, *ds.shared_with)}
