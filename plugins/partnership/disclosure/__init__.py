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

from partnership.disclosure.declarations import (
    DEFAULT_PROTECTION_WIDTH,
    DEFAULT_THRESHOLD,
    LINK_RELATIONS,
    CellRef,
    Complement,
    DeclarationError,
    Disclosure,
    Link,
    Rate,
    key_text,
    parse_declaration,
)
from partnership.disclosure.protection import Protection, apply, protect
from partnership.disclosure.solver import (
    Exposure,
    InconsistentTables,
    components,
    exposed_cells,
    is_exposed,
    lower_bound,
)
from partnership.disclosure.system import (
    EPSILON,
    WITHHELD_COLUMN,
    Cell,
    Relation,
    System,
    Table,
    broken_relations,
    build_system,
    check_relations,
    hidden_column,
)

__all__ = [
    "DEFAULT_PROTECTION_WIDTH",
    "DEFAULT_THRESHOLD",
    "EPSILON",
    "LINK_RELATIONS",
    "WITHHELD_COLUMN",
    "Cell",
    "CellRef",
    "Complement",
    "DeclarationError",
    "Disclosure",
    "Exposure",
    "InconsistentTables",
    "Link",
    "Protection",
    "Rate",
    "Relation",
    "System",
    "Table",
    "apply",
    "broken_relations",
    "build_system",
    "check_relations",
    "components",
    "exposed_cells",
    "hidden_column",
    "is_exposed",
    "key_text",
    "lower_bound",
    "parse_declaration",
    "protect",
]
