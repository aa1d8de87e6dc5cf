"""The quarterly scorecard after the README's pipeline: planted figures found back in it with their confidence
intervals, the planted police collapse shown as a data-quality problem rather than a fall in crime (and kept out
of the SPC baseline), ratings only from statistical process control, and only publishable KPIs published.
The SPC rules themselves are proved by the dbt unit tests in dbt/models/marts/scorecard/_scorecard__models.yml
(the pipeline's six months are too few quarters for a baseline)."""

import pytest

from partnership import warehouse
from partnership.demo.generator import PLANTED

pytestmark = pytest.mark.integration


def scorecard(run, where="true"):
    with warehouse.connect(run["url"]) as conn:
        cur = conn.execute(f"select * from marts.fct_partnership_scorecard where {where} order by quarter_start")
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]


def test_alcohol_admissions_are_found_at_the_planted_rate(pipeline_run):
    # The generator plants its rate on its synthetic population; the scorecard divides by Census 2021 residents
    # (dim_population, 551,944), so the rate it should find is the plant scaled by the two totals.
    with warehouse.connect(pipeline_run["url"]) as conn:
        (synthetic,) = conn.execute("select sum(population) from staging.stg_reference__lsoa_population").fetchone()
        (census,) = conn.execute(
            "select sum(population) from marts.dim_population where district_code = 'E08000003'"
        ).fetchone()
    expected = PLANTED["alcohol_admissions_per_100k_year"] * float(synthetic) / float(census)
    rows = scorecard(pipeline_run, "kpi_code = 'ALC_ADM' and geography = 'Manchester'")
    assert rows
    for row in rows:  # annualised per 100,000 residents
        assert float(row["value"]) == pytest.approx(expected, rel=0.08)
        # The interval a Board reads beside it: Byar's limits of the count, over the same person-years.
        assert float(row["lower_95"]) < float(row["value"]) < float(row["upper_95"])
        assert row["interval_method"].startswith("Poisson")


def test_every_kpi_carries_its_interval_and_a_proportion_stays_within_0_and_100(pipeline_run):
    rows = scorecard(pipeline_run, "value is not null")
    assert rows
    for row in rows:
        assert row["lower_95"] is not None and row["upper_95"] is not None, row["kpi_code"]
        assert float(row["lower_95"]) <= float(row["value"]) <= float(row["upper_95"]), row["kpi_code"]
    exits = [r for r in rows if r["kpi_code"] == "ALC_EXIT"]
    assert exits and all(r["interval_method"] == "Wilson score" for r in exits)
    assert all(0 <= float(r["lower_95"]) and float(r["upper_95"]) <= 100 for r in exits)


def test_the_police_collapse_is_not_rated_as_a_fall_in_crime(pipeline_run):
    # The fourth month generated (July 2024, the first run month being April) falls to 10% of the usual volume.
    rows = scorecard(pipeline_run, "kpi_code = 'VBC' and geography = 'Manchester'")
    by_quarter = {row["financial_year_quarter"]: row for row in rows}
    assert by_quarter["2024/25 Q2"]["data_quality_status"] == "Volume anomaly"
    assert by_quarter["2024/25 Q2"]["rating"] == "Not rated"
    assert by_quarter["2024/25 Q2"]["variation"] == "Not rated"
    assert not by_quarter["2024/25 Q2"]["is_baseline"]  # never part of the chart's baseline
    # Q1 is clean, though its files may carry warnings (historic offence dates load with a warning).
    assert by_quarter["2024/25 Q1"]["data_quality_status"] in ("Passed", "Passed with warnings")


def test_no_rating_without_enough_clean_quarters_for_a_baseline(pipeline_run):
    # Six months give at most two clean quarters: too few for process limits, so nothing is called special
    # cause (the old fixed tolerance would have rated a quarter against a single earlier one).
    rows = scorecard(pipeline_run)
    assert rows
    assert {r["rating"] for r in rows} <= {"No baseline", "Not rated"}
    assert all(r["centre_line"] is None and r["upper_process_limit"] is None for r in rows)


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
    with warehouse.connect(pipeline_run["url"]) as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'publish' and table_name = 'pub_partnership_scorecard'"
            )
        }
    # The interval and the rating are published; the chart's centre line and limits (averages of earlier
    # quarters, which could give back a suppressed value) are not.
    assert {"lower_95", "upper_95", "rating", "variation"} <= columns
    assert not {"centre_line", "lower_process_limit", "upper_process_limit"} & columns
