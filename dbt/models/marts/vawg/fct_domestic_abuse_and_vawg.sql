-- Domestic abuse and violence against women and girls by financial quarter: crimes, victims, repeat victims
-- (two or more crimes of the same category in the twelve months to the quarter's end, as
-- fct_repeat_victimisation) and the outcomes recorded so far (Home Office outcome groups as police.uk names
-- them). Counted by recorded date, as Home Office statistics are (int_crimes_classified's quarter); the
-- lookback runs on the recorded date too, so a quarter's repeats are fixed once it closes. One row per category and quarter; a crime can count in both categories (a domestic assault on a
-- woman), so the categories are not a partition and there is no total over them.

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

dates as (
    select date_day, financial_year_quarter, quarter_start from {{ ref('dim_date') }}
),

categorised as (
    -- DA-2021: the force's domestic abuse flag; VAWG-2021: the classification's VAWG definition (crimes
    -- against women and girls: sexual offences, domestic abuse, stalking and harassment...).
    select 'Domestic abuse' as category, crime_reference, recorded_date as event_date, victim_person_key, outcome
    from crimes
    where is_domestic_abuse
    union all
    select 'VAWG', crime_reference, recorded_date, victim_person_key, outcome
    from crimes
    where is_vawg
),

first_crime as materialized (
    select min(recorded_date) as first_event_date from crimes
),

crime_counts as (
    select
        categorised.category,
        dates.financial_year_quarter,
        dates.quarter_start,
        count(*) as crimes,
        count(*) filter (where categorised.victim_person_key is not null) as crimes_with_identified_victim,
        -- Outcome 1 (charge or summons) and the out-of-court outcomes; "unable to prosecute" is the
        -- evidential-difficulties group (outcomes 15 and 16), where a victim not supporting action lands.
        count(*) filter (where categorised.outcome = 'Charged or summonsed') as charged_or_summonsed,
        count(*) filter (where categorised.outcome in ('Offender given a caution', 'Local resolution'))
            as out_of_court_outcomes,
        count(*) filter (where categorised.outcome = 'Unable to prosecute suspect') as evidential_difficulties,
        count(*) filter (where categorised.outcome = 'Investigation complete; no suspect identified')
            as no_suspect_identified,
        count(*) filter (where categorised.outcome in ('Under investigation', 'Awaiting court outcome'))
            as still_open
    from categorised
    inner join dates on dates.date_day = categorised.event_date
    group by 1, 2, 3
),

victims as (
    {{ victims_and_repeat_victims('categorised', 'dates') }}
)

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
    crime_counts.still_open,
    -- Fewer than 12 while the warehouse holds less than a year before the quarter's end: repeats undercount.
    least(
        12,
        (extract(year from age(crime_counts.quarter_start + interval '3 months', date_trunc('month', first_crime.first_event_date))) * 12
         + extract(month from age(crime_counts.quarter_start + interval '3 months', date_trunc('month', first_crime.first_event_date))))
    )::integer as lookback_months_available
from crime_counts
left join victims using (category, financial_year_quarter, quarter_start)
cross join first_crime
