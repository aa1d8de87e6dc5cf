"""Row security that fails closed: the relations of the person-level schemas a restricted analyst would read in
full (no row-level security, a view that is not security_invoker), unless declared not person-level."""

from __future__ import annotations

import psycopg

# Schemas whose every relation is person-level unless declared otherwise (intermediate: linked people).
PERSON_LEVEL_SCHEMAS = ("intermediate",)
# The comment that declares a relation not person-level (aggregates, open data): dbt's project-wide post-hook
# protect_person_level_rows (dbt/macros) writes it for a model whose config.meta says person_level: false.
NOT_PERSON_LEVEL = "not person-level"

UNPROTECTED_SQL = """
select n.nspname || '.' || c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
  and coalesce(obj_description(c.oid, 'pg_class'), '') not like %(declared)s
  and not (c.relkind in ('r', 'p') and c.relrowsecurity)
  and not (c.relkind = 'v' and exists (
      select 1 from pg_options_to_table(c.reloptions) o
      where o.option_name = 'security_invoker' and o.option_value::boolean))
order by 1
"""


def unprotected_person_relations(conn: psycopg.Connection) -> list[str]:
    """Relations in the person-level schemas a restricted analyst would read in full: a table without row-level
    security, a view that is not security_invoker (it would read its tables with its owner's rights), a
    materialized or foreign table, unless declared not person-level. Read from the catalogue, whatever made them.

    Row security is enabled, not forced: the owner (dbt) reads every row, so the marts aggregate them all."""
    params = {"schemas": list(PERSON_LEVEL_SCHEMAS), "declared": NOT_PERSON_LEVEL + "%"}
    return [r[0] for r in conn.execute(UNPROTECTED_SQL, params)]
