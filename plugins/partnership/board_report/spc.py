"""The statistical process control chart's centre line and process limits, from published values only.

The warehouse keeps the scorecard's limits internal (fct_partnership_scorecard): they are averages of baseline
quarters, so published beside a suppressed baseline value they could give it back. The publish table says which
quarters are the baseline (``is_baseline``); where every one of them, and every clean quarter between them, is
published, the limits are a function of published figures and the report draws them, by the same method
(Making Data Count XmR: centre line the baseline mean, limits +/- 2.66 mean moving ranges of consecutive clean
baseline points, seasonal effects where the baseline has each quarter of the year twice). Otherwise it says why
not. Values are published to 2 decimal places, so the limits can differ from the internal ones in the last place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CLEAN = ("Passed", "Passed with warnings")  # the gate passed the quarter's inputs (fct: is_clean)
MIN_BASELINE_POINTS = 6  # dbt var spc_min_baseline_points
SIGMA = 2.66


@dataclass(frozen=True)
class Limits:
    centre: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Chart:
    """Each quarter's limits (they differ by quarter of the year when seasonally adjusted), or why there are none."""

    limits: dict[str, Limits]
    baseline_points: int
    reason: str = ""


def _quarter_of_year(label: str) -> int:
    return int(label[-1])


def control_chart(history: list[Mapping]) -> Chart:
    """``history``: one KPI's rows for one geography, oldest first (every quarter published, not only the shown)."""
    baseline = [r for r in history if r.get("is_baseline")]
    if len(baseline) < MIN_BASELINE_POINTS:  # the scorecard marks a baseline once it has enough quarters
        return Chart({}, len(baseline), f"not drawn: no baseline yet (it needs {MIN_BASELINE_POINTS} clean quarters)")
    first, last = history.index(baseline[0]), history.index(baseline[-1])
    clean = [r for r in history if r["data_quality_status"] in CLEAN]
    between = [r for r in history[first : last + 1] if r["data_quality_status"] in CLEAN]
    if any(r["value"] is None for r in between):
        return Chart({}, len(baseline), "not drawn: a baseline quarter's value is suppressed")
    values = [float(r["value"]) for r in baseline]
    mean = sum(values) / len(values)
    effects = {q: 0.0 for q in range(1, 5)}
    if baseline[0].get("is_seasonally_adjusted"):
        for q in effects:
            of_q = [float(r["value"]) for r in baseline if _quarter_of_year(r["financial_year_quarter"]) == q]
            effects[q] = sum(of_q) / len(of_q) - mean

    def adjusted(row: Mapping) -> float:
        return float(row["value"]) - effects[_quarter_of_year(row["financial_year_quarter"])]

    ranges = [
        abs(adjusted(now) - adjusted(before))
        for before, now in zip(clean, clean[1:], strict=False)
        if before.get("is_baseline") and now.get("is_baseline")
    ]
    spread = SIGMA * sum(ranges) / len(ranges) if ranges else 0.0
    limits = {}
    for row in history:
        centre = mean + effects[_quarter_of_year(row["financial_year_quarter"])]
        limits[row["financial_year_quarter"]] = Limits(
            round(centre, 2), round(max(centre - spread, 0), 2), round(centre + spread, 2)
        )
    return Chart(limits, len(baseline))
