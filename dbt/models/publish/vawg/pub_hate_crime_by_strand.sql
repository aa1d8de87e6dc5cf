-- fct_hate_crime_by_strand for publication: crimes, victims, repeat victims and charges per strand and quarter,
-- with the 'All' row (crimes and charges its strands' sums; victims distinct; repeat victims across strands,
-- no total of the strands': declared in the yml).

select
    hate_strand,
    financial_year_quarter,
    crimes,
    victims,
    repeat_victims,
    repeat_rate_pct,
    charged_or_summonsed,
    charge_summons_rate_pct
from {{ ref('fct_hate_crime_by_strand') }}
