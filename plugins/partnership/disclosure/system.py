"""The attacker's linear system: every cell of the publish tables, and every relation the declarations say ties
them (totals, complements, links between tables, rates), from :func:`build_system`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from partnership.disclosure.declarations import CellRef, DeclarationError, Disclosure

# A cell: (table, column, key), the key being the row's dims as text in declaration order.
Cell = tuple[str, str, tuple[str, ...]]
# The row flag a published table carries where its counts are withheld whole (zeros among them).
WITHHELD_COLUMN = "counts_withheld"
EPSILON = 1e-6


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
