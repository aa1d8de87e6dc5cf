"""The report's figures: each a chart (or the ward map) as inline SVG, with the data table behind it.

Each reads rows of one publish table; a suppressed value is drawn as a gap or a hatched ward, and shown as "*"
in the table, never as its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup

from partnership.board_report import cells, charts, spc
from partnership.board_report.cells import Cell, Table
from partnership.board_report.ward_map import WardValue, ward_map_svg

COMPARISON_YEAR = "2019/20"  # the strategies compare with the year before the pandemic


@dataclass
class Figure:
    figure_id: str
    kind: str  # "trend", "map", "gradient", "intervals"
    svg: Markup
    caption: str
    table: Table


def _float(value) -> float | None:
    return None if value is None else float(value)


def trend_figure(kpi: str, history: list[Mapping], comparison: Mapping[str, Mapping], control: spc.Chart) -> Figure:
    """The KPI's quarters up to this one, with intervals, the baseline's centre line and process limits where they
    can be drawn from published values, and the same quarters of 2019/20 where published."""
    last = history[-1]
    points = [
        charts.Point(
            r["financial_year_quarter"],
            _float(r["value"]),
            _float(r["lower_95"]),
            _float(r["upper_95"]),
            cells.row_suppressed(r) and r["value"] is None,
        )
        for r in history
    ]
    baseline = [comparison.get(r["financial_year_quarter"][-2:]) for r in history]
    has_comparison = any(b is not None and b.get("value") is not None for b in baseline)
    title = f"{last['kpi_name']}, by quarter"
    alt = (
        f"Line chart of {last['kpi_name']} ({last['unit']}) for {len(history)} quarters to "
        f"{last['financial_year_quarter']}; latest {cells.number(last['value'], 2)}."
    )
    svg = charts.trend_chart(
        f"trend-{kpi.lower()}",
        title,
        alt,
        points,
        last["unit"],
        comparison=[charts.Point(p.label, _float(b and b.get("value"))) for p, b in zip(points, baseline, strict=True)]
        if has_comparison
        else (),
        comparison_label=f"Same quarter of {COMPARISON_YEAR}",
        limits=[_limits(control, r["financial_year_quarter"]) for r in history],
    )
    table = Table(
        f"trend-{kpi.lower()}",
        f"Data: {last['kpi_name']}",
        [
            "Quarter",
            "Value",
            "Count",
            "95% interval",
            "Centre line",
            "Process limits",
            "Rating",
            "Data quality",
            f"Same quarter {COMPARISON_YEAR}",
        ],
    )
    for r, b in zip(history, baseline, strict=True):
        limits = control.limits.get(r["financial_year_quarter"])
        table.rows.append(
            [
                cells.text(r["financial_year_quarter"]),
                cells.kpi_value(r),
                cells.count(r, "numerator"),
                cells.interval(r, decimals=2, built_on=cells.KPI_COUNTS),
                Cell(cells.number(limits.centre, 2) if limits else cells.NOT_AVAILABLE, "figure"),
                Cell(
                    f"{cells.number(limits.lower, 2)} to {cells.number(limits.upper, 2)}"
                    if limits
                    else cells.NOT_AVAILABLE,
                    "figure",
                ),
                cells.text(r.get("rating")),
                cells.text(r["data_quality_status"]),
                cells.kpi_value(b) if b else Cell(cells.NOT_AVAILABLE, "figure"),
            ]
        )
    caption = (
        "Quarterly value with its 95% confidence interval. "
        + (
            f"Grey: the same quarter of {COMPARISON_YEAR}, the year before the pandemic."
            if has_comparison
            else f"No {COMPARISON_YEAR} figure is published for this KPI, so no pre-pandemic comparison is drawn."
        )
        + (
            f" Green: the baseline's centre line ({control.baseline_points} quarters); orange: the process limits."
            if control.limits
            else f" Centre line and process limits {control.reason}."
        )
    )
    return Figure(f"figure-trend-{kpi.lower()}", "trend", Markup(svg), caption, table)


def _limits(control: spc.Chart, quarter: str) -> tuple[float, float, float] | None:
    limits = control.limits.get(quarter)
    return (limits.centre, limits.lower, limits.upper) if limits else None


def ward_map_figure(
    figure_id: str, title: str, measure: str, rows: list[Mapping], count_column: str, rate_column: str, decimals=1
) -> Figure:
    wards = [r for r in rows if r["ward_code"] != "All"]
    values = {
        r["ward_code"]: WardValue(
            _float(r[rate_column]), bool(r.get(f"{count_column}_suppressed") or r.get("counts_withheld"))
        )
        for r in wards
    }
    svg = ward_map_svg(values, title=title, measure=measure, map_id=figure_id)
    table = Table(figure_id, f"Data: {title}", ["Ward", "Locality", "Count", measure])
    for r in sorted(wards, key=lambda r: r["ward_name"]):
        table.rows.append(
            [
                cells.text(r["ward_name"]),
                cells.text(r["locality"]),
                cells.count(r, count_column),
                cells.figure(r, rate_column, decimals, built_on=(count_column,)),
            ]
        )
    suppressed = sum(v.suppressed for v in values.values())
    caption = (
        f"{title}. Darker wards have higher rates. Hatched wards: the count is suppressed ({suppressed} of "
        f"{len(values)}); grey: no data. Thick lines outline the North, Central and South localities."
    )
    return Figure(figure_id, "map", Markup(svg), caption, table)


def gradient_figure(figure_id: str, rows: list[Mapping], crime_group: str, financial_year: str) -> Figure:
    """Rate per 1,000 residents by IMD decile of the LSOA (1 = most deprived), for one crime group and year."""
    chosen = [r for r in rows if r["crime_group"] == crime_group and r["financial_year"] == financial_year]
    deciles = sorted((r for r in chosen if r["imd_deciles"] != "All"), key=lambda r: r["imd_deciles"])
    everyone = next((r for r in chosen if r["imd_deciles"] == "All"), None)
    title = f"{crime_group} per 1,000 residents by deprivation, {financial_year}"
    points = [
        charts.Point(
            f"Decile {r['imd_deciles']}",
            _float(r["rate_per_1000"]),
            suppressed=r["rate_per_1000"] is None and cells.row_suppressed(r),
        )
        for r in deciles
    ]
    most, least = (deciles[0], deciles[-1]) if deciles else (None, None)
    alt = f"Bar chart of {crime_group.lower()} rates by IMD decile (1 = most deprived)" + (
        f"; decile {most['imd_deciles']} {cells.number(most['rate_per_1000'], 2)} against "
        f"{cells.number(least['rate_per_1000'], 2)} in deciles {least['imd_deciles']}."
        if most and least
        else "."
    )
    svg = charts.interval_chart(
        figure_id,
        title,
        alt,
        points,
        "per 1,000 residents",
        reference=_float(everyone and everyone["rate_per_1000"]),
        reference_label=" Manchester",
    )
    table = Table(
        figure_id, f"Data: {title}", ["IMD deciles", "Population", "Count", "Rate per 1,000", "Ratio to least deprived"]
    )
    for r in [*deciles, *([everyone] if everyone else [])]:
        table.rows.append(
            [
                cells.text(r["imd_deciles"]),
                Cell(f"{int(r['population']):,}", "figure"),  # residents (census), not a count of events
                cells.count(r, "crime_count"),
                cells.figure(r, "rate_per_1000", 2, built_on=("crime_count",)),
                cells.figure(r, "rate_ratio_vs_least_deprived", 2, built_on=("crime_count",)),
            ]
        )
    caption = (
        "Deciles of the Index of Multiple Deprivation 2019 (1 = most deprived); the dashed line is the city's rate."
    )
    return Figure(figure_id, "gradient", Markup(svg), caption, table)


STAGES = {
    "stop_search": "Stop and search",
    "first_time_entry": "First-time entrants",
    "permanent_exclusion": "Permanent exclusions",
    "suspension": "Suspensions",
    "sv_perpetrator": "Serious violence suspects",
    "sv_victim": "Serious violence victims",
}


def disproportionality_figure(figure_id: str, rows: list[Mapping], stages: list[str], financial_year: str) -> Figure:
    """Relative rate index against White residents, with 95% intervals, per stage and ethnic group."""
    chosen = [
        r
        for r in rows
        if r["financial_year"] == financial_year
        and r["stage"] in stages
        and r["ethnic_group"] not in ("All", "White", "Not stated")
    ]
    chosen.sort(key=lambda r: (stages.index(r["stage"]), r["ethnic_group"]))
    title = f"Relative rate index against White residents, {financial_year}"
    points = [
        charts.Point(
            f"{STAGES.get(r['stage'], r['stage'])}: {r['ethnic_group']}",
            _float(r["relative_rate_index"]),
            _float(r["rri_lower_95"]),
            _float(r["rri_upper_95"]),
            r["relative_rate_index"] is None and cells.row_suppressed(r),
        )
        for r in chosen
    ]
    above = [p.label for p in points if p.lower is not None and p.lower > 1]
    alt = f"Dot chart of relative rate indices with 95% intervals for {len(points)} groups; " + (
        f"significantly above 1: {', '.join(above)}." if above else "none significantly above 1."
    )
    svg = charts.interval_chart(
        figure_id, title, alt, points, "relative rate index (White = 1)", reference=1.0, reference_label=" White = 1"
    )
    table = Table(
        figure_id,
        f"Data: {title}",
        ["Stage", "Ethnic group", "Records", "Rate per 1,000", "RRI", "95% interval", "Ethnicity recorded (%)"],
    )
    for r in chosen:
        table.rows.append(
            [
                cells.text(STAGES.get(r["stage"], r["stage"])),
                cells.text(r["ethnic_group"]),
                cells.count(r, "records"),
                cells.figure(r, "rate_per_1000", 2, built_on=("records",)),
                cells.figure(r, "relative_rate_index", 2, built_on=("records",)),
                cells.interval(r, "rri_lower_95", "rri_upper_95", 2, built_on=("records",)),
                cells.figure(r, "ethnicity_completeness_pct", 1),
            ]
        )
    caption = (
        "A relative rate index above 1 means a higher rate than for White residents; where the 95% interval is "
        "wholly above 1, the difference is unlikely to be chance. Rates use census 2021 populations."
    )
    return Figure(figure_id, "intervals", Markup(svg), caption, table)


def england_figures(rows: list[Mapping], financial_year: str) -> list[Figure]:
    """Each substance misuse indicator that has an England figure: Manchester with its interval, England beside it."""
    figures = []
    chosen = [
        r
        for r in rows
        if r["financial_year"] == financial_year
        and r["financial_quarter"] == "All"
        and r.get("england_value") is not None
    ]
    for i, r in enumerate(sorted(chosen, key=lambda r: (r["indicator"], r["substance_group"]))):
        label = f"{r['indicator'].replace('_', ' ').capitalize()} ({r['substance_group']})"
        figure_id = f"figure-england-{i + 1}"
        title = f"{label}, {financial_year}, against England"
        point = charts.Point(
            "Manchester",
            _float(r["value"]),
            _float(r["lower_95"]),
            _float(r["upper_95"]),
            r["value"] is None and cells.row_suppressed(r),
        )
        alt = (
            f"Manchester {cells.number(r['value'])} {r['unit']} (95% interval {cells.number(r['lower_95'])} to "
            f"{cells.number(r['upper_95'])}) against England {cells.number(r['england_value'])} "
            f"({r['england_period']})."
        )
        svg = charts.interval_chart(
            figure_id,
            title,
            alt,
            [point],
            r["unit"],
            markers=[_float(r["england_value"])],
            marker_label=f"England ({r['england_period']})",
        )
        table = Table(figure_id, f"Data: {title}", ["Area", "Value", "Count", "95% interval", "Comparison"])
        table.rows.append(
            [
                cells.text("Manchester"),
                cells.figure(r, "value", built_on=cells.KPI_COUNTS),
                cells.count(r, "numerator"),
                cells.interval(r, built_on=cells.KPI_COUNTS),
                cells.text(r["comparison_with_england"]),
            ]
        )
        table.rows.append(
            [
                cells.text(f"England ({r['england_period']})"),
                Cell(cells.number(r["england_value"]), "figure"),
                Cell(cells.NOT_AVAILABLE, "count"),
                cells.text(None),
                cells.text(None),
            ]
        )
        caption = f"{r['value_type']}. England: {r['england_source']}."
        figures.append(Figure(figure_id, "intervals", Markup(svg), caption, table))
    return figures
