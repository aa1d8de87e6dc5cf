-- Serious violence per Manchester ward, month and type, under Manchester's 2022 definition and the wider
-- Serious Violence Duty definition (one row set per definition, named by its version), with a rate per
-- 100,000 residents and an estimated share of Greater Manchester. Crimes count in the month they were recorded
-- (int_crimes_classified.month_start), as Home Office figures do; knife- or weapon-enabled GBH, ABH and robbery
-- are in both definitions (the definitions' rules, seed offence_definition_rules).
--
-- Both definitions name antisocial behaviour, so ASB incidents are unioned with crimes: those the personal-ASB
-- inclusion rule in force admits (definition SV-ASB-2022, seed sv_asb_inclusion_rules: personal ASB in the
-- night-time economy or involving the street community, the settings the Serious Violence Strategy singles out
-- for "serious physical violence or the threat of such violence"; nuisance and environmental ASB carry no
-- threat to a person, and counting all personal ASB would swamp the measure).

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
    where is_serious_violence_mcr or is_serious_violence_duty
),

asb as (
    select * from {{ ref('int_asb_incidents_located') }}
),

definitions_in_force as (
    select * from {{ ref('definitions') }}
    where valid_to is null
),

definitions as (
    select definition_code, definition_version from definitions_in_force
    where definition_code in ('serious_violence_mcr', 'serious_violence_duty')
),

asb_rules as (
    select rules.*
    from {{ ref('sv_asb_inclusion_rules') }} as rules
    inner join definitions_in_force using (definition_version)
),

-- Each incident once per definition whose inclusion rule it meets (it may meet two of the rule's rows).
asb_included as (
    select distinct
        asb_rules.applies_to as definition_code,
        asb.incident_reference,
        asb.month_start,
        asb.ward_code,
        asb.ward_name
    from asb
    inner join asb_rules
        on asb_rules.asb_category = asb.asb_category
        and (asb_rules.night_time_economy = 'any' or (asb_rules.night_time_economy = 'Y' and asb.is_night_time_economy))
        and (asb_rules.street_community = 'any' or (asb_rules.street_community = 'Y' and asb.is_street_community))
),

geography as (
    select * from {{ ref('dim_geography') }}
),

ward_population as (
    select ward_code, max(locality) as locality, sum(population) as population
    from geography
    where is_manchester
    group by ward_code
),

city_population as (
    select sum(population) as city_population from ward_population
),

dates as (
    select date_day, financial_year_quarter from {{ ref('dim_date') }}
),

street_crimes as (
    select * from {{ ref('int_street_crime_located') }}
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
    select definition_code, month_start, ward_code, ward_name, 'Antisocial behaviour'
    from asb_included
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
    -- Rows whose LSOA is in Greater Manchester (district known); rows outside it or with no location are left out.
    select
        street_crimes.month_start,
        count(*) filter (where street_crimes.is_manchester) as manchester_proxy_crimes,
        count(*) as gm_proxy_crimes
    from street_crimes
    inner join crime_types on crime_types.crime_type = street_crimes.crime_type
    where crime_types.is_violence_proxy = 'Y' and street_crimes.district_code is not null
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
    dates.financial_year_quarter,
    counted.ward_code,
    counted.ward_name,
    ward_population.locality,
    counted.sv_type,
    counted.sv_count,
    ward_population.population,
    city_population.city_population,
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
left join dates on dates.date_day = counted.month_start
cross join city_population
left join proxy_share on proxy_share.month_start = counted.month_start
