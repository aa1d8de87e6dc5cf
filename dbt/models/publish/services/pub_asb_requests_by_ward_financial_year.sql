-- fct_asb_requests for publication by financial year and ward, with the all-wards total ('All'); small
-- counts suppressed (post-hook, cells in the yml). months_covered says whether the year is complete. The rate
-- per 1,000 residents (the ward's, from fct_ward_profile; the Board's ward map) is annualised when the year is not.
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

-- Residents per ward (census 2021, as fct_ward_profile has them; the same every year), and the city's as 'All'.
ward_population as (
    select ward_code, max(population) as population
    from {{ ref('fct_ward_profile') }}
    where ward_code <> 'All' or locality = 'All'
    group by ward_code
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
    years.months_covered,
    ward_population.population::bigint as population,
    round(1000.0 * cells.requests * 12 / years.months_covered / nullif(ward_population.population, 0), 2)
        as rate_per_1000_annualised
from cells
inner join years using (financial_year)
left join ward_population on ward_population.ward_code = cells.ward_code
