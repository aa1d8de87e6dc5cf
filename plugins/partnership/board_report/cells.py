"""Table cells as the report shows them: a count suppressed by disclosure control is "*", never its value.

The publish tables mark each suppressed count in ``<count>_suppressed`` and rows withheld whole in
``counts_withheld``; a figure built on a suppressed count (a rate, a share, an interval) is null there. Every
cell says what kind of number it holds (``data-kind``), so a test can check no count from 1 to 9 is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from partnership.disclosure import DEFAULT_THRESHOLD

SUPPRESSED = "*"
NOT_AVAILABLE = "–"
SUPPRESSION_FOOTNOTE = (
    "* Suppressed by disclosure control: a count from 1 to 9, or a figure from which one could be worked out "
    "(another cell, a rate or a total built on it), is not shown."
)


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str = "text"  # "count" (people, crimes, requests...), "figure" (a rate, a percentage, a ratio) or "text"
    suppressed: bool = False

    @property
    def css(self) -> str:
        return "" if self.kind == "text" else "n"


@dataclass
class Table:
    name: str  # a stable name for tests and tools (data-table)
    caption: str
    columns: Sequence[str]
    rows: list[list[Cell]] = field(default_factory=list)


def row_suppressed(row: Mapping) -> bool:
    """Whether any count of the row is suppressed or withheld."""
    return bool(row.get("counts_withheld")) or any(v is True for k, v in row.items() if k.endswith("_suppressed"))


class SmallCountShown(RuntimeError):
    """A count from 1 to 9 reached the report unsuppressed: the publish schema has been changed by hand, or a
    table without a disclosure declaration was read. The report is not written."""


def count(row: Mapping, column: str) -> Cell:
    value = row.get(column)
    if row.get(f"{column}_suppressed") or (value is None and row.get("counts_withheld")):
        return Cell(SUPPRESSED, "count", True)
    if value is not None and 1 <= value <= DEFAULT_THRESHOLD:  # a second line of defence after publish's own
        labels = {k: v for k, v in row.items() if isinstance(v, str)}  # the row's names, not its numbers
        raise SmallCountShown(f"{column} is from 1 to 9 but not marked suppressed, in the published row {labels}")
    return Cell(NOT_AVAILABLE if value is None else f"{int(value):,}", "count")


def number(value: float | Decimal | None, decimals: int = 1) -> str:
    return NOT_AVAILABLE if value is None else f"{float(value):,.{decimals}f}"


def figure(row: Mapping, column: str, decimals: int = 1, suffix: str = "") -> Cell:
    """A figure built on the row's counts: "*" where it is null because a count it is built on is suppressed."""
    value = row.get(column)
    if value is None:
        return Cell(SUPPRESSED, "figure", True) if row_suppressed(row) else Cell(NOT_AVAILABLE, "figure")
    return Cell(number(value, decimals) + suffix, "figure")


def interval(row: Mapping, lower: str = "lower_95", upper: str = "upper_95", decimals: int = 1) -> Cell:
    if row.get(lower) is None or row.get(upper) is None:
        return figure(row, lower)
    return Cell(f"{number(row[lower], decimals)} to {number(row[upper], decimals)}", "figure")


def text(value: object) -> Cell:
    return Cell(NOT_AVAILABLE if value is None or value == "" else str(value))
