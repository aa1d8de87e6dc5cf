"""Who may read and write what in the warehouse: group roles, grants, default privileges, partner sharing.

``partnership warehouse init`` calls :func:`apply` after creating the schemas and tables. Everything here is
idempotent, and every change it makes (a role created, a privilege granted or revoked, a sharing rule added)
is recorded in ``audit.access_change``; a second run changes and records nothing.

Roles are cluster-wide, so they carry the ``pw_`` prefix and are NOLOGIN groups: people and services get their
own LOGIN roles, made members of these (``grant pw_analyst to alice``). Grants, default privileges and row
policies are per database. The README ("Security and retention") has the table of roles.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from partnership import settings
from partnership.registry import load_registry

PREFIX = "pw_"
OWNER = PREFIX + "owner"  # owns the schemas and the tables init creates
LOADER = PREFIX + "loader"  # the ingest and governance DAGs: write raw and audit
TRANSFORMER = PREFIX + "transformer"  # dbt: reads raw, builds staging, intermediate, marts, publish, reference
ANALYST = PREFIX + "analyst"  # aggregate marts and publish only
RESTRICTED_ANALYST = PREFIX + "restricted_analyst"  # also person-level intermediate tables, under row security
IG_REVIEWER = PREFIX + "ig_reviewer"  # audit and reference data; no person-level data
GROUP_ROLES = (OWNER, LOADER, TRANSFORMER, ANALYST, RESTRICTED_ANALYST, IG_REVIEWER)
MEMBERSHIPS = ((ANALYST, RESTRICTED_ANALYST),)  # (role, member): a restricted analyst is an analyst too

# Schemas dbt writes, and who may read every table or view in them. dbt/dbt_project.yml gives dbt models the
# same `+grants` (tests/test_security.py checks they agree: dbt revokes grants its config does not list).
DBT_READERS = {
    "staging": (),  # typed copies of raw, person-level and not row-filtered: the transformer only
    "intermediate": (RESTRICTED_ANALYST,),
    "marts": (ANALYST,),
    "publish_staging": (),  # unprotected candidates for publication: the transformer only
    "publish": (ANALYST,),  # written by partnership.publish (the transformer), not by dbt
    "reference": (IG_REVIEWER,),
}
# dbt schemas holding incremental models, whose expired rows retention deletes (as the loader).
RETENTION_SCHEMAS = ("intermediate",)
# Audit tables: which roles may do what. The IG reviewer reads them all.
AUDIT_GRANTS = {
    # dbt reads the gate's verdicts for the scorecard's data-quality status (stg_audit__load_months).
    "load_batch": {LOADER: "select, insert, update", TRANSFORMER: "select"},
    "validation_result": {LOADER: "select, insert", TRANSFORMER: "select"},
    "retention_deletion": {LOADER: "select, insert"},
    "access_change": {},  # written by init only (as the owner); nobody may rewrite the history of access
    "partner_access": {RESTRICTED_ANALYST: "select"},  # row policies look it up as the querying role
    "key_rotation": {LOADER: "select"},  # declared by `partnership keys rotate` (the owner); the loader checks it
}


def partner_role(partner: str) -> str:
    return f"{PREFIX}partner_{partner}"


def partner_access_rows() -> set[tuple[str, str]]:
    """(partner role, agency) pairs from the registry: each agency sees its own rows and shares with shared_with."""
    return {(partner_role(partner), ds.agency) for ds in load_registry() for partner in (ds.agency, *ds.shared_with)}


def _id(*names: str) -> sql.Composable:
    return sql.Identifier(*names)


def _roles(names) -> sql.Composable:
    return sql.SQL(", ").join(_id(n) for n in names)


def _statements(conn: psycopg.Connection) -> list[sql.Composable]:
    """The grants, in order. Each is idempotent on its own."""
    creator = conn.execute("select current_user").fetchone()[0]
    database = conn.execute("select current_database()").fetchone()[0]
    partners = sorted({role for role, _ in partner_access_rows()})
    stmts: list[sql.Composable] = []
    q = stmts.append

    for role in (*GROUP_ROLES, *partners):
        # Another database's init may create the same role at the same moment: either error means "exists".
        q(
            sql.SQL(
                "do $$ begin create role {} nologin; exception when duplicate_object or unique_violation then null; "
                "end $$"
            ).format(_id(role))
        )
    for role, member in MEMBERSHIPS:
        q(sql.SQL("grant {} to {}").format(_id(role), _id(member)))

    # Nothing for PUBLIC: only the project's roles may connect, and nobody may create objects in public.
    q(sql.SQL("revoke all on database {} from public").format(_id(database)))
    q(sql.SQL("grant connect on database {} to {}").format(_id(database), _roles(GROUP_ROLES)))
    q(sql.SQL("revoke create on schema public from public"))
    for schema in settings.SCHEMAS:
        q(sql.SQL("alter schema {} owner to {}").format(_id(schema), _id(OWNER)))
        q(sql.SQL("revoke all on schema {} from public").format(_id(schema)))
    for schema in ("raw", "audit"):
        for (table,) in conn.execute("select tablename from pg_tables where schemaname = %s order by 1", (schema,)):
            q(sql.SQL("alter table {} owner to {}").format(_id(schema, table), _id(OWNER)))

    # raw: the loader appends batches (and retention deletes them); dbt reads them.
    q(sql.SQL("grant usage on schema raw to {}").format(_roles((LOADER, TRANSFORMER))))
    q(sql.SQL("grant select, insert, delete on all tables in schema raw to {}").format(_id(LOADER)))
    q(sql.SQL("grant select on all tables in schema raw to {}").format(_id(TRANSFORMER)))

    # audit: the IG reviewer reads everything; the loader writes its own records; restricted analysts' row
    # policies read partner_access (usage on a schema grants no table by itself).
    audit_users = (LOADER, TRANSFORMER, IG_REVIEWER, RESTRICTED_ANALYST)
    q(sql.SQL("grant usage on schema audit to {}").format(_roles(audit_users)))
    q(sql.SQL("grant select on all tables in schema audit to {}").format(_id(IG_REVIEWER)))
    for table, grants in AUDIT_GRANTS.items():
        for role, privileges in grants.items():
            q(sql.SQL("grant {} on {} to {}").format(sql.SQL(privileges), _id("audit", table), _id(role)))

    # Incremental dbt models keep their own copies of raw rows, so retention (run as the loader) deletes there
    # too: usage on the schema here; on each table, delete and select on only its batch and record-date
    # columns, from the models' post-hook allow_retention_deletes (dbt/macros). No person-level column.
    for schema in RETENTION_SCHEMAS:
        q(sql.SQL("grant usage on schema {} to {}").format(_id(schema), _id(LOADER)))

    # dbt's schemas: the transformer creates there; readers get select on what exists now and, through default
    # privileges, on every table or view the transformer (or the role running init, which runs dbt in
    # development and in docker-compose) creates later, with no extra step.
    for schema, readers in DBT_READERS.items():
        q(sql.SQL("grant usage, create on schema {} to {}").format(_id(schema), _id(TRANSFORMER)))
        if not readers:
            continue
        q(sql.SQL("grant usage on schema {} to {}").format(_id(schema), _roles(readers)))
        q(sql.SQL("grant select on all tables in schema {} to {}").format(_id(schema), _roles(readers)))
        for maker in sorted({TRANSFORMER, creator}):
            q(
                sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
                    _id(maker), _id(schema), _roles(readers)
                )
            )
    return stmts


def _sync_partner_access(conn: psycopg.Connection) -> None:
    """Make audit.partner_access exactly the registry's sharing terms."""
    wanted = partner_access_rows()
    have = set(conn.execute("select role_name, agency from audit.partner_access").fetchall())
    with conn.cursor() as cur:
        cur.executemany("delete from audit.partner_access where role_name = %s and agency = %s", sorted(have - wanted))
        cur.executemany("insert into audit.partner_access (role_name, agency) values (%s, %s)", sorted(wanted - have))


# Every privilege that matters, as (kind, object, detail) rows: roles, memberships, owners, ACL entries of the
# database, project schemas and their tables and views, default privileges, row policies and sharing rules.
# acldefault() stands in for a NULL ACL (built-in defaults), so a first explicit grant shows only what changed.
SNAPSHOT_SQL = """
with schemas as (select oid, nspname from pg_namespace where nspname = any(%(schemas)s)),
grants as (
    select 'database' as kind, d.datname::text as object, d.datdba as owner, a.*
    from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    where d.datname = current_database()
    union all
    select 'schema', n.nspname::text, n.nspowner, a.*
    from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
    where n.nspname = any(%(schemas)s || array['public'])
    union all
    select 'relation', s.nspname || '.' || c.relname, c.relowner, a.*
    from pg_class c join schemas s on s.oid = c.relnamespace,
         aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
    where c.relkind in ('r', 'v', 'm', 'p', 'f')
    union all
    select 'default', 'for ' || pg_get_userbyid(d.defaclrole) || ' in ' || coalesce(s.nspname, '*') || ' on '
           || d.defaclobjtype::text, 0::oid, a.*
    from pg_default_acl d left join schemas s on s.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
)
select kind, object, coalesce(pg_get_userbyid(nullif(grantee, 0)), 'PUBLIC') || ' ' || privilege_type
from grants where grantee <> owner
union all
select 'role', rolname, case when rolcanlogin then 'login' else 'nologin' end from pg_roles where rolname like 'pw\\_%%'
union all
select 'member', pg_get_userbyid(roleid), pg_get_userbyid(member) from pg_auth_members
where pg_get_userbyid(roleid) like 'pw\\_%%'
union all
select 'owner', nspname, pg_get_userbyid(nspowner) from pg_namespace where nspname = any(%(schemas)s)
union all
select 'owner', s.nspname || '.' || c.relname, pg_get_userbyid(c.relowner)
from pg_class c join schemas s on s.oid = c.relnamespace where c.relkind in ('r', 'v', 'm', 'p', 'f')
union all
select 'policy', schemaname || '.' || tablename || ' ' || policyname, array_to_string(roles, ',') || ': ' || qual
from pg_policies where schemaname = any(%(schemas)s)
union all
select 'partner_access', role_name, agency from audit.partner_access
"""


def snapshot(conn: psycopg.Connection) -> set[tuple[str, str, str]]:
    return set(conn.execute(SNAPSHOT_SQL, {"schemas": list(settings.SCHEMAS)}).fetchall())


def apply(conn: psycopg.Connection) -> list[tuple[str, str, str, str]]:
    """Create the roles and make the grants, in the caller's transaction; record and return what changed."""
    before = snapshot(conn)
    for statement in _statements(conn):
        conn.execute(statement)
    _sync_partner_access(conn)
    after = snapshot(conn)
    changes = [("granted", *row) for row in sorted(after - before)] + [
        ("revoked", *row) for row in sorted(before - after)
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into audit.access_change (change, kind, object, detail, reason) "
            "values (%s, %s, %s, %s, 'partnership warehouse init')",
            changes,
        )
    return changes
