"""Linking the index's records into persons: deterministic rules first, then Fellegi-Sunter match weights.

1. **Candidate pairs** come from blocking rules (:data:`BLOCKING_RULES`): only records that share a same NHS
   number, UPN or PNC ID; a date of birth with a surname's or a forename's Soundex code or a postcode sector; a
   date of birth with day and month swapped and a surname's Soundex code; both names' Soundex codes with a birth
   year or a postcode district are compared. Each rule uses an index.
2. **Agreement levels** (:data:`COMPARISONS`): for each field, how closely the two records agree, from exact down
   to none, or missing (no evidence either way). Computed in SQL, from tokens only.
3. **Parameters.** u (the chance of each level between two different people) from random pairs; m (its chance
   between two records of one person) by expectation-maximisation over the candidate pairs, once per blocking
   rule with that rule's own fields left out (its pairs agree on them by construction), as Splink does; then the
   expected number of matches among the candidate pairs by EM with m and u fixed, and from it the prior (the
   chance that two records drawn at random are one person), on the same footing as u.
4. **Links.** A pair that a deterministic rule (:data:`DETERMINISTIC_RULES`) holds is linked; otherwise its match
   probability decides: at least :data:`LINK_PROBABILITY` links, between :data:`REVIEW_PROBABILITY` and that goes
   to clerical review (``linkage.review_pair``, with the agreement levels, never a value), below is no link.
5. **Persons.** Linked records form clusters (connected components), strongest links first. A link on probability
   (or on name, date of birth and postcode) that would put two different NHS numbers, UPNs or PNC IDs in one
   cluster is refused: only a shared identifier or a reviewer's decision joins such clusters. A cluster keeps the
   person id most of its records already had, so ids are stable across loads; two ids found to be one person are a
   merge, one id found to be two people a split, each recorded in ``audit.person_id_change``.

The whole index is linked again each run: a new extract can join two clusters that were apart.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import psycopg

from partnership.linkage import index

LINK_PROBABILITY = 0.99
REVIEW_PROBABILITY = 0.5
U_SAMPLE_PAIRS = 400_000
EM_ITERATIONS = 40


@dataclass(frozen=True)
class Comparison:
    """One field's agreement levels, best first; a pair at none of them is at level 0 (disagreement)."""

    field: str
    levels: tuple[tuple[str, str], ...]  # (label, SQL condition on records a and b)

    @property
    def null_sql(self) -> str:
        return f"a.{self.field} is null or b.{self.field} is null"

    def gamma_sql(self) -> str:
        whens = " ".join(f"when {cond} then {len(self.levels) - i}" for i, (_, cond) in enumerate(self.levels))
        return f"case when {self.null_sql} then -1 {whens} else 0 end"

    def label(self, gamma: int) -> str:
        if gamma < 0:
            return "missing"
        return "different" if gamma == 0 else self.levels[len(self.levels) - gamma][0]


def _exact(field: str) -> tuple[str, str]:
    return ("exact", f"a.{field} = b.{field}")


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("nhs_number", (_exact("nhs_number"),)),
    Comparison("upn", (_exact("upn"),)),
    Comparison("pnc_id", (_exact("pnc_id"),)),
    Comparison(
        "forename",
        (
            _exact("forename"),
            ("nickname", "a.forename_group && b.forename_group"),
            ("one typing error apart", "a.forename_edits && b.forename_edits"),
            ("same Soundex", "a.forename_sx = b.forename_sx"),
        ),
    ),
    Comparison(
        "surname",
        (
            _exact("surname"),
            ("one typing error apart", "a.surname_edits && b.surname_edits"),
            ("same Soundex", "a.surname_sx = b.surname_sx"),
        ),
    ),
    Comparison(
        "dob",
        (
            _exact("dob"),
            ("day and month swapped", "a.dob_swapped = b.dob"),
            ("two of year, month and day", "a.dob_ym = b.dob_ym or a.dob_md = b.dob_md or a.dob_yd = b.dob_yd"),
        ),
    ),
    Comparison("sex", (_exact("sex"),)),
    Comparison(
        "postcode",
        (
            _exact("postcode"),
            ("same sector", "a.postcode_sector = b.postcode_sector"),
            ("same district", "a.postcode_district = b.postcode_district"),
        ),
    ),
)
FIELDS = tuple(c.field for c in COMPARISONS)


@dataclass(frozen=True)
class BlockingRule:
    name: str
    condition: str  # on records a and b
    fields: frozenset[str]  # the comparisons it fixes (left out when m is estimated from its pairs)
    symmetric: bool = True  # the condition holds for (b, a) whenever for (a, b)

    @property
    def either_way(self) -> str:
        """The condition for the unordered pair."""
        if self.symmetric:
            return self.condition
        swapped = re.sub(r"\b([ab])\.", lambda m: ("b" if m[1] == "a" else "a") + ".", self.condition)
        return f"({self.condition}) or ({swapped})"


# Besides the identifiers, each rule pairs a date of birth (or one with day and month swapped), or a birth year,
# with a name's Soundex code or a postcode sector: blocks that stay small as the index grows. A date of birth alone
# (swapped or not), or a surname's Soundex code with a birth year, made blocks that grew with the index, and pairs
# with its square (43 million candidate pairs for a million records, most of them two people sharing a birthday).
# What only those rules found (one date of birth, but both names' Soundex codes and the postcode sector different;
# or one surname code and birth year, but the forename's code and the date different) almost never linked:
# benchmarks/linkage_quality.py, before and after (docs/governing.md).
BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("nhs_number", "a.nhs_number = b.nhs_number", frozenset({"nhs_number"})),
    BlockingRule("upn", "a.upn = b.upn", frozenset({"upn"})),
    BlockingRule("pnc_id", "a.pnc_id = b.pnc_id", frozenset({"pnc_id"})),
    BlockingRule(
        "date of birth and surname Soundex",
        "a.dob = b.dob and a.surname_sx = b.surname_sx",
        frozenset({"dob", "surname"}),
    ),
    BlockingRule(
        "date of birth and forename Soundex",
        "a.dob = b.dob and a.forename_sx = b.forename_sx",
        frozenset({"dob", "forename"}),
    ),
    BlockingRule(
        "date of birth and postcode sector",
        "a.dob = b.dob and a.postcode_sector = b.postcode_sector",
        frozenset({"dob", "postcode"}),
    ),
    BlockingRule(
        "date of birth, day and month swapped, and surname Soundex",
        "a.dob_swapped = b.dob and a.surname_sx = b.surname_sx",
        frozenset({"dob", "surname"}),
        symmetric=False,
    ),
    BlockingRule(
        "surname Soundex, birth year and postcode sector",
        "a.surname_sx = b.surname_sx and a.dob_year = b.dob_year and a.postcode_sector = b.postcode_sector",
        frozenset({"surname", "dob", "postcode"}),
    ),
    BlockingRule(
        "names' Soundex and birth year",
        "a.forename_sx = b.forename_sx and a.surname_sx = b.surname_sx and a.dob_year = b.dob_year",
        frozenset({"forename", "surname", "dob"}),
    ),
    BlockingRule(
        "names' Soundex and postcode district",
        "a.forename_sx = b.forename_sx and a.surname_sx = b.surname_sx and a.postcode_district = b.postcode_district",
        frozenset({"forename", "surname", "postcode"}),
    ),
)
# Evidence strong enough on its own: a shared identifier (its check digit checked at the gate), or every one of
# forename, surname, date of birth and full postcode exactly equal.
DETERMINISTIC_RULES: tuple[tuple[str, str], ...] = (
    ("nhs_number", "a.nhs_number = b.nhs_number"),
    ("upn", "a.upn = b.upn"),
    ("pnc_id", "a.pnc_id = b.pnc_id"),
    ("name, date of birth and postcode", "a.name_dob_postcode = b.name_dob_postcode"),
)


@dataclass
class Parameters:
    m: dict[str, list[float]]  # field -> probability of each level (0 = different, ...) among matches
    u: dict[str, list[float]]  # ... among non-matches
    prior: float  # the chance that two records drawn at random are one person
    records: int  # in the index the prior is for

    def weight(self, gammas: tuple[int, ...]) -> float:
        """The pattern's match weight: the sum of log2(m/u) over the fields present in both records."""
        return sum(math.log2(self.m[f][g] / self.u[f][g]) for f, g in zip(FIELDS, gammas, strict=True) if g >= 0)

    def probability(self, gammas: tuple[int, ...]) -> float:
        odds = math.log2(self.prior / (1 - self.prior)) + self.weight(gammas)
        return 1 / (1 + 2 ** -max(min(odds, 1000), -1000))

    def to_json(self) -> dict:
        return {"m": self.m, "u": self.u, "expected_matches": self.expected_matches}

    @property
    def expected_matches(self) -> float:
        return self.prior * self.records * (self.records - 1) / 2

    @classmethod
    def from_json(cls, value: dict, *, records: int) -> Parameters:
        """Parameters a run estimated, for an index now of ``records``: the prior scaled to its pairs."""
        pairs = max(records * (records - 1) / 2, 1)
        return cls(value["m"], value["u"], min(max(value["expected_matches"] / pairs, 1e-12), 0.5), records)


@dataclass(frozen=True)
class LinkResult:
    run_id: int
    records: int
    candidate_pairs: int
    links: int
    review_pairs: int
    persons: int
    merges: int
    splits: int
    parameters: Parameters
    seconds: float


def _levels(field: str) -> int:
    return next(len(c.levels) for c in COMPARISONS if c.field == field) + 1


def _gamma_columns() -> str:
    return ", ".join(f"{c.gamma_sql()} as g_{c.field}" for c in COMPARISONS)


def _positions(n: int) -> str:
    return ", ".join(str(i) for i in range(1, n + 1))


def _find_candidate_pairs(conn: psycopg.Connection, *, new_only: bool = False) -> int:
    """Pairs of records some blocking rule brings together, with their agreement levels (``scored_pair``). With
    ``new_only``, only pairs with at least one record of the temporary table ``new_record``."""
    new = " join new_record n on n.record_id = a.record_id" if new_only else ""
    selects = [
        "select least(a.record_id, b.record_id), greatest(a.record_id, b.record_id)"
        f" from linkage.person_record a{new} join linkage.person_record b on {rule.condition}"
        f" and a.record_id {'<' if rule.symmetric and not new_only else '<>'} b.record_id"
        for rule in BLOCKING_RULES
    ]
    # A pair a reviewer decided is one person is compared whether or not a rule finds it (the rules may have
    # changed since the decision), so that the decision stands (_decide).
    decided_new = " and (a_record_id in (table new_record) or b_record_id in (table new_record))" if new_only else ""
    selects.append(f"select a_record_id, b_record_id from linkage.review_decision where decision = 'same'{decided_new}")
    conn.execute("drop table if exists candidate_pair")
    # A file's records are probed one by one through each rule's index. The planner would rather sort the whole
    # index for a merge join where a rule pairs two correlated columns (a date of birth and a name's code): it
    # takes their selectivities as independent and expects forty times the pairs there are. At 1.5 million
    # records that cost 2.5 s per rule where probing takes 0.5 s, and it grows with the index (docs/extending.md).
    with _probing(conn) if new_only else contextlib.nullcontext():
        conn.execute(
            "create temporary table candidate_pair (a_id bigint, b_id bigint) on commit drop;"
            f" insert into candidate_pair {' union '.join(selects)}"
        )
    conn.execute("analyze candidate_pair")  # a temporary table has no statistics until analysed
    blocked = ", ".join(f"coalesce({rule.either_way}, false) as in_rule_{i}" for i, rule in enumerate(BLOCKING_RULES))
    deterministic = " ".join(f"when {cond} then '{name}'" for name, cond in DETERMINISTIC_RULES)
    conn.execute("drop table if exists scored_pair")
    conn.execute(
        "create temporary table scored_pair on commit drop as"
        f" select p.a_id, p.b_id, {_gamma_columns()}, {blocked}, case {deterministic} end as deterministic_rule"
        " from candidate_pair p join linkage.person_record a on a.record_id = p.a_id"
        " join linkage.person_record b on b.record_id = p.b_id"
    )
    # A temporary table is never analysed by autovacuum: without statistics the planner joins millions of pairs
    # to the pattern decisions row by row.
    conn.execute("analyze scored_pair")
    return conn.execute("select count(*) from scored_pair").fetchone()[0]


@contextlib.contextmanager
def _probing(conn: psycopg.Connection):
    """Within the block, join by probing indexes only (no hash or merge join), then as before, in the caller's
    transaction. For a query that joins a few keyed rows (a file's records, their pairs) to the whole index, where
    a misjudged selectivity, or statistics not brought up to date since the index grew, would otherwise scan or sort
    all of it: a cost that grows with the index, for every file."""
    before = conn.execute(
        "select current_setting('enable_mergejoin'), current_setting('enable_hashjoin'),"
        " set_config('enable_mergejoin', 'off', true), set_config('enable_hashjoin', 'off', true)"
    ).fetchone()
    try:
        yield
    finally:
        # Not in a failed transaction: its rollback undoes the settings, and a query now would hide the error.
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            conn.execute(
                "select set_config('enable_mergejoin', %s, true), set_config('enable_hashjoin', %s, true)",
                before[:2],
            )


def _estimate_u(conn: psycopg.Connection, sample_pairs: int) -> dict[str, list[float]]:
    """u from random pairs of records (almost all of them two different people), with add-one smoothing. The
    sample is in the order of a hash of the record ids, not the table's, so the same index gives the same
    parameters however its rows were last written."""
    rows = conn.execute(
        "with sample as (select *, row_number() over () as n from"
        " (select * from linkage.person_record order by md5(record_id::text) limit %s) s)"
        f" select {', '.join(f'g_{f}' for f in FIELDS)}, count(*) from"
        f" (select {_gamma_columns()} from sample a join sample b on b.n = a.n + 1) g"
        f" group by {_positions(len(FIELDS))}",
        (sample_pairs + 1,),
    ).fetchall()
    counts = {f: [0] * _levels(f) for f in FIELDS}
    for row in rows:
        *gammas, n = row
        for f, g in zip(FIELDS, gammas, strict=True):
            if g >= 0:
                counts[f][g] += n
    return {f: [(c + 1) / (sum(cs) + len(cs)) for c in cs] for f, cs in counts.items()}


def _initial_m(levels: int) -> list[float]:
    """Most matches agree exactly; each lower level is rarer (an arbitrary start EM moves away from)."""
    raw = [0.9 if g == levels - 1 else 0.1 / 2 ** (levels - 1 - g) for g in range(levels)]
    return [v / sum(raw) for v in raw]


def _em(patterns, u, m, fields, prior, *, fixed_m: bool = False):
    """EM over (gammas, count) patterns, on the given fields only; returns (m, prior, expected matches)."""
    index = [FIELDS.index(f) for f in fields]
    m = {f: list(v) for f, v in m.items()}
    matches = 0.0
    for _ in range(EM_ITERATIONS):
        sums = {f: [0.0] * _levels(f) for f in fields}
        total = matches = 0.0
        for gammas, n in patterns:
            pm = pu = 1.0
            for i in index:
                g = gammas[i]
                if g >= 0:
                    pm *= m[FIELDS[i]][g]
                    pu *= u[FIELDS[i]][g]
            p = prior * pm / (prior * pm + (1 - prior) * pu)
            matches += n * p
            total += n
            for i in index:
                if gammas[i] >= 0:
                    sums[FIELDS[i]][gammas[i]] += n * p
        new_prior = min(max(matches / total, 1e-9), 1 - 1e-9)
        if not fixed_m:
            for f in fields:
                s = sum(sums[f])
                if s > 0:  # a level never seen among matches keeps a small chance, not zero (no infinite weight)
                    floored = [max(v / s, 1e-5) for v in sums[f]]
                    m[f] = [v / sum(floored) for v in floored]
        converged = abs(new_prior - prior) < 1e-7
        prior = new_prior
        if converged:
            break
    return m, prior, matches


def estimate_parameters(conn: psycopg.Connection, *, sample_pairs: int = U_SAMPLE_PAIRS) -> Parameters:
    """m by EM once per blocking rule (its own fields left out), u from random pairs, then the prior."""
    u = _estimate_u(conn, sample_pairs)
    gammas_sql = ", ".join(f"g_{f}" for f in FIELDS)
    rules_sql = ", ".join(f"in_rule_{i}" for i in range(len(BLOCKING_RULES)))
    rows = conn.execute(
        f"select {gammas_sql}, {rules_sql}, count(*) from scored_pair"
        f" group by {_positions(len(FIELDS) + len(BLOCKING_RULES))}"
    ).fetchall()
    patterns = [(tuple(r[: len(FIELDS)]), tuple(r[len(FIELDS) : -1]), r[-1]) for r in rows]
    m0 = {f: _initial_m(_levels(f)) for f in FIELDS}
    weighted = {f: [0.0] * _levels(f) for f in FIELDS}
    weights = dict.fromkeys(FIELDS, 0.0)
    for i, rule in enumerate(BLOCKING_RULES):
        in_rule = [(g, n) for g, rules, n in patterns if rules[i]]
        if not in_rule:
            continue
        fields = [f for f in FIELDS if f not in rule.fields]
        m_rule, _, matches = _em(in_rule, u, m0, fields, prior=0.1)
        for f in fields:
            weights[f] += matches
            weighted[f] = [w + matches * v for w, v in zip(weighted[f], m_rule[f], strict=True)]
    m = {f: [v / weights[f] for v in weighted[f]] if weights[f] else m0[f] for f in FIELDS}
    all_pairs = [(g, n) for g, _, n in patterns]
    records = conn.execute("select count(*) from linkage.person_record").fetchone()[0]
    if not all_pairs:
        return Parameters(m, u, 1e-12, records)
    _, _, matches = _em(all_pairs, u, m, list(FIELDS), prior=0.1, fixed_m=True)
    # u is the chance of a level between two records drawn at random, so the prior must be too: the expected
    # matches among all pairs of records, not among the candidate pairs (which blocking has already chosen for
    # agreeing on something: taking their share as the prior would count that agreement twice).
    return Parameters(m, u, min(max(matches / (records * (records - 1) / 2), 1e-12), 0.5), records)


_FORENAME, _DOB = FIELDS.index("forename"), FIELDS.index("dob")


def _twin_pattern(gammas: tuple[int, ...]) -> bool:
    """Forenames that agree at no level with one date of birth: twins, or siblings recorded at one address, look
    like this, and so does one person with a badly mistyped forename. Fields are not independent here (twins
    share surname, date of birth and address), so the weights overstate the evidence: such a pair is never
    linked on probability alone; if its probability is high it goes to clerical review."""
    return gammas[_FORENAME] == 0 and gammas[_DOB] == len(COMPARISONS[_DOB].levels)


# A pair awaiting review with the twin pattern (linkage.review_pair p, its agreement as labels).
_TWIN_REVIEW = (
    f"p.agreement ->> 'forename' = '{COMPARISONS[_FORENAME].label(0)}'"
    f" and p.agreement ->> 'dob' = '{COMPARISONS[_DOB].label(len(COMPARISONS[_DOB].levels))}'"
)


Node = Hashable  # a record id, or in incremental linkage ("record", id) or ("person", id)


IDENTIFIERS = ("nhs_number", "upn", "pnc_id")
# Links that stand even when the two clusters hold different identifiers of one kind: a shared identifier, or a
# reviewer's decision. Others (on probability, or on name, date of birth and postcode) never join two clusters that
# each have their own NHS number, UPN or PNC ID: namesakes born the same day at one school (two UPNs) were joined
# through a record of one of them sent without his, which linked to the other on probability.
_OVERRIDE_IDENTIFIERS = frozenset(IDENTIFIERS) | {"clerical review"}


def _identifier_keys_sql(table: str) -> str:
    """Each identifier's token as a 64-bit number (its first 8 bytes: enough to tell two apart, and a Python int
    is smaller than the 16-byte token as bytes), null where the record has none."""
    return ", ".join(f"('x' || encode(substring({table}.{f} for 8), 'hex'))::bit(64)::bigint" for f in IDENTIFIERS)


_ANY_IDENTIFIER = " or ".join(f"{f} is not null" for f in IDENTIFIERS)


class _Clusters:
    """Union-find over record ids, with pairs of records kept apart: ``different`` (a reviewer decided they are
    two people) may never end up in one cluster; ``pending`` (a pair awaiting review) not through a union that
    does not ``override_pending`` (a link on probability alone); and two clusters holding different identifiers of
    one kind (``identifiers``: a node and its identifiers' keys, in the order of :data:`IDENTIFIERS`) not through a
    union that does not ``override_identifiers``."""

    def __init__(
        self,
        different: Iterable[tuple[Node, Node]] = (),
        pending: Iterable[tuple[Node, Node]] = (),
        identifiers: Iterable[tuple[Node, Iterable[int | None]]] = (),
    ):
        self.parent: dict[Node, Node] = {}
        self.refused_for_identifiers = False
        self.different: dict[Node, set[Node]] = defaultdict(set)  # cluster root -> nodes kept apart from it
        self.pending: dict[Node, set[Node]] = defaultdict(set)
        for kept_apart, pairs in ((self.different, different), (self.pending, pending)):
            for a, b in pairs:
                kept_apart[a].add(b)
                kept_apart[b].add(a)
        # One dict per kind of identifier, cluster root -> its key (an int), or its keys (a set) where a shared
        # identifier or a reviewer joined several: only nodes that have one, to spare memory at scale.
        self.identifiers: tuple[dict[Node, int | set[int]], ...] = tuple({} for _ in IDENTIFIERS)
        for node, keys in identifiers:
            for held, key in zip(self.identifiers, keys, strict=True):
                if key is not None:
                    held[node] = _joined(held[node], key) if node in held else key

    def find(self, x: Node) -> Node:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def _kept_apart(self, kept_apart: dict[Node, set[Node]], ra: Node, rb: Node) -> bool:
        # Each pair is held both ways, so the smaller side's records tell.
        small, other = (ra, rb) if len(kept_apart.get(ra, ())) <= len(kept_apart.get(rb, ())) else (rb, ra)
        return any(self.find(x) == other for x in kept_apart.get(small, ()))

    def _identifiers_differ(self, ra: Node, rb: Node) -> bool:
        """Would the union hold an identifier of some kind that one side does not already hold?"""
        return any(
            ra in held and rb in held and not (_within(held[ra], held[rb]) or _within(held[rb], held[ra]))
            for held in self.identifiers
        )

    def union(self, a: Node, b: Node, *, override_pending: bool = True, override_identifiers: bool = True) -> bool:
        """Join a's cluster and b's; False, and nothing joined, when that would put two records kept apart in one
        (``refused_for_identifiers`` then says whether only their identifiers kept them apart)."""
        self.refused_for_identifiers = False
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self._kept_apart(self.different, ra, rb):
            return False
        if not override_pending and self._kept_apart(self.pending, ra, rb):
            return False
        if not override_identifiers and self._identifiers_differ(ra, rb):
            self.refused_for_identifiers = True
            return False
        keep, drop = min(ra, rb), max(ra, rb)
        self.parent[drop] = keep
        for kept_apart in (self.different, self.pending):
            if drop in kept_apart:
                kept_apart[keep] |= kept_apart.pop(drop)
        for held in self.identifiers:
            if drop in held:
                key = held.pop(drop)
                held[keep] = _joined(held[keep], key) if keep in held else key
        return True


def _within(keys: int | set[int], others: int | set[int]) -> bool:
    """Every key of ``keys`` is among ``others`` (an int is one key, a set several)."""
    if isinstance(keys, int):
        return keys == others if isinstance(others, int) else keys in others
    return keys <= others if isinstance(others, set) else keys == {others}


def _joined(keys: int | set[int], more: int | set[int]) -> int | set[int]:
    """Both sides' keys: the smaller side added to the larger one's set (in place, so a cluster that a placeholder
    identifier keeps joining does not copy its keys on every union)."""
    if isinstance(keys, int) and isinstance(more, int):
        return keys if keys == more else {keys, more}
    large, small = (
        (keys, more) if isinstance(keys, set) and (isinstance(more, int) or len(keys) >= len(more)) else (more, keys)
    )
    if isinstance(small, int):
        large.add(small)
    else:
        large |= small
    return large


def _decide(conn: psycopg.Connection, parameters: Parameters, run_id: int):
    """The scored pairs to link (deterministic rule, or probability at least LINK_PROBABILITY, not the twin
    pattern) as (a, b, weight, rule); those for review go to ``linkage.review_pair``; returns (links, reviews).

    The decision depends only on a pair's agreement pattern, and there are a few thousand patterns for millions of
    pairs: each pattern is decided here, once, and the pairs are joined to the decisions in the database, so only
    the links come back."""
    gammas = [f"g_{f}" for f in FIELDS]
    patterns = conn.execute(f"select distinct {', '.join(gammas)} from scored_pair").fetchall()
    conn.execute("drop table if exists pattern_decision")  # kept until commit: _review_refused reads it
    conn.execute(
        f"create temporary table pattern_decision ({', '.join(f'{g} smallint' for g in gammas)},"
        " weight double precision, probability double precision, decision text) on commit drop"
    )
    with conn.cursor().copy("copy pattern_decision from stdin") as copy:
        for pattern in patterns:
            p = parameters.probability(pattern)
            decision = (
                "link"
                if p >= LINK_PROBABILITY and not _twin_pattern(pattern)
                else "review"
                if p >= REVIEW_PROBABILITY
                else None
            )
            copy.write_row((*pattern, parameters.weight(pattern), p, decision))
    conn.execute("analyze pattern_decision")
    joined = "from scored_pair s join pattern_decision d using (" + ", ".join(gammas) + ")"
    # A reviewer's decision on a pair (linkage.review_decision) stands: "same" links it, "different" never does.
    decided = " left join linkage.review_decision r on r.a_record_id = s.a_id and r.b_record_id = s.b_id"
    linked = conn.execute(
        f"select s.a_id, s.b_id, d.weight,"
        f" case when r.decision = 'same' then 'clerical review'"
        f" else coalesce(s.deterministic_rule, 'probabilistic') end {joined}{decided}"
        " where r.decision = 'same'"
        " or (r.decision is null and (s.deterministic_rule is not null or d.decision = 'link'))"
    ).fetchall()
    reviews = _send_to_review(
        conn, run_id, decided, "where s.deterministic_rule is null and d.decision = 'review' and r.decision is null"
    )
    return linked, reviews


# What a reviewer is shown, besides the fields' agreement, for a link refused because each side holds its own
# identifier of one kind (_OVERRIDE_IDENTIFIERS).
KEPT_APART = ("kept apart", "each side already holds another NHS number, UPN or PNC ID")


def _send_to_review(conn: psycopg.Connection, run_id: int, join: str, where: str, extra: tuple[str, str] | None = None):
    """Insert the scored pairs ``join`` and ``where`` select (on ``scored_pair s`` and ``pattern_decision d``) into
    ``linkage.review_pair``, with how each field agreed (and ``extra``, a label and its value); returns how many."""
    gammas = ", ".join(f"g_{f}" for f in FIELDS)
    labels = {c.field: [c.label(g) for g in range(-1, len(c.levels) + 1)] for c in COMPARISONS}
    fields = [f"'{c.field}', (%s::text[])[s.g_{c.field} + 2]" for c in COMPARISONS] + (
        ["%s::text, %s::text"] if extra else []
    )
    return conn.execute(
        "insert into linkage.review_pair (run_id, a_record_id, b_record_id, match_weight, match_probability, agreement)"
        f" select %s, s.a_id, s.b_id, d.weight, d.probability, jsonb_build_object({', '.join(fields)})"
        f" from scored_pair s join pattern_decision d using ({gammas}) {join} {where}",
        (run_id, *(labels[c.field] for c in COMPARISONS), *(extra or ())),
    ).rowcount


def _review_refused(conn: psycopg.Connection, run_id: int, refused: list[tuple[int, int]]) -> int:
    """Send links refused for identifiers (:class:`_Clusters`) to clerical review: one person may hold two UPNs (a
    temporary one, say), and a reviewer's "same" joins them. Returns how many."""
    if not refused:
        return 0
    conn.execute("create temporary table refused_link (a_id bigint, b_id bigint) on commit drop")
    with conn.cursor().copy("copy refused_link from stdin") as copy:
        for pair in refused:
            copy.write_row(pair)
    sent = _send_to_review(
        conn,
        run_id,
        "join refused_link x on x.a_id = s.a_id and x.b_id = s.b_id",
        "on conflict (run_id, a_record_id, b_record_id) do nothing",
        KEPT_APART,
    )
    conn.execute("drop table refused_link")
    return sent


def _strongest_first(linked):
    """Links as (a, b, weight, rule): a shared identifier or a reviewer's decision first (they may join clusters
    holding different identifiers, and must do so before a weaker link decides which of them a record joins), then
    the other deterministic rule, then by weight; ties in record order, so a record that links two people alike
    (twins) joins the same one every time."""
    return sorted(linked, key=lambda x: (x[3] not in _OVERRIDE_IDENTIFIERS, x[3] == "probabilistic", -x[2], x[0], x[1]))


def _union_links(clusters: _Clusters, linked, node=lambda record_id: record_id):
    """Join the links' clusters, strongest first; returns (the links kept, the pairs refused only because each
    side held another identifier of one kind). ``node`` maps a record id to its node in ``clusters``."""
    kept, refused = [], []
    for a, b, weight, rule in _strongest_first(linked):
        if clusters.union(
            node(a),
            node(b),
            override_pending=rule != "probabilistic",
            override_identifiers=rule in _OVERRIDE_IDENTIFIERS,
        ):
            kept.append((a, b, weight, rule))
        elif clusters.refused_for_identifiers:
            refused.append((a, b))
    return kept, refused


def _strongest_links(linked) -> dict[int, tuple[bool, float, str]]:
    """record -> (deterministic, weight, rule) of its strongest link (a deterministic rule above any weight)."""
    best: dict[int, tuple[bool, float, str]] = {}
    for a, b, weight, rule in linked:
        strength = (rule != "probabilistic", weight, rule)  # a deterministic rule or a reviewer's decision
        for r in (a, b):
            if r not in best or strength[:2] > best[r][:2]:
                best[r] = strength
    return best


def _write_assignment(conn: psycopg.Connection, assignment: dict[int, int], best) -> None:
    conn.execute(
        "create temporary table person_assignment (record_id bigint primary key, person_id bigint,"
        " match_weight double precision, match_rule text) on commit drop"
    )
    with conn.cursor().copy("copy person_assignment from stdin") as copy:
        for record_id, person_id in assignment.items():
            _, weight, rule = best.get(record_id, (False, None, None))
            copy.write_row((record_id, person_id, weight, rule))
    conn.execute("analyze person_assignment")  # or the join below scans all of record_person for a file's records
    # Only records whose person or rule changed: a full linkage gives most records the person and rule they had,
    # and rewriting each took minutes at 1.2 million records. Left out before the insert, not by the conflict's
    # WHERE, which still locks (and so writes) each row it leaves as it was. A record's weight is its link's as
    # of the linkage that last changed either.
    conn.execute(
        "insert into linkage.record_person (record_id, person_id, match_weight, match_rule)"
        " select a.record_id, a.person_id, a.match_weight, a.match_rule"
        " from person_assignment a left join linkage.record_person r using (record_id)"
        " where (r.person_id, r.match_rule) is distinct from (a.person_id, a.match_rule)"
        " on conflict (record_id) do update set person_id = excluded.person_id,"
        " match_weight = excluded.match_weight, match_rule = excluded.match_rule, linked_at = now()"
    )
    conn.execute("drop table person_assignment")


def _finish_run(conn, run_id, started, *, records, candidate_pairs, links, reviews, merges, splits, parameters):
    persons = conn.execute("select count(distinct person_id) from linkage.record_person").fetchone()[0]
    conn.execute(
        "update linkage.link_run set finished_at = now(), records = %s, candidate_pairs = %s, links = %s,"
        " review_pairs = %s, persons = %s, parameters = %s where run_id = %s",
        (records, candidate_pairs, links, reviews, persons, json.dumps(parameters.to_json()), run_id),
    )
    return LinkResult(
        run_id,
        records,
        candidate_pairs,
        links,
        reviews,
        persons,
        merges,
        splits,
        parameters,
        time.perf_counter() - started,
    )


def link(conn: psycopg.Connection, *, sample_pairs: int = U_SAMPLE_PAIRS) -> LinkResult:
    """Link every record in the index again, parameters estimated anew; give each a person id; record the run.
    In the caller's transaction (which holds the linkage lock)."""
    started = time.perf_counter()
    lock(conn)
    run_id = conn.execute("insert into linkage.link_run (full_linkage) values (true) returning run_id").fetchone()[0]
    candidate_pairs = _find_candidate_pairs(conn)
    parameters = estimate_parameters(conn, sample_pairs=sample_pairs)
    linked, reviews = _decide(conn, parameters, run_id)
    # A bridge record (one with no forename links to twins alike) must not join two people a reviewer decided
    # are different, nor, on probability alone, two whose pair awaits review as twins (forenames different, one
    # date of birth). Strongest links first, so the refused link is a bridge's weaker one; a deterministic rule
    # or a reviewer's "same" overrides a pending review, never a decision. Other pairs awaiting review are mostly
    # one person (their probability is 0.5 to 0.99): another record may still link them.
    different = conn.execute(
        "select a_record_id, b_record_id from linkage.review_decision where decision = 'different'"
    ).fetchall()
    pending = conn.execute(
        f"select a_record_id, b_record_id from linkage.review_pair p where run_id = %s and {_TWIN_REVIEW}", (run_id,)
    ).fetchall()
    with conn.cursor(name="record_identifiers") as identifiers:  # streamed: most records of a large index have one
        identifiers.itersize = 50_000
        identifiers.execute(
            f"select record_id, {_identifier_keys_sql('r')} from linkage.person_record r where {_ANY_IDENTIFIER}"
        )
        clusters = _Clusters(different, pending, ((row[0], row[1:]) for row in identifiers))
    linked, refused = _union_links(clusters, linked)
    reviews += _review_refused(conn, run_id, refused)
    records = conn.execute(
        "select record_id, p.person_id from linkage.person_record left join linkage.record_person p using (record_id)"
    ).fetchall()
    assignment, merges, splits = _assign_person_ids(conn, run_id, records, clusters)
    _write_assignment(conn, assignment, _strongest_links(linked))
    return _finish_run(
        conn,
        run_id,
        started,
        records=len(records),
        candidate_pairs=candidate_pairs,
        links=len(linked),
        reviews=reviews,
        merges=merges,
        splits=splits,
        parameters=parameters,
    )


def link_new(conn: psycopg.Connection, record_ids: list[int]) -> LinkResult:
    """Link records just added to the index to everyone already there (and to each other), with the parameters
    the last full linkage estimated. A new record joins the person it links to; one that links two persons
    merges them (recorded); one that links to nobody is a new person. Existing links are not revisited: a full
    :func:`link` does that, and runs instead when the index has doubled since parameters were last estimated."""
    lock(conn)
    last = conn.execute(
        "select records, parameters from linkage.link_run where full_linkage and finished_at is not null"
        " order by run_id desc limit 1"
    ).fetchone()
    total = conn.execute("select count(*) from linkage.person_record").fetchone()[0]
    if last is None or total > 2 * last[0]:
        return link(conn)
    started = time.perf_counter()
    parameters = Parameters.from_json(last[1], records=total)
    run_id = conn.execute("insert into linkage.link_run default values returning run_id").fetchone()[0]
    conn.execute("create temporary table new_record (record_id bigint primary key) on commit drop")
    with conn.cursor().copy("copy new_record from stdin") as copy:
        for record_id in record_ids:
            copy.write_row((record_id,))
    # Temporary tables have no statistics until analysed: without them the planner scans the whole index once per
    # blocking rule to find a file's records, and each file's linkage grows with the index.
    conn.execute("analyze new_record")
    candidate_pairs = _find_candidate_pairs(conn, new_only=True)
    linked, reviews = _decide(conn, parameters, run_id)

    # Existing records stand for their person (a node per person id); new records for themselves.
    with _probing(conn):
        ids = dict(
            conn.execute(
                "select r.record_id, r.person_id from linkage.record_person r join"
                " (select a_id as record_id from scored_pair union select b_id from scored_pair) p using (record_id)"
            ).fetchall()
        )
    new = set(record_ids)

    def node(record_id: int, person_id: int | None) -> tuple[str, int]:
        return ("record", record_id) if record_id in new else ("person", person_id)

    # Kept apart as in a full linkage, among the new records and the persons they touch: pairs decided
    # different, and pairs awaiting review as twins (a record with no forename links to twins alike).
    different, pending = [], []
    for a, a_person, b, b_person, decided in conn.execute(
        "select p.a_record_id, a.person_id, p.b_record_id, b.person_id, d.decision is not null"
        " from linkage.review_pair p"
        " join linkage.person_record ar on ar.record_id = p.a_record_id"
        " join linkage.person_record br on br.record_id = p.b_record_id"
        " left join linkage.record_person a on a.record_id = p.a_record_id"
        " left join linkage.record_person b on b.record_id = p.b_record_id"
        " left join linkage.review_decision d on d.a_record_id = p.a_record_id and d.b_record_id = p.b_record_id"
        f" where (d.decision = 'different' or (d.decision is null and {_TWIN_REVIEW}))"
        " and (p.a_record_id = any(%(new)s) or a.person_id = any(%(persons)s))"
        " and (p.b_record_id = any(%(new)s) or b.person_id = any(%(persons)s))",
        {"new": sorted(new), "persons": sorted(set(ids.values()))},
    ):
        (different if decided else pending).append((node(a, a_person), node(b, b_person)))
    # Each new record's identifiers, and every identifier of each person it touches (all of their records').
    new_identifiers = conn.execute(
        f"select record_id, {_identifier_keys_sql('r')} from linkage.person_record r join new_record using (record_id)"
    ).fetchall()
    # (Not the new records': a record sent again keeps its old person id until this linkage gives it one.)
    person_identifiers = conn.execute(
        f"select p.person_id, {_identifier_keys_sql('r')} from linkage.record_person p"
        " join linkage.person_record r using (record_id)"
        f" where p.person_id = any(%s) and ({_ANY_IDENTIFIER}) and record_id not in (table new_record)",
        (sorted(set(ids.values())),),
    ).fetchall()
    clusters = _Clusters(
        different,
        pending,
        [(("record", row[0]), row[1:]) for row in new_identifiers]
        + [(("person", row[0]), row[1:]) for row in person_identifiers],
    )
    linked, refused = _union_links(clusters, linked, lambda record_id: node(record_id, ids.get(record_id)))
    reviews += _review_refused(conn, run_id, refused)
    components: dict = defaultdict(list)
    for r in new:
        components[clusters.find(("record", r))].append(r)
    persons_in: dict = defaultdict(set)
    for person_id in set(ids.values()):
        root = clusters.find(("person", person_id))
        if root in components:
            persons_in[root].add(person_id)

    assignment: dict[int, int] = {}
    merges = 0
    fresh = [root for root in components if not persons_in[root]]
    fresh_ids = iter(_new_person_ids(conn, len(fresh)))
    for root, members in components.items():
        found = sorted(persons_in[root])
        person_id = found[0] if found else next(fresh_ids)  # the oldest id of those it joins
        for other in found[1:]:
            moved = conn.execute(
                "update linkage.record_person set person_id = %s, linked_at = now() where person_id = %s",
                (person_id, other),
            ).rowcount
            record_change(conn, run_id, "merge", other, person_id, moved)
            merges += 1
        assignment.update(dict.fromkeys(members, person_id))
    _write_assignment(conn, assignment, _strongest_links(linked))
    return _finish_run(
        conn,
        run_id,
        started,
        records=total,
        candidate_pairs=candidate_pairs,
        links=len(linked),
        reviews=reviews,
        merges=merges,
        splits=0,
        parameters=parameters,
    )


def lock(conn: psycopg.Connection) -> None:
    """One linkage at a time (two loads at once would race for clusters): see :func:`index.lock`."""
    index.lock(conn)


def _new_person_ids(conn: psycopg.Connection, n: int) -> list[int]:
    rows = conn.execute("select nextval('linkage.person_id_seq') from generate_series(1, %s)", (n,)).fetchall()
    return [r[0] for r in rows]


def record_change(conn, run_id: int, change: str, from_id: int, to_id: int, records: int) -> None:
    conn.execute(
        "insert into audit.person_id_change (run_id, change, from_person_id, to_person_id, records)"
        " values (%s, %s, %s, %s, %s)",
        (run_id, change, from_id, to_id, records),
    )


def _assign_person_ids(conn, run_id: int, records, clusters: _Clusters) -> tuple[dict[int, int], int, int]:
    """{record: person id}: each cluster keeps the id most of its records had; new clusters get new ids."""
    members: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for record_id, person_id in records:
        members[clusters.find(record_id)].append((record_id, person_id))
    # An old id goes to the cluster holding most of its records; the larger claims are settled first.
    claims = []
    for root, recs in members.items():
        for old_id, n in Counter(p for _, p in recs if p is not None).items():
            claims.append((-n, old_id, root))
    kept: dict[int, int] = {}  # cluster root -> the old id it keeps
    taken: set[int] = set()
    for _, old_id, root in sorted(claims):
        if root not in kept and old_id not in taken:
            kept[root] = old_id
            taken.add(old_id)  # in place: a new set per claim made this quadratic in the index's persons
    new_clusters = [root for root in members if root not in kept]
    kept.update(zip(new_clusters, _new_person_ids(conn, len(new_clusters)), strict=True))
    assignment: dict[int, int] = {}
    changes: Counter = Counter()
    for root, recs in members.items():
        person_id = kept[root]
        for record_id, old_id in recs:
            assignment[record_id] = person_id
            if old_id is not None and old_id != person_id:
                # its old id went elsewhere (split) or this cluster kept another of its ids (merge)
                changes["split" if old_id in taken else "merge", old_id, person_id] += 1
    for (change, old_id, new_id), n in changes.items():
        record_change(conn, run_id, change, old_id, new_id, n)
    merges = sum(1 for change, _, _ in changes if change == "merge")
    return assignment, merges, len(changes) - merges
