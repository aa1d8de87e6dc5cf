-- One row per recorded crime with the partnership's classifications (victim-based, serious violence under both
-- definitions, neighbourhood and hidden crime), its geography and periods. Person-level (victim and suspect
-- keys), so restricted; the crime marts aggregate it.
--
-- Incremental by load batch: a run adds only the rows of batches it has not built yet. Staging already keeps
-- the latest version of each crime, so a corrected record in a new batch replaces the earlier one (delete+insert
-- on crime_reference), and a batch whose rows were all superseded adds nothing.
{{
    config(
        materialized='incremental',
        unique_key='crime_reference',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['batch_id']}, {'columns': ['offence_date']}],
        post_hook=["{{ restrict_rows_to_partners('agency') }}"]
    )
}}

with

crimes as (
    select * from {{ ref('stg_police__recorded_crime') }}
    {% if is_incremental() %}
    where batch_id not in (select distinct batch_id from {{ this }})
    {% endif %}
),

offences as (
    select * from {{ ref('dim_offence_classification') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
)

select
    crimes.crime_reference,
    'police' as agency,
    crimes.offence_date,
    dates.month_start,
    dates.financial_year,
    dates.financial_year_quarter,
    dates.pandemic_phase,
    -- Hour of the week, 0 = Monday 00:00-00:59; null when the time is unknown.
    case
        when crimes.offence_time is not null
            then (dates.iso_day_of_week - 1) * 24 + cast(split_part(crimes.offence_time, ':', 1) as integer)
    end as hour_of_week,
    crimes.ho_offence_code,
    crimes.crime_type,
    offences.offence_group,
    offences.person_property,
    coalesce(offences.is_victim_based, false) as is_victim_based,
    -- Manchester's 2022 definition excludes domestic homicide; the Serious Violence Duty's wider one includes
    -- domestic abuse and sexual assault.
    coalesce(offences.is_serious_violence_mcr, false)
        and not (offences.offence_group = 'Homicide' and crimes.domestic_abuse_flag = 'Y') as is_serious_violence_mcr,
    coalesce(offences.is_serious_violence_duty, false)
        or (crimes.domestic_abuse_flag = 'Y' and offences.offence_group = 'Violence with injury')
        as is_serious_violence_duty,
    coalesce(
        offences.serious_violence_type,
        case when crimes.domestic_abuse_flag = 'Y' and offences.offence_group = 'Violence with injury'
            then 'Domestic abuse with injury' end
    ) as serious_violence_type,
    coalesce(offences.is_neighbourhood_crime, false) as is_neighbourhood_crime,
    coalesce(offences.hidden_crime_category, case when crimes.domestic_abuse_flag = 'Y' then 'Domestic abuse' end)
        as hidden_crime_category,
    offences.sv_mcr_version,
    offences.sv_duty_version,
    offences.victim_based_version,
    crimes.domestic_abuse_flag = 'Y' as is_domestic_abuse,
    crimes.hate_strand,
    crimes.weapon,
    crimes.night_time_economy_flag = 'Y' as is_night_time_economy,
    crimes.street_community_flag = 'Y' as is_street_community,
    crimes.lsoa_code,
    coalesce(geography.ward_code, 'unmatched') as ward_code,
    coalesce(geography.ward_name, 'LSOA not in the ONS lookup') as ward_name,
    coalesce(geography.locality, 'Unknown') as locality,
    geography.district_name,
    geography.imd_decile,
    coalesce(geography.is_city_centre, false) as is_city_centre,
    crimes.victim_person_key,
    crimes.victim_age,
    crimes.victim_sex,
    crimes.victim_ethnicity,
    case
        when crimes.victim_home_lsoa is null then null
        when crimes.victim_home_lsoa = 'Outside Manchester' then 'Outside Manchester'
        else 'Manchester'
    end as victim_residence,
    crimes.suspect_person_key,
    crimes.suspect_age,
    crimes.suspect_sex,
    crimes.suspect_ethnicity,
    crimes.outcome,
    crimes.batch_id
from crimes
left join offences on offences.ho_offence_code = crimes.ho_offence_code
left join geography on geography.lsoa_code = crimes.lsoa_code
left join dates on dates.date_day = crimes.offence_date
