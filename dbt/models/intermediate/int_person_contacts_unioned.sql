-- Every contact an agency had with a pseudonymised person: one row per source record, the one person-contacts
-- model the people marts and cohorts read (int_people_linked, int_cohort_contacts). An A&E attendance the trust
-- could not link keeps a null person_key, so match rates can count it. Person-level: a table under row
-- security by agency.
--
-- A contact is dated when the agency dealt with the person: police by the date the crime was recorded (an offence
-- of years ago recorded this month is this month's contact), youth justice by the disposal; the age is the
-- person's then (police give the age at the offence, so the years since are added).

with

police_suspects as (
    select
        suspect_person_key as person_key,
        'police' as agency,
        'police_suspect' as contact_type,
        recorded_date as contact_date,
        suspect_age + {{ years_between('offence_date', 'recorded_date') }} as age_at_contact,
        cast(null as text) as residence_lsoa_code  -- the police extract gives no suspect residence
    from {{ ref('stg_police__recorded_crime') }}
    where suspect_person_key is not null
),

police_victims as (
    select
        victim_person_key,
        'police',
        'police_victim',
        recorded_date,
        victim_age + {{ years_between('offence_date', 'recorded_date') }},
        victim_home_lsoa  -- an LSOA code, or 'Outside Manchester'
    from {{ ref('stg_police__recorded_crime') }}
    where victim_person_key is not null
),

youth_justice as (
    select
        child_person_key,
        'youth_justice',
        'youth_justice_case',
        disposal_date,
        age_at_disposal,
        home_lsoa_code
    from {{ ref('stg_youth_justice__cases') }}
),

exclusions as (
    -- A permanent exclusion (PERM) or a suspension (FIXD fixed-term, LNCH lunchtime).
    select
        pupil_person_key,
        'education',
        case when exclusion_type = 'PERM' then 'education_exclusion' else 'education_suspension' end,
        start_date,
        age_at_start,
        cast(null as text)
    from {{ ref('stg_education__exclusions') }}
),

persistent_absence as (
    -- Missing 10% or more of the term's possible sessions (the DfE's persistent-absence threshold, as flagged
    -- by the education extract); dated at the start of the term.
    select
        pupil_person_key,
        'education',
        'education_persistent_absence',
        term_start_date,
        age_at_term_start,
        cast(null as text)
    from {{ ref('stg_education__attendance') }}
    where persistent_absence_flag = 'Y'
),

violence_ae as (
    -- Every attendance in this extract is an assault (the ISTV-style feed), so violence-related by definition.
    select
        patient_person_key,
        'health',
        'ae_violence',
        cast(arrival_datetime as date),
        age,
        cast(null as text)
    from {{ ref('stg_health__ae_assault_attendances') }}
)

select * from police_suspects
union all select * from police_victims
union all select * from youth_justice
union all select * from exclusions
union all select * from persistent_absence
union all select * from violence_ae
