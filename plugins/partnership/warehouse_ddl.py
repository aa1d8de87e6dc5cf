"""The warehouse's DDL: the audit tables and their triggers, a raw table per dataset, and the checks that keep
them as the code expects (the status check, the per-statement batch check on every raw relation).

:func:`partnership.warehouse.init_warehouse` runs it; each statement is safe to run again.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from partnership.batch_status import BatchStatus, check_constraint
from partnership.registry import Dataset

AUDIT_DDL = """
create table if not exists audit.load_batch (
    batch_id        bigint generated always as identity primary key,
    dataset         text        not null,
    file_name       text        not null,
    file_sha256     char(64)    not null,
    file_bytes      bigint,
    row_count       bigint,
    status          text        not null,  -- batch_status.BatchStatus; its check: keep_status_check
    reason          text,
    duplicate_of    bigint references audit.load_batch (batch_id),
    loaded_by       text,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz
);
-- One successful load per file content: the database, not the loader, guarantees no double loads.
create unique index if not exists load_batch_one_load_per_checksum
    on audit.load_batch (dataset, file_sha256) where status = 'loaded';

create table if not exists audit.validation_result (
    batch_id        bigint not null references audit.load_batch (batch_id),
    expectation     text   not null,
    column_name     text,
    success         boolean not null,
    unexpected_count bigint,
    detail          text
);

-- Every deletion the retention rules made: rows of one batch from a raw table, or one file (retention.py).
create table if not exists audit.retention_deletion (
    deletion_id     bigint generated always as identity primary key,
    dataset         text        not null,
    batch_id        bigint,     -- no foreign key: a batch's audit row outlives its data
    target          text        not null,  -- raw.<table> or the file's path
    rows_deleted    bigint,     -- null for a file
    rule            text        not null,
    deleted_by      text        not null default current_user,
    deleted_at      timestamptz not null default clock_timestamp()
);

-- Every change `partnership warehouse init` made to roles, privileges and sharing rules (partnership.security).
create table if not exists audit.access_change (
    change_id       bigint generated always as identity primary key,
    change          text        not null check (change in ('granted', 'revoked')),
    kind            text        not null,
    object          text        not null,
    detail          text,
    reason          text,
    changed_by      text        not null default session_user,
    changed_at      timestamptz not null default clock_timestamp()
);

-- Which partner role may see which agency's person-level rows; written from the registry's shared_with.
create table if not exists audit.partner_access (
    role_name       text not null,
    agency          text not null,
    primary key (role_name, agency)
);
-- Per batch and expectation: what was measured, what was asked, and whether failing it quarantines.
alter table audit.validation_result add column if not exists severity text;
alter table audit.validation_result add column if not exists observed text;
alter table audit.validation_result add column if not exists threshold text;
-- A corrected file names the quarantined batch it replaces.
alter table audit.load_batch add column if not exists replaces_batch bigint references audit.load_batch (batch_id);
alter table audit.load_batch add column if not exists flags text;
-- What became of a quarantined batch: released (with a corrected file) or discarded, when and by whom.
alter table audit.load_batch add column if not exists resolution text;
-- Which pseudonymisation key made a batch: "<id type>:<fingerprint>" per type, never the key (pseudonymise.py).
alter table audit.load_batch add column if not exists key_fingerprint text;
-- A new key declared with `partnership keys rotate`: without one, a changed key quarantines the batch.
create table if not exists audit.key_rotation (
    rotation_id     bigint generated always as identity primary key,
    id_type         text        not null,
    new_fingerprint text        not null,
    reason          text,
    declared_by     text        not null default session_user,
    declared_at     timestamptz not null default clock_timestamp()
);
-- A re-issued file of a dataset without a record key (police.uk): per month it holds, the earlier batch whose
-- rows of that month it supersedes (raw keeps both; staging counts the latest), e.g. "2022-11: 7331 rows
-- supersede batch 3's 7329".
alter table audit.load_batch add column if not exists supersedes text;
-- A delivery not made by its due date (partnership.timeliness.record_late): one row per dataset and period, the
-- first time it was noticed missing, so the alert for it fires once. The row stays when the file comes later.
create table if not exists audit.late_delivery (
    dataset         text        not null,
    period          text        not null,  -- the period's label: 2024-10, 2024/25-autumn, 2024/25
    due_date        date        not null,
    noticed_at      timestamptz not null default clock_timestamp(),
    noticed_by      text        not null default session_user,
    primary key (dataset, period)
);
alter table audit.load_batch add column if not exists superseded_by bigint references audit.load_batch (batch_id);
-- The checksum of the file as loaded, which processed/ keeps: the pseudonymised copy for a dataset that has one
-- (file_sha256 is the landed file's); how reprocess finds a batch's kept file.
alter table audit.load_batch add column if not exists loaded_sha256 char(64);
-- Each `partnership reprocess` of a batch: who asked, why, and what became of it (superseded by new_batch_id, or
-- refused by the gate with the old batch left loaded).
create table if not exists audit.reprocess (
    reprocess_id    bigint generated always as identity primary key,
    dataset         text        not null,
    month           text        not null,  -- YYYY-MM asked for
    old_batch_id    bigint      not null references audit.load_batch (batch_id),
    new_batch_id    bigint      references audit.load_batch (batch_id),  -- null when the gate refused the file
    outcome         text        not null check (outcome in ('superseded', 'refused')),
    reason          text        not null,  -- why (required on the command line)
    detail          text,       -- the gate's failures when refused; rows before and after when superseded
    requested_by    text,       -- the operating-system user who ran the command
    reprocessed_by  text        not null default session_user,
    reprocessed_at  timestamptz not null default clock_timestamp()
);
-- Each transform that finished: a fingerprint of what it read (transform_inputs.py), so a run with nothing new
-- loaded, deleted or changed in the dbt project need not build again.
create table if not exists audit.transform_run (
    transform_id        bigint generated always as identity primary key,
    inputs_fingerprint  text        not null,
    finished_by         text        not null default session_user,
    finished_at         timestamptz not null default clock_timestamp()
);

-- Every raw row names its batch in audit.load_batch. A foreign key checks that row by row (three quarters of
-- a 500,000-row COPY's time); these triggers check it once per statement, on the rows it wrote, and refuse to
-- delete, truncate or renumber a batch whose rows are still in raw. Same guarantee and error class
-- (foreign_key_violation). Like a foreign key, the check locks the batches it names (key share), so a delete
-- running at the same time waits for the load, or the load waits and finds the batch gone. An adversarial
-- review found each of those gaps (renumbering, the race, search_path); tests/test_loader.py replays them.
create or replace function audit.raw_rows_name_a_batch() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    batches bigint[];
    missing bigint;
begin
    batches := array(select distinct _batch_id from written_rows);
    perform 1 from audit.load_batch b where b.batch_id = any (batches) for key share of b;
    select written into missing from unnest(batches) written
    where not exists (select 1 from audit.load_batch b where b.batch_id = written)
    limit 1;
    if found then
        raise foreign_key_violation using
            message = format('raw.%I: batch %s is not in audit.load_batch', tg_table_name, missing);
    end if;
    return null;
end $$;

create or replace function audit.batch_has_no_raw_rows() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    raw_table text;
    kept bigint;
begin
    -- A snapshot older than this statement cannot see raw rows a load committed while the delete waited for
    -- its lock (a foreign key reads past its snapshot; a trigger cannot).
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'audit.load_batch: batches are removed only in a read committed transaction'
            using errcode = 'object_not_in_prerequisite_state';
    end if;
    for raw_table in
        select c.relname from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = '_batch_id' and not a.attisdropped
        where n.nspname = 'raw' and c.relkind in ('r', 'p')
    loop
        if tg_op = 'TRUNCATE' then  -- no transition table: any raw row names a batch being emptied
            execute format('select _batch_id from raw.%I limit 1', raw_table) into kept;
        else
            execute format('select r._batch_id from raw.%I r join deleted_batches d on d.batch_id = r._batch_id'
                           ' limit 1', raw_table) into kept;
        end if;
        if kept is not null then
            raise foreign_key_violation using
                message = format('batch %s still has rows in raw.%I', kept, raw_table);
        end if;
    end loop;
    return null;
end $$;

create or replace function audit.batch_id_never_changes() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    raise foreign_key_violation
        using message = format('audit.load_batch: batch %s may not be renumbered', old.batch_id);
end $$;

create or replace trigger load_batch_keeps_batches_with_raw_rows
    after delete on audit.load_batch referencing old table as deleted_batches
    for each statement execute function audit.batch_has_no_raw_rows();
create or replace trigger load_batch_truncated_keeps_batches_with_raw_rows
    before truncate on audit.load_batch
    for each statement execute function audit.batch_has_no_raw_rows();
create or replace trigger load_batch_never_renumbered
    before update of batch_id on audit.load_batch
    for each row when (old.batch_id is distinct from new.batch_id) execute function audit.batch_id_never_changes();
"""


def raw_table_ddl(ds: Dataset) -> sql.Composed:
    """Raw tables hold text: an exact copy of each accepted file, plus its batch, row number and load time."""
    cols = [sql.SQL("{} text").format(sql.Identifier(c)) for c in ds.column_names]
    return sql.SQL(
        "create table if not exists raw.{table} ("
        "_batch_id bigint not null, "
        "_source_row integer not null, _loaded_at timestamptz not null default now(), {cols})"
    ).format(table=sql.Identifier(ds.name), cols=sql.SQL(", ").join(cols))


def keep_status_check(conn: psycopg.Connection) -> None:
    """audit.load_batch's status check allows exactly BatchStatus: made, or made again when the list changed (a
    status dropped from the list while rows still carry it makes this fail, loudly)."""
    found = conn.execute(
        "select pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = 'audit.load_batch'::regclass and conname = 'load_batch_status_check'"
    ).fetchone()
    if found and set(re.findall(r"'([^']*)'::text", found[0])) == {status.value for status in BatchStatus}:
        return
    conn.execute("alter table audit.load_batch drop constraint if exists load_batch_status_check")
    conn.execute(
        sql.SQL("alter table audit.load_batch add constraint load_batch_status_check check ({})").format(
            sql.SQL(check_constraint())
        )
    )


def check_batches_per_statement(conn: psycopg.Connection) -> None:
    """Every relation in raw with a _batch_id (registry tables, and any partition or child someone adds) has the
    per-statement batch check (AUDIT_DDL), enabled; the row-by-row foreign key warehouses made before it goes."""
    relations = conn.execute(
        """select c.oid::regclass::text, a.attnum from pg_class c
           join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'raw'
           join pg_attribute a on a.attrelid = c.oid and a.attname = '_batch_id' and not a.attisdropped
           where c.relkind in ('r', 'p') order by 1"""
    ).fetchall()
    for relation, column in relations:
        for (constraint,) in conn.execute(
            "select conname from pg_constraint"
            " where conrelid = %s::regclass and contype = 'f' and conkey = array[%s::int2] and conparentid = 0",
            (relation, column),
        ).fetchall():
            conn.execute(
                sql.SQL("alter table {} drop constraint {}").format(sql.SQL(relation), sql.Identifier(constraint))
            )
        for event in ("insert", "update"):
            trigger = sql.Identifier(f"rows_name_a_batch_on_{event}")
            conn.execute(
                sql.SQL(
                    "create or replace trigger {trigger} after {event} on {relation}"
                    " referencing new table as written_rows"
                    " for each statement execute function audit.raw_rows_name_a_batch()"
                ).format(trigger=trigger, event=sql.SQL(event), relation=sql.SQL(relation))
            )
            conn.execute(sql.SQL("alter table {} enable trigger {}").format(sql.SQL(relation), trigger))
