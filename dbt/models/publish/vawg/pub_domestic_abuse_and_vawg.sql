-- fct_domestic_abuse_and_vawg for publication: crimes, victims, repeat victims and charges per category and
-- quarter, and each financial year's crimes and charges (quarter 'All', the sums of its quarters; victims are
-- counted per quarter only, so the year row has none). Rates are built on exactly the counts beside them
-- (disclosure control withholds a rate with its count). The finer outcome groups stay internal: beside the
-- charges they split a quarter's crimes into cells mostly too small to publish.

with

quarters as (
    select
        category,
        left(financial_year_quarter, 7) as financial_year,
        right(financial_year_quarter, 2) as quarter,
        crimes,
        victims,
        repeat_victims,
        charged_or_summonsed,
        lookback_months_available
    from {{ ref('fct_domestic_abuse_and_vawg') }}
),

with_years as (
    select * from quarters
    union all
    select
        category, financial_year, 'All', sum(crimes), null, null, sum(charged_or_summonsed),
        min(lookback_months_available)
    from quarters
    group by category, financial_year
)

select
    category,
    financial_year,
    quarter,
    crimes::bigint as crimes,
    victims::bigint as victims,
    repeat_victims::bigint as repeat_victims,
    round(100.0 * repeat_victims / nullif(victims, 0), 1) as repeat_rate_pct,
    charged_or_summonsed::bigint as charged_or_summonsed,
    round(100.0 * charged_or_summonsed / nullif(crimes, 0), 1) as charge_summons_rate_pct,
    lookback_months_available
from with_years
