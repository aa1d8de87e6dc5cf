"""Protection: which cells to suppress (or slices to withhold) so that nothing is exposed, and the rows as
published once they are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from partnership.disclosure.declarations import DeclarationError
from partnership.disclosure.solver import _solve_component, components
from partnership.disclosure.system import WITHHELD_COLUMN, Cell, Relation, System, Table, check_relations


@dataclass
class Protection:
    """The outcome of :func:`protect`: which count cells are suppressed, and the rounds it took."""

    suppressed: set[Cell]
    primary: set[Cell]
    rounds: int
    withheld: set[Cell] = field(default_factory=set)  # suppressed with their whole slice, zeros included

    def suppressed_in(self, table: str, column: str) -> set[tuple]:
        return {key for t, c, key in self.suppressed if t == table and c == column}


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
    # The groups of suppressed cells are kept up to date as cells are shown again: showing one changes only its
    # own group (which may split), so each trial reads that group's relations, not the whole system's.
    groups = components(system, unknown)
    for cell in secondary:
        place, (group, relations) = next((i, g) for i, g in enumerate(groups) if cell in g[0])
        unknown.discard(cell)
        split = components(system, set(group) - {cell}, relations)
        if any(_solve_component(system, c, rels, system.values, primary) for c, rels in split):
            unknown.add(cell)
        else:
            groups[place : place + 1] = split


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
