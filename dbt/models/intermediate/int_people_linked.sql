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
    {{ latest_contact('contacts') }}
),

agencies as (
    select
        person_key,
        {{ known_to_agencies() }}
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
