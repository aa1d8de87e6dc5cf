-- fct_knife_crime_nte for publication: knife-enabled offences (KNIFE-ONS-2008) per financial quarter, in the
-- wards of the night-time economy zone against the other wards, by time band, with totals over both ('All').
-- Coarser than the mart on purpose: a ward has a handful of knife crimes a quarter (Manchester records about
-- a thousand a year over 32 wards), so a ward x quarter x time band table would be nearly all suppressed; the
-- strategy's question is time and place against the night-time economy, which the zone answers. Ward detail
-- stays in the mart, for analysts.

with

knife_crime as (
    select * from {{ ref('fct_knife_crime_nte') }}
    where knife_measure = 'Knife-enabled'
)

select
    financial_year_quarter,
    case
        when grouping(is_night_time_economy_zone) = 1 then 'All'
        when is_night_time_economy_zone then 'Night-time economy zone'
        else 'Other wards and not located'
    end as ward_group,
    case when grouping(time_band) = 1 then 'All' else time_band end as time_band,
    sum(crime_count)::bigint as knife_enabled_crimes
from knife_crime
group by financial_year_quarter, cube(is_night_time_economy_zone, time_band)
