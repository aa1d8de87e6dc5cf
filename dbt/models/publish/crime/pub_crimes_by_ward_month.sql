-- fct_crimes_by_ward_month for publication: with ward and crime-type totals, small counts suppressed
-- (post-hook suppress_small_counts; cells declared in the yml).

with

crimes as (
    select * from {{ ref('fct_crimes_by_ward_month') }}
)

select
    month_start,
    case when grouping(ward_code) = 1 then 'All' else ward_code end as ward_code,
    case when grouping(ward_code) = 1 then 'All wards' else max(ward_name) end as ward_name,
    case when grouping(crime_type) = 1 then 'All' else crime_type end as crime_type,
    sum(crime_count)::bigint as crime_count
from crimes
group by month_start, cube(ward_code, crime_type)
