"""The strategy marts (domestic abuse and VAWG, hate crime by strand, repeat locations, probation reoffending,
the trend against 2019/20, ward profiles) after the README's pipeline has run: each reconciles with the
intermediate models it is built from, its published version went through disclosure control, and (without a
warehouse) none of them reads the staging layer. The definitions themselves are proved by the dbt unit tests
with hand-worked rows in their yml files (dbt/models/marts/{vawg,places,reoffending,trend}/)."""

import json

import pytest

from partnership import warehouse

MARTS = {
    "fct_domestic_abuse_and_vawg": "pub_domestic_abuse_and_vawg",
    "fct_hate_crime_by_strand": "pub_hate_crime_by_strand",
    "fct_repeat_locations": "pub_repeat_locations",
    "fct_kpi_trend_vs_2019_20": "pub_kpi_trend_vs_2019_20",
}


def rows(run, sql, *params):
    with warehouse.connect(run["url"]) as conn:
        return conn.execute(sql, params).fetchall()


def value(run, sql, *params):
    return rows(run, sql, *params)[0][0]


# -- layers and declarations (dbt parse only) ---------------------------------------------------------------


def test_the_strategy_marts_read_no_staging_model_and_each_has_a_declared_publish_version(dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for mart, published in MARTS.items():
        parents = {manifest["nodes"][p]["name"] for p in models[mart]["depends_on"]["nodes"] if p in manifest["nodes"]}
        assert not {p for p in parents if p.startswith("stg_")}, f"{mart} reads staging: {sorted(parents)}"
        assert models[mart]["config"]["meta"]["publication"] == "publishable"
        assert models[published]["config"]["meta"]["disclosure"]["counts"], published
        assert models[mart]["unique_id"] in models[published]["depends_on"]["nodes"]
    # Reoffending reads no staging model either, and stays internal: the probation agreement lets no aggregate
    # of the caseload leave the analysts (registry probation__caseload), so nothing in publish is built on it.
    # The ward profile stays internal too (its counts are published by ward and quarter already).
    starts = "model.partnership.int_probation_caseload_starts"
    assert starts in models["fct_probation_reoffending"]["depends_on"]["nodes"]
    for name in ("fct_probation_reoffending", "fct_ward_profile"):
        mart = models[name]
        assert not [p for p in mart["depends_on"]["nodes"] if manifest["nodes"][p]["name"].startswith("stg_")], name
        assert mart["config"]["meta"]["publication"] == "internal_only", name
        readers = [n for n in models.values() if mart["unique_id"] in n["depends_on"]["nodes"]]
        assert not [n["name"] for n in readers if n["fqn"][1] == "publish"], name


# -- the marts against what they are built from (the README's pipeline) --------------------------------------


@pytest.mark.integration
def test_domestic_abuse_crimes_reconcile_and_victims_bound_repeats(pipeline_run):
    for category, flag in (("Domestic abuse", "is_domestic_abuse"), ("VAWG", "is_vawg")):
        mart = dict(
            rows(
                pipeline_run,
                "select financial_year_quarter, crimes from marts.fct_domestic_abuse_and_vawg where category = %s",
                category,
            )
        )
        source = dict(
            rows(
                pipeline_run,
                "select financial_year_quarter, count(*) from intermediate.int_crimes_classified"
                f" where {flag} group by 1",
            )
        )
        assert mart and mart == source, category
    for victims, repeats, crimes, charged in rows(
        pipeline_run,
        "select victims, repeat_victims, crimes, charged_or_summonsed from marts.fct_domestic_abuse_and_vawg",
    ):
        assert 0 <= repeats <= victims <= crimes and charged <= crimes


@pytest.mark.integration
def test_hate_strands_add_up_to_all_and_victims_do_not_exceed_the_sum(pipeline_run):
    for quarter, crimes, all_crimes, victims, all_victims in rows(
        pipeline_run,
        """select financial_year_quarter,
                  sum(crimes) filter (where hate_strand <> 'All'), max(crimes) filter (where hate_strand = 'All'),
                  sum(victims) filter (where hate_strand <> 'All'), max(victims) filter (where hate_strand = 'All')
        from marts.fct_hate_crime_by_strand group by 1""",
    ):
        assert crimes == all_crimes, quarter
        assert all_victims <= victims, quarter
    total = value(pipeline_run, "select count(*) from intermediate.int_crimes_classified where hate_strand is not null")
    assert total > 0
    published = value(pipeline_run, "select sum(crimes) from marts.fct_hate_crime_by_strand where hate_strand = 'All'")
    assert published == total


@pytest.mark.integration
def test_repeat_locations_cover_every_manchester_lsoa_and_follow_the_threshold(pipeline_run):
    lsoas = value(pipeline_run, "select count(distinct lsoa_code) from marts.fct_repeat_locations")
    assert lsoas > 250  # Manchester's LSOAs (282 in 2011, 295 in 2021)
    for quarter, count, repeats, wrong in rows(
        pipeline_run,
        """select financial_year_quarter, count(*), count(*) filter (where is_repeat_location),
                  count(*) filter (where is_repeat_location
                                   <> (events_12m >= greatest(2, 2 * median_lsoa_events_12m)))
        from marts.fct_repeat_locations group by 1""",
    ):
        assert count == lsoas, quarter
        assert wrong == 0 and 0 < repeats < count, quarter


@pytest.mark.integration
def test_reoffending_counts_every_person_on_the_caseload_once(pipeline_run):
    people = value(pipeline_run, "select count(distinct person_key) from staging.stg_probation__caseload")
    starting, followed, reoffenders = rows(
        pipeline_run,
        """select sum(people_starting), sum(people_followed_up), sum(reoffenders)
        from marts.fct_probation_reoffending where cohort = 'All' and accommodation_at_start = 'All'""",
    )[0]
    assert people > 0 and starting == people
    # Six months of crimes: nobody's twelve months are complete, so no rate yet (rather than a rate too low).
    assert followed == 0 and reoffenders == 0
    assert value(pipeline_run, "select count(reoffending_rate_pct) from marts.fct_probation_reoffending") == 0


@pytest.mark.integration
def test_the_trend_uses_the_scorecards_numerators(pipeline_run):
    differences = value(
        pipeline_run,
        """select count(*) from marts.fct_kpi_trend_vs_2019_20 as trend
        inner join intermediate.int_kpi_values_by_quarter as kpi
            on kpi.kpi_code = trend.kpi_code and kpi.geography_level = 'City'
            and kpi.financial_year_quarter = trend.financial_year || ' ' || trend.quarter
        where kpi.numerator <> trend.numerator""",
    )
    assert differences == 0
    assert value(pipeline_run, "select count(*) from marts.fct_kpi_trend_vs_2019_20 where quarter <> 'All'") > 0
    # The README's run starts in April 2024: no 2019/20 data, so no baseline and no change, never a made-up one.
    assert value(pipeline_run, "select count(pct_change_vs_2019_20) from marts.fct_kpi_trend_vs_2019_20") == 0


@pytest.mark.integration
def test_ward_profiles_add_up_to_localities_and_the_city(pipeline_run):
    city = rows(
        pipeline_run,
        """select financial_year, crimes, asb_incidents from marts.fct_ward_profile
        where locality = 'All' and ward_code = 'All' order by 1""",
    )
    wards = rows(
        pipeline_run,
        """select financial_year, sum(crimes), sum(asb_incidents) from marts.fct_ward_profile
        where ward_code <> 'All' group by 1 order by 1""",
    )
    assert city and city == wards
    crimes = value(
        pipeline_run,
        """select count(*) from intermediate.int_crimes_classified
        where ward_code in (select ward_code from marts.fct_ward_profile where ward_code <> 'All')""",
    )
    assert sum(r[1] for r in city) == crimes


@pytest.mark.integration
def test_the_published_versions_show_no_small_count(pipeline_run, dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text())
    declared = {
        n["name"]: n["config"]["meta"]["disclosure"] for n in manifest["nodes"].values() if n["name"] in MARTS.values()
    }
    for table, disclosure in declared.items():
        assert value(pipeline_run, f"select count(*) from publish.{table}") > 0, table
        for count in disclosure["counts"]:
            small = value(pipeline_run, f"select count(*) from publish.{table} where {count} between 1 and 9")
            flagged = value(pipeline_run, f"select count(*) from publish.{table} where {count}_suppressed")
            assert small == 0, (table, count)
            # Every count hidden by protection is flagged; a count that does not apply (a year row's victims,
            # say) is null before protection too, and is not.
            hidden = value(pipeline_run, f"select count(*) from publish.{table} where {count} is null")
            not_applicable = value(pipeline_run, f"select count(*) from publish_staging.{table} where {count} is null")
            assert flagged == hidden - not_applicable, (table, count)
