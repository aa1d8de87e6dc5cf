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
    """A count from 1 to 9 reached the report unsuppressed, or a figure built on a suppressed count has a value:
    the publish schema has been changed by hand, or a table without a disclosure declaration was read. The report
    is not written."""


def count(row: Mapping, column: str, flag: str | None = None) -> Cell:
    """A count; ``flag`` names the count whose ``_suppressed`` flag covers it, when it is not ``column`` itself (a
    KPI whose value is its numerator)."""
    value = row.get(column)
    if row.get(f"{flag or column}_suppressed") or (value is None and row.get("counts_withheld")):
        if value is not None:
            raise SmallCountShown(f"{column} has a value although it is suppressed, in the published row {_names(row)}")
        return Cell(SUPPRESSED, "count", True)
    if value is not None and 1 <= value <= DEFAULT_THRESHOLD:  # a second line of defence after publish's own
        raise SmallCountShown(f"{column} is from 1 to 9 but not marked suppressed, in the published row {_names(row)}")
    return Cell(NOT_AVAILABLE if value is None else f"{int(value):,}", "count")


def _names(row: Mapping) -> dict:
    return {k: v for k, v in row.items() if isinstance(v, str)}  # the row's names, never its numbers


def _check_inputs(row: Mapping, column: str, built_on: Sequence[str]) -> None:
    """A figure built on a suppressed count is null in publish; one that is not would give the count back."""
    hidden = [c for c in built_on if row.get(f"{c}_suppressed")]
    if hidden or (built_on and row.get("counts_withheld")):
        raise SmallCountShown(
            f"{column} has a value although {', '.join(hidden) or 'the row'}, which it is built on, is suppressed, "
            f"in the published row {_names(row)}"
        )


def number(value: float | Decimal | None, decimals: int = 1) -> str:
    return NOT_AVAILABLE if value is None else f"{float(value):,.{decimals}f}"


def figure(row: Mapping, column: str, decimals: int = 1, suffix: str = "", built_on: Sequence[str] = ()) -> Cell:
    """A figure built on the row's counts ``built_on``: "*" where it is null because one of them is suppressed."""
    value = row.get(column)
    if value is None:
        return Cell(SUPPRESSED, "figure", True) if row_suppressed(row) else Cell(NOT_AVAILABLE, "figure")
    _check_inputs(row, column, built_on)
    return Cell(number(value, decimals) + suffix, "figure")


def interval(
    row: Mapping, lower: str = "lower_95", upper: str = "upper_95", decimals: int = 1, built_on: Sequence[str] = ()
) -> Cell:
    if row.get(lower) is None or row.get(upper) is None:
        return figure(row, lower)
    _check_inputs(row, lower, built_on)
    return Cell(f"{number(row[lower], decimals)} to {number(row[upper], decimals)}", "figure")


KPI_COUNTS = ("numerator", "denominator")  # what a KPI's value and interval are built on


def kpi_value(row: Mapping, decimals: int = 2) -> Cell:
    """A KPI's value: a count where the KPI counts (its value is its numerator), else a figure built on its counts."""
    if row.get("unit") == "count":
        return count(row, "value", flag="numerator")
    return figure(row, "value", decimals, built_on=KPI_COUNTS)


def text(value: object) -> Cell:
    return Cell(NOT_AVAILABLE if value is None or value == "" else str(value))
