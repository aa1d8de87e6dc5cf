"""How good a linkage is, against a known truth: pairwise precision, recall and F1 per agency pair, and the
match rate by group (linkage bias), with a warning for a group linked noticeably less often than everyone.

A linkage that misses more links for one ethnic group, sex or age band undercounts that group in every
cross-agency figure (known to more than one service, repeat victims), which would bias the disproportionality
marts. The truth exists only for generated data (:mod:`partnership.demo.identities`); on real data these figures
come from a clerically reviewed sample.

An assessment (:func:`assess`) compares the linkage index with a truth sample: a folder of CSV files (``source,
record_key, person, ethnic_group, sex, age_band``, one row per record: the index's source and record key, who the
record really is, and its groups). The generator writes one beside the extracts it makes
(``<data folder>/linkage_truth``); on real data it is a clerically reviewed sample. Its figures are kept in
``audit.linkage_assessment*`` (counts, never a token or a value), which the IG report shows.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations_with_replacement
from pathlib import Path

import psycopg

from partnership.registry import get_dataset

TRUTH_COLUMNS = ("source", "record_key", "person", "ethnic_group", "sex", "age_band")
DDL = """
-- Linkage quality against a truth sample (partnership.linkage.quality): pairs per agency pair, match rates by group.
create table if not exists audit.linkage_assessment (
    assessment_id   bigint generated always as identity primary key,
    assessed_at     timestamptz not null default now(),
    truth           text        not null,  -- what the truth was: the folder of the sample
    records         bigint      not null   -- truth records found loaded in the index (the ones assessed)
);
create table if not exists audit.linkage_assessment_pair (
    assessment_id   bigint      not null references audit.linkage_assessment on delete cascade,
    agency_a        text        not null,
    agency_b        text        not null,  -- agency_a <= agency_b; equal: pairs within one agency
    true_pairs      bigint      not null,  -- pairs of records of one person
    linked_pairs    bigint      not null,  -- pairs given one person id
    correct_pairs   bigint      not null,  -- both
    primary key (assessment_id, agency_a, agency_b)
);
create table if not exists audit.linkage_assessment_group (
    assessment_id   bigint      not null references audit.linkage_assessment on delete cascade,
    dimension       text        not null,  -- all, ethnic group, sex, age band
    group_name      text        not null,
    records         bigint      not null,  -- records of people known to another agency too
    matched         bigint      not null,  -- of them, linked to one of that person's records in another agency
    primary key (assessment_id, dimension, group_name)
);
"""

BIAS_POINTS = 5.0  # a group's match rate this many percentage points below the overall rate is a warning
MIN_GROUP_RECORDS = 30  # fewer records than this: a rate is shown, but too uncertain to warn on


@dataclass(frozen=True)
class Truth:
    """One record, as the quality report needs it: who it really is and the groups it is counted in."""

    record_key: str
    agency: str
    person: int  # true person
    groups: tuple[tuple[str, str], ...]  # (("ethnic group", "Asian"), ("sex", "F"), ("age band", "10-17"))


@dataclass(frozen=True)
class PairQuality:
    true_pairs: int
    linked_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.linked_pairs if self.linked_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class GroupRate:
    dimension: str
    group: str
    records: int  # records whose person is known to another agency too
    matched: int  # of them, linked to one of that person's records in another agency

    @property
    def rate(self) -> float:
        return self.matched / self.records if self.records else 1.0


@dataclass(frozen=True)
class QualityReport:
    by_agency_pair: dict[tuple[str, str], PairQuality]  # (a, b) with a <= b; (a, a) is within one agency
    cross_agency: PairQuality  # every pair of records from two different agencies
    overall_rate: GroupRate
    group_rates: list[GroupRate]

    @property
    def warnings(self) -> list[str]:
        out = []
        for g in self.group_rates:
            gap = 100 * (self.overall_rate.rate - g.rate)
            if g.records >= MIN_GROUP_RECORDS and gap > BIAS_POINTS:
                out.append(
                    f"{g.dimension} {g.group}: match rate {100 * g.rate:.1f}% is {gap:.1f} points below the overall"
                    f" {100 * self.overall_rate.rate:.1f}% ({g.matched:,} of {g.records:,} records): cross-agency"
                    " figures undercount this group"
                )
        return out


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _pair_counts(cells: Counter) -> dict[tuple[str, str], int]:
    """Pairs of records in the same cell, by agency pair: cells maps (cell, agency) -> records."""
    by_cell: dict[object, dict[str, int]] = defaultdict(dict)
    for (cell, agency), n in cells.items():
        by_cell[cell][agency] = n
    out: Counter = Counter()
    for agencies in by_cell.values():
        for a, b in combinations_with_replacement(sorted(agencies), 2):
            out[a, b] += _pairs(agencies[a]) if a == b else agencies[a] * agencies[b]
    return out


def report(truth: Iterable[Truth], predicted: dict[str, int]) -> QualityReport:
    """Compare the person ids linkage gave (record key -> person id; a record missing from it is alone) with the
    truth."""
    truth = list(truth)
    pred = {t.record_key: predicted.get(t.record_key, ("alone", t.record_key)) for t in truth}
    true_cells = Counter((t.person, t.agency) for t in truth)
    pred_cells = Counter((pred[t.record_key], t.agency) for t in truth)
    both_cells = Counter(((t.person, pred[t.record_key]), t.agency) for t in truth)
    true_pairs, linked_pairs, correct_pairs = (_pair_counts(c) for c in (true_cells, pred_cells, both_cells))
    agency_pairs = sorted(set(true_pairs) | set(linked_pairs))
    by_pair = {k: PairQuality(true_pairs[k], linked_pairs[k], correct_pairs[k]) for k in agency_pairs}
    cross = [k for k in agency_pairs if k[0] != k[1]]
    cross_agency = PairQuality(*(sum(c[k] for k in cross) for c in (true_pairs, linked_pairs, correct_pairs)))

    # A record should link across agencies when its person is known to another agency; it does when one of those
    # records has its person id.
    agencies_of = defaultdict(set)
    for t in truth:
        agencies_of[t.person].add(t.agency)
    in_cell: dict[object, dict[str, int]] = defaultdict(dict)  # (true person, person id) -> {agency: records}
    for (cell, agency), n in both_cells.items():
        in_cell[cell][agency] = n
    totals: Counter = Counter()
    matched: Counter = Counter()
    for t in truth:
        if not agencies_of[t.person] - {t.agency}:
            continue
        linked = any(a != t.agency for a in in_cell[t.person, pred[t.record_key]])
        for key in (("all", "all"), *t.groups):
            totals[key] += 1
            matched[key] += linked
    overall = GroupRate("all", "all", totals["all", "all"], matched["all", "all"])
    groups = [GroupRate(d, g, totals[d, g], matched[d, g]) for d, g in sorted(totals) if (d, g) != ("all", "all")]
    return QualityReport(by_pair, cross_agency, overall, groups)


def describe(report: QualityReport) -> list[str]:
    """The report as lines of text: per agency pair, then the match rate by group and any warning."""
    lines = [f"{'agency pair':<34}{'true pairs':>12}{'linked':>10}{'precision':>11}{'recall':>9}{'F1':>8}"]
    rows = [(f"{a} / {b}", q) for (a, b), q in report.by_agency_pair.items()]
    rows.append(("every cross-agency pair", report.cross_agency))
    for label, q in rows:
        lines.append(
            f"{label:<34}{q.true_pairs:>12,}{q.linked_pairs:>10,}{q.precision:>11.4f}{q.recall:>9.4f}{q.f1:>8.4f}"
        )
    o = report.overall_rate
    lines.append(
        f"match rate (records of people known to another agency, linked to one of those records): {o.rate:.1%}"
    )
    for g in report.group_rates:
        lines.append(f"  {g.dimension:<13}{g.group:<10}{g.rate:>7.1%}  ({g.matched:,} of {g.records:,})")
    lines += [f"WARNING {w}" for w in report.warnings]
    return lines


def read_truth(folder: Path) -> list[Truth]:
    """Every record of a truth sample's CSV files; a record's key is its index source and record key, its agency
    the registry's agency of the source's dataset."""
    agencies: dict[str, str] = {}
    out = []
    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = set(TRUTH_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: a truth sample needs the columns {', '.join(TRUTH_COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                if None in row.values() or None in row:
                    raise ValueError(f"{path}: row {line}: not as many fields as the header has")
                dataset = row["source"].split(":")[0]
                try:
                    if dataset not in agencies:
                        agencies[dataset] = get_dataset(dataset).agency
                    person = int(row["person"])
                except KeyError:
                    raise ValueError(f"{path}: row {line}, column source: not a registry dataset's") from None
                except ValueError:
                    raise ValueError(f"{path}: row {line}, column person: not a whole number") from None
                out.append(
                    Truth(
                        f"{row['source']} {row['record_key']}",
                        agencies[dataset],
                        person,
                        (("ethnic group", row["ethnic_group"]), ("sex", row["sex"]), ("age band", row["age_band"])),
                    )
                )
    return out


def assess(conn: psycopg.Connection, folder: Path) -> QualityReport | None:
    """Compare the person ids of the index's loaded records with a truth sample and record the figures in audit;
    None when no record of the sample is loaded. A truth record not loaded (its file not yet loaded, quarantined,
    or past retention) is left out: linkage never saw it."""
    loaded = {
        f"{source} {key}": person_id
        for source, key, person_id in conn.execute(
            "select r.source, r.record_key, p.person_id from linkage.person_record r"
            " join linkage.loaded_record using (record_id) join linkage.record_person p using (record_id)"
        )
    }
    truth = [t for t in read_truth(folder) if t.record_key in loaded]
    if not truth:
        return None
    result = report(truth, loaded)
    assessment_id = conn.execute(
        "insert into audit.linkage_assessment (truth, records) values (%s, %s) returning assessment_id",
        (str(folder), len(truth)),
    ).fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into audit.linkage_assessment_pair values (%s, %s, %s, %s, %s, %s)",
            [
                (assessment_id, a, b, q.true_pairs, q.linked_pairs, q.correct_pairs)
                for (a, b), q in result.by_agency_pair.items()
            ],
        )
        cur.executemany(
            "insert into audit.linkage_assessment_group values (%s, %s, %s, %s, %s)",
            [
                (assessment_id, g.dimension, g.group, g.records, g.matched)
                for g in (result.overall_rate, *result.group_rates)
            ],
        )
    return result


@dataclass(frozen=True)
class Assessment:
    assessed_at: datetime
    truth: str
    records: int
    report: QualityReport


def latest(conn: psycopg.Connection) -> Assessment | None:
    """The latest assessment, as audit keeps it (the IG reviewer reads it; no token or value is in it)."""
    if conn.execute("select to_regclass('audit.linkage_assessment')").fetchone()[0] is None:
        return None  # a warehouse initialised before assessments
    row = conn.execute(
        "select assessment_id, assessed_at, truth, records from audit.linkage_assessment"
        " order by assessment_id desc limit 1"
    ).fetchone()
    if row is None:
        return None
    assessment_id = row[0]
    pairs = {
        (r[0], r[1]): PairQuality(*r[2:])
        for r in conn.execute(
            "select agency_a, agency_b, true_pairs, linked_pairs, correct_pairs from audit.linkage_assessment_pair"
            " where assessment_id = %s order by 1, 2",
            (assessment_id,),
        )
    }
    groups = [
        GroupRate(*r)
        for r in conn.execute(
            "select dimension, group_name, records, matched from audit.linkage_assessment_group"
            " where assessment_id = %s order by 1, 2",
            (assessment_id,),
        )
    ]
    overall = next((g for g in groups if g.dimension == "all"), GroupRate("all", "all", 0, 0))
    cross = [q for (a, b), q in pairs.items() if a != b]
    cross_agency = PairQuality(
        *(sum(getattr(q, f) for q in cross) for f in ("true_pairs", "linked_pairs", "correct_pairs"))
    )
    return Assessment(
        row[1], row[2], row[3], QualityReport(pairs, cross_agency, overall, [g for g in groups if g.dimension != "all"])
    )
