-- One row per pupil, school and term's attendance return (latest version), in its academic year (the return
-- names its term itself), with persistent absence as a flag: missing 10% or more of the term's possible sessions,
-- the DfE threshold, as the education extract marks it. Person-level (pupil key): a table under row security by
-- agency.

with

attendance as (
    select * from {{ ref('stg_education__attendance') }}
)

select
    'education' as agency,
    pupil_person_key,
    school_id,
    term_start_date,
    {{ academic_year('term_start_date') }} as academic_year,
    term,
    sessions_possible,
    sessions_missed,
    persistent_absence_flag = 'Y' as is_persistently_absent,
    age_at_term_start,
    ethnicity,
    batch_id
from attendance
