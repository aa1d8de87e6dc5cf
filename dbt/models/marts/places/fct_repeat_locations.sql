-- Repeatedly victimised places (the Police and Crime Plan's outcome "fewer repeatedly victimised places"): per
-- Manchester LSOA and financial quarter, its victim-based crimes and antisocial behaviour incidents in the twelve
-- months to the quarter's end, and whether it is a repeat location: at least twice the median Manchester LSOA's
-- count over the same twelve months, and at least two (definition repeat_location, RL-2026). The threshold is relative so that it
-- holds on extracts of any size; "fewer repeat places" then shows as a smaller share of events in them.
-- Every Manchester LSOA has a row for every quarter, with zero events where it had none.

with

geography as (
    select lsoa_code, lsoa_name, ward_code, ward_name, locality from {{ ref('dim_geography') }}
    where is_manchester
),

dates as (
    select distinct financial_year_quarter, quarter_start from {{ ref('dim_date') }}
),

events as (
    -- crimes by recorded date, as counted everywhere else (and in the scorecard's quarters)
    select lsoa_code, recorded_date as event_date, 'crime' as event_type
    from {{ ref('int_crimes_classified') }}
    where is_victim_based
    union all
    select lsoa_code, incident_date, 'asb'
    from {{ ref('int_asb_incidents_located') }}
),

first_event as materialized (
    select min(event_date) as first_event_date, max(event_date) as last_event_date from events
),

quarters as (
    select
        dates.financial_year_quarter,
        dates.quarter_start,
        cast(dates.quarter_start + interval '3 months' - interval '1 day' as date) as quarter_end
    from dates
    cross join first_event
    where dates.quarter_start between date_trunc('quarter', first_event.first_event_date) and first_event.last_event_date
),

lsoa_quarters as (
    select
        quarters.financial_year_quarter,
        quarters.quarter_start,
        geography.lsoa_code,
        count(events.event_date) filter (where events.event_type = 'crime') as victim_based_crimes_12m,
        count(events.event_date) filter (where events.event_type = 'asb') as asb_incidents_12m,
        count(events.event_date) as events_12m
    from quarters
    cross join geography
    left join events
        on events.lsoa_code = geography.lsoa_code
        and events.event_date > quarters.quarter_end - interval '12 months'
        and events.event_date <= quarters.quarter_end
    group by 1, 2, 3
),

thresholds as (
    select
        financial_year_quarter,
        percentile_cont(0.5) within group (order by events_12m) as median_lsoa_events_12m
    from lsoa_quarters
    group by financial_year_quarter
)

select
    lsoa_quarters.financial_year_quarter,
    lsoa_quarters.quarter_start,
    lsoa_quarters.lsoa_code,
    geography.lsoa_name,
    geography.ward_code,
    geography.ward_name,
    geography.locality,
    lsoa_quarters.victim_based_crimes_12m,
    lsoa_quarters.asb_incidents_12m,
    lsoa_quarters.events_12m,
    thresholds.median_lsoa_events_12m,
    -- Two events at least, as a repeat victim has two crimes: with a median of 0, one event is no repeat.
    lsoa_quarters.events_12m >= greatest(2, 2 * thresholds.median_lsoa_events_12m) as is_repeat_location,
    least(
        12,
        (extract(year from age(lsoa_quarters.quarter_start + interval '3 months', date_trunc('month', first_event.first_event_date))) * 12
         + extract(month from age(lsoa_quarters.quarter_start + interval '3 months', date_trunc('month', first_event.first_event_date))))
    )::integer as lookback_months_available
from lsoa_quarters
inner join geography using (lsoa_code)
inner join thresholds using (financial_year_quarter)
cross join first_event
