-- How many people each number of agencies knows (1 to 4), by age band at their latest contact.

select
    agency_count,
    age_band,
    count(*) as people
from {{ ref('int_people_linked') }}
group by agency_count, age_band
