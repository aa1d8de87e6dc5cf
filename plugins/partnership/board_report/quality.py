"""The data-quality annex: each agency's extracts for the quarter, the definitions used, and what is withheld.

Expected periods come from each dataset's delivery calendar in the source registry (partnership.timeliness);
the gate's verdicts (files loaded and quarantined per month of the file's name, and when the first was loaded)
from the one function the board reporter may call. Files and load times only: no record of any extract.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import date

from partnership import settings, timeliness
from partnership.board_report import cells
from partnership.board_report.cells import Cell, Table
from partnership.board_report.publish_data import GateMonth, Quarter
from partnership.registry import load_registry


def extracts_table(quarter: Quarter, gate: Mapping[tuple[str, str], GateMonth], today: date) -> Table:
    """Per dataset: the quarter's periods in its delivery calendar, and whether a file for each was loaded by its due
    date (judged by file, from the month in the file's name: a delivered file says nothing of its records)."""
    table = Table(
        "extracts",
        f"Extracts for {quarter.label}, by agency",
        [
            "Agency",
            "Dataset",
            "Periods due",
            "Delivered",
            "Late",
            "Missing",
            "Not yet due",
            "Files quarantined",
            "Gate",
        ],
    )
    first, last = quarter.days
    for ds in sorted(load_registry(), key=lambda d: (d.agency, d.name)):
        months = {m: g for (name, m), g in gate.items() if name == ds.name}
        delivered_at = {m: g.first_loaded for m, g in months.items() if g.first_loaded is not None}
        periods = timeliness.periods_within(ds.delivery, first, last)
        due = [p for p in periods if p.due <= today]
        statuses = [timeliness.judge(ds, p, delivered_at, today) for p in due]
        in_quarter = [months[m] for m in quarter.months if m in months]
        loaded = sum(g.files_loaded for g in in_quarter)
        quarantined = sum(g.files_quarantined for g in in_quarter)
        verdict = "Passed" if loaded else "Quarantined" if quarantined else "Nothing loaded"
        if quarantined and loaded:
            verdict = "Passed after a quarantine"
        table.rows.append(
            [
                cells.text(ds.agency),
                cells.text(ds.name),
                Cell(str(len(due)), "files"),
                Cell(str(sum(s.status in ("on time", "late") for s in statuses)), "files"),
                Cell(str(sum(s.status == "late" for s in statuses)), "files"),
                Cell(str(sum(s.status in ("missing", "due") for s in statuses)), "files"),
                Cell(str(len(periods) - len(due)), "files"),
                Cell(str(quarantined), "files"),
                cells.text(verdict),
            ]
        )
    return table


def definitions_table(scorecard_rows: list[Mapping]) -> Table:
    """The definition behind each KPI this quarter, with its source, from the definitions seed (its history too)."""
    with open(settings.DBT_PROJECT_DIR / "seeds" / "definitions.csv", newline="", encoding="utf-8") as f:
        by_version = {row["definition_version"]: row for row in csv.DictReader(f)}
    table = Table("definitions", "Definitions used", ["KPI", "Definition", "What it counts", "Source"])
    for row in sorted({(r["kpi_name"], r["definition_version"]) for r in scorecard_rows}):
        kpi, version = row
        definition = by_version.get(version, {})
        table.rows.append(
            [
                cells.text(kpi),
                cells.text(version),
                cells.text(definition.get("description") or "The dataset's registry contract (field definitions)"),
                cells.text(definition.get("source_document") or "Source registry"),
            ]
        )
    return table


def internal_only_kpis() -> list[str]:
    with open(settings.DBT_PROJECT_DIR / "seeds" / "kpi_definitions.csv", newline="", encoding="utf-8") as f:
        return [row["kpi_name"] for row in csv.DictReader(f) if row["publication"] != "publishable"]


def withheld_lines(tables: Mapping[str, list[Mapping]], quarter: Quarter) -> list[str]:
    """What the report cannot show, and why, in words."""
    lines = [
        "Internal-only KPIs, not in the publish schema: "
        + "; ".join(internal_only_kpis())
        + ". Their agreements allow partnership analysts to see them, not a published paper.",
        "Reoffending and the person-level cohorts behind the cross-agency table stay in restricted marts: only "
        "aggregates that pass disclosure control reach this report.",
    ]
    for name, key, value in (
        ("pub_partnership_scorecard", "financial_year_quarter", quarter.label),
        ("pub_serious_violence_by_ward_quarter", "financial_year_quarter", quarter.label),
        ("pub_asb_requests_by_ward_financial_year", "financial_year", quarter.financial_year),
        ("pub_repeat_victimisation", "financial_year_quarter", quarter.label),
        ("pub_cohort_overlap", None, None),
        ("pub_disproportionality", "financial_year", quarter.financial_year),
    ):
        rows = [r for r in tables[name] if key is None or r.get(key) == value]
        flags = [k for k in (rows[0] if rows else {}) if k.endswith("_suppressed")]
        total = len(rows) * len(flags)
        hidden = sum(bool(r[k]) for r in rows for k in flags)
        if total:
            lines.append(
                f"{name}: {hidden} of {total} counts suppressed"
                + (f" ({value})" if value else "")
                + " because they are from 1 to 9 or would let one be worked out."
            )
    return lines
