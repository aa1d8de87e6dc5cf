"""The services marts (ASB requests and Case Reviews, drugs and alcohol) after the README's pipeline: the figures
the generator plants are found back in the marts (not the staging views) within the tolerances stated here,
the shares add up, the publish tables agree with the marts, and `partnership run` wrote the dbt docs site with
its exposures. Tolerances allow for sampling noise at the test's scale (6 months, scale 1)."""

import json
from decimal import Decimal

import pytest

from partnership import warehouse
from partnership.generator import MONTHLY_VOLUME, PLANTED

pytestmark = pytest.mark.integration


def rows(run, sql, *params):
    with warehouse.connect(run["url"]) as conn:
        return [
            tuple(float(v) if isinstance(v, Decimal) else v for v in row)
            for row in conn.execute(sql, params).fetchall()
        ]


def value(run, sql, *params):
    return rows(run, sql, *params)[0][0]


# -- ASB requests -------------------------------------------------------------------------------------------


def test_asb_requests_reconcile_with_the_council_extract(pipeline_run):
    in_mart = value(pipeline_run, "select sum(requests) from marts.fct_asb_requests")
    in_staging = value(pipeline_run, "select count(*) from staging.stg_council__asb_requests")
    assert in_mart == in_staging
    # Planted: 250 requests a month at scale 1 (5% noise per month).
    per_month = value(
        pipeline_run, "select avg(n) from (select sum(requests) n from marts.fct_asb_requests group by month_start) m"
    )
    assert per_month == pytest.approx(MONTHLY_VOLUME["council__asb_requests"] * pipeline_run["scale"], rel=0.08)


def test_asb_covid_share_arithmetic(pipeline_run):
    for table in ("fct_asb_requests", "fct_asb_requests_by_financial_year"):
        wrong = value(
            pipeline_run,
            f"""select count(*) from marts.{table}
                where covid_related_requests > requests
                   or covid_related_pct <> round(100.0 * covid_related_requests / requests, 1)""",
        )
        assert wrong == 0, table
    # The year roll-up is the sum of the months, and its share comes from the summed counts.
    (year_rows,) = [
        rows(
            pipeline_run,
            """select y.requests, y.covid_related_requests, y.covid_related_pct, y.months_covered,
                      sum(m.requests), sum(m.covid_related_requests), count(distinct m.month_start)
               from marts.fct_asb_requests_by_financial_year y
               join marts.fct_asb_requests m using (financial_year)
               group by 1, 2, 3, 4""",
        )
    ]
    for requests, covid, pct, months, summed_requests, summed_covid, summed_months in year_rows:
        assert (requests, covid, months) == (summed_requests, summed_covid, summed_months)
        assert pct == pytest.approx(round(100 * covid / requests, 1))
    # Planted: 2% of requests Covid-related outside the pandemic (40% from March 2020 to March 2022).
    share = value(
        pipeline_run,
        "select sum(covid_related_requests)::numeric / sum(requests) from marts.fct_asb_requests "
        "where month_start >= date '2022-04-01'",
    )
    assert share == pytest.approx(0.02, abs=0.015)


def test_published_asb_totals_match_the_marts(pipeline_run):
    year = rows(
        pipeline_run, "select financial_year, requests from marts.fct_asb_requests_by_financial_year order by 1"
    )
    by_month = rows(
        pipeline_run,
        "select financial_year, requests from publish.pub_asb_requests_by_month "
        "where month = 'All' and category = 'All' order by 1",
    )
    by_ward = rows(
        pipeline_run,
        "select financial_year, requests from publish.pub_asb_requests_by_ward_financial_year "
        "where ward_code = 'All' order by 1",
    )
    assert year == by_month == by_ward


# -- ASB Case Reviews ---------------------------------------------------------------------------------------


def test_asb_case_reviews_add_up(pipeline_run):
    opened, outcomes, met = rows(
        pipeline_run,
        """select sum(reviews_opened), sum(action_plan_agreed + referred_to_another_agency + no_further_action
                      + still_open + other_outcome), sum(threshold_met + threshold_not_met)
           from marts.fct_asb_case_reviews""",
    )[0]
    assert opened == outcomes == met
    assert opened == value(pipeline_run, "select count(*) from staging.stg_council__asb_case_reviews")
    # Planted: 2 a month at scale 1 with 5% noise, truncated to a whole number, so 1 or 2 a month (the
    # strategy's 67 in four years is about 1.4 a month).
    assert pipeline_run["months"] <= opened <= MONTHLY_VOLUME["council__asb_case_reviews"] * pipeline_run["months"]
    # Action plans follow applications by 10 to 40 days.
    low, high = rows(
        pipeline_run,
        "select min(median_days_to_action_plan), max(median_days_to_action_plan) from marts.fct_asb_case_reviews",
    )[0]
    assert 10 <= low <= high <= 40


# -- Drugs and alcohol --------------------------------------------------------------------------------------


def test_alcohol_admissions_run_at_about_1066_per_100000_a_year(pipeline_run):
    rate, months, england = rows(
        pipeline_run,
        """select value, months_covered, england_value from marts.fct_substance_misuse
           where indicator = 'alcohol_specific_admissions_per_100k' and period_type = 'Financial year'
           order by months_covered desc limit 1""",
    )[0]
    assert months == pipeline_run["months"]  # a part year, annualised x 12 / months
    # Planted 1,066 a year on the synthetic population, with 3% noise a month: within 5%.
    assert rate == pytest.approx(PLANTED["alcohol_admissions_per_100k_year"], rel=0.05)
    assert england == 644  # the strategy's England comparator (seed england_comparators), shown beside it
    # Quarters are annualised the same way, so they read on the same scale.
    for (quarter_rate,) in rows(
        pipeline_run,
        """select value from marts.fct_substance_misuse
           where indicator = 'alcohol_specific_admissions_per_100k' and period_type = 'Financial quarter'
             and months_covered = 3""",
    ):
        assert quarter_rate == pytest.approx(PLANTED["alcohol_admissions_per_100k_year"], rel=0.08)


def test_alcohol_treatment_exits_are_59_percent_successful_in_the_mart(pipeline_run):
    successful, exits = rows(
        pipeline_run,
        """select sum(numerator), sum(denominator) from marts.fct_substance_misuse
           where indicator = 'successful_treatment_exits_pct' and substance_group = 'Alcohol only'
             and period_type = 'Financial year'""",
    )[0]
    # About 110 alcohol exits in six months: one standard error is about 4.7 points; allow two.
    assert exits > 50
    assert successful / exits == pytest.approx(PLANTED["alcohol_exits_successful"], abs=0.10)
    # Every substance group adds up to the 'All' row, and England's 62% sits beside the alcohol rows.
    mismatched = value(
        pipeline_run,
        """select count(*) from (
               select period_type, period, indicator,
                      sum(numerator) filter (where substance_group <> 'All') as parts,
                      sum(numerator) filter (where substance_group = 'All') as total
               from marts.fct_substance_misuse where indicator <> 'alcohol_specific_admissions_per_100k'
               group by 1, 2, 3) t
           where parts <> total""",
    )
    assert mismatched == 0
    england = {
        v
        for (v,) in rows(
            pipeline_run,
            "select distinct england_value from marts.fct_substance_misuse "
            "where indicator = 'successful_treatment_exits_pct' and substance_group = 'Alcohol only'",
        )
    }
    assert england == {62}


def test_criminal_justice_referrals_into_treatment(pipeline_run):
    referrals, started = rows(
        pipeline_run,
        """select numerator, denominator from marts.fct_substance_misuse
           where indicator = 'criminal_justice_referrals_pct' and substance_group = 'All'
             and period_type = 'Financial year' order by denominator desc limit 1""",
    )[0]
    assert referrals == value(
        pipeline_run,
        "select count(*) from staging.stg_health__treatment_episodes where referral_source = 'Criminal justice'",
    )
    # Planted: 30 in 100 referrals come from criminal justice (generator.REFERRALS); about 720 starts.
    assert referrals / started == pytest.approx(0.30, abs=0.05)


def test_published_substance_misuse_keeps_the_large_figures(pipeline_run):
    rate, england = rows(
        pipeline_run,
        """select value, england_value from publish.pub_substance_misuse
           where indicator = 'alcohol_specific_admissions_per_100k' and financial_quarter = 'All'
           order by months_covered desc limit 1""",
    )[0]
    assert rate == pytest.approx(PLANTED["alcohol_admissions_per_100k_year"], rel=0.05)
    assert england == 644
    small = value(
        pipeline_run,
        "select count(*) from publish.pub_substance_misuse "
        "where numerator between 1 and 9 or denominator between 1 and 9",
    )
    assert small == 0


# -- dbt docs and exposures ---------------------------------------------------------------------------------


def test_dbt_docs_site_is_written_with_the_exposures(pipeline_run):
    site = pipeline_run["data"] / "docs" / "dbt"
    for name in ("index.html", "manifest.json", "catalog.json", "static_index.html"):
        assert (site / name).stat().st_size > 0, name
    assert str(site / "index.html") in pipeline_run["result"].stdout  # listed under "Where the results are"

    manifest = json.loads((site / "manifest.json").read_text())
    report = manifest["exposures"]["exposure.partnership.csp_quarterly_report"]
    assert report["type"] == "analysis"
    assert report["owner"]["name"] == "Partnership Analytical Team"
    assert "model.partnership.pub_substance_misuse" in report["depends_on"]["nodes"]
    assert "exposure.partnership.scrutiny_committee_update" in manifest["exposures"]
    # Published outputs read only publish models (built into publish_staging; protected copies in publish).
    for exposure in manifest["exposures"].values():
        if not exposure["meta"].get("published"):
            continue
        for node in exposure["depends_on"]["nodes"]:
            assert manifest["nodes"][node]["fqn"][1] == "publish", (exposure["name"], node)

    catalog = json.loads((site / "catalog.json").read_text())
    assert "model.partnership.fct_substance_misuse" in catalog["nodes"]  # the catalog describes the built tables
