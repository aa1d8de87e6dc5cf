"""Statistical disclosure control: what an attacker can work out from published tables, and what to hide.

Each publish model declares, in its yml ``config.meta.disclosure``, every relation a reader can combine:

- ``dims``: the columns that name a cell; ``counts``: the count columns to protect;
- ``totals``: ``{dim: sum}`` where the row whose dim is ``total_value`` ('All') is the sum of the others with
  the remaining dims fixed, or ``{dim: distinct}`` where it counts distinct people (at most the sum, at least
  each part);
- ``complements``: ``[{part: a, whole: b}]`` where a is part of b in the same row, so b - a is a count too
  (``totals: [dim]`` where those differences add up along a total dim);
- ``rates``: ``{column: {numerator, denominator, scale}}`` for value = scale x numerator / denominator, where
  the denominator is a count (optionally ``{column, at: {dim: value}}``, the same count in another row) or a
  published column that is not a count (a population); or ``{column: {inputs: [...]}}`` for any other figure
  built on counts. A rate is withheld when any count it is built on is;
- ``labels``: ``{label column: value column}``, e.g. a RAG rating, withheld with its value;
- ``links``: cells of other publish tables (or of this one) that sum to a cell of this one
  (``{table, column, to, where}``, ``where`` an SQL condition over the rows ``this`` and ``other``), or bound it
  (``relation: at_most`` or ``at_least`` the sum: the difference is a count of its own, never published);
- ``threshold`` (default 9) and ``protection_width`` (default 5), set by information governance.

From the declarations and the tables, :func:`build_system` makes the attacker's linear system (all tables
together), and :func:`exposed_cells` solves it: for every suppressed cell, the smallest and largest value it
can take (exact propagation, then a linear program per connected group of suppressed cells, bounds rounded to
integers). A cell is exposed when that interval is narrower than the protection width; a hidden complement
(never published) when it is narrower and could hold a small count. :func:`protect` suppresses the small counts
and then, greedily and deterministically, as few and as small other cells as it takes until nothing is exposed.
Where no cell is left to suppress (sparse data: a total made only of small counts, each known to be at least 1,
bounded from above by another table), it withholds the slice instead: every count of the rows that share the
exposed cell's key along the dims that are not totals, zeros included, flagged ``counts_withheld`` so a reader
knows such a count may be 0.
``partnership.publish`` runs it over the publish schema; ``partnership.disclosure_audit`` checks the result from
the published tables alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

DEFAULT_THRESHOLD = 9
DEFAULT_PROTECTION_WIDTH = 5

# A cell: (table, column, key), the key being the row's dims as text in declaration order.
Cell = tuple[str, str, tuple[str, ...]]
# The row flag a published table carries where its counts are withheld whole (zeros among them).
WITHHELD_COLUMN = "counts_withheld"
EPSILON = 1e-6


class DeclarationError(ValueError):
    """A publish model's disclosure declaration is incomplete, or the data does not satisfy it."""


@dataclass(frozen=True)
class CellRef:
    """A count in the same row, or (``at``) in the row whose dims differ only as given."""

    column: str
    at: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rate:
    column: str
    inputs: tuple[CellRef, ...]  # withheld when any of these is suppressed
    numerator: CellRef | None = None  # linear rates only: value = scale * numerator / denominator, rounded
    denominator: CellRef | str | None = None  # a count, or the name of a published column that is no count
    scale: float | str = 1.0  # a number, or a published column


@dataclass(frozen=True)
class Complement:
    """``part`` is part of ``whole`` in every row: whole - part is a count too, never published. With ``totals``,
    those differences add up along the dims given (e.g. victims who are not repeat victims have one category)."""

    part: str
    whole: str
    totals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    table: str
    column: str
    to: str
    where: str  # SQL over the rows `this` and `other`: which cells of the other table sum to this one
    # "equal" to the sum of the linked cells, or "at_most" / "at_least" it: the difference is then a count of
    # its own, never published (a hidden cell the protection treats like a complement)
    relation: str = "equal"


LINK_RELATIONS = ("equal", "at_most", "at_least")


@dataclass(frozen=True)
class Disclosure:
    table: str
    dims: tuple[str, ...]
    counts: tuple[str, ...]
    totals: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # dim -> {count: sum|distinct|none}
    total_value: str = "All"
    complements: tuple[Complement, ...] = ()
    rates: tuple[Rate, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    threshold: int = DEFAULT_THRESHOLD
    protection_width: int = DEFAULT_PROTECTION_WIDTH

    def key(self, row: Mapping) -> tuple[str, ...]:
        return tuple(key_text(row[d]) for d in self.dims)


def key_text(value) -> str:
    """A dim's value as it appears in a cell's key."""
    return "" if value is None else str(value)


def _cell_ref(table: str, spec) -> CellRef:
    if isinstance(spec, str):
        return CellRef(spec)
    try:
        return CellRef(spec["column"], tuple((k, str(v)) for k, v in sorted(spec.get("at", {}).items())))
    except (TypeError, KeyError) as exc:
        raise DeclarationError(f"{table}: a cell reference is a count column or {{column, at}}: {spec!r}") from exc


def parse_declaration(table: str, spec: Mapping) -> Disclosure:
    """A :class:`Disclosure` from a model's ``config.meta.disclosure``; raises on anything incomplete."""
    if not spec or not spec.get("dims") or not spec.get("counts"):
        raise DeclarationError(f"publish model {table} needs config.meta.disclosure with dims and counts")
    dims, counts = tuple(spec["dims"]), tuple(spec["counts"])
    totals = {}
    for dim, kind in (spec.get("totals") or {}).items():
        # one kind for every count, or {count: kind}; "none": this count's total row is no total of the others
        kinds = dict(kind) if isinstance(kind, Mapping) else {c: kind for c in counts}
        if dim not in dims or set(kinds) - set(counts) or set(kinds.values()) - {"sum", "distinct", "none"}:
            raise DeclarationError(f"{table}: totals: {dim}: one of the dims, with sum, distinct or {{count: kind}}")
        totals[dim] = kinds
    complements = []
    for c in spec.get("complements") or []:
        if c.get("part") not in counts or c.get("whole") not in counts:
            raise DeclarationError(f"{table}: complements: part and whole must both be counts: {c!r}")
        if set(c.get("totals") or ()) - set(dims):
            raise DeclarationError(f"{table}: complements: totals must be dims: {c!r}")
        complements.append(Complement(c["part"], c["whole"], tuple(c.get("totals") or ())))
    rates = []
    for column, r in (spec.get("rates") or {}).items():
        if "numerator" in r:
            numerator = _cell_ref(table, r["numerator"])
            raw_den = r.get("denominator")
            if isinstance(raw_den, str) and raw_den not in counts:
                denominator: CellRef | str = raw_den  # a published column that is no count (a population)
                inputs = (numerator,)
            else:
                denominator = _cell_ref(table, raw_den)
                inputs = (numerator, denominator)
            rates.append(Rate(column, inputs, numerator, denominator, r.get("scale", 1.0)))
        elif "inputs" in r:
            rates.append(Rate(column, tuple(_cell_ref(table, i) for i in r["inputs"])))
        else:
            raise DeclarationError(f"{table}: rate {column} needs numerator and denominator, or inputs")
        for ref in rates[-1].inputs:
            if ref.column not in counts:
                raise DeclarationError(f"{table}: rate {column} is built on {ref.column}, which is not a count")
    links = []
    for link in spec.get("links") or []:
        try:
            links.append(Link(link["table"], link["column"], link["to"], link["where"], link.get("relation", "equal")))
        except KeyError as exc:
            raise DeclarationError(f"{table}: a link needs table, column, to and where: {link!r}") from exc
        if link["to"] not in counts:
            raise DeclarationError(f"{table}: link to {link['to']}, which is not a count")
        if links[-1].relation not in LINK_RELATIONS:
            raise DeclarationError(f"{table}: a link's relation is one of {', '.join(LINK_RELATIONS)}")
    return Disclosure(
        table=table,
        dims=dims,
        counts=counts,
        totals=totals,
        total_value=str(spec.get("total_value", "All")),
        complements=tuple(complements),
        rates=tuple(rates),
        labels=dict(spec.get("labels") or {}),
        links=tuple(links),
        threshold=int(spec.get("threshold", DEFAULT_THRESHOLD)),
        protection_width=int(spec.get("protection_width", DEFAULT_PROTECTION_WIDTH)),
    )


@dataclass
class Table:
    """A publish table's rows (dicts). ``published`` tables carry ``<count>_suppressed`` flags: a null count
    is unknown to the reader when flagged, and does not exist (not applicable) otherwise."""

    declaration: Disclosure
    rows: list[dict]
    published: bool = False

    def is_withheld(self, key) -> bool:
        return bool(self.published and self.by_key[key].get(WITHHELD_COLUMN))

    def __post_init__(self):
        self.by_key = {}
        for row in self.rows:
            key = self.declaration.key(row)
            if key in self.by_key:
                raise DeclarationError(f"{self.declaration.table}: two rows for the cell {key}")
            self.by_key[key] = row

    def value(self, column: str, key) -> float | None:
        row = self.by_key.get(key)
        return None if row is None or row.get(column) is None else float(row[column])

    def exists(self, column: str, key) -> bool:
        row = self.by_key.get(key)
        if row is None:
            return False
        return row.get(column) is not None or bool(self.published and row.get(f"{column}_suppressed"))

    def ref_key(self, key, ref: CellRef):
        if not ref.at:
            return key
        overrides = dict(ref.at)
        return tuple(overrides.get(d, k) for d, k in zip(self.declaration.dims, key, strict=True))


@dataclass(frozen=True)
class Relation:
    terms: tuple[tuple[Cell, float], ...]
    sense: str  # "=" or "<="
    rhs: float
    why: str


@dataclass
class System:
    relations: list[Relation]
    cells: dict[Cell, str]  # cell -> "count" or "hidden" (a complement, never published)
    values: dict[Cell, float | None]  # what the tables hold (truth before protection, published after)
    declarations: dict[str, Disclosure]
    # Counts withheld with their whole slice: unlike a suppressed count, one of these may be 0.
    withheld: set[Cell] = field(default_factory=set)

    def may_be_zero(self, cell: Cell) -> bool:
        return self.cells[cell] == "hidden" or cell in self.withheld

    def threshold(self, cell: Cell) -> int:
        return self.declarations[cell[0]].threshold

    def width(self, cell: Cell) -> int:
        return self.declarations[cell[0]].protection_width

    def is_total(self, cell: Cell) -> bool:
        d = self.declarations[cell[0]]
        return any(k == d.total_value for dim, k in zip(d.dims, cell[2], strict=True) if dim in d.totals)


def hidden_column(part: str, whole: str) -> str:
    return f"{whole} - {part}"


def build_system(
    tables: Mapping[str, Table],
    link_pairs: Mapping[tuple[str, int], Iterable[tuple[tuple, tuple]]] = {},
    include_rates: bool = True,
) -> System:
    """The attacker's linear system over all tables. ``link_pairs[(table, i)]`` lists (this key, other key) for
    the table's i-th link (``partnership.publish`` finds them with the link's SQL condition)."""
    relations: list[Relation] = []
    cells: dict[Cell, str] = {}
    values: dict[Cell, float | None] = {}
    withheld: set[Cell] = set()
    declarations = {name: t.declaration for name, t in tables.items()}

    def cell(table: Table, column: str, key) -> Cell | None:
        if not table.exists(column, key):
            return None
        c = (table.declaration.table, column, key)
        cells.setdefault(c, "count")
        values[c] = table.value(column, key)
        if table.is_withheld(key):
            withheld.add(c)
        return c

    for name, table in sorted(tables.items()):
        d = table.declaration
        for column in d.counts:
            # Every count is a cell, in a relation or not: a small one in no relation is still suppressed.
            for key in table.by_key:
                cell(table, column, key)
            for dim, kinds in d.totals.items():
                kind = kinds.get(column, "none")
                if kind == "none":
                    continue
                i = d.dims.index(dim)
                groups: dict[tuple, list] = defaultdict(list)
                for key in table.by_key:
                    groups[key[:i] + key[i + 1 :]].append(key)
                for keys in groups.values():
                    total_key = next((k for k in keys if k[i] == d.total_value), None)
                    parts = [c for k in keys if k[i] != d.total_value and (c := cell(table, column, k))]
                    total = cell(table, column, total_key) if total_key else None
                    if total is None or not parts:
                        continue
                    why = f"{name}.{column}: total along {dim} at {total_key}"
                    if kind == "sum":
                        relations.append(Relation(((total, 1.0), *((p, -1.0) for p in parts)), "=", 0.0, why))
                    else:
                        relations.append(Relation(((total, 1.0), *((p, -1.0) for p in parts)), "<=", 0.0, why))
                        relations.extend(Relation(((p, 1.0), (total, -1.0)), "<=", 0.0, why) for p in parts)
        for complement in d.complements:
            part, whole = complement.part, complement.whole
            differences = []
            for key in table.by_key:
                p, w = cell(table, part, key), cell(table, whole, key)
                if p is None or w is None:
                    continue
                rest = (name, hidden_column(part, whole), key)
                cells[rest] = "hidden"
                differences.append(rest)
                tv = values[w] - values[p] if values[w] is not None and values[p] is not None else None
                values[rest] = None if table.published else tv
                why = f"{name}: {part} is part of {whole} at {key}"
                relations.append(Relation(((w, 1.0), (p, -1.0), (rest, -1.0)), "=", 0.0, why))
            relations.extend(_hidden_totals(d, differences, complement.totals))
        for i, link in enumerate(d.links):
            other = tables.get(link.table)
            if other is None:
                raise DeclarationError(f"{name}: linked table {link.table} is not among the publish tables")
            linked: dict[tuple, list] = defaultdict(list)
            for this_key, other_key in link_pairs.get((name, i), ()):
                linked[tuple(this_key)].append(tuple(other_key))
            for this_key, other_keys in sorted(linked.items()):
                this = cell(table, link.to, this_key)
                parts = [c for k in other_keys if (c := cell(other, link.column, k))]
                if this is None or not parts:
                    continue
                why = f"{name}.{link.to} at {this_key} is {link.relation} the sum of {link.table}.{link.column}"
                terms = [(this, 1.0), *((p, -1.0) for p in parts)]
                if link.relation != "equal":
                    # this + rest = sum (at_most), or this = sum + rest (at_least), rest >= 0
                    sign = 1.0 if link.relation == "at_most" else -1.0
                    rest = (name, f"{link.to} {link.relation.replace('_', ' ')} link {i + 1}", this_key)
                    cells[rest] = "hidden"
                    known = [values[c] for c, _ in terms]
                    truth = None if None in known else sign * (sum(values[p] for p in parts) - values[this])
                    values[rest] = None if table.published else truth
                    terms.append((rest, sign))
                relations.append(Relation(tuple(terms), "=", 0.0, why))
        if include_rates:
            relations.extend(_rate_relations(table, cell))
    return System(relations, cells, values, declarations, withheld)


def _hidden_totals(d: Disclosure, hidden: list[Cell], dims: tuple[str, ...]) -> list[Relation]:
    """Hidden cells that add up along a total dim, like the counts they are the difference of."""
    out = []
    for dim in dims:
        i = d.dims.index(dim)
        groups: dict[tuple, list] = defaultdict(list)
        for c in hidden:
            groups[c[2][:i] + c[2][i + 1 :]].append(c)
        for group in groups.values():
            total = [c for c in group if c[2][i] == d.total_value]
            parts = [c for c in group if c[2][i] != d.total_value]
            if total and parts:
                why = f"{d.table}.{total[0][1]}: total along {dim} at {total[0][2]}"
                out.append(Relation(((total[0], 1.0), *((p, -1.0) for p in parts)), "=", 0.0, why))
    return out


def _half_unit(value) -> float:
    """Half the last decimal place a rounded figure shows: its rounding error at most."""
    exponent = (value if isinstance(value, Decimal) else Decimal(repr(float(value)))).as_tuple().exponent
    return 0.5 * 10.0 ** min(int(exponent), 0)


def _rate_relations(table: Table, cell) -> list[Relation]:
    """scale x numerator / denominator lies within half a unit of the published rate: two linear inequalities."""
    out = []
    d = table.declaration
    for rate in d.rates:
        if rate.numerator is None:
            continue
        for key, row in table.by_key.items():
            if row.get(rate.column) is None:
                continue
            r, h = float(row[rate.column]), _half_unit(row[rate.column])
            if isinstance(rate.scale, str) and row.get(rate.scale) is None:
                continue
            scale = float(row[rate.scale]) if isinstance(rate.scale, str) else float(rate.scale)
            if scale == 0:
                continue
            numerator = cell(table, rate.numerator.column, table.ref_key(key, rate.numerator))
            if numerator is None:
                continue
            why = f"{d.table}.{rate.column} at {key}"
            if isinstance(rate.denominator, str):
                if row.get(rate.denominator) is None:
                    continue
                den = float(row[rate.denominator])
                out.append(Relation(((numerator, scale),), "<=", (r + h) * den, why))
                out.append(Relation(((numerator, -scale),), "<=", -(r - h) * den, why))
            else:
                denominator = cell(table, rate.denominator.column, table.ref_key(key, rate.denominator))
                if denominator is None:
                    continue
                out.append(Relation(((numerator, scale), (denominator, -(r + h))), "<=", 0.0, why))
                out.append(Relation(((numerator, -scale), (denominator, r - h)), "<=", 0.0, why))
    return out


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


def components(system: System, unknown: set[Cell]) -> list[tuple[frozenset, list[Relation]]]:
    """Unknown cells grouped by the relations that tie them, with those relations. A cell in no relation with
    another unknown still forms its own group (a total minus published parts recovers it)."""
    parent = {c: c for c in unknown}

    def find(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    touching = []
    for rel in system.relations:
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


# -- protection -----------------------------------------------------------------------------------------------


@dataclass
class Protection:
    """The outcome of :func:`protect`: which count cells are suppressed, and the rounds it took."""

    suppressed: set[Cell]
    primary: set[Cell]
    rounds: int
    withheld: set[Cell] = field(default_factory=set)  # suppressed with their whole slice, zeros included

    def suppressed_in(self, table: str, column: str) -> set[tuple]:
        return {key for t, c, key in self.suppressed if t == table and c == column}


def broken_relations(system: System, values: Mapping[Cell, float | None] | None = None) -> list[str]:
    """The declared relations whose cells are all known (``values``, default the system's) and do not hold."""
    values = system.values if values is None else values
    broken = []
    for c, kind in system.cells.items():
        if kind == "hidden" and values.get(c) is not None and values[c] < 0:
            broken.append(f"declared complement is negative: {c[0]}.{c[1]} at {c[2]} = {values[c]:g}")
    for rel in system.relations:
        if any(values.get(c) is None for c, _ in rel.terms):
            continue
        lhs = sum(coef * values[c] for c, coef in rel.terms)
        if abs(lhs - rel.rhs) <= EPSILON if rel.sense == "=" else lhs <= rel.rhs + EPSILON:
            continue
        terms = ", ".join(f"{c[1]} {c[2]} = {values[c]:g}" for c, _ in rel.terms[:6])
        more = ", ..." if len(rel.terms) > 6 else ""
        broken.append(f"declared relation does not hold: {rel.why} ({terms}{more})")
    return broken


def check_relations(system: System) -> None:
    """The unprotected tables must satisfy every declared relation, or the audit would reason from a false one."""
    broken = broken_relations(system)
    if broken:
        more = f" (and {len(broken) - 3} more)" if len(broken) > 3 else ""
        raise DeclarationError("; ".join(broken[:3]) + more)


def protect(system: System) -> Protection:
    """Suppress every count from 1 to its table's threshold, then more cells until no suppressed cell (and no
    hidden complement that may be small) can be narrowed below its protection width, from all tables together.

    Each round takes, for every group of suppressed cells that still has an exposed cell, one more cell from the
    relations of its first exposed cell: preferring inner cells to totals, then cells that sit in the most relations
    with an exposed cell (closing the loop), that are at least as large as the width still missing, then the
    smallest, then by name, so the same tables always give the same result.
    """
    check_relations(system)
    primary = {
        c for c, kind in system.cells.items() if kind == "count" and 1 <= (system.values[c] or 0) <= system.threshold(c)
    }
    unknown = primary | {c for c, kind in system.cells.items() if kind == "hidden"}
    relations_of: dict[Cell, list[Relation]] = defaultdict(list)
    for rel in system.relations:
        for c, _ in rel.terms:
            relations_of[c].append(rel)
    safe_groups: set[frozenset] = set()  # groups already solved and found safe: unchanged groups stay safe
    rounds = 0
    while True:
        rounds += 1
        added, stuck = False, []
        for cells, relations in components(system, unknown):
            if cells in safe_groups:
                continue
            exposures = sorted(_solve_component(system, cells, relations, system.values, primary), key=lambda e: e.cell)
            if not exposures:
                safe_groups.add(cells)
                continue
            # A group whose candidates another group took earlier this round is grouped afresh next round.
            choice = _next_suppression(system, exposures, relations, relations_of, unknown)
            if choice is None:
                stuck.append(exposures)
                continue
            unknown.add(choice)
            added = True
        if stuck and not added:
            # Suppression alone cannot protect these: in each stuck group, withhold the slice of its first exposed
            # cell whose slice is not withheld yet (zeros included), and go on.
            for exposures in stuck:
                added = any(_withhold_slice(system, e.cell, unknown) for e in exposures) or added
            if not added:
                raise DeclarationError(f"cannot protect {stuck[0][0].describe()}: even withheld whole")
        if not added:
            _publish_what_is_not_needed(system, unknown, primary)
            suppressed = {c for c in unknown if system.cells[c] == "count"}
            return Protection(suppressed, primary, rounds, set(system.withheld))


def _withhold_slice(system: System, cell: Cell, unknown: set[Cell]) -> bool:
    """Withhold every count of the rows that share ``cell``'s key along its table's non-total dims (a term's
    schools and their total, say), zeros included. Where every dim has a total, that would be the whole table:
    then only the rows of the smallest sum ``cell`` is in (one area's offences and their total, say). False
    when there was nothing left to withhold."""
    table, _, key = cell
    d = system.declarations[table]
    fixed = [i for i, dim in enumerate(d.dims) if dim not in d.totals]
    if fixed:
        keys = {c[2] for c in system.cells if c[0] == table and all(c[2][i] == key[i] for i in fixed)}
    else:
        sums = [r for r in system.relations if r.sense == "=" and any(c == cell for c, _ in r.terms)]
        sums = [r for r in sums if all(c[0] == table for c, _ in r.terms)] or sums
        smallest = min(sums, key=lambda r: (len(r.terms), r.why), default=None)
        keys = {c[2] for c, _ in smallest.terms if c[0] == table} if smallest else {c[2] for c in system.cells}
    slice_cells = {c for c, kind in system.cells.items() if kind == "count" and c[0] == table and c[2] in keys}
    new = slice_cells - system.withheld
    system.withheld |= new
    unknown |= new
    return bool(new)


def _publish_what_is_not_needed(system: System, unknown: set[Cell], primary: set[Cell]) -> None:
    """The greedy rounds can suppress a cell that later choices made unnecessary. Try showing each secondary
    cell again, largest first (the most information back): keep it shown if its group of suppressed cells
    still has nothing exposed without it. Deterministic, like the rounds. Withheld slices stay withheld whole."""
    secondary = sorted((c for c in unknown if system.cells[c] == "count" and c not in primary
                        and c not in system.withheld),
                       key=lambda c: (-system.values[c], c))  # fmt: skip
    for cell in secondary:
        group = next(cells for cells, _ in components(system, unknown) if cell in cells)
        unknown.discard(cell)
        rest = set(group) - {cell}
        if any(_solve_component(system, c, rels, system.values, primary) for c, rels in components(system, rest)):
            unknown.add(cell)


def _next_suppression(system, exposures, component_relations, relations_of, unknown) -> Cell | None:
    exposed_cells_ = {e.cell for e in exposures}
    first = exposures[0]
    need = system.width(first.cell) - first.width

    def candidates(relations):
        return {
            c
            for rel in relations
            if rel.sense == "=" or len(rel.terms) > 2
            for c, _ in rel.terms
            if c not in unknown and system.cells[c] == "count" and (system.values[c] or 0) > 0
        }

    pool = candidates(relations_of[first.cell]) or candidates(component_relations)
    if not pool:
        return None

    def cost(c):
        touching = sum(any(t in exposed_cells_ for t, _ in rel.terms) for rel in relations_of[c])
        value = system.values[c]
        return (system.is_total(c), -touching, value < need, value, c)

    return min(pool, key=cost)


# -- applying a protection to rows ------------------------------------------------------------------------------


def apply(table: Table, protection: Protection) -> list[dict]:
    """The table's rows as published: suppressed counts null and flagged, rates and labels on them withheld."""
    d = table.declaration
    out = []
    hidden = {c: protection.suppressed_in(d.table, c) for c in d.counts}
    withheld_rows = {key for t, _, key in protection.withheld if t == d.table}
    for key, row in table.by_key.items():
        row = dict(row)
        row[WITHHELD_COLUMN] = key in withheld_rows
        for column in d.counts:
            row[f"{column}_suppressed"] = key in hidden[column]
            if key in hidden[column]:
                row[column] = None
        for rate in d.rates:
            if any(table.ref_key(key, ref) in hidden[ref.column] for ref in rate.inputs):
                row[rate.column] = None
            elif any(not table.exists(ref.column, table.ref_key(key, ref)) for ref in rate.inputs if ref.at):
                row[rate.column] = None  # built on a row that is not published at all
        for label, value_column in d.labels.items():
            if row.get(value_column) is None:
                row[label] = None
        out.append(row)
    return out
