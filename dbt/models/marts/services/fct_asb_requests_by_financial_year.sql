-- The ASB requests for service rolled up to financial years (April to March), as the strategy reports them:
-- requests, Covid-19-related requests and their share, and how many months of the year the data covers
-- (a year still in progress, or loaded in part, is not comparable with a full year).

with

monthly as (
    select * from {{ ref('fct_asb_requests') }}
)

select
    financial_year,
    min(month_start) as first_month,
    max(month_start) as last_month,
    count(distinct month_start) as months_covered,
    sum(requests)::bigint as requests,
    sum(covid_related_requests)::bigint as covid_related_requests,
    -- The share is recomputed from the summed counts, never averaged from the monthly shares.
    round(100.0 * sum(covid_related_requests) / sum(requests), 1) as covid_related_pct
from monthly
group by financial_year
