-- One row per young person (10 to 25) known to police (as suspect or victim), youth justice, education
-- (an exclusion, a suspension or persistent absence) or violence-related A&E in the cohort's twelve-month
-- window: which agencies know them, their age band at their latest contact and their locality of residence.
-- Person-level and linked across agencies: restricted. A view read with the reader's privileges, so a
-- restricted analyst links each person across only the agencies shared with their partner (the row security
-- of int_cohort_contacts applies through it); dbt, the owner, links across all four for the marts.

with

contacts as (
    select * from {{ ref('int_cohort_contacts') }}
    where person_key is not null
),

age_bands as (
    -- Under 18 in youth justice's band, 18 to 25 in the young adults' band (dim_age_band schemes).
    select age, age_band from {{ ref('dim_age_band') }} where scheme in ('youth_justice', 'young_adults_18_25')
),

geography as (
    select * from {{ ref('dim_geography') }}
),

latest_contact as (
    {{ latest_contact('contacts') }}
),

latest_residence as (
    -- Residence is given by youth justice (home LSOA) and by police for victims; the latest one stated wins.
    select distinct on (person_key)
        person_key,
        residence_lsoa_code
    from contacts
    where residence_lsoa_code is not null
    order by person_key, contact_date desc, residence_lsoa_code
),

agencies as (
    select
        person_key,
        {{ known_to_agencies(health_as='ae_violence') }},
        bool_or(contact_type = 'police_suspect') as is_police_suspect,
        bool_or(contact_type = 'police_victim') as is_police_victim,
        bool_or(contact_type = 'education_exclusion') as is_excluded,
        bool_or(contact_type = 'education_suspension') as is_suspended,
        bool_or(contact_type = 'education_persistent_absence') as is_persistently_absent
    from contacts
    group by person_key
)

select
    agencies.person_key,
    agencies.known_to_police,
    agencies.known_to_youth_justice,
    agencies.known_to_education,
    agencies.known_to_ae_violence,
    agencies.is_police_suspect,
    agencies.is_police_victim,
    agencies.is_excluded,
    agencies.is_suspended,
    agencies.is_persistently_absent,
    agencies.agency_count,
    -- Always in the same order, so a combination has one spelling.
    concat_ws(
        '+',
        case when agencies.known_to_police then 'police' end,
        case when agencies.known_to_youth_justice then 'youth_justice' end,
        case when agencies.known_to_education then 'education' end,
        case when agencies.known_to_ae_violence then 'ae_violence' end
    ) as agency_combination,
    agencies.contact_count,
    latest_contact.latest_contact_date,
    latest_contact.age_at_latest_contact,
    coalesce(age_bands.age_band, 'Unknown') as age_band,
    case
        when latest_residence.residence_lsoa_code is null then 'Unknown'
        when latest_residence.residence_lsoa_code = 'Outside Manchester' then 'Outside Manchester'
        else coalesce(geography.locality, 'Unknown')
    end as locality
from agencies
inner join latest_contact using (person_key)
left join latest_residence using (person_key)
left join age_bands on age_bands.age = latest_contact.age_at_latest_contact
left join geography on geography.lsoa_code = latest_residence.residence_lsoa_code
