-- Young people in the cross-agency cohort counted by the combination of agencies that know them, age band and
-- locality of residence. Aggregate: no person-level data.

with

cohort as (
    select * from {{ ref('int_cohort_young_people') }}
)

select
    agency_combination,
    agency_count,
    known_to_police,
    known_to_youth_justice,
    known_to_education,
    known_to_ae_violence,
    age_band,
    locality,
    max(latest_contact_date) as cohort_window_end,
    count(*) as people
from cohort
group by
    agency_combination, agency_count, known_to_police, known_to_youth_justice, known_to_education,
    known_to_ae_violence, age_band, locality
