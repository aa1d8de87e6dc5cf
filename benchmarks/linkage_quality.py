"""Record linkage's quality and run time on a generated population with realistic identifier noise (issue 16).

    uv run python benchmarks/linkage_quality.py [--records 100000] [--seed 0] [--server URL] [--keep] [--link-once]

Generates people (:mod:`partnership.demo.identities`) until their agency records number ``--records``, each
record with its own errors; tokenises each record's linkage fields with a linkage key made for this run, puts the
tokens in the linkage index of a throwaway warehouse it creates on the server (default: the local one, or
WAREHOUSE_URL's) and drops afterwards, links them (:func:`partnership.linkage.matching.link`), then a second time
with nothing new, to show ids are stable (not with ``--link-once``). Prints the time of each stage, precision,
recall and F1 per agency pair against the generated truth, and the match rate by ethnic group, sex and age band
with any bias warning.

The generator plants more spelling variation for one group (``--respelling-group``, default Asian, at
``--respelling-rate``): another spelling of a name is more common where names are transliterated. Timings depend
on the machine; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
import uuid

import psycopg

from partnership import warehouse
from partnership.demo import identities
from partnership.linkage import index, matching, quality, tokens


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def generate(record_count: int, seed: int, noise: identities.Noise) -> list[identities.LinkageRecord]:
    people = identities.population(max(record_count * 2 // 3, 10), seed, noise)  # about 2.4 records a person known
    out = []
    for record in identities.records(people, seed, noise):
        out.append(record)
        if len(out) == record_count:
            break
    return out


def truth_of(records: list[identities.LinkageRecord]) -> list[quality.Truth]:
    return [
        quality.Truth(
            r.record_key,
            r.agency,
            r.person,
            (("ethnic group", r.ethnic_group), ("sex", r.sex), ("age band", r.age_band)),
        )
        for r in records
    ]


def load_and_link(url: str, records: list[identities.LinkageRecord]) -> dict[str, float]:
    key = tokens.linkage_key()
    times = {}
    start = time.perf_counter()
    with warehouse.connect(url) as conn:
        index.add_records(conn, ((r.agency, r.record_key, tokens.tokenise(key, r.fields)) for r in records))
    times["tokenise and index"] = time.perf_counter() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--respelling-group", default="Asian")
    parser.add_argument("--respelling-rate", type=float, default=0.08)
    parser.add_argument(
        "--server", default=os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--link-once", action="store_true", help="skip the second linkage (stability check)")
    args = parser.parse_args()
    os.environ.setdefault(f"PSEUDONYMISATION_KEY_{tokens.KEY_TYPE.upper()}", secrets.token_hex(32))

    noise = identities.Noise(respelling_by_group={args.respelling_group: args.respelling_rate})
    start = time.perf_counter()
    records = generate(args.records, args.seed, noise)
    print(
        f"{len(records):,} records of {len({r.person for r in records}):,} people"
        f" generated in {time.perf_counter() - start:.1f} s"
    )

    name = f"pw_bench_linkage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(args.server), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(args.server, name)
    try:
        warehouse.init_warehouse(url)
        for stage, seconds in load_and_link(url, records).items():
            print(f"{stage}: {seconds:.1f} s")
        for run in ("first link", "second link, nothing new")[: 1 if args.link_once else 2]:
            with warehouse.connect(url) as conn:
                result = matching.link(conn)
            print(
                f"{run}: {result.seconds:.1f} s; {result.candidate_pairs:,} candidate pairs, {result.links:,} links,"
                f" {result.review_pairs:,} pairs for review, {result.persons:,} persons,"
                f" {result.merges} merges, {result.splits} splits"
            )
        print(f"prior (the chance two records drawn at random are one person): {result.parameters.prior:.3g}")
        with warehouse.connect(url) as conn:
            predicted = dict(
                conn.execute(
                    "select record_key, person_id"
                    " from linkage.person_record join linkage.record_person using (record_id)"
                ).fetchall()
            )
        print()
        print("\n".join(quality.describe(quality.report(truth_of(records), predicted))))
    finally:
        if not args.keep:
            with psycopg.connect(warehouse.conninfo(args.server), autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
