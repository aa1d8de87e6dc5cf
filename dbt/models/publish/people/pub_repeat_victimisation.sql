-- fct_repeat_victimisation for publication: each scheme's categories and its 'All' row (distinct victims, so
-- not the sum of the categories: secondary suppression along crime_category is then conservative).

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
