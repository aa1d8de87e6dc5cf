-- One row per Home Office offence code: its police.uk crime type and the partnership's classifications, each
-- carrying the version of the definition it follows (seed `definitions`).

with

codes as (
    select * from {{ ref('ho_offence_codes') }}
),

versions as (
    select
        max(definition_version) filter (where definition_code = 'victim_based_crime') as victim_based_version,
        max(definition_version) filter (where definition_code = 'serious_violence_mcr') as sv_mcr_version,
        max(definition_version) filter (where definition_code = 'serious_violence_duty') as sv_duty_version,
        max(definition_version) filter (where definition_code = 'neighbourhood_crime') as neighbourhood_version,
        max(definition_version) filter (where definition_code = 'hidden_crime') as hidden_crime_version
    from {{ ref('definitions') }}
)

select
    codes.ho_offence_code,
    codes.offence_description,
    codes.police_uk_crime_type,
    codes.offence_group,
    codes.person_property,
    codes.victim_based = 'Y' as is_victim_based,
    codes.serious_violence_mcr_2022 = 'Y' as is_serious_violence_mcr,
    codes.serious_violence_duty = 'Y' as is_serious_violence_duty,
    nullif(codes.serious_violence_type, '') as serious_violence_type,
    codes.household_crime = 'Y' as is_household_crime,
    codes.neighbourhood_crime = 'Y' as is_neighbourhood_crime,
    nullif(codes.hidden_crime_category, '') as hidden_crime_category,
    versions.victim_based_version,
    versions.sv_mcr_version,
    versions.sv_duty_version,
    versions.neighbourhood_version,
    versions.hidden_crime_version
from codes
cross join versions
