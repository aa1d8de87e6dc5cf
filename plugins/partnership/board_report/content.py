"""What the Board reads each quarter: the scorecard, the priorities' sections, commentary and tables.

Built from the publish tables (publish_data.py) alone. Each KPI gets a line of commentary generated from its
figures: what changed since last quarter, and whether it is a signal (the Making Data Count rating, where the
KPI has a baseline) or not yet judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from partnership.board_report import cells, spc
from partnership.board_report.cells import Cell, Table
from partnership.board_report.figures import Figure
from partnership.board_report.publish_data import Quarter

# The five priorities of the Community Safety Strategy 2022-25 (requirements.md section 3).
PRIORITIES = {
    "P1": "Tackling neighbourhood crime and antisocial behaviour",
    "P2": "Keeping children and young people safe",
    "P3": "Tackling serious harm and violence",
    "P4": "Tackling drug and alcohol driven crime",
    "P5": "Changing offender behaviour",
}
SIGNALS = {"Special cause concern", "Special cause improvement"}
CITY = "Manchester"


@dataclass
class Section:
    code: str
    title: str
    commentary: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _float(value) -> float | None:
    return None if value is None else float(value)


def _change(now: Mapping, before: Mapping | None) -> str:
    if before is None or before.get("value") is None or now.get("value") is None or not before["value"]:
        return "no comparable figure last quarter"
    pct = 100 * (float(now["value"]) - float(before["value"])) / float(before["value"])
    direction = "up" if pct >= 0.5 else "down" if pct <= -0.5 else "unchanged"
    overlap = not (now["lower_95"] > before["upper_95"] or now["upper_95"] < before["lower_95"])
    change = "unchanged" if direction == "unchanged" else f"{direction} {abs(pct):.0f}%"
    return f"{change} on {before['financial_year_quarter']} ({cells.number(before['value'], decimals(before))}); " + (
        "the 95% intervals overlap" if overlap else "the 95% intervals do not overlap"
    )


def decimals(row: Mapping) -> int:
    """KPIs that are counts are shown as whole numbers; rates and percentages to 2 decimal places."""
    return 0 if row["unit"] == "count" else 2


def rating_words(row: Mapping) -> str:
    rating = row.get("rating")
    if rating in SIGNALS:
        return f"a signal: {rating.lower()} ({row.get('variation')})"
    if rating == "Common cause":
        return "no signal: within the expected range (common cause variation)"
    if rating == "Not rated":
        return f"not rated: the quarter's data did not pass the gate ({row['data_quality_status'].lower()})"
    if rating == "No baseline":
        return "not yet judged: the baseline needs at least 6 quarters of clean data"
    return "not shown: a quarter behind the rating has a small count (disclosure control)"


def kpi_commentary(history: list[Mapping]) -> str:
    """One sentence on the KPI's latest quarter in ``history`` (oldest first, the city's rows)."""
    now, before = history[-1], (history[-2] if len(history) > 1 else None)
    name, quarter = now["kpi_name"], now["financial_year_quarter"]
    if now.get("value") is None:
        return f"{name}: {quarter}'s figure is suppressed (a small count) and cannot be shown."
    return (
        f"{name}: {cells.number(now['value'], decimals(now))} {now['unit']} in {quarter}, {_change(now, before)}. "
        f"Whether this is a signal: {rating_words(now)}."
    )


def short_name(kpi_name: str) -> str:
    """The KPI's name without a long technical aside (the annex lists the definitions in full)."""
    return kpi_name.split(" (")[0] if ";" in kpi_name else kpi_name


def baseline_words(control: spc.Chart, quarter: str) -> str:
    limits = control.limits.get(quarter)
    if limits is None:
        return "None yet" if "no baseline yet" in control.reason else "Not shown"
    return f"{cells.number(limits.centre, 2)} ({cells.number(limits.lower, 2)} to {cells.number(limits.upper, 2)})"


def scorecard(rows: list[Mapping], quarter: Quarter, controls: Mapping[str, spc.Chart]) -> tuple[Table, list[str]]:
    table = Table(
        "scorecard",
        f"The partnership's KPIs for {CITY}, {quarter.label}",
        [
            "",
            "KPI (unit)",
            "This quarter",
            "Count",
            "95% interval",
            "Baseline",
            "Rating",
            "Definition",
            "Data quality",
        ],
    )
    notes = []
    for row in sorted(rows, key=lambda r: (r["priority_code"], r["kpi_code"])):
        rating = row.get("rating")
        table.rows.append(
            [
                cells.text(row["priority_code"]),
                cells.text(f"{short_name(row['kpi_name'])} ({row['unit']})"),
                cells.kpi_value(row, decimals(row)),
                cells.count(row, "numerator"),
                cells.interval(row, decimals=2, built_on=cells.KPI_COUNTS),
                cells.text(baseline_words(controls[row["kpi_code"]], row["financial_year_quarter"])),
                cells.text(rating if rating else cells.SUPPRESSED if cells.row_suppressed(row) else None),
                cells.text(row["definition_version"]),
                cells.text(row["data_quality_status"]),
            ]
        )
        if rating == "Not rated":
            notes.append(
                f"{row['kpi_name']} is not rated for {quarter.label}: {rating_words(row)}. Its value is shown but "
                "should not be read as a change in crime until the extract is corrected."
            )
    notes.append(
        "Baseline: the centre line of the KPI's statistical process control chart (Making Data Count), with its "
        "process limits in brackets, drawn from the published values of its baseline quarters. 'None yet': fewer "
        "than 6 clean quarters so far, so no quarter can yet be called a signal. 'Not shown': a baseline quarter's "
        "value is suppressed, and limits drawn beside it could give it back."
    )
    return table, notes


def cohort_table(rows: list[Mapping]) -> Table:
    table = Table(
        "cohort-overlap",
        "Young people (10-25) known to more than one agency: the cross-agency cohort, by the agencies that know them",
        ["Agencies", "People aged 10-17", "People aged 18-25", "All ages"],
    )
    by_key = {(r["agency_combination"], r["age_band"], r["locality"]): r for r in rows}
    combinations = sorted(
        {r["agency_combination"] for r in rows if r["locality"] == "All"}, key=lambda c: (c != "All", c.count("+"), c)
    )
    for combination in combinations:
        table.rows.append(
            [cells.text("Any agency" if combination == "All" else combination.replace("+", " + ").replace("_", " "))]
            + [
                cells.count(by_key[(combination, band, "All")], "people")
                if (combination, band, "All") in by_key
                else Cell(cells.NOT_AVAILABLE, "count")
                for band in ("10-17", "18-25", "All")
            ]
        )
    return table


def repeat_victimisation_table(rows: list[Mapping], quarter: Quarter) -> Table:
    table = Table(
        "repeat-victimisation",
        f"Repeat victimisation, {quarter.label}: victims this quarter who were also victims in the 12 months before",
        ["Crime type", "Crimes", "Victims", "Repeat victims", "Repeat rate (%)"],
    )
    chosen = [
        r
        for r in rows
        if r["financial_year_quarter"] == quarter.label and r["category_scheme"] == "police_uk_crime_type"
    ]
    for r in sorted(chosen, key=lambda r: (r["crime_category"] != "All", r["crime_category"])):
        table.rows.append(
            [
                cells.text(r["crime_category"]),
                cells.count(r, "crimes"),
                cells.count(r, "victims"),
                cells.count(r, "repeat_victims"),
                cells.figure(r, "repeat_rate_pct", built_on=("repeat_victims", "victims")),
            ]
        )
    return table
