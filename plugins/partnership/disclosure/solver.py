"""Solving the attacker's system: how far the relations narrow each suppressed cell (exact propagation, then a
linear program per connected group of suppressed cells, with HiGHS), and which cells that exposes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from partnership.disclosure.system import EPSILON, Cell, Relation, System


def lower_bound(system: System, cell: Cell) -> float:
    """What a reader knows before any equation: zeros are always published, so a suppressed count is at least 1
    (unless its slice is withheld whole)."""
    return 0.0 if system.may_be_zero(cell) else 1.0


@dataclass(frozen=True)
class Exposure:
    cell: Cell
    low: float
    high: float  # math.inf when unbounded

    @property
    def width(self) -> float:
        return self.high - self.low

    def describe(self) -> str:
        table, column, key = self.cell
        hi = "unbounded" if math.isinf(self.high) else f"{self.high:g}"
        what = f"exactly to {self.low:g}" if self.low == self.high else f"to [{self.low:g}, {hi}]"
        return f"{table}.{column} at {key}: narrowed {what}"


def is_exposed(system: System, cell: Cell, low: float, high: float) -> bool:
    if high - low >= system.width(cell):
        return False
    if system.may_be_zero(cell):  # hidden or withheld: only a small count in it needs protecting
        return low <= system.threshold(cell) and high >= 1
    return True


def exposed_cells(system: System, unknown: set[Cell], known: Mapping[Cell, float] | None = None) -> list[Exposure]:
    """Every cell of ``unknown`` that the relations narrow below its protection width, given the values of all
    other cells (``known``, default the system's values). Exact recoveries first, then one LP per group."""
    known = system.values if known is None else known
    return [e for cells, rels in components(system, unknown) for e in _solve_component(system, cells, rels, known)]


def components(
    system: System, unknown: set[Cell], relations: list[Relation] | None = None
) -> list[tuple[frozenset, list[Relation]]]:
    """Unknown cells grouped by the relations that tie them, with those relations. A cell in no relation with
    another unknown still forms its own group (a total minus published parts recovers it). ``relations``, when
    given, must hold every relation of the system that names a cell of ``unknown`` (a group's own relations, to
    split that group), in the system's order; the default is all of them."""
    parent = {c: c for c in unknown}

    def find(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    touching = []
    for rel in system.relations if relations is None else relations:
        cells = [c for c, _ in rel.terms if c in unknown]
        if not cells:
            continue
        touching.append((rel, cells[0]))
        root = find(cells[0])
        for c in cells[1:]:
            other = find(c)
            if other != root:
                parent[other] = root
    members: dict[Cell, set] = defaultdict(set)
    for c in unknown:
        members[find(c)].add(c)
    rels: dict[Cell, list] = defaultdict(list)
    for rel, first in touching:
        rels[find(first)].append(rel)
    return [(frozenset(m), rels[root]) for root, m in sorted(members.items(), key=lambda kv: min(kv[1]))]


def _solve_component(
    system: System, cells: frozenset, relations: list[Relation], known, primary: set[Cell] | None = None
) -> list[Exposure]:
    """The exposed cells of one group. With ``primary`` (the protection, which knows it), the attacker is assumed to
    know which suppressed counts are small (from 1 to the threshold) and which are not: replaying the protection
    on the tables a reader thinks possible can tell them that much."""
    determined = _propagate(cells, relations, known)
    exposures = [Exposure(c, v, v) for c, v in determined.items() if is_exposed(system, c, v, v)]
    free = sorted(cells - determined.keys())
    if not free:
        return exposures
    values = {**known, **determined}
    index = {c: i for i, c in enumerate(free)}
    rows = []  # (coefficients {col: coef}, lower, upper)
    for rel in relations:
        coefs: dict[int, float] = defaultdict(float)
        rhs = rel.rhs
        for c, coef in rel.terms:
            if c in index:
                coefs[index[c]] += coef
            else:
                rhs -= coef * values[c]
        if not coefs:
            continue
        rows.append((coefs, rhs if rel.sense == "=" else -math.inf, rhs))
    if primary is None:
        bounds = [(lower_bound(system, c), math.inf) for c in free]
    else:
        bounds = [
            (0.0, math.inf)
            if system.may_be_zero(c)
            else (1.0, float(system.threshold(c)))
            if c in primary
            else (system.threshold(c) + 1.0, math.inf)
            for c in free
        ]
    lp = _IntervalLP(len(free), bounds, rows)
    for c in free:
        i = index[c]
        if lp.seen_width(i) >= system.width(c):
            continue
        high = lp.extreme(i, maximise=True)
        if math.isinf(high):
            continue
        low = lp.extreme(i, maximise=False)
        low, high = math.ceil(low - EPSILON), math.floor(high + EPSILON)  # counts are whole numbers
        if is_exposed(system, c, low, high):
            exposures.append(Exposure(c, float(low), float(high)))
    return exposures


def _propagate(cells: frozenset, relations: list[Relation], known) -> dict[Cell, float]:
    """Unknowns an equation gives exactly (a total minus its published parts), repeatedly."""
    determined: dict[Cell, float] = {}
    pending = [r for r in relations if r.sense == "="]
    changed = True
    while changed:
        changed = False
        still = []
        for rel in pending:
            open_terms = [(c, coef) for c, coef in rel.terms if c in cells and c not in determined]
            if len(open_terms) == 1:
                c, coef = open_terms[0]
                rest = sum(coef2 * (determined[c2] if c2 in determined else known[c2]) for c2, coef2 in rel.terms
                           if c2 != c)  # fmt: skip
                determined[c] = round((rel.rhs - rest) / coef, 6)
                changed = True
            elif open_terms:
                still.append(rel)
        pending = still
    return determined


class InconsistentTables(ValueError):
    """The published figures contradict their declared relations: the declaration (or the table) is wrong."""


class _IntervalLP:
    """Minimum and maximum of each variable over {x >= lower, row_lower <= A x <= row_upper}, with HiGHS.

    The model is passed once; each bound is one re-solve with a new objective from the last basis. Every
    solution found is remembered: a variable already seen at values the protection width apart needs no solve.
    """

    def __init__(self, n: int, bounds: list[tuple[float, float]], rows: list[tuple[dict, float, float]]):
        import highspy
        import numpy as np

        self.np, self.highspy, self.n = np, highspy, n
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(rows)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.array([lo for lo, _ in bounds], dtype=float)
        lp.col_upper_ = np.array([inf if math.isinf(hi) else hi for _, hi in bounds], dtype=float)
        lp.row_lower_ = np.array([-inf if math.isinf(lo) else lo for _, lo, _ in rows], dtype=float)
        lp.row_upper_ = np.array([up for _, _, up in rows], dtype=float)
        starts, index, value = [0], [], []
        for coefs, _, _ in rows:
            for col, coef in sorted(coefs.items()):
                index.append(col)
                value.append(coef)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=float)
        self.h.passModel(lp)
        self.low_seen = np.full(n, math.inf)
        self.high_seen = np.full(n, -math.inf)
        self.last_objective: int | None = None

    def seen_width(self, i: int) -> float:
        return self.high_seen[i] - self.low_seen[i]

    def extreme(self, i: int, maximise: bool) -> float:
        hs = self.highspy
        if self.last_objective != i:
            if self.last_objective is not None:
                self.h.changeColCost(self.last_objective, 0.0)
            self.h.changeColCost(i, 1.0)
            self.last_objective = i
        self.h.changeObjectiveSense(hs.ObjSense.kMaximize if maximise else hs.ObjSense.kMinimize)
        self.h.run()
        status = self.h.getModelStatus()
        if status not in (hs.HighsModelStatus.kOptimal, hs.HighsModelStatus.kUnbounded):
            # A re-solve from the last basis can end undecided (after unbounded runs, say): solve afresh.
            self.h.clearSolver()
            self.h.run()
            status = self.h.getModelStatus()
        if status == hs.HighsModelStatus.kUnbounded:
            return math.inf if maximise else -math.inf
        if status != hs.HighsModelStatus.kOptimal:
            raise InconsistentTables(f"the relations have no solution ({self.h.modelStatusToString(status)})")
        x = self.np.asarray(self.h.getSolution().col_value)
        self.low_seen = self.np.minimum(self.low_seen, x)
        self.high_seen = self.np.maximum(self.high_seen, x)
        return float(self.h.getInfo().objective_function_value)
