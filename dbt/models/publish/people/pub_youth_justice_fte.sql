-- fct_youth_justice_fte for publication, with the city total ('All'). The total counts every first-time
-- entrant (children living outside the city or with no recorded home included), and so does its rate, per
-- 100,000 Manchester residents aged 10-17: a rate is built on exactly the count beside it, or rate x
-- population would give back a count that is not published (here, the 'Not known' row by difference).

with

wards as (
    select * from {{ ref('fct_youth_justice_fte') }}
)

select
    financial_year_quarter,
    case when grouping(ward_code) = 1 then 'All' else ward_code end as ward_code,
    case when grouping(ward_code) = 1 then 'All wards' else max(ward_name) end as ward_name,
    case when grouping(ward_code) = 1 then 'All' else max(locality) end as locality,
    sum(first_time_entrants)::bigint as first_time_entrants,
    sum(population_10_17)::bigint as population_10_17,
    round(
        100000.0 * sum(first_time_entrants) / nullif(sum(population_10_17), 0), 1
    ) as fte_rate_per_100k_10_17
from wards
group by financial_year_quarter, cube(ward_code)
