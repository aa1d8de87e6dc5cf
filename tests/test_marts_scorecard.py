"""The quarterly scorecard after the README's pipeline: planted figures found back in it, the planted police
collapse shown as a data-quality problem rather than a fall in crime, and only publishable KPIs published."""

import pytest

from partnership import warehouse
from partnership.generator import PLANTED

pytestmark = pytest.mark.integration


def scorecard(run, where="true"):
    with warehouse.connect(run["url"]) as conn:
        cur = conn.execute(f"select * from marts.fct_partnership_scorecard where {where} order by quarter_start")
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]


def test_alcohol_admissions_are_found_at_the_planted_rate(pipeline_run):
    rows = scorecard(pipeline_run, "kpi_code = 'ALC_ADM' and geography = 'Manchester'")
    assert rows
    for row in rows:  # annualised per 100,000 residents
        assert float(row["value"]) == pytest.approx(PLANTED["alcohol_admissions_per_100k_year"], rel=0.08)


def test_the_police_collapse_is_not_rated_as_a_fall_in_crime(pipeline_run):
    # The fourth month generated (July 2024, the first run month being April) falls to 10% of the usual volume.
    rows = scorecard(pipeline_run, "kpi_code = 'VBC' and geography = 'Manchester'")
    by_quarter = {row["financial_year_quarter"]: row for row in rows}
    assert by_quarter["2024/25 Q2"]["data_quality_status"] == "Volume anomaly"
    assert by_quarter["2024/25 Q2"]["rag"] == "Not rated"
    assert by_quarter["2024/25 Q1"]["data_quality_status"] == "Passed"


def test_localities_add_up_to_the_city_for_crime_kpis(pipeline_run):
    rows = scorecard(pipeline_run, "kpi_code = 'SV_MCR'")
    for quarter in {row["financial_year_quarter"] for row in rows}:
        city = [
            r["numerator"] for r in rows if r["financial_year_quarter"] == quarter and r["geography_level"] == "City"
        ]
        localities = [
            r["numerator"]
            for r in rows
            if r["financial_year_quarter"] == quarter and r["geography_level"] == "Locality"
        ]
        assert len(localities) == 3 and city == [sum(localities)]


def test_only_publishable_kpis_are_published(pipeline_run):
    with warehouse.connect(pipeline_run["url"]) as conn:
        published = {r[0] for r in conn.execute("select distinct kpi_code from publish.pub_partnership_scorecard")}
        internal = {
            r[0]
            for r in conn.execute("select kpi_code from reference.kpi_definitions where publication = 'internal_only'")
        }
    assert published and internal and not published & internal
