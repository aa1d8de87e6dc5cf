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

outcomes as (
    {{ crimes_victims_and_outcomes_by_quarter('categorised', 'dates') }}
)

select
    category as hate_strand,
    financial_year_quarter,
    quarter_start,
    crimes,
    victims,
    repeat_victims,
    repeat_rate_pct,
    charged_or_summonsed,
    charge_summons_rate_pct
from outcomes
