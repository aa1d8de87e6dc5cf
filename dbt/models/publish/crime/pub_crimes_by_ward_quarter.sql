-- fct_crimes_by_ward_month for publication by financial quarter (a month per ward and crime type is too small
-- a cell: most would be suppressed), with totals over wards and crime types ('All'). The ward's locality is
-- published beside it (the mart carries it, so this model reads the mart only): the scorecard's neighbourhood
-- and victim-based crime by locality are sums of these cells, declared as links in the scorecard's yml so that
-- both are protected together.

with

crimes as (
    select * from {{ ref('fct_crimes_by_ward_month') }}
)

select
    crimes.financial_year_quarter,
    case when grouping(crimes.ward_code) = 1 then 'All' else crimes.ward_code end as ward_code,
    case when grouping(crimes.ward_code) = 1 then 'All wards' else max(crimes.ward_name) end as ward_name,
    case when grouping(crimes.ward_code) = 1 then 'All' else max(crimes.locality) end as locality,
    case when grouping(crimes.crime_type) = 1 then 'All' else crimes.crime_type end as crime_type,
    sum(crimes.crime_count)::bigint as crime_count
from crimes
group by crimes.financial_year_quarter, cube(crimes.ward_code, crimes.crime_type)
