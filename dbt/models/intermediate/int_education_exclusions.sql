-- One row per permanent exclusion or suspension (latest version), classified (PERM a permanent exclusion; FIXD
-- fixed-term and LNCH lunchtime suspensions) and placed in its academic year and term: autumn September to
-- December, spring January to March, summer April to August. Person-level (pupil key): a table under row security
-- by agency.

with

exclusions as (
    select * from {{ ref('stg_education__exclusions') }}
)

select
    exclusion_id,
    'education' as agency,
    pupil_person_key,
    school_id,
    exclusion_type,
    exclusion_type = 'PERM' as is_permanent_exclusion,
    exclusion_type in ('FIXD', 'LNCH') as is_suspension,
    start_date,
    {{ academic_year('start_date') }} as academic_year,
    case
        when extract(month from start_date) >= 9 then 'Autumn'
        when extract(month from start_date) <= 3 then 'Spring'
        else 'Summer'
    end as term,
    sessions,
    reason,
    age_at_start,
    year_group,
    sex,
    ethnicity,
    batch_id
from exclusions
