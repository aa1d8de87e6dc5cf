{#-
    Per category and financial quarter: crimes, victims and repeat victims (victims_and_repeat_victims), and the
    outcomes recorded so far (Home Office outcome groups as police.uk names them). Shared by the domestic abuse /
    VAWG and hate crime marts, so a crime, a charge rate and a repeat rate are counted one way in both.

    events: a relation (CTE name) with category, crime_reference, event_date, victim_person_key, outcome.
    dates:  a relation with date_day, financial_year_quarter, quarter_start (dim_date).
    Returns: category, financial_year_quarter, quarter_start, crimes, crimes_with_identified_victim, victims,
             repeat_victims, repeat_rate_pct, charged_or_summonsed, charge_summons_rate_pct,
             out_of_court_outcomes, evidential_difficulties, no_suspect_identified, still_open.
-#}
{% macro crimes_victims_and_outcomes_by_quarter(events, dates) -%}
    select
        crime_counts.category,
        crime_counts.financial_year_quarter,
        crime_counts.quarter_start,
        crime_counts.crimes,
        crime_counts.crimes_with_identified_victim,
        coalesce(victims.victims, 0) as victims,
        coalesce(victims.repeat_victims, 0) as repeat_victims,
        round(100.0 * victims.repeat_victims / nullif(victims.victims, 0), 1) as repeat_rate_pct,
        crime_counts.charged_or_summonsed,
        round(100.0 * crime_counts.charged_or_summonsed / crime_counts.crimes, 1) as charge_summons_rate_pct,
        crime_counts.out_of_court_outcomes,
        crime_counts.evidential_difficulties,
        crime_counts.no_suspect_identified,
        crime_counts.still_open
    from (
        select
            {{ events }}.category,
            {{ dates }}.financial_year_quarter,
            {{ dates }}.quarter_start,
            count(*) as crimes,
            count(*) filter (where {{ events }}.victim_person_key is not null) as crimes_with_identified_victim,
            -- Outcome 1 (charge or summons) and the out-of-court outcomes; "unable to prosecute" is the
            -- evidential-difficulties group (outcomes 15 and 16), where a victim not supporting action lands.
            count(*) filter (where {{ events }}.outcome = 'Charged or summonsed') as charged_or_summonsed,
            count(*) filter (where {{ events }}.outcome in ('Offender given a caution', 'Local resolution'))
                as out_of_court_outcomes,
            count(*) filter (where {{ events }}.outcome = 'Unable to prosecute suspect') as evidential_difficulties,
            count(*) filter (where {{ events }}.outcome = 'Investigation complete; no suspect identified')
                as no_suspect_identified,
            count(*) filter (where {{ events }}.outcome in ('Under investigation', 'Awaiting court outcome'))
                as still_open
        from {{ events }}
        inner join {{ dates }} on {{ dates }}.date_day = {{ events }}.event_date
        group by 1, 2, 3
    ) as crime_counts
    left join (
        {{ victims_and_repeat_victims(events, dates) }}
    ) as victims using (category, financial_year_quarter, quarter_start)
{%- endmacro %}
