"""The people-centred marts (dbt/models/marts/people/) find back the figures the generator plants, within the
tolerances stated here, after the README's pipeline has run (6 months at scale 1); and the person-level base
of the cross-agency cohort stays out of analysts' reach."""

from decimal import Decimal

import psycopg
import pytest

from partnership import security, warehouse
from partnership.generator import PLANTED

pytestmark = pytest.mark.integration


def value(run, sql, *params):
    with warehouse.connect(run["url"]) as conn:
        result = conn.execute(sql, params).fetchone()[0]
    return float(result) if isinstance(result, Decimal) else result


def test_planted_repeat_victims_are_found_in_the_latest_quarter(pipeline_run):
    planted = PLANTED["repeat_victims_per_scale"] * pipeline_run["scale"]
    latest = """
        select repeat_victims from marts.fct_repeat_victimisation
        where category_scheme = 'offence_group' and crime_category = 'All'
        order by quarter_start desc limit 1
    """
    # Each planted repeat victim is a victim every other month: by the end of the second quarter every one of
    # them has had three crimes, and is a victim in that quarter. The rest are people who happened to be
    # victims twice among the city's ~3,000 victims (about 40 at this scale), hence the one-sided margin.
    assert planted <= value(pipeline_run, latest) <= 1.5 * planted
    # By the end of the first quarter only half of them (those victims in months 1 and 3) have had two.
    first = latest.replace("desc", "asc")
    assert planted / 2 <= value(pipeline_run, first) <= 0.75 * planted


def test_the_planted_cohort_is_known_to_police_youth_justice_and_education(pipeline_run):
    planted = PLANTED["cohort_size_per_scale"] * pipeline_run["scale"]
    cohort = value(
        pipeline_run,
        """select sum(people) from marts.fct_cohort_overlap
        where known_to_police and known_to_youth_justice and known_to_education""",
    )
    # Every planted member is a police suspect, a youth-justice child and excluded or suspended; young people
    # drawn at random rarely meet all three (a handful at most at this scale).
    assert 0.97 * planted <= cohort <= 1.05 * planted
    # The combination label agrees with the flags, with or without A&E.
    labelled = value(
        pipeline_run,
        """select sum(people) from marts.fct_cohort_overlap
        where agency_combination in ('police+youth_justice+education', 'police+youth_justice+education+ae_violence')""",
    )
    assert labelled == cohort


def test_stop_and_search_falls_on_black_people_at_about_three_times_their_share(pipeline_run):
    rri = value(
        pipeline_run,
        """select relative_rate_index from marts.fct_disproportionality
        where stage = 'stop_search' and ethnic_group = 'Black' order by financial_year desc limit 1""",
    )
    # Planted: 30% of searches on Black people (12% of residents) and 49% on White (57%): an RRI of about 2.9;
    # about 750 searches leave it within +-0.3 or so.
    assert 2.5 <= rri <= 3.3
    white = value(
        pipeline_run,
        "select max(relative_rate_index) from marts.fct_disproportionality where ethnic_group = 'White'",
    )
    assert white == 1.0


def test_publish_tables_show_the_cohort_and_rri_with_small_counts_suppressed(pipeline_run):
    published = value(
        pipeline_run,
        """select people from publish.pub_cohort_overlap
        where agency_combination = 'All' and age_band = 'All' and locality = 'All'""",
    )
    assert published == value(pipeline_run, "select sum(people) from marts.fct_cohort_overlap")
    assert value(pipeline_run, "select count(*) from publish.pub_cohort_overlap where people between 1 and 9") == 0
    assert value(
        pipeline_run,
        """select relative_rate_index from publish.pub_disproportionality
        where stage = 'stop_search' and ethnic_group = 'Black' order by financial_year desc limit 1""",
    ) == value(
        pipeline_run,
        """select relative_rate_index from marts.fct_disproportionality
        where stage = 'stop_search' and ethnic_group = 'Black' order by financial_year desc limit 1""",
    )


def can_read(url, relation) -> bool:
    with psycopg.connect(warehouse.conninfo(url)) as conn:
        try:
            conn.execute(f"select * from {relation} limit 1").fetchall()
            return True
        except psycopg.errors.InsufficientPrivilege:
            return False


def test_analysts_read_the_cohort_marts_but_not_the_person_level_base(pipeline_run, login_role):
    _, analyst = login_role(pipeline_run["url"], security.ANALYST)
    for relation in ("marts.fct_cohort_overlap", "marts.fct_cohort_match_rates", "publish.pub_cohort_overlap"):
        assert can_read(analyst, relation), relation
    for relation in ("intermediate.int_cohort_young_people", "intermediate.int_cohort_contacts"):
        assert not can_read(analyst, relation), relation


def test_a_restricted_analyst_links_the_cohort_across_shared_agencies_only(pipeline_run, login_role):
    # Probation is shared police data only (registry shared_with): it sees each young person as police know
    # them, and nobody's youth justice, education or A&E contacts.
    _, probation = login_role(pipeline_run["url"], security.RESTRICTED_ANALYST, security.partner_role("probation"))
    with psycopg.connect(warehouse.conninfo(probation)) as conn:
        seen = conn.execute(
            """select count(*), count(*) filter (where known_to_youth_justice or known_to_education
                                                  or known_to_ae_violence)
            from intermediate.int_cohort_young_people"""
        ).fetchone()
    assert seen[0] > 0 and seen[1] == 0
    everyone = value(pipeline_run, "select count(*) from intermediate.int_cohort_young_people where known_to_police")
    assert seen[0] == everyone
