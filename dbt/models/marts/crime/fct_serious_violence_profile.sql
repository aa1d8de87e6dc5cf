-- Who is involved in serious violence: victims and suspects of serious-violence crimes by financial quarter
-- recorded, definition and type, profiled one characteristic at a time (sex, age band in two schemes, ethnic group,
-- and for victims, whether they live in Manchester). One person-in-a-crime per role: a crime with a victim
-- and a suspect counts once in each role. ASB incidents carry no people and are not profiled.
-- Long format: within a (quarter, definition, type, role, characteristic) the categories sum to the total,
-- so every percentage is read off directly.

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
    where is_serious_violence_mcr or is_serious_violence_duty
),

definitions as (
    select definition_code, definition_version from {{ ref('definitions') }}
    where definition_code in ('serious_violence_mcr', 'serious_violence_duty') and valid_to is null
),

age_bands as (
    select * from {{ ref('dim_age_band') }}
    where scheme in ('standard', 'robbery_victims_15_23')
),

crimes_by_definition as (
    select 'serious_violence_mcr' as definition_code, * from crimes where is_serious_violence_mcr
    union all
    select 'serious_violence_duty', * from crimes where is_serious_violence_duty
),

-- One row per person in a crime and role.
involved as (
    select definition_code, financial_year_quarter, serious_violence_type as sv_type, 'Victim' as role,
        victim_sex as sex, victim_age as age, victim_ethnicity as ethnicity, victim_residence as residence
    from crimes_by_definition
    where victim_person_key is not null
    union all
    select definition_code, financial_year_quarter, serious_violence_type, 'Suspect',
        suspect_sex, suspect_age, suspect_ethnicity, null
    from crimes_by_definition
    where suspect_person_key is not null
),

-- The characteristics, one row each per person (residence: victims only, the extract has no suspect home).
characteristics as (
    select involved.*, 'Sex' as profile_dimension,
        case involved.sex when 'M' then 'Male' when 'F' then 'Female' else 'Not recorded' end as category
    from involved
    union all
    select involved.*, 'Age band (standard)', coalesce(standard.age_band, 'Not recorded')
    from involved
    left join age_bands as standard on standard.scheme = 'standard' and standard.age = involved.age
    union all
    select involved.*, 'Age band (15-23)',
        case when involved.age is null then 'Not recorded' else coalesce(robbery.age_band, 'Other ages') end
    from involved
    left join age_bands as robbery on robbery.scheme = 'robbery_victims_15_23' and robbery.age = involved.age
    union all
    select involved.*, 'Ethnic group', coalesce(nullif(involved.ethnicity, ''), 'Not stated')
    from involved
    union all
    select involved.*, 'Residence', coalesce(involved.residence, 'Not recorded')
    from involved
    where involved.role = 'Victim'
),

-- Each type, and all serious violence together ('All').
counted as (
    select
        definition_code,
        financial_year_quarter,
        case when grouping(sv_type) = 1 then 'All' else coalesce(sv_type, 'Unclassified') end as sv_type,
        role,
        profile_dimension,
        category,
        count(*) as person_count
    from characteristics
    group by grouping sets (
        (definition_code, financial_year_quarter, sv_type, role, profile_dimension, category),
        (definition_code, financial_year_quarter, role, profile_dimension, category)
    )
)

select
    counted.definition_code as sv_definition,
    definitions.definition_version,
    counted.financial_year_quarter,
    counted.sv_type,
    counted.role,
    counted.profile_dimension,
    counted.category,
    counted.person_count,
    sum(counted.person_count) over (
        partition by counted.definition_code, counted.financial_year_quarter, counted.sv_type, counted.role,
            counted.profile_dimension
    ) as group_total,
    round(
        100.0 * counted.person_count / sum(counted.person_count) over (
            partition by counted.definition_code, counted.financial_year_quarter, counted.sv_type, counted.role,
                counted.profile_dimension
        ),
        1
    ) as pct_of_group
from counted
inner join definitions on definitions.definition_code = counted.definition_code
