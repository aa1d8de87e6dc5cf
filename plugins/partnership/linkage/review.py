"""Clerical review of the pairs linkage was unsure of (``linkage.review_pair``).

A reviewer sees, for each pending pair, which sources the two records came from, the match weight and
probability, and how each field agreed (exact, nickname, one typing error apart, same Soundex, swapped day and
month, same postcode sector, different, missing): evidence at the level of tokens, never a value. The decision
(same person, or different people) is recorded with who made it and why in ``linkage.review_decision`` and
reused by every later linkage: a pair decided "same" is linked, one decided "different" is never linked on that
pair's evidence again. Deciding "same" merges the two persons at once (recorded in ``audit.person_id_change``).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

import psycopg

from partnership.linkage import matching

DECISIONS = ("same", "different")

DDL = """
create table if not exists linkage.review_decision (
    a_record_id     bigint      not null,
    b_record_id     bigint      not null,
    decision        text        not null check (decision in ('same', 'different')),
    reason          text        not null,
    decided_by      text        not null,
    decided_at      timestamptz not null default now(),
    primary key (a_record_id, b_record_id)
);
-- For the IG report: how many pairs await a reviewer.
create or replace view audit.linkage_review_queue as
    select count(*) as pairs_awaiting_review
    from (select distinct a_record_id, b_record_id from linkage.review_pair) p
    where not exists (select 1 from linkage.review_decision d
                      where d.a_record_id = p.a_record_id and d.b_record_id = p.b_record_id);
"""


@dataclass(frozen=True)
class PendingPair:
    a_record_id: int
    b_record_id: int
    a_source: str
    b_source: str
    match_weight: float
    match_probability: float
    agreement: dict[str, str]

    @property
    def pair(self) -> str:
        return f"{self.a_record_id}-{self.b_record_id}"


def pending(conn: psycopg.Connection, limit: int = 50) -> list[PendingPair]:
    """Pairs awaiting a decision whose records are still in the index, the likeliest matches first (each pair
    once, as the latest linkage saw it)."""
    rows = conn.execute(
        "select distinct on (p.a_record_id, p.b_record_id) p.a_record_id, p.b_record_id, a.source, b.source,"
        " p.match_weight, p.match_probability, p.agreement"
        " from linkage.review_pair p"
        " join linkage.person_record a on a.record_id = p.a_record_id"
        " join linkage.person_record b on b.record_id = p.b_record_id"
        " left join linkage.record_person ap on ap.record_id = p.a_record_id"
        " left join linkage.record_person bp on bp.record_id = p.b_record_id"
        " where not exists (select 1 from linkage.review_decision d"
        "   where d.a_record_id = p.a_record_id and d.b_record_id = p.b_record_id)"
        "   and ap.person_id is distinct from bp.person_id"
        " order by p.a_record_id, p.b_record_id, p.run_id desc"
    ).fetchall()
    # In the comparisons' order (jsonb keeps its keys in its own), then why a link was refused, if it was.
    label = matching.KEPT_APART[0]
    pairs = [PendingPair(*row[:-1], {f: row[-1][f] for f in (*matching.FIELDS, label) if f in row[-1]}) for row in rows]
    return sorted(pairs, key=lambda p: -p.match_probability)[:limit]


def decide(conn: psycopg.Connection, pair: str, decision: str, reason: str) -> str:
    """Record a decision on a pending pair ("<a record id>-<b record id>"); returns what it did."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    if not reason or not reason.strip():
        raise ValueError("a decision needs a reason (it is recorded with the reviewer's name)")
    try:
        a, b = sorted(int(x) for x in pair.split("-"))
    except ValueError:
        raise ValueError(f"{pair!r} is not a pair: give it as shown by `partnership linkage review`") from None
    found = conn.execute(
        "select 1 from linkage.review_pair where a_record_id = %s and b_record_id = %s limit 1", (a, b)
    ).fetchone()
    if not found:
        raise ValueError(f"no pair {pair} awaits review")
    matching.lock(conn)
    conn.execute(
        "insert into linkage.review_decision (a_record_id, b_record_id, decision, reason, decided_by)"
        " values (%s, %s, %s, %s, %s || ' as ' || session_user)"
        " on conflict (a_record_id, b_record_id) do update set decision = excluded.decision,"
        " reason = excluded.reason, decided_by = excluded.decided_by, decided_at = now()",
        (a, b, decision, reason.strip(), getpass.getuser()),
    )
    if decision == "different":
        return f"pair {a}-{b}: different people; later linkage will not link them on this evidence"
    ids = dict(
        conn.execute(
            "select record_id, person_id from linkage.record_person where record_id in (%s, %s)", (a, b)
        ).fetchall()
    )
    if len(ids) < 2:  # a record deleted since the pair was listed (retention, a quarantine)
        return f"pair {a}-{b}: a record of it is no longer in the index; nothing merged"
    keep, other = sorted((ids[a], ids[b]))
    if keep == other:
        return f"pair {a}-{b}: already one person"
    refused = conn.execute(
        "select d.a_record_id || '-' || d.b_record_id from linkage.review_decision d"
        " join linkage.record_person x on x.record_id = d.a_record_id"
        " join linkage.record_person y on y.record_id = d.b_record_id"
        " where d.decision = 'different' and x.person_id in (%(k)s, %(o)s) and y.person_id in (%(k)s, %(o)s)"
        " and x.person_id <> y.person_id limit 1",
        {"k": keep, "o": other},
    ).fetchone()
    if refused:
        # Linkage keeps a pair decided different apart: a merge would be undone by the next full linkage.
        return (
            f"pair {a}-{b}: recorded as the same person, but PW{other} and PW{keep} are not merged: pair"
            f" {refused[0]} of theirs was decided different; decide that pair again first"
        )
    run_id = conn.execute("insert into linkage.link_run (finished_at) values (now()) returning run_id").fetchone()[0]
    moved = conn.execute(
        "update linkage.record_person set person_id = %s, linked_at = now() where person_id = %s", (keep, other)
    ).rowcount
    matching.record_change(conn, run_id, "merge", other, keep, moved)
    return f"pair {a}-{b}: the same person; person PW{other} merged into PW{keep} ({moved} record(s))"
