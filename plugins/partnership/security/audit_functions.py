"""The database functions init creates in ``audit``: triggers that keep the audit records' history and date
them by the database, and the security-definer functions through which the IG report, timeliness and the
Board's report read counts and dates without reading a value."""

from __future__ import annotations

from psycopg import sql

from partnership.registry import load_registry

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
alter function audit.raw_rows_name_a_batch() owner to pw_owner;  -- raw rows name a batch (warehouse_ddl.AUDIT_DDL)
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


# The planner's statistics of the tables dbt reads that the gate wrote to, brought up to date before a build.
# Loads land just before the transform starts, before autovacuum's next pass has analysed them: dbt's staging
# views then planned the linkage lookup (with_current_person_ids) on a table they took for small, a seq scan per row,
# and a build that takes a minute ran for ten. Only the tables' owner may ANALYZE them; this runs as the owner,
# reads and returns no value (the names of the tables analysed). A table another transaction holds a lock on
# that ANALYZE would wait for (an init's index, an anti-wraparound vacuum) is skipped, never waited on.
ANALYZE_LOADED_TABLES_SIGNATURE = "audit.analyze_loaded_tables()"
ANALYZE_LOADED_TABLES = """
create or replace function audit.analyze_loaded_tables()
returns setof text
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    t record;
begin
    for t in
        select s.schemaname, s.relname from pg_stat_user_tables s join pg_class c on c.oid = s.relid
        where s.schemaname in ('raw', 'linkage')
          and c.relowner = (select oid from pg_roles where rolname = current_user)  -- this function's owner
          and (s.n_mod_since_analyze > 0 or coalesce(s.last_analyze, s.last_autoanalyze) is null)
        order by 1, 2
    loop
        execute format('analyze (skip_locked) %I.%I', t.schemaname, t.relname);
        return next format('%I.%I', t.schemaname, t.relname);
    end loop;
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
