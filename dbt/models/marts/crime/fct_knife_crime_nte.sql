-- Knife and weapon crime by time and place: one row per recorded month, ward, hour of the week, night-time
-- economy flag and offence, with the number of crimes and of victims under 25. Serves the Home Office VRU
-- outcome measure "police-recorded knife-enabled serious violence, especially among victims under 25"
-- (definition VRU-HO-2020) and the Serious Violence Strategy's night-time economy work: when (hour of week,
-- time band) and where (ward, the city-centre night-time economy zone) knives are used.
--
-- Counted: knife-enabled offences (ONS selected offences with a knife or sharp instrument, KNIFE-ONS-2008),
-- the same offences with another weapon (WEAPON-2022), and possession of a blade or point, each in the month
-- it was recorded. The hour is the offence's (null when not recorded).

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
    where is_weapon_enabled or offence_type = 'possession_blade'
),

wards as (
    select
        ward_code,
        bool_or(is_night_time_economy_zone) as is_night_time_economy_zone
    from {{ ref('dim_geography') }}
    group by ward_code
),

events as (
    select
        crimes.month_start,
        crimes.financial_year_quarter,
        crimes.ward_code,
        crimes.ward_name,
        crimes.hour_of_week,
        crimes.is_night_time_economy,
        case
            when crimes.is_knife_enabled then 'Knife-enabled'
            when crimes.is_weapon_enabled then 'Other weapon-enabled'
            else 'Possession of a blade or point'
        end as knife_measure,
        coalesce(crimes.weapon_enabled_type, 'Possession of a blade or point') as offence_category,
        crimes.victim_age
    from crimes
)

select
    events.month_start,
    events.financial_year_quarter,
    events.ward_code,
    events.ward_name,
    coalesce(wards.is_night_time_economy_zone, false) as is_night_time_economy_zone,
    events.hour_of_week,
    -- Friday and Saturday nights (Fri 20:00 to Sun 05:59, hours 116-125 and 140-149 from Monday 00:00), when
    -- the night-time economy is busiest; other nights 20:00-05:59; daytime.
    case
        when events.hour_of_week is null then 'Time not recorded'
        when events.hour_of_week between 116 and 125 or events.hour_of_week between 140 and 149
            then 'Friday or Saturday night'
        when events.hour_of_week % 24 >= 20 or events.hour_of_week % 24 < 6 then 'Other night'
        else 'Day'
    end as time_band,
    events.is_night_time_economy,
    events.knife_measure,
    events.offence_category,
    count(*) as crime_count,
    count(*) filter (where events.victim_age < 25) as victims_under_25
from events
left join wards on wards.ward_code = events.ward_code
group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
