"""A publish model's disclosure declaration (its yml ``config.meta.disclosure``), parsed and checked.

What each key means is in the package's docstring (:mod:`partnership.disclosure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_THRESHOLD = 9
DEFAULT_PROTECTION_WIDTH = 5


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
