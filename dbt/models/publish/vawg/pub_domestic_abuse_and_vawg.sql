-- fct_domestic_abuse_and_vawg for publication: crimes, victims, repeat victims and charges per category and
-- quarter, with the rates built on exactly the counts beside them (disclosure control withholds a rate with
-- its count). The finer outcome groups stay internal: beside the charges they split a quarter's crimes into
-- cells mostly too small to publish.

select
    category,
    financial_year_quarter,
    crimes,
    victims,
    repeat_victims,
    repeat_rate_pct,
    charged_or_summonsed,
    charge_summons_rate_pct,
    lookback_months_available
from {{ ref('fct_domestic_abuse_and_vawg') }}
