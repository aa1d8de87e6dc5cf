-- fct_asb_requests for publication by financial year and ward, with the all-wards total ('All'); small
-- counts suppressed (post-hook, cells in the yml). months_covered says whether the year is complete.
--
-- No category split here: ward x category cells would be mostly suppressed, and their all-wards margins
-- would be the same cells as pub_asb_requests_by_month's year totals, suppressed to a different pattern (a
-- cell hidden in one table but shown in the other can give a neighbour away). The only cell the two tables
-- share is the year's grand total.

with

requests as (
    select * from {{ ref('fct_asb_requests') }}
),

years as (
    select financial_year, months_covered from {{ ref('fct_asb_requests_by_financial_year') }}
),

cells as (
    select
        financial_year,
        case when grouping(ward_code) = 1 then 'All' else ward_code end as ward_code,
        case when grouping(ward_code) = 1 then 'All wards' else max(ward_name) end as ward_name,
        case when grouping(ward_code) = 1 then 'All' else max(locality) end as locality,
        sum(requests)::bigint as requests,
        sum(covid_related_requests)::bigint as covid_related_requests,
        round(100.0 * sum(covid_related_requests) / sum(requests), 1) as covid_related_pct
    from requests
    group by financial_year, cube(ward_code)
)

select
    cells.*,
    years.months_covered
from cells
inner join years using (financial_year)
