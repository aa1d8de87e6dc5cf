-- Generated from plugins/partnership/registry/ by `partnership registry sync`. Do not edit.
-- Every contact an agency had with a pseudonymised person: one row per source record, from each dataset's
-- person_contacts in the registry. The one person-contacts model the people marts and cohorts read
-- (int_people_linked, int_cohort_contacts). Person-level: a table under row security by agency.
--
-- A contact is dated when the agency dealt with the person, with the person's age then.

with

education_persistent_absence_contacts as (
    -- A term of persistent absence (dated at the term's start).
    select
        pupil_person_key as person_key,
        'education' as agency,
        'education_persistent_absence' as contact_type,
        term_start_date as contact_date,
        age_at_term_start as age_at_contact,
        cast(null as text) as residence_lsoa_code
    from {{ ref('stg_education__attendance') }}
    where pupil_person_key is not null
        and persistent_absence_flag in ('Y')
),

education_exclusion_contacts as (
    -- A permanent exclusion.
    select
        pupil_person_key as person_key,
        'education' as agency,
        'education_exclusion' as contact_type,
        start_date as contact_date,
        age_at_start as age_at_contact,
        cast(null as text) as residence_lsoa_code
    from {{ ref('stg_education__exclusions') }}
    where pupil_person_key is not null
        and exclusion_type in ('PERM')
),

education_suspension_contacts as (
    -- A suspension (fixed-term or lunchtime).
    select
        pupil_person_key as person_key,
        'education' as agency,
        'education_suspension' as contact_type,
        start_date as contact_date,
        age_at_start as age_at_contact,
        cast(null as text) as residence_lsoa_code
    from {{ ref('stg_education__exclusions') }}
    where pupil_person_key is not null
        and exclusion_type in ('FIXD', 'LNCH')
),

ae_violence_contacts as (
    -- An A&E attendance after an assault.
    select
        patient_person_key as person_key,
        'health' as agency,
        'ae_violence' as contact_type,
        cast(arrival_datetime as date) as contact_date,
        age as age_at_contact,
        cast(null as text) as residence_lsoa_code
    from {{ ref('stg_health__ae_assault_attendances') }}
),

police_suspect_contacts as (
    -- The suspect of a recorded crime (the extract gives no residence).
    select
        suspect_person_key as person_key,
        'police' as agency,
        'police_suspect' as contact_type,
        recorded_date as contact_date,
        suspect_age + {{ years_between('offence_date', 'recorded_date') }} as age_at_contact,
        cast(null as text) as residence_lsoa_code
    from {{ ref('stg_police__recorded_crime') }}
    where suspect_person_key is not null
),

police_victim_contacts as (
    -- The victim of a recorded crime.
    select
        victim_person_key as person_key,
        'police' as agency,
        'police_victim' as contact_type,
        recorded_date as contact_date,
        victim_age + {{ years_between('offence_date', 'recorded_date') }} as age_at_contact,
        victim_home_lsoa as residence_lsoa_code
    from {{ ref('stg_police__recorded_crime') }}
    where victim_person_key is not null
),

youth_justice_case_contacts as (
    -- A youth justice disposal (dated by the disposal).
    select
        child_person_key as person_key,
        'youth_justice' as agency,
        'youth_justice_case' as contact_type,
        disposal_date as contact_date,
        age_at_disposal as age_at_contact,
        home_lsoa_code as residence_lsoa_code
    from {{ ref('stg_youth_justice__cases') }}
    where child_person_key is not null
)

select * from education_persistent_absence_contacts
union all select * from education_exclusion_contacts
union all select * from education_suspension_contacts
union all select * from ae_violence_contacts
union all select * from police_suspect_contacts
union all select * from police_victim_contacts
union all select * from youth_justice_case_contacts
