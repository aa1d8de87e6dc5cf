-- fct_repeat_locations for publication, by locality and quarter (with the city, 'All'): how many LSOAs were
-- repeat locations, the events in the twelve months to the quarter's end and how many of them happened in
-- repeat locations, and that share (the measure of "fewer repeatedly victimised places": as the threshold is
-- relative, the number of repeat LSOAs moves little, the concentration does). No LSOA-level rows: an LSOA's
-- year of victim-based crime and ASB is too fine a cell to publish beside the ward tables.
-- Counts of LSOAs are places, not people; the event counts go through disclosure control.

with

lsoa_quarters as (
    select * from {{ ref('fct_repeat_locations') }}
)

select
    financial_year_quarter,
    case when grouping(locality) = 1 then 'All' else locality end as locality,
    count(*) as lsoas,
    count(*) filter (where is_repeat_location) as repeat_lsoas,
    sum(events_12m)::bigint as events_12m,
    coalesce(sum(events_12m) filter (where is_repeat_location), 0)::bigint as events_in_repeat_lsoas_12m,
    round(100.0 * coalesce(sum(events_12m) filter (where is_repeat_location), 0) / nullif(sum(events_12m), 0), 1)
        as share_of_events_in_repeat_lsoas_pct,
    min(lookback_months_available) as lookback_months_available
from lsoa_quarters
group by financial_year_quarter, rollup(locality)
