"""Delivery calendars: working-day due dates, on time / late / missing from what the warehouse loaded, late
deliveries recorded once, and the IG report's timeliness column and delivery calendar."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from partnership import loader, report, security, timeliness, warehouse
from partnership.demo.generator import generate
from partnership.registry import Delivery, get_dataset
from partnership.timeliness import bank_holidays, due_periods, period_of, working_day_after

# --- the calendar (unit tests) ----------------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm), to check the bank-holiday file against."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _mondays(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [first + timedelta(days=n) for n in range(31) if (first + timedelta(days=n)).month == month][
        (7 - first.weekday()) % 7 :: 7
    ]


def _substitute(day: date, taken: set[date]) -> date:
    while day.weekday() >= 5 or day in taken:
        day += timedelta(days=1)
    return day


# One-off changes GOV.UK published: the early May holiday moved for VE Day, the spring holiday moved for the
# Platinum Jubilee (with an extra day), the State Funeral of Queen Elizabeth II, the Coronation of King Charles III.
MOVED = {2020: {date(2020, 5, 4): date(2020, 5, 8)}, 2022: {date(2022, 5, 30): date(2022, 6, 2)}}
EXTRA = {date(2022, 6, 3), date(2022, 9, 19), date(2023, 5, 8)}


@pytest.mark.parametrize("year", range(2015, 2028))
def test_the_bank_holiday_file_follows_the_rules_for_england_and_wales(year):
    easter = _easter(year)
    expected = {
        _substitute(date(year, 1, 1), set()),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _mondays(year, 5)[0],
        _mondays(year, 5)[-1],
        _mondays(year, 8)[-1],
    }
    christmas = _substitute(date(year, 12, 25), set())
    expected |= {christmas, _substitute(date(year, 12, 26), {christmas})}
    expected = {MOVED.get(year, {}).get(d, d) for d in expected} | {d for d in EXTRA if d.year == year}
    assert {d for d in bank_holidays() if d.year == year} == expected


def test_working_days_skip_weekends_and_bank_holidays():
    # Maundy Thursday 2025: Good Friday, the weekend and Easter Monday are not working days.
    assert working_day_after(date(2025, 4, 17), 1) == date(2025, 4, 22)
    # From Friday 20 Dec 2024: Christmas, Boxing Day, New Year's Day and two weekends.
    assert working_day_after(date(2024, 12, 20), 5) == date(2024, 12, 31)
    assert working_day_after(date(2024, 12, 20), 6) == date(2025, 1, 2)


def test_a_months_due_date_is_its_tenth_working_day_after_it_ends():
    monthly = Delivery(every="month", due_working_days=10)
    # November 2024: 2-6 and 9-13 December, no holiday.
    assert period_of(monthly, date(2024, 11, 17)).due == date(2024, 12, 13)
    # December 2024: New Year's Day and the weekends push it to 15 January (14 January without the holiday).
    december = period_of(monthly, date(2024, 12, 1))
    assert (december.label, december.start, december.end, december.due) == (
        "2024-12",
        date(2024, 12, 1),
        date(2024, 12, 31),
        date(2025, 1, 15),
    )
    # March 2024: Easter Monday 1 April is no working day.
    assert period_of(monthly, date(2024, 3, 5)).due == date(2024, 4, 15)


@pytest.mark.parametrize(
    ("delivery", "day", "label", "start", "end"),
    [
        (Delivery("day", 1), date(2024, 10, 9), "2024-10-09", date(2024, 10, 9), date(2024, 10, 9)),
        (Delivery("week", 3), date(2024, 10, 9), "2024-W41", date(2024, 10, 7), date(2024, 10, 13)),
        (Delivery("term", 20), date(2024, 10, 9), "2024/25-autumn", date(2024, 9, 1), date(2024, 12, 31)),
        (Delivery("term", 20), date(2025, 2, 9), "2024/25-spring", date(2025, 1, 1), date(2025, 3, 31)),
        (Delivery("term", 20), date(2025, 6, 9), "2024/25-summer", date(2025, 4, 1), date(2025, 7, 31)),
        (Delivery("year", 20), date(2025, 2, 9), "2024/25", date(2024, 4, 1), date(2025, 3, 31)),
        (Delivery("year", 20, "calendar"), date(2025, 2, 9), "2025", date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_periods_and_their_labels(delivery, day, label, start, end):
    period = period_of(delivery, day)
    assert (period.label, period.start, period.end) == (label, start, end)
    assert period.due == working_day_after(end, delivery.due_working_days)


def test_august_is_in_no_term_and_is_skipped():
    assert period_of(Delivery("term", 20), date(2024, 8, 15)) is None
    attendance = get_dataset("education__attendance")
    labels = [p.label for p in due_periods(attendance, date(2024, 9, 30), 4)]
    assert labels == ["2022/23-summer", "2023/24-autumn", "2023/24-spring", "2023/24-summer"]
    # The summer term ends 31 July; its 20th working day after is 29 August (26 August is a bank holiday).
    assert due_periods(attendance, date(2024, 8, 28), 1)[0].label == "2023/24-spring"
    summer = due_periods(attendance, date(2024, 8, 29), 1)[0]
    assert (summer.label, summer.due) == ("2023/24-summer", date(2024, 8, 29))


def test_due_periods_are_the_last_ones_due_on_or_before_today():
    crimes = get_dataset("police__recorded_crime")
    assert [p.label for p in due_periods(crimes, date(2024, 12, 13), 3)] == ["2024-09", "2024-10", "2024-11"]
    assert [p.label for p in due_periods(crimes, date(2024, 12, 12), 3)] == ["2024-08", "2024-09", "2024-10"]


# --- against the warehouse ---------------------------------------------------------------------------------------

CRIMES = "police__recorded_crime"


def delivered(url: str, dataset: str, record_dates: list[str], finished_at: datetime) -> int:
    """A loaded batch holding records of these dates, finished at the given time: written as the owner (the
    test's superuser), who may date a record; the loader cannot (its times are the database's)."""
    ds = get_dataset(dataset)
    name = f"{ds.dataset}_{record_dates[0][:7]}.csv"
    digest = hashlib.sha256(f"{name}{finished_at}".encode()).hexdigest()
    with psycopg.connect(warehouse.conninfo(url)) as conn:
        batch = conn.execute(
            "insert into audit.load_batch (dataset, file_name, file_sha256, status, row_count, started_at,"
            " finished_at) values (%s, %s, %s, 'loaded', %s, %s, %s) returning batch_id",
            (dataset, name, digest, len(record_dates), finished_at - timedelta(minutes=1), finished_at),
        ).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("insert into raw.{} (_batch_id, _source_row, {}) values (%s, %s, %s)").format(
                    sql.Identifier(dataset), sql.Identifier(ds.record_date_column)
                ),
                [(batch, i + 2, d) for i, d in enumerate(record_dates)],
            )
    return batch


def statuses(url: str, today: date, dataset: str = CRIMES, lookback: int = 3) -> dict[str, timeliness.DeliveryStatus]:
    with warehouse.connect(url) as conn:
        return {s.period.label: s for s in timeliness.dataset_timeliness(conn, get_dataset(dataset), today, lookback)}


@pytest.mark.integration
def test_months_delivered_on_time_late_and_missing(warehouse_url):
    # September on time (10 Oct, due 14 Oct); October late (20 Nov, due 14 Nov); November never delivered.
    delivered(warehouse_url, CRIMES, ["2024-09-01", "2024-09-30"], datetime(2024, 10, 10, 9, tzinfo=UTC))
    delivered(warehouse_url, CRIMES, ["2024-10-03", "2024-10-17"], datetime(2024, 11, 20, 9, tzinfo=UTC))
    # A re-sent October, later still: delivered_at stays the first batch's.
    delivered(warehouse_url, CRIMES, ["2024-10-05"], datetime(2024, 12, 2, 9, tzinfo=UTC))
    # A quarantined batch delivers nothing.
    with psycopg.connect(warehouse.conninfo(warehouse_url)) as conn:
        conn.execute(
            "insert into audit.load_batch (dataset, file_name, file_sha256, status, started_at, finished_at)"
            " values (%s, 'recorded_crime_2024-11.csv', repeat('a', 64), 'quarantined', '2024-12-02', '2024-12-02')",
            (CRIMES,),
        )
    found = statuses(warehouse_url, date(2024, 12, 20))
    assert list(found) == ["2024-09", "2024-10", "2024-11"]
    september, october, november = found.values()
    assert (september.status, september.period.due, september.describe()) == ("on time", date(2024, 10, 14), "on time")
    assert september.delivered_at == datetime(2024, 10, 10, 9, tzinfo=UTC)
    assert (october.status, october.period.due, october.describe()) == ("late", date(2024, 11, 14), "late by 6 days")
    assert october.delivered_at == datetime(2024, 11, 20, 9, tzinfo=UTC)
    assert (november.status, november.delivered_at, november.describe()) == (
        "missing",
        None,
        "missing (7 days overdue)",
    )
    # On its due date a delivery not yet made is due, not missing; the day after, it is missing.
    assert statuses(warehouse_url, date(2024, 12, 13))["2024-11"].status == "due"
    assert statuses(warehouse_url, date(2024, 12, 16))["2024-11"].status == "missing"
    # Loaded at 23:30 UTC on the due date in summer is 00:30 the next day in the UK: late.
    delivered(warehouse_url, CRIMES, ["2024-05-02"], datetime(2024, 6, 14, 23, 30, tzinfo=UTC))  # due 14 June
    assert statuses(warehouse_url, date(2024, 7, 1), lookback=1)["2024-05"].describe() == "late by 1 day"


@pytest.mark.integration
def test_real_loads_judged_on_the_due_date_of_the_current_month(warehouse_url, data_dir):
    """Files through the gate: the month before last (loaded now, long after its due date) is late, last month
    (not sent) is missing, this month (loaded now, before its due date) is on time."""
    this_month = datetime.now(timeliness.UK).date().replace(day=1)
    first = (this_month - timedelta(days=40)).replace(day=1)
    files = generate(data_dir / "landing", first_month=f"{first:%Y-%m}", months=3, scale=0.05)[CRIMES]
    crimes = get_dataset(CRIMES)
    for path in (files[0], files[2]):
        assert loader.ingest_file(crimes, path).status == "loaded"
    monthly = crimes.delivery
    judged_on = period_of(monthly, this_month).due
    found = statuses(warehouse_url, judged_on)
    with warehouse.connect(warehouse_url) as conn:
        finished = conn.execute(
            "select min(finished_at) from audit.load_batch where dataset = %s and status = 'loaded'", (CRIMES,)
        ).fetchone()[0]
    assert [(label, s.status) for label, s in found.items()] == [
        (f"{first:%Y-%m}", "late"),
        (f"{period_of(monthly, first + timedelta(days=40)).label}", "missing"),
        (f"{this_month:%Y-%m}", "on time"),
    ]
    assert list(found.values())[0].delivered_at == finished


@pytest.mark.integration
def test_a_missed_delivery_is_recorded_once_by_the_loader_and_not_again_the_next_day(warehouse_url, login_role):
    delivered(warehouse_url, CRIMES, ["2024-09-01"], datetime(2024, 10, 10, 9, tzinfo=UTC))
    delivered(warehouse_url, CRIMES, ["2024-10-01"], datetime(2024, 11, 20, 9, tzinfo=UTC))
    loader_name, loader_url = login_role(warehouse_url, security.LOADER)
    with warehouse.connect(loader_url) as conn:  # the freshness check runs as the loader
        first = timeliness.record_late(conn, date(2024, 12, 20))
    mine = [(s.dataset, s.period.label, s.period.due) for s in first if s.dataset == CRIMES]
    assert mine == [(CRIMES, "2024-11", date(2024, 12, 13))]  # late October is not missing: it came
    assert all(s.status == "missing" for s in first)
    with warehouse.connect(loader_url) as conn:
        assert timeliness.record_late(conn, date(2024, 12, 21)) == []  # the next day: nothing new
        assert timeliness.record_late(conn, date(2024, 12, 20)) == []  # nor on the same day again
    with psycopg.connect(warehouse.conninfo(warehouse_url)) as conn:
        rows = conn.execute(
            "select period, due_date, noticed_by, noticed_at > now() - interval '1 hour' from audit.late_delivery"
            " where dataset = %s",
            (CRIMES,),
        ).fetchall()
        total = conn.execute("select count(*) from audit.late_delivery").fetchone()[0]
    assert rows == [("2024-11", date(2024, 12, 13), loader_name, True)]
    assert total == len(first)
    # The loader may not rewrite the record; the IG reviewer reads it.
    with pytest.raises(psycopg.errors.InsufficientPrivilege), warehouse.connect(loader_url) as conn:
        conn.execute("delete from audit.late_delivery")
    _, reviewer_url = login_role(warehouse_url, security.IG_REVIEWER)
    with warehouse.connect(reviewer_url) as conn:
        assert [r.period for r in timeliness.recorded_late(conn) if r.dataset == CRIMES] == ["2024-11"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into audit.late_delivery (dataset, period, due_date) values ('x', 'y', '2024-01-01')")


@pytest.mark.integration
def test_delivered_dates_reads_only_each_datasets_record_date_column(warehouse_url, login_role):
    delivered(warehouse_url, CRIMES, ["2024-09-01"], datetime(2024, 10, 10, 9, tzinfo=UTC))
    _, reviewer_url = login_role(warehouse_url, security.IG_REVIEWER)
    with warehouse.connect(reviewer_url) as conn:
        rows = conn.execute("select * from audit.delivered_dates(%s, true, '2024-01-01')", (CRIMES,)).fetchall()
        assert rows == [("2024-09-01", datetime(2024, 10, 10, 9, tzinfo=UTC))]
        # An unknown dataset (or any table not in the registry) gives nothing.
        assert conn.execute("select * from audit.delivered_dates('load_batch', false, '')").fetchall() == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select * from raw.{CRIMES}")


@pytest.mark.integration
def test_the_ig_report_shows_timeliness_and_the_delivery_calendar(warehouse_url, login_role, tmp_path):
    delivered(warehouse_url, CRIMES, ["2024-09-01"], datetime(2024, 10, 10, 9, tzinfo=UTC))
    delivered(warehouse_url, CRIMES, ["2024-10-01"], datetime(2024, 11, 20, 9, tzinfo=UTC))
    delivered(warehouse_url, CRIMES, ["2024-11-01"], datetime(2024, 12, 19, 9, tzinfo=UTC))
    with warehouse.connect(warehouse_url) as conn:
        timeliness.record_late(conn, date(2024, 12, 16))  # November was missing then; it came on the 19th
    _, reviewer_url = login_role(warehouse_url, security.IG_REVIEWER)
    page = report.build_report(reviewer_url, tmp_path / "report", today=date(2024, 12, 20)).read_text()

    def cell(metric: str, dataset: str, **attrs: str) -> str:
        extra = "".join(rf'[^>]*data-{k}="{re.escape(v)}"' for k, v in attrs.items())
        pattern = rf'<(td|span|li)[^>]*data-metric="{metric}" data-dataset="{dataset}"{extra}[^>]*>(.*?)</\1>'
        found = re.search(pattern, page, re.S)
        assert found, f"no {metric} for {dataset} {attrs}"
        return re.sub(r"<[^>]+>", " ", found.group(2))

    assert "timeliness (last due period)" in page
    assert cell("timeliness", CRIMES).split() == ["2024-11:", "late", "by", "6", "days", "due", "2024-12-13"]
    assert "missing (" in cell("timeliness", "police__asb_incidents")
    assert cell("delivery", CRIMES, period="2024-09").strip() == "2024-09: on time"
    assert cell("delivery", CRIMES, period="2024-10").strip() == "2024-10: late by 6 days"
    assert len(re.findall(rf'data-metric="delivery" data-dataset="{CRIMES}"', page)) == report.DELIVERY_LOOKBACK
    assert "2024-11 (due 2024-12-13), noticed" in cell("late-delivery", CRIMES, period="2024-11")
    assert '<section data-agency="police">' in page


@pytest.mark.integration
def test_the_deliveries_command_prints_the_table_and_records_missing_ones_once(warehouse_url, capsys):
    from partnership import cli

    delivered(warehouse_url, CRIMES, ["2024-10-01"], datetime(2024, 11, 20, 9, tzinfo=UTC))
    assert cli.main(["deliveries", "--date", "2024-12-20", "--lookback", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"{CRIMES} +2024-10 +2024-11-14 +2024-11-20 09:00 +late by 6 days", out)
    assert re.search(rf"{CRIMES} +2024-11 +2024-12-13 +- +missing \(7 days overdue\)", out)
    assert cli.main(["deliveries", "--date", "2024-12-20", "--record"]) == 0
    out = capsys.readouterr().out
    assert f"recorded late: {CRIMES} 2024-11 (due 2024-12-13)" in out
    assert cli.main(["deliveries", "--date", "2024-12-21", "--record"]) == 0
    assert "0 missing deliveries newly recorded" in capsys.readouterr().out
