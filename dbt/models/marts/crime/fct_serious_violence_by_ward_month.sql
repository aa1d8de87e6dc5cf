-- Serious violence per Manchester ward, month and type, under Manchester's 2022 definition and the wider
-- Serious Violence Duty definition (one row set per definition, named by its version), with a rate per
-- 100,000 residents and an estimated share of Greater Manchester.
--
-- Both definitions name antisocial behaviour, so ASB incidents are unioned with crimes. Not all ASB: only
-- personal ASB (aimed at a person rather than a community or the environment) linked to the night-time
-- economy or the street community, the settings the Serious Violence Strategy singles out for "serious
-- physical violence or the threat of such violence". Nuisance and environmental ASB carry no threat to a
-- person, and counting all personal ASB would outnumber the crimes and swamp the measure.

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
    where is_serious_violence_mcr or is_serious_violence_duty
),

asb as (
    select * from {{ ref('stg_police__asb_incidents') }}
    where asb_category = 'Personal' and (night_time_economy_flag = 'Y' or street_community_flag = 'Y')
),

definitions as (
    select definition_code, definition_version from {{ ref('definitions') }}
    where definition_code in ('serious_violence_mcr', 'serious_violence_duty')
),

geography as (
    select * from {{ ref('dim_geography') }}
),

ward_population as (
    select ward_code, sum(population) as population
    from geography
    where is_manchester
    group by ward_code
),

street_crimes as (
    select * from {{ ref('stg_police_uk__street_crime') }}
    where falls_within = 'Greater Manchester Police'
),

crime_types as (
    select * from {{ ref('police_uk_crime_types') }}
),

-- One row per serious-violence event and definition it meets.
events as (
    select 'serious_violence_mcr' as definition_code, month_start, ward_code, ward_name,
        serious_violence_type as sv_type
    from crimes where is_serious_violence_mcr
    union all
    select 'serious_violence_duty', month_start, ward_code, ward_name, serious_violence_type
    from crimes where is_serious_violence_duty
    union all
    select definitions.definition_code,
        cast(date_trunc('month', asb.incident_datetime) as date),
        coalesce(geography.ward_code, 'unmatched'),
        coalesce(geography.ward_name, 'LSOA not in the ONS lookup'),
        'Antisocial behaviour'
    from asb
    cross join definitions
    left join geography on geography.lsoa_code = asb.lsoa_code
),

counted as (
    select definition_code, month_start, ward_code, ward_name, sv_type, count(*) as sv_count
    from events
    group by 1, 2, 3, 4, 5
),

-- Greater Manchester comparator. Serious violence cannot be told apart in police.uk data (no offence code),
-- so Manchester's share of GM serious violence is taken to equal its share of the police.uk proxy (violence
-- and sexual offences, robbery, possession of weapons) in the same month.
proxy_share as (
    select
        street_crimes.month as month_start,
        count(*) filter (where geography.is_manchester) as manchester_proxy_crimes,
        count(*) as gm_proxy_crimes
    from street_crimes
    inner join crime_types on crime_types.crime_type = street_crimes.crime_type
    inner join geography on geography.lsoa_code = street_crimes.lsoa_code
    where crime_types.is_violence_proxy = 'Y'
    group by 1
),

city_totals as (
    select definition_code, month_start, sv_type, sum(sv_count) as city_sv_count
    from counted
    group by 1, 2, 3
)

select
    counted.definition_code as sv_definition,
    definitions.definition_version,
    counted.month_start,
    counted.ward_code,
    counted.ward_name,
    counted.sv_type,
    counted.sv_count,
    ward_population.population,
    -- Per 100,000 residents in the month (not annualised).
    round(100000.0 * counted.sv_count / nullif(ward_population.population, 0), 2) as rate_per_100k,
    city_totals.city_sv_count,
    proxy_share.manchester_proxy_crimes,
    proxy_share.gm_proxy_crimes,
    round(100.0 * proxy_share.manchester_proxy_crimes / nullif(proxy_share.gm_proxy_crimes, 0), 1)
        as manchester_share_of_gm_proxy_pct,
    -- The ward's share of the estimated GM count of this type: GM = city count / Manchester's proxy share.
    round(
        100.0 * counted.sv_count / nullif(city_totals.city_sv_count, 0)
        * proxy_share.manchester_proxy_crimes / nullif(proxy_share.gm_proxy_crimes, 0),
        3
    ) as estimated_share_of_gm_pct
from counted
inner join definitions on definitions.definition_code = counted.definition_code
inner join city_totals
    on city_totals.definition_code = counted.definition_code
    and city_totals.month_start = counted.month_start
    and city_totals.sv_type = counted.sv_type
left join ward_population on ward_population.ward_code = counted.ward_code
left join proxy_share on proxy_share.month_start = counted.month_start
