-- Every contact an agency had with a young person (aged 10 to 25 at the contact) in the twelve months to the
-- latest contact any source holds: the base of the cross-agency serious-youth-violence cohort. One row per
-- source record (an A&E attendance without a linkable key is kept, with a null person_key, so the cohort
-- marts can report each source's match rate). The cohort is the strategy's: police, youth justice, education and
-- violence-related A&E; a dataset added to the person-contacts model joins it only when named here. A filter on the one person-contacts model; a security_invoker
-- view, so that table's row security by agency applies to the reader.

with

contacts as (
    select * from {{ ref('int_person_contacts_unioned') }}
    where contact_type in (
        'police_suspect', 'police_victim', 'youth_justice_case', 'education_exclusion', 'education_suspension',
        'education_persistent_absence', 'ae_violence'
    )
),

window_end as (
    select max(contact_date) as latest_contact_date from contacts
)

select
    contacts.person_key,
    contacts.agency,
    contacts.contact_type,
    contacts.contact_date,
    contacts.age_at_contact,
    contacts.residence_lsoa_code,
    window_end.latest_contact_date as cohort_window_end
from contacts
cross join window_end
where contacts.age_at_contact between 10 and 25
    and contacts.contact_date > window_end.latest_contact_date - interval '12 months'
