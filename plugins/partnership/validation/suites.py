"""GX suites derived from the registry (``expectations/<agency>__<dataset>.json``), the file-period
expectations added per file, and the helper columns (parsed values, periods) they read."""

from __future__ import annotations

import json
import re
from pathlib import Path

from partnership import settings
from partnership.registry import Dataset

PARSED_SUFFIX = "__parsed"  # a column's values parsed as numbers or datetimes, for range expectations
PERIOD_SUFFIX = "__period"  # the record date column as YYYYMMDD, checked against the file's month


def build_suite(ds: Dataset) -> dict:
    """The dataset's expectation suite as GX JSON, derived from its registry contract."""
    expectations = []

    def expect(kind: str, severity: str = "critical", **kwargs) -> None:
        expectations.append({"type": kind, "kwargs": kwargs, "meta": {"severity": severity}})

    for col in ds.columns:
        level = col.severity
        if col.required:
            expect("expect_column_values_to_not_be_null", column=col.name)
        elif col.completeness:
            expect("expect_column_values_to_not_be_null", "warning", column=col.name, mostly=col.completeness)
        if col.value_pattern:
            expect("expect_column_values_to_match_regex", level, column=col.name, regex=col.value_pattern)
        if col.date_format:
            expect(
                "expect_column_values_to_match_strftime_format", level, column=col.name, strftime_format=col.date_format
            )
        if col.allowed:
            expect("expect_column_values_to_be_in_set", level, column=col.name, value_set=list(col.allowed))
        if col.min is not None or col.max is not None:
            expect(
                "expect_column_values_to_be_between",
                level,
                column=col.name + PARSED_SUFFIX,
                min_value=_bound(col.type, col.min),
                max_value=_bound(col.type, col.max),
            )
    if len(ds.key_columns) == 1:
        expect("expect_column_values_to_be_unique", column=ds.key_columns[0])
    elif ds.key_columns:
        expect("expect_compound_columns_to_be_unique", column_list=list(ds.key_columns))
    return {"name": ds.name, "expectations": expectations}


def file_period(path: Path) -> tuple[int, int] | None:
    """First and last day (as YYYYMMDD) of the month the file name carries (``..._2024-04.csv``), if any."""
    import calendar

    m = re.search(r"(?<!\d)(\d{4})-(\d{2})(?!\d)", Path(path).name)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    return year * 10000 + month * 100 + 1, year * 10000 + month * 100 + calendar.monthrange(year, month)[1]


def period_expectations(ds: Dataset, path: Path) -> list[dict]:
    """Records dated inside the file's month: depends on the file, so added at validation time, not in the suite.

    The record date (for recorded crime, the date recorded) must fall in the file's month, or the file is
    quarantined. A dataset whose events can happen long before they are recorded (an offence reported years
    later) names that date as its event_date_column: events dated a year or more before the file's month are
    historic and load with a warning that counts them (days or weeks earlier is ordinary and loads silently); an
    event dated after the month (after it was recorded) is an error.
    """
    period = file_period(path)
    if not period or ds.cadence != "monthly":  # termly and annual files carry their sending month, not a period
        return []
    checks = [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": ds.record_date_column + PERIOD_SUFFIX,
                "min_value": period[0],
                "max_value": period[1],
            },
            "meta": {"severity": "critical", "check": "record date inside the file's period"},
        }
    ]
    if ds.event_date_column:
        column = ds.event_date_column + PERIOD_SUFFIX
        checks += [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": column, "max_value": period[1]},
                "meta": {
                    "severity": "critical",
                    "check": "event date not after the file's period",
                    "label": "event after the file's period",
                },
            },
            {  # a year or more before the month: YYYYMMDD less 10000 is the same day a year earlier
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": column, "min_value": period[0] - 10000},
                "meta": {
                    "severity": "warning",
                    "check": "historic events: dated a year or more before the file's period",
                    "label": "historic: a year or more before the file's period",
                },
            },
        ]
    return checks


def _bound(col_type: str, value):
    """Range bounds; dates compare as YYYYMMDD numbers (GX compares numbers, not datetimes, reliably)."""
    if value is None or col_type in ("integer", "decimal"):
        return value
    text = str(value)
    return int(text[:7].replace("-", "") + "01") if col_type == "month" else int(text[:10].replace("-", ""))


def suite_path(ds: Dataset) -> Path:
    return settings.EXPECTATIONS_DIR / f"{ds.name}.json"


def read_suite(ds: Dataset) -> dict:
    path = suite_path(ds)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `partnership registry sync`")
    return json.loads(path.read_text())


def add_parsed_columns(ds: Dataset, chunk) -> None:
    """Numeric copies of range-checked columns; text that does not parse becomes null (the regex catches it)."""
    import pandas as pd

    def yyyymmdd(col):
        """Dates and datetimes as their YYYYMMDD number; months (YYYY-MM) as YYYYMM01."""
        # Each distinct value parsed once, then spread over the rows (a month's file repeats its dates): the
        # same numbers, and the same dtype (float when a value is missing or does not parse), as row by row.
        codes, distinct = pd.factorize(chunk[col.name])
        values = pd.Series(distinct, dtype=chunk[col.name].dtype)
        if col.type == "month":
            values = values.str.slice(0, 7).str.replace("-", "", regex=False) + "01"
        else:
            values = values.str.slice(0, 10).str.replace("-", "", regex=False)
        parsed = pd.to_numeric(values, errors="coerce").to_numpy()
        return pd.Series(pd.api.extensions.take(parsed, codes, allow_fill=True), index=chunk.index)

    for col in ds.columns:  # those the chunk holds (GX is shown some columns' distinct values at a time)
        if (col.min is None and col.max is None) or col.name not in chunk:
            continue
        numeric = col.type in ("integer", "decimal")
        chunk[col.name + PARSED_SUFFIX] = pd.to_numeric(chunk[col.name], errors="coerce") if numeric else yyyymmdd(col)
    if ds.record_date_column in chunk:
        chunk[ds.record_date_column + PERIOD_SUFFIX] = yyyymmdd(ds.column(ds.record_date_column))
    if ds.event_date_column in chunk:
        chunk[ds.event_date_column + PERIOD_SUFFIX] = yyyymmdd(ds.column(ds.event_date_column))
