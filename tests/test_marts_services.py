"""The services marts (ASB requests and Case Reviews, drugs and alcohol) after the README's pipeline: the figures
the generator plants are found back in the marts (not the staging views) within the tolerances stated here,
the shares add up, the publish tables agree with the marts, and `partnership run` wrote the dbt docs site with
its exposures. Tolerances allow for sampling noise at the test's scale (6 months, scale 1)."""

import json
from decimal import Decimal

import pytest

from partnership import warehouse
from partnership.demo.generator import ADMISSION_AGE_BANDS, PLANTED
from partnership.registry import get_dataset

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
    rows_per_month = get_dataset("council__asb_requests").generation.rows_per_month
    assert per_month == pytest.approx(rows_per_month * pipeline_run["scale"], rel=0.08)


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
    reviews_a_month = get_dataset("council__asb_case_reviews").generation.rows_per_month
    assert pipeline_run["months"] <= opened <= reviews_a_month * pipeline_run["months"]
    # Action plans follow applications by 10 to 40 days.
    low, high = rows(
        pipeline_run,
        "select min(median_days_to_action_plan), max(median_days_to_action_plan) from marts.fct_asb_case_reviews",
    )[0]
    assert 10 <= low <= high <= 40


# -- Drugs and alcohol --------------------------------------------------------------------------------------


def planted_alcohol_rates(run):
    """The crude rate and DSR per 100,000 a year the generator's plant implies on Census 2021 and ESP 2013.

    The generator plants 1,066 admissions per 100,000 of its synthetic population a year, spread over the
    extract's age bands in fixed shares; the mart divides by Manchester's Census 2021 residents by age and
    standardises on ESP 2013, so the expected figures are worked out here from the same reference seeds."""
    synthetic = value(run, "select sum(population) from staging.stg_reference__lsoa_population")
    admissions_a_year = PLANTED["alcohol_admissions_per_100k_year"] * float(synthetic) / 100_000
    residents = dict(
        rows(
            run,
            """select age, population from reference.census2021_population_by_age_district
               where district_code = 'E08000003' and sex = 'persons'""",
        )
    )
    esp_by_age = {}
    esp = "select min_age, coalesce(max_age, min_age), standard_population from reference.esp2013"
    for low, high, standard in rows(run, esp):
        for age in range(low, high + 1):
            esp_by_age[age] = standard / (high - low + 1)
    bands = {"0-17": (0, 17), "18-24": (18, 24), "25-34": (25, 34), "35-49": (35, 49), "50-64": (50, 64)}
    bands["65+"] = (65, 90)  # Census 2021's 90 is "90 and over"
    shares = {band: weight / sum(ADMISSION_AGE_BANDS.values()) for band, weight in ADMISSION_AGE_BANDS.items()}
    dsr = (
        sum(
            sum(esp_by_age[a] for a in range(low, high + 1))
            * admissions_a_year
            * shares[band]
            / sum(residents[a] for a in range(low, high + 1))
            for band, (low, high) in bands.items()
        )
        / sum(esp_by_age.values())
        * 100_000
    )  # the standard population is 100,000
    crude = admissions_a_year / sum(residents.values()) * 100_000
    return crude, dsr


def test_alcohol_admissions_are_age_standardised_with_intervals_against_englands_dsr(pipeline_run):
    (row,) = rows(
        pipeline_run,
        """select value, lower_95, upper_95, crude_value, months_covered, denominator, england_value,
                  england_value_type, comparison_with_england
           from marts.fct_substance_misuse
           where indicator = 'alcohol_specific_admissions_per_100k' and period_type = 'Financial year'
           order by months_covered desc limit 1""",
    )
    dsr, lower, upper, crude, months, residents, england, england_type, comparison = row
    assert months == pipeline_run["months"]  # a part year, annualised (person-years = residents x months / 12)
    assert residents == 551_944  # Census 2021 Manchester, the published figure
    planted_crude, planted_dsr = planted_alcohol_rates(pipeline_run)
    # Planted rate with 3% noise a month: within 5%. Manchester is young and its admissions are in middle age,
    # so the age-standardised rate a Board sees is well above the crude one.
    assert crude == pytest.approx(planted_crude, rel=0.05)
    assert dsr == pytest.approx(planted_dsr, rel=0.05)
    assert dsr > crude * 1.1
    # Every rate carries its 95% interval, and England's figure is a DSR too: the judgement is from the interval.
    assert lower < dsr < upper and upper - lower < 0.2 * dsr
    assert england == 644 and england_type.startswith("Directly age-standardised")
    assert comparison == "Significantly higher than England"
    # Quarters are annualised the same way, so they read on the same scale, each with its interval.
    for quarter_dsr, quarter_lower, quarter_upper in rows(
        pipeline_run,
        """select value, lower_95, upper_95 from marts.fct_substance_misuse
           where indicator = 'alcohol_specific_admissions_per_100k' and period_type = 'Financial quarter'
             and months_covered = 3""",
    ):
        assert quarter_dsr == pytest.approx(planted_dsr, rel=0.08)
        assert quarter_lower < quarter_dsr < quarter_upper


def test_every_substance_misuse_figure_carries_an_interval(pipeline_run):
    missing = value(
        pipeline_run,
        """select count(*) from marts.fct_substance_misuse
           where value is not null and (lower_95 is null or upper_95 is null
                                        or not (lower_95 <= value and value <= upper_95))""",
    )
    assert missing == 0
    # Percentages' Wilson limits stay within 0-100.
    outside = value(
        pipeline_run,
        "select count(*) from marts.fct_substance_misuse where unit like '%%of%%' and (lower_95 < 0 or upper_95 > 100)",
    )
    assert outside == 0


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
    # Manchester's share is judged against England's by its Wilson interval, never by the point alone.
    judged = rows(
        pipeline_run,
        """select value, lower_95, upper_95, comparison_with_england from marts.fct_substance_misuse
           where indicator = 'successful_treatment_exits_pct' and substance_group = 'Alcohol only'""",
    )
    for pct, lower, upper, comparison in judged:
        if pct is None:
            continue
        expected = (
            "Significantly higher than England"
            if lower > 62
            else "Significantly lower than England"
            if upper < 62
            else "Similar to England"
        )
        assert comparison == expected


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
    rate, lower, upper, england, comparison = rows(
        pipeline_run,
        """select value, lower_95, upper_95, england_value, comparison_with_england
           from publish.pub_substance_misuse
           where indicator = 'alcohol_specific_admissions_per_100k' and financial_quarter = 'All'
           order by months_covered desc limit 1""",
    )[0]
    assert rate == pytest.approx(planted_alcohol_rates(pipeline_run)[1], rel=0.05)
    assert lower < rate < upper
    assert england == 644 and comparison == "Significantly higher than England"
    # Where a count is withheld, so are the figures built on it: the rate, its interval, the judgement.
    leaked = value(
        pipeline_run,
        """select count(*) from publish.pub_substance_misuse
           where (numerator is null or (denominator is null and indicator <> 'alcohol_specific_admissions_per_100k'))
             and (value is not null or lower_95 is not null or upper_95 is not null
                  or crude_value is not null or comparison_with_england is not null)""",
    )
    assert leaked == 0
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
    # Every model, seed and source is in the catalog, each model with its compiled SQL; tests are listed too.
    built = {k for k, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed", "snapshot")}
    assert set(catalog["nodes"]) == built
    assert set(catalog["sources"]) == set(manifest["sources"])
    assert all(manifest["nodes"][k]["compiled_code"] for k in built if k.startswith("model."))
    assert any(n["resource_type"] == "test" for n in manifest["nodes"].values())
