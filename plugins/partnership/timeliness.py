"""Delivery calendars: when each dataset's extract for a period is due, whether it came, and late or missing ones.

Each registry entry has a ``delivery`` calendar (registry.Delivery): the period an extract covers (day, week,
month, school term, year) and the working day after the period's end by which it is due. Working days are
England and Wales's: Monday to Friday, not a bank holiday (``reference/calendar/``, from GOV.UK).

A period counts as **delivered** once a loaded batch of the dataset holds records dated in it, by the registry's
``record_date_column`` (raw text, ISO: its first 7 characters are the month, its first 10 the day); it was
delivered when the first such batch finished loading (``audit.load_batch.finished_at``). The raw rows are read by
the database function ``audit.delivered_dates`` (security/audit_functions.py): one grouped query per dataset,
returning only the months (or days) that hold records and when they were first loaded, so the IG reviewer, who
may not read raw rows, can run it too.

Status of a due period, judged as on a given day (batches finished after it do not count yet): ``on time``
(delivered by the end of its due date, in UK time), ``late`` (delivered after), ``due`` (not delivered yet,
due today) or ``missing`` (not delivered, past due). :func:`record_late` writes each missing delivery into
``audit.late_delivery`` once and returns only the new ones, so an alert built from it fires once per missed
delivery and not again the next day.

No Airflow import here: the CLI, the IG report and a DAG task all call it.
"""

from __future__ import annotations

import csv
import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from partnership.registry import Dataset, Delivery, load_registry

log = logging.getLogger(__name__)

BANK_HOLIDAYS_FILE = Path(__file__).parent / "reference" / "calendar" / "bank_holidays_england_and_wales.csv"
UK = ZoneInfo("Europe/London")  # a delivery is on time if it finished loading by the end of the due date, UK time
STATUSES = ("on time", "late", "due", "missing")
# School terms by fixed boundaries: (name, first month, last month). August belongs to no term.
TERMS = (("autumn", 9, 12), ("spring", 1, 3), ("summer", 4, 7))


# -- working days ----------------------------------------------------------------------------------------------


@functools.cache
def bank_holidays() -> frozenset[date]:
    """England and Wales bank holidays from the reference file (GOV.UK)."""
    with BANK_HOLIDAYS_FILE.open(newline="", encoding="utf-8") as f:
        return frozenset(date.fromisoformat(row["date"]) for row in csv.DictReader(f))


@functools.cache
def _covered_years() -> range:
    years = {d.year for d in bank_holidays()}
    return range(min(years), max(years) + 1)


@functools.cache
def _warn_uncovered(year: int) -> None:
    log.warning(
        "no bank holidays known for %s (reference/calendar covers %s to %s): only weekends are non-working days",
        year,
        _covered_years().start,
        _covered_years().stop - 1,
    )


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    if day.year not in _covered_years():
        _warn_uncovered(day.year)
    return day.weekday() < 5 and day not in bank_holidays()


def working_day_after(day: date, n: int) -> date:
    """The n-th working day after ``day`` (n >= 1): the 10th working day after 31 October is 13 November 2026."""
    if n < 1:
        raise ValueError("n must be at least 1")
    while n:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


# -- periods -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One period a dataset delivers an extract for: its label, first and last day, and due date."""

    label: str  # 2024-10-07, 2024-W41, 2024-10, 2024/25-autumn, 2024/25 (financial) or 2024 (calendar year)
    start: date
    end: date  # the last day, inclusive
    due: date

    def holds(self, record_date: str) -> bool:
        """Whether a record dated ``YYYY-MM`` (a whole month, inside the period for month-aligned periods) or
        ``YYYY-MM-DD`` falls in the period."""
        day = date.fromisoformat(record_date + "-01" if len(record_date) == 7 else record_date)
        return self.start <= day <= self.end


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _academic_year(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def _span(delivery: Delivery, day: date) -> tuple[str, date, date] | None:
    """(label, start, end) of the period holding ``day``; None in August for terms."""
    every = delivery.every
    if every == "day":
        return day.isoformat(), day, day
    if every == "week":
        start = day - timedelta(days=day.weekday())
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=6)
    if every == "month":
        return f"{day:%Y-%m}", day.replace(day=1), _month_end(day.year, day.month)
    if every == "term":
        for name, first, last in TERMS:
            if first <= day.month <= last:
                academic = day.year if name == "autumn" else day.year - 1
                return f"{_academic_year(academic)}-{name}", date(day.year, first, 1), _month_end(day.year, last)
        return None
    if every == "year":
        if delivery.year == "calendar":
            return str(day.year), date(day.year, 1, 1), date(day.year, 12, 31)
        first = day.year if day.month >= 4 else day.year - 1
        return _academic_year(first), date(first, 4, 1), date(first + 1, 3, 31)
    raise ValueError(f"unknown delivery period {every!r}")


def period_of(delivery: Delivery, day: date) -> Period | None:
    """The period holding ``day``, with its due date (None for a day in no period: August, for terms)."""
    span = _span(delivery, day)
    if span is None:
        return None
    label, start, end = span
    return Period(label, start, end, working_day_after(end, delivery.due_working_days))


def _previous(delivery: Delivery, period: Period) -> Period:
    day = period.start - timedelta(days=1)
    while (found := period_of(delivery, day)) is None:  # August, between terms
        day -= timedelta(days=1)
    return found


def due_periods(ds: Dataset, today: date, lookback: int) -> list[Period]:
    """The last ``lookback`` periods of the dataset whose due date is on or before ``today``, oldest first."""
    delivery = ds.delivery
    day = today
    while (period := period_of(delivery, day)) is None:
        day -= timedelta(days=1)
    found: list[Period] = []
    while len(found) < lookback:
        if period.due <= today:
            found.append(period)
        period = _previous(delivery, period)
    return found[::-1]


# -- what was delivered --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStatus:
    dataset: str
    agency: str
    period: Period
    delivered_at: datetime | None  # when the first loaded batch holding the period's records finished
    status: str  # one of STATUSES
    today: date  # the day the status was judged on

    @property
    def days_late(self) -> int | None:
        """Calendar days after the due date it was delivered (late) or has been waited for (missing)."""
        if self.status == "late":
            return (self.delivered_at.astimezone(UK).date() - self.period.due).days
        if self.status == "missing":
            return (self.today - self.period.due).days
        return None

    def describe(self) -> str:
        """``on time``, ``late by 3 days``, ``due today``, ``missing (12 days overdue)``."""
        n = self.days_late
        if self.status == "late":
            return f"late by {n} day{'s' if n != 1 else ''}"
        if self.status == "missing":
            return f"missing ({n} day{'s' if n != 1 else ''} overdue)"
        if self.status == "due":
            return "due today"
        return self.status


def _by_day(ds: Dataset) -> bool:
    return ds.delivery.every in ("day", "week")


def delivered_dates(conn, ds: Dataset, since: date) -> dict[str, datetime]:
    """Record months (``YYYY-MM``; days ``YYYY-MM-DD`` for day and week calendars) from ``since`` on that a loaded
    batch of the dataset holds, each with the time the first such batch finished loading. One grouped query."""
    by_day = _by_day(ds)
    rows = conn.execute(
        "select record_date, first_delivered from audit.delivered_dates(%s, %s, %s)",
        (ds.name, by_day, since.isoformat()[: 10 if by_day else 7]),
    ).fetchall()
    return dict(rows)


def judge(ds: Dataset, period: Period, delivered: dict[str, datetime], today: date) -> DeliveryStatus:
    """The period's status on ``today``, from when each record month (or day) was first delivered."""
    # Judged as on ``today``: a batch that finished later (judging an earlier day) had not come yet.
    times = [
        at
        for record_date, at in delivered.items()
        if at is not None and at.astimezone(UK).date() <= today and period.holds(record_date)
    ]
    delivered_at = min(times, default=None)
    if delivered_at is not None:
        status = "on time" if delivered_at.astimezone(UK).date() <= period.due else "late"
    else:
        status = "due" if period.due == today else "missing"
    return DeliveryStatus(ds.name, ds.agency, period, delivered_at, status, today)


def dataset_timeliness(conn, ds: Dataset, today: date, lookback: int = 12) -> list[DeliveryStatus]:
    """One dataset's last ``lookback`` due periods with their status, oldest first."""
    periods = due_periods(ds, today, lookback)
    if not periods:
        return []
    delivered = delivered_dates(conn, ds, periods[0].start)
    return [judge(ds, p, delivered, today) for p in periods]


def periods_within(delivery: Delivery, first: date, last: date) -> list[Period]:
    """The periods holding any day from ``first`` to ``last``, oldest first (a quarter's three months, say)."""
    found: dict[str, Period] = {}
    day = first
    while day <= last:
        period = period_of(delivery, day)
        if period is not None:
            found.setdefault(period.label, period)
            day = period.end
        day += timedelta(days=1)
    return list(found.values())


def timeliness(conn, today: date, lookback: int = 12) -> list[DeliveryStatus]:
    """Every registry dataset's last ``lookback`` due periods, with status, by dataset then period."""
    return [s for ds in load_registry() for s in dataset_timeliness(conn, ds, today, lookback)]


def record_late(conn, today: date, lookback: int = 3) -> list[DeliveryStatus]:
    """Record each missing delivery among every dataset's last ``lookback`` due periods in audit.late_delivery,
    once; return only those newly recorded (an alert sent from the result fires once per missed delivery).

    Runs in the caller's transaction: commit it (``with warehouse.connect() as conn`` does)."""
    missing = [s for s in timeliness(conn, today, lookback) if s.status == "missing"]
    if not missing:
        return []
    inserted = conn.execute(
        """insert into audit.late_delivery (dataset, period, due_date)
           select * from unnest(%s::text[], %s::text[], %s::date[])
           on conflict (dataset, period) do nothing
           returning dataset, period""",
        ([s.dataset for s in missing], [s.period.label for s in missing], [s.period.due for s in missing]),
    ).fetchall()
    new = set(inserted)
    return [s for s in missing if (s.dataset, s.period.label) in new]


@dataclass(frozen=True)
class LateDelivery:
    """A row of audit.late_delivery: a missed delivery as first noticed."""

    dataset: str
    period: str
    due_date: date
    noticed_at: datetime
    noticed_by: str


def recorded_late(conn) -> list[LateDelivery]:
    """Every late delivery recorded, newest first."""
    rows = conn.execute(
        "select dataset, period, due_date, noticed_at, noticed_by from audit.late_delivery"
        " order by noticed_at desc, dataset, period"
    ).fetchall()
    return [LateDelivery(*r) for r in rows]
