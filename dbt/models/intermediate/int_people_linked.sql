-- One row per pseudonymised person: which agencies know them, and their age at their latest contact.
-- Person-level and linked across agencies, so restricted: analysts use the aggregate marts instead.

with

contacts as (
    -- Linked people are those an agency knows by key; "known to education" means an exclusion or suspension,
    -- not a term of persistent absence (the cohort marts count absence separately).
    select * from {{ ref('int_person_contacts_unioned') }}
    where person_key is not null and contact_type <> 'education_persistent_absence'
),

latest_contact as (
    select distinct on (person_key)
        person_key,
        contact_date as latest_contact_date,
        age_at_contact as age_at_latest_contact
    from contacts
    order by person_key, contact_date desc, age_at_contact desc nulls last
),

agencies as (
    select
        person_key,
        bool_or(agency = 'police') as known_to_police,
        bool_or(agency = 'youth_justice') as known_to_youth_justice,
        bool_or(agency = 'education') as known_to_education,
        bool_or(agency = 'health') as known_to_health,
        count(distinct agency) as agency_count,
        count(*) as contact_count
    from contacts
    group by person_key
)

select
    agencies.*,
    latest_contact.latest_contact_date,
    latest_contact.age_at_latest_contact,
    {{ age_band('latest_contact.age_at_latest_contact') }} as age_band
from agencies
inner join latest_contact using (person_key)
