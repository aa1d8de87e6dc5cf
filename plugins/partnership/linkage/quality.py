"""How good a linkage is, against a known truth: pairwise precision, recall and F1 per agency pair, and the
match rate by group (linkage bias), with a warning for a group linked noticeably less often than everyone.

A linkage that misses more links for one ethnic group, sex or age band undercounts that group in every
cross-agency figure (known to more than one service, repeat victims), which would bias the disproportionality
marts. The truth exists only for generated data (:mod:`partnership.demo.identities`); on real data these figures
come from a clerically reviewed sample.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations_with_replacement

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
