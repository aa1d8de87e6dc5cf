-- Hate crime by monitored strand (race, religion, sexual orientation, disability, transgender identity) and
-- financial quarter, with an 'All' row: crimes, victims, repeat victims (two or more hate crimes of the strand,
-- or of any strand for 'All', in the twelve months to the quarter's end) and charges. The extract carries one
-- strand per crime; a crime the police flag with two strands would need a second column, and the 'All' row
-- counts each crime once whatever it carries. Counted by recorded date (int_crimes_classified's quarter).
-- A hate crime is one the police flag with a strand (HATE-2007), whether or not its offence code is
-- classified, as the scorecard's HATE KPI counts them.

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
    where hate_strand is not null
),

dates as (
    select date_day, financial_year_quarter, quarter_start from {{ ref('dim_date') }}
),

categorised as (
    select hate_strand as category, crime_reference, recorded_date as event_date, victim_person_key, outcome
    from crimes
    union all
    select 'All', crime_reference, recorded_date, victim_person_key, outcome
    from crimes
),

crime_counts as (
    select
        categorised.category as hate_strand,
        dates.financial_year_quarter,
        dates.quarter_start,
        count(*) as crimes,
        count(*) filter (where categorised.outcome = 'Charged or summonsed') as charged_or_summonsed
    from categorised
    inner join dates on dates.date_day = categorised.event_date
    group by 1, 2, 3
),

victims as (
    {{ victims_and_repeat_victims('categorised', 'dates') }}
)

select
    crime_counts.hate_strand,
    crime_counts.financial_year_quarter,
    crime_counts.quarter_start,
    crime_counts.crimes,
    coalesce(victims.victims, 0) as victims,
    coalesce(victims.repeat_victims, 0) as repeat_victims,
    round(100.0 * victims.repeat_victims / nullif(victims.victims, 0), 1) as repeat_rate_pct,
    crime_counts.charged_or_summonsed,
    round(100.0 * crime_counts.charged_or_summonsed / crime_counts.crimes, 1) as charge_summons_rate_pct
from crime_counts
left join victims
    on victims.category = crime_counts.hate_strand
    and victims.financial_year_quarter = crime_counts.financial_year_quarter
