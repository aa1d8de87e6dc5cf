"""Who may read and write what in the warehouse: group roles, grants, default privileges, partner sharing.

``partnership warehouse init`` calls :func:`apply` after creating the schemas and tables. Everything here is
idempotent, and every change it makes (a role created, a privilege granted or revoked, a sharing rule added)
is recorded in ``audit.access_change``; a second run changes and records nothing.

Roles are cluster-wide, so they carry the ``pw_`` prefix and are NOLOGIN groups: people and services get their
own LOGIN roles, made members of these (``grant pw_analyst to alice``). Init makes the services' LOGIN roles
(:data:`LOGINS`) when the environment gives their passwords. Grants, default privileges and row policies are per
database. docs/governing.md ("Security and retention") has the tables of roles.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

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
    for login in LOGINS.values():
        if login.password:
            q(
                sql.SQL(
                    "do $$ begin create role {} login; exception when duplicate_object or unique_violation then null; "
                    "end $$"
                ).format(_id(login.name))
            )
            q(sql.SQL("grant {} to {}").format(_id(login.group), _id(login.name)))

    # Nothing for PUBLIC: only the project's roles may connect, and nobody may create objects in public.
    q(sql.SQL("revoke all on database {} from public").format(_id(database)))
    q(sql.SQL("grant connect on database {} to {}").format(_id(database), _roles(GROUP_ROLES)))
    # dbt's incremental models (delete+insert) and unit tests build temporary tables.
    q(sql.SQL("grant temporary on database {} to {}").format(_id(database), _id(TRANSFORMER)))
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


# The loader inserts batches and finishes its own load (a row it inserted in the same transaction: a load that
# fails rolls back, so no 'loading' row outlives its transaction) and records, once, what became of a quarantined
# batch (`partnership quarantine release|discard`, the retention purge). Any other update of a batch (a loaded
# batch marked quarantined would free the no-double-load index; a checksum or row count changed would falsify
# what was loaded) is refused. For the loader the times are the database's: started_at is the transaction's start
# (so "inserted in this transaction" is started_at = now()) and finished_at the moment it is set; and it may add
# check results only to a batch of its own transaction. A trigger, not column grants: what may change depends on
# the row, not the column. The table's owner (and a superuser) may still correct a record; access_change records
# who has that role.
LOAD_BATCH_GUARD = """
create or replace function audit.load_batch_keeps_its_history() returns trigger language plpgsql as $$
begin
    if pg_has_role(current_user, 'pw_owner', 'member') then
        return new;
    end if;
    if tg_op = 'INSERT' then
        -- Its number from the identity (not OVERRIDING SYSTEM VALUE: a number taken ahead would make the next
        -- real load collide), never born loaded or resolved.
        if new.batch_id is distinct from currval(pg_get_serial_sequence('audit.load_batch', 'batch_id'))
                or new.status in ('loaded', 'superseded') or new.resolution is not null
                or new.superseded_by is not null then
            raise exception 'audit.load_batch: a new batch takes its number from the table, starts loading and is'
                ' not yet resolved' using errcode = 'insufficient_privilege';
        end if;
        new.started_at := now();
        new.finished_at := case when new.finished_at is not null then clock_timestamp() end;
        return new;
    end if;
    if old.started_at = now() then  -- inserted by this transaction
        new.started_at := old.started_at;
        new.finished_at := case when new.finished_at is not null then clock_timestamp() end;
        return new;
    end if;
    if old.status = 'quarantined' and old.resolution is null
            and to_jsonb(new) - 'resolution' = to_jsonb(old) - 'resolution' then
        return new;
    end if;
    -- `partnership reprocess`: a loaded batch is superseded (and nothing else of it changes) only by a batch of
    -- the same dataset made in this transaction, which must be loaded by commit (load_batch_superseded_by_a_load).
    if old.status = 'loaded' and new.status = 'superseded'
            and to_jsonb(new) - 'status' - 'superseded_by' = to_jsonb(old) - 'status' - 'superseded_by'
            and exists (select 1 from audit.load_batch n where n.batch_id = new.superseded_by
                        and n.batch_id <> old.batch_id and n.dataset = old.dataset and n.started_at = now()) then
        return new;
    end if;
    raise exception 'audit.load_batch: batch % is %; its record may not be changed', old.batch_id, old.status
        using errcode = 'insufficient_privilege';
end $$;
alter function audit.load_batch_keeps_its_history() owner to pw_owner;
create or replace trigger load_batch_keeps_its_history before insert or update on audit.load_batch
    for each row execute function audit.load_batch_keeps_its_history();

-- Checked at commit: a batch superseded in a transaction is superseded by a batch that committed loaded.
create or replace function audit.load_batch_superseded_by_a_load() returns trigger language plpgsql as $$
begin
    if pg_has_role(current_user, 'pw_owner', 'member')
            or exists (select 1 from audit.load_batch where batch_id = new.superseded_by and status = 'loaded') then
        return null;
    end if;
    raise exception 'audit.load_batch: batch % may be superseded only by a batch loaded in the same transaction',
        new.batch_id using errcode = 'insufficient_privilege';
end $$;
alter function audit.load_batch_superseded_by_a_load() owner to pw_owner;
drop trigger if exists load_batch_superseded_by_a_load on audit.load_batch;
create constraint trigger load_batch_superseded_by_a_load after insert or update on audit.load_batch
    deferrable initially deferred for each row when (new.status = 'superseded')
    execute function audit.load_batch_superseded_by_a_load();

create or replace function audit.checks_belong_to_a_new_batch() returns trigger language plpgsql as $$
begin
    if pg_has_role(current_user, 'pw_owner', 'member')
            or exists (select 1 from audit.load_batch where batch_id = new.batch_id and started_at = now()) then
        return new;
    end if;
    raise exception 'audit.validation_result: batch % was recorded by an earlier transaction', new.batch_id
        using errcode = 'insufficient_privilege';
end $$;
alter function audit.checks_belong_to_a_new_batch() owner to pw_owner;
create or replace trigger checks_belong_to_a_new_batch before insert on audit.validation_result
    for each row execute function audit.checks_belong_to_a_new_batch();
grant select on sequence audit.load_batch_batch_id_seq to pw_loader;  -- currval, for the check above
alter function audit.raw_rows_name_a_batch() owner to pw_owner;  -- raw rows name a batch (warehouse.AUDIT_DDL)
alter function audit.batch_has_no_raw_rows() owner to pw_owner;
alter function audit.batch_id_never_changes() owner to pw_owner;

-- Retention's records are dated by the database too.
create or replace function audit.deletion_dated_now() returns trigger language plpgsql as $$
begin
    if not pg_has_role(current_user, 'pw_owner', 'member') then
        new.deleted_at := clock_timestamp();
    end if;
    return new;
end $$;
alter function audit.deletion_dated_now() owner to pw_owner;
create or replace trigger deletion_dated_now before insert on audit.retention_deletion
    for each row execute function audit.deletion_dated_now();

-- So are late deliveries: when and by whom a missed delivery was noticed.
create or replace function audit.late_delivery_noticed_now() returns trigger language plpgsql as $$
begin
    if not pg_has_role(current_user, 'pw_owner', 'member') then
        new.noticed_at := clock_timestamp();
        new.noticed_by := session_user;
    end if;
    return new;
end $$;
alter function audit.late_delivery_noticed_now() owner to pw_owner;
create or replace trigger late_delivery_noticed_now before insert on audit.late_delivery
    for each row execute function audit.late_delivery_noticed_now();

-- And who reprocessed what, and when, is the database's word too.
create or replace function audit.reprocess_signed_now() returns trigger language plpgsql as $$
begin
    if not pg_has_role(current_user, 'pw_owner', 'member') then
        new.reprocessed_by := session_user;
        new.reprocessed_at := clock_timestamp();
    end if;
    return new;
end $$;
alter function audit.reprocess_signed_now() owner to pw_owner;
create or replace trigger reprocess_signed_now before insert on audit.reprocess
    for each row execute function audit.reprocess_signed_now();
"""

# Rows held and values given per column of a raw table (all its rows, or its latest loaded batches): the IG
# report's completeness, for a role that may not read the values. Runs as its owner; returns counts only.
RAW_VALUE_COUNTS_SIGNATURE = "audit.raw_value_counts(text, text[], integer)"
RAW_VALUE_COUNTS = """
create or replace function audit.raw_value_counts(dataset text, columns text[], latest_batches integer)
returns table (rows_held bigint, values_given bigint[])
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    if to_regclass(format('raw.%I', dataset)) is null then
        return;
    end if;
    return query execute format(
        'select count(*), array[%s]::bigint[] from raw.%I where $1 is null or _batch_id in (select batch_id'
        ' from audit.load_batch where dataset = $2 and status = ''loaded'' order by batch_id desc limit $1)',
        (select string_agg(format('count(%I)', c), ', ' order by n) from unnest(columns) with ordinality u (c, n)),
        dataset
    ) using latest_batches, dataset;
end $$
"""


# The gate's verdicts: files loaded and quarantined per dataset and month of data (the file name's YYYY-MM, as
# stg_audit__load_batches reads it), and when the first loaded file finished. Counts of files and times of loads
# only, from audit.load_batch: no value of any record. Runs as its owner.
GATE_OUTCOMES_SIGNATURE = "audit.gate_outcomes()"
GATE_OUTCOMES = """
create or replace function audit.gate_outcomes()
returns table (dataset text, data_month text, files_loaded bigint, files_quarantined bigint, first_loaded timestamptz)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select b.dataset, substring(b.file_name from '([0-9]{4}-[0-9]{2})'),
           count(*) filter (where b.status = 'loaded'), count(*) filter (where b.status = 'quarantined'),
           min(b.finished_at) filter (where b.status = 'loaded')
    from audit.load_batch b
    where b.status in ('loaded', 'quarantined')
    group by 1, 2
$$
"""


# Per record month (or day) of a dataset's raw table, from a given one on: the first time a loaded batch holding
# records of it finished loading. Only the registry's record_date_column of each dataset may be read (the pairs
# are written into the function by init, from the registry), and only its first 7 (or 10) characters when they
# look like a month (a day), so no other value of any column can be read through it. Runs as its owner.
DELIVERED_DATES_SIGNATURE = "audit.delivered_dates(text, boolean, text)"
DELIVERED_DATES = """
create or replace function audit.delivered_dates(dataset text, by_day boolean, since text)
returns table (record_date text, first_delivered timestamptz)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    date_column text := (select registry.c from (values {pairs}) as registry (d, c) where registry.d = dataset);
begin
    if date_column is null or to_regclass(format('raw.%I', dataset)) is null then
        return;
    end if;
    return query execute format(
        'select r.d, min(b.finished_at) from (select distinct _batch_id, left(%1$I, $1) as d from raw.%2$I'
        ' where left(%1$I, $1) >= $2) r join audit.load_batch b on b.batch_id = r._batch_id'
        ' where b.status = ''loaded'' and r.d ~ $3 group by r.d',
        date_column, dataset
    ) using case when by_day then 10 else 7 end, since,
        case when by_day then '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' else '^[0-9]{{4}}-[0-9]{{2}}$' end;
end $$
"""


def delivered_dates_function() -> sql.Composed:
    pairs = sql.SQL(", ").join(
        sql.SQL("({}, {})").format(sql.Literal(ds.name), sql.Literal(ds.record_date_column)) for ds in load_registry()
    )
    return sql.SQL(DELIVERED_DATES).format(pairs=pairs)


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


# -- row security that fails closed ----------------------------------------------------------------------

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
