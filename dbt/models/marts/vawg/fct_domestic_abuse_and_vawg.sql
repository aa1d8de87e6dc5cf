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

outcomes as (
    {{ crimes_victims_and_outcomes_by_quarter('categorised', 'dates') }}
)

select
    outcomes.*,
    -- Fewer than 12 while the warehouse holds less than a year before the quarter's end: repeats undercount.
    least(
        12,
        (extract(year from age(outcomes.quarter_start + interval '3 months', date_trunc('month', first_crime.first_event_date))) * 12
         + extract(month from age(outcomes.quarter_start + interval '3 months', date_trunc('month', first_crime.first_event_date))))
    )::integer as lookback_months_available
from outcomes
cross join first_crime
