"""Assembles the Board's quarterly report for one quarter from the publish tables, then writes it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from partnership import settings
from partnership.board_report import content, figures, publish_data, quality, render, spc
from partnership.board_report.cells import SUPPRESSION_FOOTNOTE, Table
from partnership.board_report.content import CITY, Section
from partnership.board_report.publish_data import Quarter

# Which KPIs' trend charts each priority shows (the scorecard lists them all).
TRENDS = {
    "P1": ["VBC", "NBH", "ASB_POLICE"],
    "P2": ["FTE", "PERM_EXCL"],
    "P3": ["SV_MCR", "SV_DUTY"],
    "P4": ["ALC_ADM", "ALC_EXIT"],
    "P5": [],
}


@dataclass
class Report:
    quarter: Quarter
    built_at: str
    judged_on: date
    scorecard: Table
    scorecard_notes: list[str]
    sections: list[Section]
    extracts: Table
    definitions: Table
    withheld: list[str]
    title: str = "Community Safety Partnership Board: quarterly performance report"
    suppression_footnote: str = SUPPRESSION_FOOTNOTE
    audience_note: str = (
        "partnership use. Greater Manchester Police's figures are shared within the CSP but not yet for "
        "external publication (Community Safety Strategy 2022-25)."
    )
    files: dict = field(default_factory=dict)


def default_out_dir(quarter: Quarter) -> Path:
    return settings.board_reports_dir() / quarter.slug


def city_history(rows: list[dict], kpi: str) -> list[dict]:
    """Every published quarter of the KPI for the city, oldest first."""
    history = [r for r in rows if r["kpi_code"] == kpi and r["geography"] == CITY]
    return sorted(history, key=lambda r: Quarter.parse(r["financial_year_quarter"]))


def control_charts(rows: list[dict]) -> dict[str, spc.Chart]:
    """Each KPI's centre line and limits for the city, from its whole published history."""
    return {kpi: spc.control_chart(city_history(rows, kpi)) for kpi in sorted({r["kpi_code"] for r in rows})}


def _comparison(rows: list[dict], kpi: str) -> dict[str, dict]:
    """The KPI's quarters of 2019/20 in pub_kpi_trend_vs_2019_20, by quarter (Q1..Q4)."""
    return {r["quarter"]: r for r in rows if r["kpi_code"] == kpi and r["financial_year"] == figures.COMPARISON_YEAR}


def sections(tables: dict[str, list[dict]], quarter: Quarter, controls: dict[str, spc.Chart]) -> list[Section]:
    scorecard, year = tables["pub_partnership_scorecard"], quarter.financial_year
    out = []
    for code, title in content.PRIORITIES.items():
        section = Section(code, title)
        for kpi in TRENDS[code]:
            history = [r for r in city_history(scorecard, kpi) if Quarter.parse(r["financial_year_quarter"]) <= quarter]
            if history:
                comparison = _comparison(tables["pub_kpi_trend_vs_2019_20"], kpi)
                section.commentary.append(content.kpi_commentary(history))
                section.figures.append(figures.trend_figure(kpi, history, comparison, controls[kpi]))
        out.append(section)
    p1, p2, p3, p4, p5 = out

    asb = [r for r in tables["pub_asb_requests_by_ward_financial_year"] if r["financial_year"] == year]
    if asb:
        p1.figures.append(
            figures.ward_map_figure(
                "map-asb",
                f"ASB requests to the council per 1,000 residents by ward, {year} (annualised)",
                "requests per 1,000 residents a year",
                asb,
                "requests",
                "rate_per_1000_annualised",
            )
        )
    p1.figures.append(
        figures.gradient_figure("gradient-victim-based", tables["pub_deprivation_gradient"], "Victim-based crime", year)
    )

    p2.figures.append(
        figures.disproportionality_figure(
            "rri-children",
            tables["pub_disproportionality"],
            ["first_time_entry", "permanent_exclusion", "suspension"],
            year,
        )
    )
    p2.tables.append(content.cohort_table(tables["pub_cohort_overlap"]))
    p2.commentary.append(
        "The cross-agency cohort counts young people known to the police, youth justice, schools (exclusions) or "
        "A&E for violence, linked by pseudonym; the combinations show where agencies share the same children."
    )

    sv = [
        r
        for r in tables["pub_serious_violence_by_ward_quarter"]
        if r["financial_year_quarter"] == quarter.label and r["sv_definition"] == "serious_violence_duty"
    ]
    if sv:
        p3.figures.append(
            figures.ward_map_figure(
                "map-serious-violence",
                f"Serious violence (Serious Violence Duty definition) per 100,000 residents by ward, {quarter.label}",
                "offences per 100,000 residents",
                sv,
                "sv_count",
                "rate_per_100k",
            )
        )
    p3.figures.append(
        figures.gradient_figure(
            "gradient-serious-violence", tables["pub_deprivation_gradient"], "Serious violence (Manchester 2022)", year
        )
    )
    p3.tables.append(content.repeat_victimisation_table(tables["pub_repeat_victimisation"], quarter))

    england = figures.england_figures(tables["pub_substance_misuse"], year)
    p4.figures.extend(england)
    p4.commentary.append(
        f"{len(england)} substance misuse indicators have an England figure to compare with; where Manchester's "
        "95% interval excludes England's value, the difference is significant."
        if england
        else "No substance misuse indicator with an England comparison is published for this year."
    )

    p5.figures.append(
        figures.disproportionality_figure(
            "rri-justice", tables["pub_disproportionality"], ["stop_search", "sv_perpetrator", "sv_victim"], year
        )
    )
    p5.commentary.append(
        "Disproportionality at each stage of the justice system, against White residents, with 95% intervals "
        "(Community Safety Strategy 2022-25: disproportionality amongst the city's Black, Asian and Minority "
        "Ethnic communities). Reoffending measures are not yet in the publish schema."
    )
    return out


def build(url: str | None = None, quarter: str | None = None, out_dir: Path | None = None) -> Report:
    """The report for ``quarter`` (default: the latest the scorecard has), written to ``out_dir``."""
    today = datetime.now(UTC).date()
    with publish_data.board_connection(url) as conn:
        available = publish_data.published_quarters(conn)
        if not available:
            raise LookupError("publish.pub_partnership_scorecard has no quarter yet: run the transform first")
        chosen = Quarter.parse(quarter) if quarter else available[-1]
        if chosen not in available:
            raise LookupError(
                f"no published figures for {chosen.label}; published: {', '.join(q.label for q in available)}"
            )
        tables = publish_data.read_tables(conn)
        extracts = quality.extracts_table(chosen, publish_data.gate_outcomes(conn), today)
    this_quarter = [r for r in tables["pub_partnership_scorecard"] if r["financial_year_quarter"] == chosen.label]
    controls = control_charts(tables["pub_partnership_scorecard"])
    scorecard, notes = content.scorecard([r for r in this_quarter if r["geography"] == CITY], chosen, controls)
    report = Report(
        quarter=chosen,
        built_at=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
        judged_on=today,
        scorecard=scorecard,
        scorecard_notes=notes,
        sections=sections(tables, chosen, controls),
        extracts=extracts,
        definitions=quality.definitions_table(this_quarter),
        withheld=quality.withheld_lines(tables, chosen),
    )
    files = render.write(report, out_dir or default_out_dir(chosen))
    report.files = {"html": files.html, "pdf": files.pdf}
    return report
