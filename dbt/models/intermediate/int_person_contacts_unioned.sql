-- Every contact any agency had with a pseudonymised person: one row per person, agency and record.

with

police_victims as (
    select victim_person_key as person_key, 'police' as agency, victim_age as age_at_contact,
           offence_date as contact_date
    from {{ ref('stg_police__recorded_crime') }}
    where victim_person_key is not null
),

police_suspects as (
    select suspect_person_key, 'police', suspect_age, offence_date
    from {{ ref('stg_police__recorded_crime') }}
    where suspect_person_key is not null
),

youth_justice as (
    select child_person_key, 'youth_justice', age_at_offence, offence_date
    from {{ ref('stg_youth_justice__cases') }}
),

education as (
    select pupil_person_key, 'education', age_at_start, start_date
    from {{ ref('stg_education__exclusions') }}
),

health as (
    select patient_person_key, 'health', age, cast(arrival_datetime as date)
    from {{ ref('stg_health__ae_assault_attendances') }}
    where patient_person_key is not null
)

select * from police_victims
union all select * from police_suspects
union all select * from youth_justice
union all select * from education
union all select * from health
