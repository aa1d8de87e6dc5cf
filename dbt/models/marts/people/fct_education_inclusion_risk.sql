-- Exclusions, suspensions and persistent absence by school and term, with how many of the pupils concerned
-- are also known to youth justice. Terms follow the academic year (September to August): autumn September to
-- December, spring January to March, summer April to August; an attendance return names its term itself.

with

exclusions as (
    select * from {{ ref('int_education_exclusions') }}
),

attendance as (
    select * from {{ ref('int_school_attendance') }}
),

-- Known to youth justice: a child with a youth justice case in the one person-contacts model.
known_to_youth_justice as (
    select distinct person_key
    from {{ ref('int_person_contacts_unioned') }}
    where agency = 'youth_justice'
),

exclusion_counts as (
    select
        school_id, academic_year, term,
        count(*) filter (where is_permanent_exclusion) as permanent_exclusions,
        count(*) filter (where is_suspension) as suspensions,
        count(distinct pupil_person_key) as pupils_excluded_or_suspended
    from exclusions
    group by school_id, academic_year, term
),

attendance_counts as (
    select
        school_id, academic_year, term,
        count(distinct pupil_person_key) as pupils_in_attendance_return,
        count(distinct pupil_person_key) filter (where is_persistently_absent) as persistently_absent_pupils
    from attendance
    group by school_id, academic_year, term
),

pupils_at_risk as (
    -- A pupil excluded, suspended or persistently absent in the term, once.
    select school_id, academic_year, term, pupil_person_key from exclusions
    union
    select school_id, academic_year, term, pupil_person_key from attendance where is_persistently_absent
),

risk_counts as (
    select
        school_id, academic_year, term,
        count(*) as pupils_at_risk,
        count(known_to_youth_justice.person_key) as pupils_at_risk_known_to_youth_justice
    from pupils_at_risk
    left join known_to_youth_justice on known_to_youth_justice.person_key = pupils_at_risk.pupil_person_key
    group by school_id, academic_year, term
),

cells as (
    select school_id, academic_year, term from exclusion_counts
    union
    select school_id, academic_year, term from attendance_counts
)

select
    cells.school_id,
    cells.academic_year,
    cells.term,
    coalesce(exclusion_counts.permanent_exclusions, 0) as permanent_exclusions,
    coalesce(exclusion_counts.suspensions, 0) as suspensions,
    coalesce(exclusion_counts.pupils_excluded_or_suspended, 0) as pupils_excluded_or_suspended,
    attendance_counts.pupils_in_attendance_return,
    attendance_counts.persistently_absent_pupils,
    round(100.0 * attendance_counts.persistently_absent_pupils
        / nullif(attendance_counts.pupils_in_attendance_return, 0), 1) as persistent_absence_rate_pct,
    coalesce(risk_counts.pupils_at_risk, 0) as pupils_at_risk,
    coalesce(risk_counts.pupils_at_risk_known_to_youth_justice, 0) as pupils_at_risk_known_to_youth_justice
from cells
left join exclusion_counts using (school_id, academic_year, term)
left join attendance_counts using (school_id, academic_year, term)
left join risk_counts using (school_id, academic_year, term)
