-- One row per Home Office offence code the partnership classifies (seed offence_code_classes), and per victim
-- type where the code alone does not give the Home Office class: 034/01-02 (robbery, assault with intent to rob)
-- are class 34A when business property was taken and 34B when personal, so they get a 'Business' and a 'Person'
-- row; every other code one row with victim_type null (any victim). Each row carries the code's description
-- (Home Office code list), its class, the ONS recorded-crime offence group and sub-group, the police.uk crime
-- type, and the version of each definition in force (seed definitions, valid_to null) that the classifications
-- in int_crimes_classified follow.

with

codes as (
    select * from {{ ref('offence_code_classes') }}
),

home_office_codes as (
    select * from {{ ref('ho_offence_codes') }}
),

-- The ONS 2017/18 hierarchy, plus the classes created since (seed ho_offence_classification_additions).
hierarchy as (
    select ho_offence_code as ho_class, offence_description, offence_subgroup, offence_group
    from {{ ref('ho_offence_classification') }}
    union all
    select ho_offence_code, offence_description, offence_subgroup, offence_group
    from {{ ref('ho_offence_classification_additions') }}
),

definitions as (
    select * from {{ ref('definitions') }}
    where valid_to is null
),

versions as (
    select
        max(definition_version) filter (where definition_code = 'victim_based_crime') as victim_based_version,
        max(definition_version) filter (where definition_code = 'serious_violence_mcr') as sv_mcr_version,
        max(definition_version) filter (where definition_code = 'serious_violence_duty') as sv_duty_version,
        max(definition_version) filter (where definition_code = 'neighbourhood_crime') as neighbourhood_version,
        max(definition_version) filter (where definition_code = 'hidden_crime') as hidden_crime_version,
        max(definition_version) filter (where definition_code = 'knife_enabled') as knife_version,
        max(definition_version) filter (where definition_code = 'weapon_enabled') as weapon_version,
        max(definition_version) filter (where definition_code = 'vawg') as vawg_version,
        max(definition_version) filter (where definition_code = 'hate_crime') as hate_crime_version
    from definitions
),

code_classes as (
    select ho_offence_code, cast(null as text) as victim_type, ho_class, offence_type, police_uk_crime_type
    from codes
    where ho_class_business is null
    union all
    select ho_offence_code, 'Person', ho_class, offence_type, police_uk_crime_type
    from codes
    where ho_class_business is not null
    union all
    select ho_offence_code, 'Business', ho_class_business, offence_type, police_uk_crime_type
    from codes
    where ho_class_business is not null
)

select
    code_classes.ho_offence_code,
    code_classes.victim_type,
    -- The code list's sub-category description, without its "[Use this code only if ...]" note.
    trim(regexp_replace(home_office_codes.sub_category_description, '\s*\[Use this code only.*$', ''))
        as offence_description,
    code_classes.ho_class,
    hierarchy.offence_description as ho_class_description,
    -- Homicide hangs directly under its group in the ONS hierarchy, as do robbery and the society groups: the
    -- sub-group is then the class (homicide) or the group itself.
    coalesce(
        hierarchy.offence_subgroup,
        case when hierarchy.offence_description = 'Homicide' then 'Homicide' end,
        hierarchy.offence_group
    ) as offence_subgroup,
    hierarchy.offence_group,
    code_classes.offence_type,
    code_classes.police_uk_crime_type,
    case
        when hierarchy.offence_group in ('Violence against the person', 'Sexual offences') then 'person'
        when code_classes.ho_class = '34B' then 'person'
        when hierarchy.offence_group in ('Robbery', 'Theft offences', 'Criminal damage and arson') then 'property'
        else 'society'
    end as person_property,
    home_office_codes.offence_group as moj_offence_group,
    versions.victim_based_version,
    versions.sv_mcr_version,
    versions.sv_duty_version,
    versions.neighbourhood_version,
    versions.hidden_crime_version,
    versions.knife_version,
    versions.weapon_version,
    versions.vawg_version,
    versions.hate_crime_version
from code_classes
left join home_office_codes on home_office_codes.ho_code = code_classes.ho_offence_code
left join hierarchy on hierarchy.ho_class = code_classes.ho_class
cross join versions
