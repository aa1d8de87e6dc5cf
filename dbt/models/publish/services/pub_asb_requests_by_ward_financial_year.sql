-- fct_asb_requests_by_ward_financial_year for publication; small counts suppressed (post-hook, cells in the
-- yml). months_covered says whether the year is complete (fct_asb_requests_by_financial_year); the rate per
-- 1,000 residents (the Board's ward map) is annualised when it is not, and withheld with its requests.
--
-- No category split here: ward x category cells would be mostly suppressed, and their all-wards margins
-- would be the same cells as pub_asb_requests_by_month's year totals, suppressed to a different pattern (a
-- cell hidden in one table but shown in the other can give a neighbour away). The only cell the two tables
-- share is the year's grand total.

with

wards as (
    select * from {{ ref('fct_asb_requests_by_ward_financial_year') }}
),

years as (
    select financial_year, months_covered from {{ ref('fct_asb_requests_by_financial_year') }}
)

select
    wards.financial_year,
    wards.ward_code,
    wards.ward_name,
    wards.locality,
    wards.requests,
    wards.covid_related_requests,
    wards.covid_related_pct,
    years.months_covered,
    wards.population,
    round(1000.0 * wards.requests * 12 / years.months_covered / nullif(wards.population, 0), 2)
        as rate_per_1000_annualised
from wards
inner join years using (financial_year)
