-- fct_knife_crime_nte for publication: knife-enabled offences (KNIFE-ONS-2008) per ward and financial quarter
-- by time band, with totals over wards and time bands ('All'), and each ward's night-time economy zone flag
-- beside it. Coarser than the mart: no hour of week, offence or victim age (a ward's knife crimes in one hour of
-- one month are single crimes), and knife-enabled offences only, the VRU measure.

with

knife_crime as (
    select * from {{ ref('fct_knife_crime_nte') }}
    where knife_measure = 'Knife-enabled'
)

select
    knife_crime.financial_year_quarter,
    case when grouping(knife_crime.ward_code) = 1 then 'All' else knife_crime.ward_code end as ward_code,
    case when grouping(knife_crime.ward_code) = 1 then 'All wards' else max(knife_crime.ward_name) end as ward_name,
    case when grouping(knife_crime.ward_code) = 1 then null else bool_or(knife_crime.is_night_time_economy_zone) end
        as is_night_time_economy_zone,
    case when grouping(knife_crime.time_band) = 1 then 'All' else knife_crime.time_band end as time_band,
    sum(knife_crime.crime_count)::bigint as knife_enabled_crimes
from knife_crime
group by knife_crime.financial_year_quarter, cube(knife_crime.ward_code, knife_crime.time_band)
