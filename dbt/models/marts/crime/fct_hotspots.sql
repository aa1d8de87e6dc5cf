-- Where and when violence and ASB concentrate: incidents per Manchester LSOA and hour of the week
-- (0 = Monday 00:00-00:59 ... 167 = Sunday 23:00-23:59) per financial year, ranked within each crime group
-- (dense rank: 1 = the busiest LSOA-hour; ties share a rank). Only LSOA-hours with an incident have a row.
-- Violence is police.uk's "Violence and sexual offences"; ASB is every incident GMP recorded. Crimes with no
-- recorded time, and places outside the ONS lookup, cannot be placed and are left out.

with

violence as (
    select financial_year, lsoa_code, hour_of_week
    from {{ ref('int_crimes_classified') }}
    where crime_type = 'Violence and sexual offences' and hour_of_week is not null
),

asb as (
    select * from {{ ref('stg_police__asb_incidents') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

incidents as (
    select 'Violence' as crime_group, financial_year, lsoa_code, hour_of_week from violence
    union all
    select
        'Antisocial behaviour',
        dates.financial_year,
        asb.lsoa_code,
        (dates.iso_day_of_week - 1) * 24 + extract(hour from asb.incident_datetime)::int
    from asb
    inner join dates on dates.date_day = cast(asb.incident_datetime as date)
),

counted as (
    select crime_group, financial_year, lsoa_code, hour_of_week, count(*) as incident_count
    from incidents
    group by 1, 2, 3, 4
)

select
    counted.crime_group,
    counted.financial_year,
    counted.lsoa_code,
    geography.lsoa_name,
    geography.ward_code,
    geography.ward_name,
    geography.locality,
    geography.is_city_centre,
    geography.is_night_time_economy_zone,
    counted.hour_of_week,
    (array['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'])[counted.hour_of_week / 24 + 1]
        as day_of_week,
    counted.hour_of_week % 24 as hour_of_day,
    counted.incident_count,
    dense_rank() over (
        partition by counted.crime_group, counted.financial_year order by counted.incident_count desc
    ) as hotspot_rank,
    round(
        100.0 * counted.incident_count
        / sum(counted.incident_count) over (partition by counted.crime_group, counted.financial_year),
        3
    ) as share_of_group_pct
from counted
inner join geography on geography.lsoa_code = counted.lsoa_code
where geography.is_manchester
