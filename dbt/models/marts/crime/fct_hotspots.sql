-- Where and when violence and ASB concentrate: incidents per Manchester LSOA and hour of the week
-- (0 = Monday 00:00-00:59 ... 167 = Sunday 23:00-23:59; macro hour_of_week) per financial year, ranked within
-- each crime group (dense rank: 1 = the busiest LSOA-hour; ties share a rank). Only LSOA-hours with an incident
-- have a row. Violence is police.uk's "Violence and sexual offences"; ASB is every incident GMP recorded. Crimes
-- with no recorded time cannot be placed in the week and are left out. An LSOA code that dim_geography does not
-- know stays in, as location_status 'unmatched' (ward 'unmatched'), and an incident with no LSOA as 'not
-- recorded' (unranked): the police extracts cover Manchester only, so neither is someone else's.

with

violence as (
    select financial_year, lsoa_code, hour_of_week
    from {{ ref('int_crimes_classified') }}
    where crime_type = 'Violence and sexual offences' and hour_of_week is not null
),

asb as (
    select financial_year, lsoa_code, hour_of_week
    from {{ ref('int_asb_incidents_located') }}
    where hour_of_week is not null
),

geography as (
    select * from {{ ref('dim_geography') }}
),

incidents as (
    select 'Violence' as crime_group, financial_year, lsoa_code, hour_of_week from violence
    union all
    select 'Antisocial behaviour', financial_year, lsoa_code, hour_of_week from asb
),

counted as (
    select crime_group, financial_year, lsoa_code, hour_of_week, count(*) as incident_count
    from incidents
    group by 1, 2, 3, 4
),

placed as (
    select
        counted.*,
        {{ lsoa_location_status('counted.lsoa_code') }} as location_status,
        geography.lsoa_name,
        {{ lsoa_ward_columns('counted.lsoa_code') }},
        coalesce(geography.is_city_centre, false) as is_city_centre,
        coalesce(geography.is_night_time_economy_zone, false) as is_night_time_economy_zone
    from counted
    left join geography on geography.lsoa_code = counted.lsoa_code
    -- Manchester's LSOAs, and the codes no lookup places (kept and labelled rather than silently dropped).
    where geography.is_manchester or geography.lsoa_code is null
)

select
    crime_group,
    financial_year,
    lsoa_code,
    lsoa_name,
    location_status,
    ward_code,
    ward_name,
    locality,
    is_city_centre,
    is_night_time_economy_zone,
    hour_of_week,
    (array['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'])[hour_of_week / 24 + 1]
        as day_of_week,
    hour_of_week % 24 as hour_of_day,
    incident_count,
    -- A place with no LSOA is not a hotspot: counted in the shares, not ranked.
    case when location_status <> 'not recorded' then
        dense_rank() over (
            partition by crime_group, financial_year, location_status <> 'not recorded'
            order by incident_count desc
        )
    end as hotspot_rank,
    round(100.0 * incident_count / sum(incident_count) over (partition by crime_group, financial_year), 3)
        as share_of_group_pct
from placed
