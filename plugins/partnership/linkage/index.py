"""The linkage index, in the ``linkage`` schema: each person-record's tokens (``person_record``), the person id
linkage gave it (``record_person``) and the raw row it became (``loaded_record``).

Only the loader (the gate) can read the schema (``security.grants``): tokens are keyed, but their frequencies are
not hidden (the commonest surname's token is the commonest token), so nobody else sees them. What leaves the
schema is the person id of each record, never a token. Merges and splits of person ids are recorded in
``audit.person_id_change``, which the IG reviewer reads.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import psycopg
from psycopg import sql

from partnership.linkage.tokens import Tokens

TOKEN_COLUMNS = Tokens.columns()
_SET_POSITIONS = [i for i, c in enumerate(TOKEN_COLUMNS) if c in Tokens.set_columns()]
_BYTEA_OID = 17


def sql_type(column: str) -> str:
    """bytea for one token, bytea[] for a set of them (a name's nickname group, its one-letter-out forms)."""
    return "bytea[]" if column in Tokens.set_columns() else "bytea"


DDL = f"""
create schema if not exists linkage;
create sequence if not exists linkage.person_id_seq;
create table if not exists linkage.person_record (
    record_id       bigint generated always as identity primary key,
    source          text        not null,  -- <dataset>:<role>, e.g. youth_justice__cases:child
    record_key      text        not null,  -- the record's key in its dataset: never an identifier
    {", ".join(f"{c} {sql_type(c)}" for c in TOKEN_COLUMNS)},
    added_at        timestamptz not null default now(),
    unique (source, record_key)
);
-- The blocking rules' keys (matching.BLOCKING_RULES): candidate pairs are found through these.
create index if not exists person_record_nhs on linkage.person_record (nhs_number) where nhs_number is not null;
create index if not exists person_record_upn on linkage.person_record (upn) where upn is not null;
create index if not exists person_record_pnc on linkage.person_record (pnc_id) where pnc_id is not null;
create index if not exists person_record_dob_surname on linkage.person_record (dob, surname_sx);
create index if not exists person_record_dob_forename on linkage.person_record (dob, forename_sx);
create index if not exists person_record_dob_sector on linkage.person_record (dob, postcode_sector);
create index if not exists person_record_swapped_surname on linkage.person_record (dob_swapped, surname_sx)
    where dob_swapped is not null;
create index if not exists person_record_names_year on linkage.person_record (forename_sx, surname_sx, dob_year);
create index if not exists person_record_surname_year_sector
    on linkage.person_record (surname_sx, dob_year, postcode_sector);
-- The rules these served were dropped (a date of birth alone, swapped or not; a surname's Soundex code and birth
-- year).
drop index if exists linkage.person_record_dob;
drop index if exists linkage.person_record_dob_swapped;
drop index if exists linkage.person_record_surname_year;
create index if not exists person_record_names_district
    on linkage.person_record (forename_sx, surname_sx, postcode_district);
-- A file's records, by the checksum that starts their record key (marked loaded, or forgotten when quarantined).
create index if not exists person_record_file on linkage.person_record (split_part(record_key, ':', 1));

-- The person each record is: written by linkage, after the record's tokens. A table of its own for the reason
-- loaded_record is one: giving a file's records their persons then writes narrow rows with two index entries each,
-- where updating the records wrote a new version of each wide row and an entry in each of its indexes (a quarter
-- of a police file's ingest at 1.5 million records). A record linkage has not yet seen has no row here.
create table if not exists linkage.record_person (
    record_id       bigint      primary key references linkage.person_record on delete cascade,
    person_id       bigint      not null,
    match_weight    double precision,      -- the strongest link that put it in its cluster (log2 Bayes factor)
    match_rule      text,                  -- the rule of that link: a deterministic rule, or 'probabilistic'
    linked_at       timestamptz not null default now()  -- when a linkage last changed its person or rule
);
create index if not exists record_person_person on linkage.record_person (person_id);

-- The raw row each loaded record became: its load batch and file row. A table of its own, not columns of the
-- index's row: marking a file's records loaded then writes a narrow row with two index entries, where updating
-- the record wrote a new version of it and an entry in each of the index's fifteen indexes (a sixth of a police
-- file's ingest at 1.5 million records).
create table if not exists linkage.loaded_record (
    record_id       bigint      primary key references linkage.person_record on delete cascade,
    source          text        not null,
    batch_id        bigint      not null,
    source_row      integer     not null
);
-- Unique: a raw row holds one record per linked column, and staging looks its person up by source, batch and row
-- (a second record for a row would fail every build's lookup; here it fails the load that writes it).
drop index if exists linkage.loaded_record_row;  -- the same index as first made, not unique
create unique index if not exists loaded_record_source_row on linkage.loaded_record (source, batch_id, source_row);

-- What the transform may read of the index: each loaded row's current person id, never a token. Staging reads a
-- linked person through it, so two ids found later to be one person (a merge) are one person in every model.
create or replace view linkage.record_person_id as
    select l.source, l.batch_id, l.source_row, 'PW' || p.person_id as person_id
    from linkage.loaded_record l join linkage.record_person p using (record_id);

-- Each linkage run: what it estimated (m, u, the prior) and what it did. No token is kept here.
create table if not exists linkage.link_run (
    run_id          bigint generated always as identity primary key,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    full_linkage    boolean     not null default false,  -- every record linked again, parameters estimated
    records         bigint,
    candidate_pairs bigint,
    links           bigint,
    review_pairs    bigint,
    persons         bigint,
    parameters      jsonb
);

-- Pairs in the uncertain band, for clerical review: which fields agreed and how (never a token or a value).
create table if not exists linkage.review_pair (
    run_id          bigint      not null,
    a_record_id     bigint      not null,
    b_record_id     bigint      not null,
    match_weight    double precision not null,
    match_probability double precision not null,
    agreement       jsonb       not null,  -- each field: exact, nickname, same Soundex, ..., different or missing
    primary key (run_id, a_record_id, b_record_id)
);

-- What IG reviewers see of linkage (the IG report): counts by source and pair of sources, the runs and the review
-- queue. Views owned by init's role, so the IG reviewer reads them without reading the index.
create or replace view audit.linkage_sources as
    with in_two_sources as (  -- a record is linked elsewhere when its person has records in another source
        select p.person_id from linkage.record_person p join linkage.person_record r using (record_id)
        group by p.person_id having count(distinct r.source) > 1
    )
    select r.source, count(*) as records, count(distinct p.person_id) as persons,
           count(*) filter (where p.person_id in (select person_id from in_two_sources)) as linked_elsewhere
    from linkage.person_record r left join linkage.record_person p using (record_id)
    group by r.source;
create or replace view audit.linkage_source_pairs as
    with persons as (
        select distinct r.source, p.person_id
        from linkage.person_record r join linkage.record_person p using (record_id)
    )
    select a.source as source_a, b.source as source_b, count(*) as persons_in_both
    from persons a join persons b on b.person_id = a.person_id and a.source < b.source
    group by 1, 2;
create or replace view audit.linkage_runs as
    select run_id, full_linkage, started_at, finished_at, records, candidate_pairs, links, review_pairs, persons
    from linkage.link_run;

-- Person ids that changed: two clusters found to be one person (merge), or one found to be two (split).
create table if not exists audit.person_id_change (
    change_id       bigint generated always as identity primary key,
    run_id          bigint      not null,
    change          text        not null check (change in ('merge', 'split')),
    from_person_id  bigint      not null,
    to_person_id    bigint      not null,
    records         bigint      not null,
    changed_at      timestamptz not null default now()
);

-- An index made before kept each record's load batch and row, then its person, in the record's own row: they move
-- to loaded_record and record_person, once (the views above no longer read those columns).
do $$
begin
    if exists (select 1 from pg_attribute  -- not information_schema, which shows only what this role may read
               where attrelid = 'linkage.person_record'::regclass and attname = 'batch_id' and not attisdropped) then
        insert into linkage.loaded_record (record_id, source, batch_id, source_row)
        select record_id, source, batch_id, source_row from linkage.person_record where batch_id is not null
        on conflict (record_id) do nothing;
        alter table linkage.person_record drop column batch_id, drop column source_row;
    end if;
    if exists (select 1 from pg_attribute
               where attrelid = 'linkage.person_record'::regclass and attname = 'person_id' and not attisdropped) then
        insert into linkage.record_person (record_id, person_id, match_weight, match_rule, linked_at)
        select record_id, person_id, match_weight, match_rule, coalesce(linked_at, added_at)
        from linkage.person_record where person_id is not null
        on conflict (record_id) do nothing;
        alter table linkage.person_record
            drop column person_id, drop column match_weight, drop column match_rule, drop column linked_at;
    end if;
end
$$;
"""


def create(conn: psycopg.Connection) -> None:
    from partnership.linkage import quality, review

    conn.execute(DDL)
    conn.execute(review.DDL)
    conn.execute(quality.DDL)


LOCK_KEY = 7_316_001  # pg_advisory_xact_lock: one linkage at a time


def lock(conn: psycopg.Connection) -> None:
    """Hold the linkage lock until the transaction ends. Taken before a transaction changes any record of the
    index: one that row-locked records first and then waited for the lock could deadlock with the holder, which
    may update every record (a full linkage, a merge)."""
    conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))


def add_records(conn: psycopg.Connection, records: Iterable[tuple[str, str, Tokens]]) -> list[int]:
    """Put records' tokens in the index: (source, record key, tokens). A record sent again, by its source and key,
    has its tokens replaced and keeps its person id. Streams through COPY; returns the records' ids."""
    columns = ["source", "record_key", *TOKEN_COLUMNS]
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    conn.execute(
        sql.SQL(
            "create temporary table if not exists incoming_record on commit drop as"
            " select {} from linkage.person_record with no data"
        ).format(cols)
    )
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("copy incoming_record ({}) from stdin (format binary)").format(cols)) as copy:
            # Every token column is sent as bytes: a set's are its bytea[] already in PostgreSQL's binary form.
            copy.set_types(["text", "text", *["bytea"] * len(TOKEN_COLUMNS)])
            for source, record_key, tokens in records:
                values = tokens.values()
                for i in _SET_POSITIONS:
                    values[i] = binary_token_array(values[i])
                copy.write_row([source, record_key, *values])
        lock(conn)  # tokens made and sent meanwhile; the index itself is changed under the lock
        # A record gated again (its file sent again, or its run retried) is as new as this gating: retention's sweep
        # of records no load took up counts from here.
        updates = sql.SQL(", ").join(
            [sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in TOKEN_COLUMNS]
            + [sql.SQL("added_at = now()")]
        )
        cur.execute(
            sql.SQL(
                "insert into linkage.person_record ({cols}) select {cols} from incoming_record"
                " on conflict (source, record_key) do update set {updates} returning record_id"
            ).format(cols=cols, updates=updates)
        )
        ids = [r[0] for r in cur.fetchall()]
        cur.execute("truncate incoming_record")
    return ids


def binary_token_array(tokens: list[bytes]) -> bytes:
    """A set of tokens as PostgreSQL's binary form of a one-dimensional bytea[] (what `array_recv` reads): made
    here because psycopg's array dumper walks every element in Python, a tenth of a file's linkage."""
    if not tokens:
        return struct.pack("!iii", 0, 0, _BYTEA_OID)  # no dimensions: '{}'
    header = struct.pack("!iiiii", 1, 0, _BYTEA_OID, len(tokens), 1)  # 1 dimension, no nulls, its length, from 1
    return header + b"".join(struct.pack("!i", len(t)) + t for t in tokens)


def _these(conn: psycopg.Connection, record_ids: list[int]) -> None:
    conn.execute("create temporary table if not exists these_records (record_id bigint primary key) on commit drop")
    conn.execute("truncate these_records")
    with conn.cursor().copy("copy these_records from stdin") as copy:
        for record_id in record_ids:
            copy.write_row((record_id,))
    conn.execute("analyze these_records")  # a temporary table has no statistics until analysed


def person_ids_of(conn: psycopg.Connection, record_ids: list[int]) -> dict[tuple[str, str], int]:
    """{(source, record key): person id} of the given records."""
    _these(conn, record_ids)
    rows = conn.execute(
        "select r.source, r.record_key, p.person_id from linkage.person_record r join these_records using (record_id)"
        " join linkage.record_person p using (record_id)"
    )
    return {(source, key): person_id for source, key, person_id in rows}


def known_elsewhere(conn: psycopg.Connection, record_ids: list[int]) -> dict[str, int]:
    """{source: how many of the given records are of a person who also has records not among them}."""
    _these(conn, record_ids)
    rows = conn.execute(
        "select r.source, count(*) from linkage.person_record r join these_records t using (record_id)"
        " join linkage.record_person p using (record_id)"
        " where exists (select 1 from linkage.record_person o where o.person_id = p.person_id"
        " and not exists (select 1 from these_records x where x.record_id = o.record_id))"
        " group by r.source"
    )
    return dict(rows.fetchall())


def person_ids(conn: psycopg.Connection, source: str) -> dict[str, int]:
    """{record key: person id} for one source's linked records."""
    rows = conn.execute(
        "select r.record_key, p.person_id from linkage.person_record r join linkage.record_person p using (record_id)"
        " where r.source = %s",
        (source,),
    )
    return dict(rows.fetchall())


def forget_file(conn: psycopg.Connection, dataset: str, file_sha256: str) -> int:
    """Remove the records one file's people added (a file quarantined after the gate linked its people: nothing
    of it is loaded, so its tokens are not kept). Person ids they gave others stay; returns how many went."""
    lock(conn)
    return conn.execute(
        "delete from linkage.person_record where split_part(source, ':', 1) = %s"
        " and split_part(record_key, ':', 1) = %s",
        (dataset, file_sha256[:16]),
    ).rowcount


def mark_loaded(conn: psycopg.Connection, dataset: str, file_sha256: str, batch_id: int) -> None:
    """Tie one file's records to the raw rows they became (its batch; the row is in the record key). A file
    loaded again (a reprocess) ties them to its new batch."""
    lock(conn)
    conn.execute(
        "insert into linkage.loaded_record (record_id, source, batch_id, source_row)"
        " select record_id, source, %s, split_part(record_key, ':', 2)::integer from linkage.person_record"
        " where split_part(source, ':', 1) = %s and split_part(record_key, ':', 1) = %s"
        " on conflict (record_id) do update set batch_id = excluded.batch_id, source_row = excluded.source_row",
        (batch_id, dataset, file_sha256[:16]),
    )
