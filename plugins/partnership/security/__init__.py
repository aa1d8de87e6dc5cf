"""Who may read and write what in the warehouse: group roles, grants, default privileges, partner sharing.

``partnership warehouse init`` calls :func:`apply` after creating the schemas and tables. Everything here is
idempotent, and every change it makes (a role created, a privilege granted or revoked, a sharing rule added)
is recorded in ``audit.access_change``; a second run changes and records nothing.

Roles are cluster-wide, so they carry the ``pw_`` prefix and are NOLOGIN groups: people and services get their
own LOGIN roles, made members of these (``grant pw_analyst to alice``). Init makes the services' LOGIN roles
(:data:`LOGINS`) when the environment gives their passwords. Grants, default privileges and row policies are per
database. docs/governing.md ("Security and retention") has the tables of roles.
"""

from partnership.security.audit_functions import (
    DELIVERED_DATES,
    DELIVERED_DATES_SIGNATURE,
    GATE_OUTCOMES,
    GATE_OUTCOMES_SIGNATURE,
    LOAD_BATCH_GUARD,
    RAW_VALUE_COUNTS,
    RAW_VALUE_COUNTS_SIGNATURE,
    delivered_dates_function,
)
from partnership.security.grants import (
    SNAPSHOT_SQL,
    apply,
    snapshot,
)
from partnership.security.roles import (
    ANALYST,
    AUDIT_GRANTS,
    BOARD_REPORTER,
    DBT_READERS,
    GROUP_ROLES,
    IG_REVIEWER,
    LOADER,
    LOGINS,
    MEMBERSHIPS,
    OWNER,
    PREFIX,
    RESTRICTED_ANALYST,
    RETENTION_SCHEMAS,
    TRANSFORMER,
    ServiceLogin,
    partner_access_rows,
    partner_role,
)
from partnership.security.row_security import (
    NOT_PERSON_LEVEL,
    PERSON_LEVEL_SCHEMAS,
    UNPROTECTED_SQL,
    unprotected_person_relations,
)

__all__ = [
    "ANALYST",
    "AUDIT_GRANTS",
    "BOARD_REPORTER",
    "DBT_READERS",
    "DELIVERED_DATES",
    "DELIVERED_DATES_SIGNATURE",
    "GATE_OUTCOMES",
    "GATE_OUTCOMES_SIGNATURE",
    "GROUP_ROLES",
    "IG_REVIEWER",
    "LOADER",
    "LOAD_BATCH_GUARD",
    "LOGINS",
    "MEMBERSHIPS",
    "NOT_PERSON_LEVEL",
    "OWNER",
    "PERSON_LEVEL_SCHEMAS",
    "PREFIX",
    "RAW_VALUE_COUNTS",
    "RAW_VALUE_COUNTS_SIGNATURE",
    "RESTRICTED_ANALYST",
    "RETENTION_SCHEMAS",
    "SNAPSHOT_SQL",
    "ServiceLogin",
    "TRANSFORMER",
    "UNPROTECTED_SQL",
    "apply",
    "delivered_dates_function",
    "partner_access_rows",
    "partner_role",
    "snapshot",
    "unprotected_person_relations",
]
