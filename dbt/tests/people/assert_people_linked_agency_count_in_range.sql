-- Each linked person is known to at least one agency and to no more agencies than have person contacts (the
-- registry's person_contacts decide which; a new partner's dataset adds one).
select person_key, agency_count
from {{ ref('int_people_linked') }}
where agency_count < 1
    or agency_count > (
        select count(distinct agency) from {{ ref('int_person_contacts_unioned') }} where person_key is not null
    )
