-- fct_repeat_victimisation for publication: the police.uk crime types and the 'All' row (distinct victims, so
-- at most the sum of the categories: declared as a distinct total in the yml).

select
    financial_year_quarter,
    category_scheme,
    crime_category,
    crimes,
    victims,
    repeat_victims,
    repeat_rate_pct,
    repeat_victims_same_category,
    repeat_rate_same_category_pct,
    lookback_months_available
from {{ ref('fct_repeat_victimisation') }}
-- One scheme only: the Home Office offence groups map onto the police.uk types (Arson + Criminal damage is
-- "Criminal damage and arson"...), so publishing both would let a reader subtract one from the other and
-- recover a quarter's homicides (2 to 5). The police.uk types are the ones the public knows.
where category_scheme = 'police_uk_crime_type'
