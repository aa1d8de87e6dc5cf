"""What the Board's report may read: the publish schema, as a role that can read nothing else.

Every query runs as ``pw_board_reporter`` (``set role`` straight after connecting, whoever connects), in a
read-only transaction, so the report can only show what disclosure control has already passed. The gate's
verdicts on each extract come through one function that returns counts of files and when they were loaded
(``audit.gate_outcomes``), never a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from partnership import security, warehouse

# The publish tables the report draws on (a table missing from publish is an error: the transform has not run).
TABLES = (
    "pub_partnership_scorecard",
    "pub_kpi_trend_vs_2019_20",
    "pub_serious_violence_by_ward_quarter",
    "pub_asb_requests_by_ward_financial_year",
    "pub_deprivation_gradient",
    "pub_disproportionality",
    "pub_cohort_overlap",
    "pub_substance_misuse",
    "pub_repeat_victimisation",
    "pub_youth_justice_fte",
    "pub_education_inclusion_risk",
)
QUARTER = re.compile(r"(?P<fy>(?P<start>\d{4})/(?P<end>\d{2}))[ -]Q(?P<q>[1-4])")


@dataclass(frozen=True, order=True)
class Quarter:
    """A financial quarter: ``2024/25 Q3`` (October to December 2024) as the publish tables write it."""

    start_year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``2024/25 Q3`` or ``2024/25-Q3``; anything else raises ValueError saying what is expected."""
        m = QUARTER.fullmatch(text.strip())
        if not m or (int(m["start"]) + 1) % 100 != int(m["end"]):
            raise ValueError(f"quarter {text!r}: expected a financial year and quarter such as 2024/25-Q3")
        return cls(int(m["start"]), int(m["q"]))

    @property
    def financial_year(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return f"{self.financial_year} Q{self.number}"

    @property
    def slug(self) -> str:
        """For folder names: ``2024-25-Q3``."""
        return self.label.replace("/", "-").replace(" ", "-")

    @property
    def months(self) -> tuple[str, str, str]:
        """The quarter's months, ``YYYY-MM``: Q1 is April to June."""
        first = 4 + 3 * (self.number - 1)
        return tuple(f"{self.start_year + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(first, first + 3))

    @property
    def days(self) -> tuple[date, date]:
        """The quarter's first and last day."""
        first = date.fromisoformat(self.months[0] + "-01")
        after = date.fromisoformat(self.months[-1] + "-01") + timedelta(days=32)
        return first, after.replace(day=1) - timedelta(days=1)

    @property
    def span(self) -> str:
        """``October to December 2024``."""
        from calendar import month_name

        first, *_, last = self.months
        name = lambda ym: month_name[int(ym[5:])]  # noqa: E731
        return f"{name(first)} to {name(last)} {last[:4]}"

    def previous(self) -> Quarter:
        return Quarter(self.start_year, self.number - 1) if self.number > 1 else Quarter(self.start_year - 1, 4)


@contextmanager
def board_connection(url: str | None = None) -> Iterator[psycopg.Connection]:
    """A read-only connection acting as the board reporter, whatever role ``url`` logs in as (a member of it, or
    the superuser of the embedded warehouse)."""
    with warehouse.connect(url) as conn:
        try:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(security.BOARD_REPORTER)))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionError(
                f"the Board's report reads as {security.BOARD_REPORTER}, and the login cannot act as it: "
                f"`grant {security.BOARD_REPORTER} to <login>` (docs/governing.md, Roles)"
            ) from exc
        conn.execute("set default_transaction_read_only = on")
        conn.commit()
        yield conn


def read_tables(conn: psycopg.Connection) -> dict[str, list[dict]]:
    """Every publish table the report draws on, whole (they are small aggregates)."""
    tables = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for name in TABLES:
            if cur.execute("select to_regclass(%s)", (f"publish.{name}",)).fetchone()["to_regclass"] is None:
                raise LookupError(f"publish.{name} is missing: run the transform (transform_warehouse) first")
            tables[name] = cur.execute(sql.SQL("select * from {}").format(sql.Identifier("publish", name))).fetchall()
    return tables


def published_quarters(conn: psycopg.Connection) -> list[Quarter]:
    """The quarters the scorecard has figures for, oldest first."""
    rows = conn.execute("select distinct financial_year_quarter from publish.pub_partnership_scorecard").fetchall()
    return sorted(Quarter.parse(q) for (q,) in rows)


@dataclass(frozen=True)
class GateMonth:
    files_loaded: int
    files_quarantined: int
    first_loaded: datetime | None  # when the first loaded file of the month finished loading


def gate_outcomes(conn: psycopg.Connection) -> dict[tuple[str, str], GateMonth]:
    """(dataset, YYYY-MM of the file name) -> the gate's verdicts on its files."""
    rows = conn.execute(
        "select dataset, data_month, files_loaded, files_quarantined, first_loaded from audit.gate_outcomes()"
    )
    return {(d, m): GateMonth(loaded, quarantined, first) for d, m, loaded, quarantined, first in rows if m}
