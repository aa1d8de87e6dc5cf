"""Init's grants: the statements that create the roles and make the grants (:func:`apply`), the services'
passwords, the sharing rules, and the snapshot of privileges whose difference ``audit.access_change`` records."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import psycopg
from psycopg import sql

from partnership import settings
from partnership.security.audit_functions import (
    ANALYZE_LOADED_TABLES,
    ANALYZE_LOADED_TABLES_SIGNATURE,
    DELIVERED_DATES_SIGNATURE,
    GATE_OUTCOMES,
    GATE_OUTCOMES_SIGNATURE,
    LOAD_BATCH_GUARD,
    RAW_VALUE_COUNTS,
    RAW_VALUE_COUNTS_SIGNATURE,
    delivered_dates_function,
)
from partnership.security.roles import (
    AUDIT_GRANTS,
    BOARD_REPORTER,
    DBT_READERS,
    GROUP_ROLES,
    IG_REVIEWER,
    LOADER,
    LOGINS,
    MEMBERSHIPS,
    OWNER,
    RESTRICTED_ANALYST,
    RETENTION_SCHEMAS,
    TRANSFORMER,
    partner_access_rows,
)


def _id(*names: str) -> sql.Composable:
    return sql.Identifier(*names)


def _roles(names) -> sql.Composable:
    return sql.SQL(", ").join(_id(n) for n in names)


def _grant_membership(role: str, member: str) -> sql.Composable:
    """GRANT role TO member. Another database's init may grant the same at the same moment (a server's roles are
    shared by its databases): the loser of that race gets a unique violation, which means "granted"."""
    return sql.SQL("do $$ begin grant {} to {}; exception when unique_violation then null; end $$").format(
        _id(role), _id(member)
    )


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
        q(_grant_membership(role, member))
    for login in LOGINS.values():
        if login.password:
            q(
                sql.SQL(
                    "do $$ begin create role {} login; exception when duplicate_object or unique_violation then null; "
                    "end $$"
                ).format(_id(login.name))
            )
            q(_grant_membership(login.group, login.name))

    # Nothing for PUBLIC: only the project's roles may connect, and nobody may create objects in public.
    q(sql.SQL("revoke all on database {} from public").format(_id(database)))
    q(sql.SQL("grant connect on database {} to {}").format(_id(database), _roles(GROUP_ROLES)))
    # dbt's incremental models (delete+insert) and unit tests build temporary tables.
    q(sql.SQL("grant temporary on database {} to {}").format(_id(database), _id(TRANSFORMER)))
    # Linkage at the gate stages tokens and candidate pairs in temporary tables.
    q(sql.SQL("grant temporary on database {} to {}").format(_id(database), _id(LOADER)))
    q(sql.SQL("revoke create on schema public from public"))
    for schema in settings.SCHEMAS:
        q(sql.SQL("alter schema {} owner to {}").format(_id(schema), _id(OWNER)))
        q(sql.SQL("revoke all on schema {} from public").format(_id(schema)))
    for schema in ("raw", "audit", "linkage"):
        for (table,) in conn.execute("select tablename from pg_tables where schemaname = %s order by 1", (schema,)):
            q(sql.SQL("alter table {} owner to {}").format(_id(schema, table), _id(OWNER)))

    # raw: the loader appends batches (and retention deletes them); dbt reads them.
    q(sql.SQL("grant usage on schema raw to {}").format(_roles((LOADER, TRANSFORMER))))
    q(sql.SQL("grant select, insert, delete on all tables in schema raw to {}").format(_id(LOADER)))
    q(sql.SQL("grant select on all tables in schema raw to {}").format(_id(TRANSFORMER)))

    # linkage: the index of tokens, for the loader (the gate) alone; what leaves it is person ids, never a token.
    q(sql.SQL("grant usage on schema linkage to {}").format(_id(LOADER)))
    q(sql.SQL("grant select, insert, update, delete on all tables in schema linkage to {}").format(_id(LOADER)))
    q(sql.SQL("grant usage, select on all sequences in schema linkage to {}").format(_id(LOADER)))
    # dbt reads each loaded row's current person id through this view (no token), never the table.
    q(sql.SQL("grant usage on schema linkage to {}").format(_id(TRANSFORMER)))
    q(sql.SQL("grant select on linkage.record_person_id to {}").format(_id(TRANSFORMER)))

    # audit: the IG reviewer reads everything; the loader writes its own records; restricted analysts' row
    # policies read partner_access; the board reporter calls gate_outcomes (usage on a schema grants no table).
    audit_users = (LOADER, TRANSFORMER, IG_REVIEWER, RESTRICTED_ANALYST, BOARD_REPORTER)
    q(sql.SQL("grant usage on schema audit to {}").format(_roles(audit_users)))
    q(sql.SQL("grant select on all tables in schema audit to {}").format(_id(IG_REVIEWER)))
    for table, grants in AUDIT_GRANTS.items():
        for role, privileges in grants.items():
            q(sql.SQL("grant {} on {} to {}").format(sql.SQL(privileges), _id("audit", table), _id(role)))
    q(sql.SQL(LOAD_BATCH_GUARD))
    # The IG report counts rows and values given per raw column through this function, never reading a value.
    # The loader may too (it reads raw anyway): `partnership report` in the worker connects as the loader.
    q(sql.SQL(RAW_VALUE_COUNTS))
    q(sql.SQL("alter function {} owner to {}").format(sql.SQL(RAW_VALUE_COUNTS_SIGNATURE), _id(OWNER)))
    q(sql.SQL("revoke all on function {} from public").format(sql.SQL(RAW_VALUE_COUNTS_SIGNATURE)))
    q(
        sql.SQL("grant execute on function {} to {}").format(
            sql.SQL(RAW_VALUE_COUNTS_SIGNATURE), _roles((IG_REVIEWER, LOADER))
        )
    )

    # The transform brings the statistics of what the gate wrote up to date before dbt plans on them.
    q(sql.SQL(ANALYZE_LOADED_TABLES))
    q(sql.SQL("alter function {} owner to {}").format(sql.SQL(ANALYZE_LOADED_TABLES_SIGNATURE), _id(OWNER)))
    q(sql.SQL("revoke all on function {} from public").format(sql.SQL(ANALYZE_LOADED_TABLES_SIGNATURE)))
    q(sql.SQL("grant execute on function {} to {}").format(sql.SQL(ANALYZE_LOADED_TABLES_SIGNATURE), _id(TRANSFORMER)))

    # The Board's report reads the gate's verdict on each extract through this function: files loaded and
    # quarantined per dataset and month of the file's name, and when the first was loaded. Files, never a record.
    q(sql.SQL(GATE_OUTCOMES))
    q(sql.SQL("alter function {} owner to {}").format(sql.SQL(GATE_OUTCOMES_SIGNATURE), _id(OWNER)))
    q(sql.SQL("revoke all on function {} from public").format(sql.SQL(GATE_OUTCOMES_SIGNATURE)))
    q(
        sql.SQL("grant execute on function {} to {}").format(
            sql.SQL(GATE_OUTCOMES_SIGNATURE), _roles((IG_REVIEWER, LOADER, BOARD_REPORTER))
        )
    )

    # Timeliness (the IG report, the CLI, the freshness check) reads which record months or days each dataset's
    # loaded batches hold, and when they were loaded, through this function: dates only, never a row. Not the board
    # reporter: a record day per rare record is a count (the Board's report judges delivery by file, above).
    q(delivered_dates_function())
    q(sql.SQL("alter function {} owner to {}").format(sql.SQL(DELIVERED_DATES_SIGNATURE), _id(OWNER)))
    q(sql.SQL("revoke all on function {} from public").format(sql.SQL(DELIVERED_DATES_SIGNATURE)))
    q(
        sql.SQL("grant execute on function {} to {}").format(
            sql.SQL(DELIVERED_DATES_SIGNATURE), _roles((IG_REVIEWER, LOADER))
        )
    )

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


def _password_is(conn: psycopg.Connection, role: str, password: str) -> bool:
    """Whether the role's stored SCRAM verifier is for this password. Only a superuser may read it; for anyone
    else the answer is no, and init sets the password again (and records that it did)."""
    if not conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
        return False
    stored = conn.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone()
    found = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", (stored and stored[0]) or "")
    if not found:
        return False
    iterations, salt, stored_key, _ = found.groups()
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(base64.b64encode(hashlib.sha256(client_key).digest()).decode(), stored_key)


def _set_passwords(conn: psycopg.Connection) -> list[str]:
    """Give each service LOGIN role the password from the environment; return the roles whose password changed.

    libpq hashes the password here (SCRAM), so the server, its logs and pg_stat_activity never see it."""
    changed = []
    for login in LOGINS.values():
        if login.password and not _password_is(conn, login.name, login.password):
            verifier = conn.pgconn.encrypt_password(login.password.encode(), login.name.encode(), b"scram-sha-256")
            conn.execute(sql.SQL("alter role {} password {}").format(_id(login.name), sql.Literal(verifier.decode())))
            changed.append(login.name)
    return changed


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
    union all
    select 'function', s.nspname || '.' || p.proname, p.proowner, a.*
    from pg_proc p join schemas s on s.oid = p.pronamespace,
         aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
)
select kind, object, coalesce(pg_get_userbyid(nullif(grantee, 0)), 'PUBLIC') || ' ' || privilege_type
from grants where grantee <> owner
union all
select 'role', rolname, case when rolcanlogin then 'login' else 'nologin' end from pg_roles
where rolname like 'pw\\_%%' or rolname = any(%(logins)s)
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
    logins = [login.name for login in LOGINS.values()]
    return set(conn.execute(SNAPSHOT_SQL, {"schemas": list(settings.SCHEMAS), "logins": logins}).fetchall())


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
    changes += [("granted", "password", role, "set") for role in _set_passwords(conn)]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into audit.access_change (change, kind, object, detail, reason) "
            "values (%s, %s, %s, %s, 'partnership warehouse init')",
            changes,
        )
    return changes
