-- Recorded crimes by ward, calendar month and police.uk crime type. Ward and month come from
-- int_crimes_classified (dim_geography: LSOA 2011 or 2021 -> ward May 2022), where a crime whose LSOA is not in
-- the ONS lookup is kept in ward 'unmatched', counted, never dropped.

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
)

select
    ward_code,
    ward_name,
    month_start,
    crime_type,
    count(*) as crime_count
from crimes
group by 1, 2, 3, 4
