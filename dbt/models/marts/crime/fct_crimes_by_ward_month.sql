-- Recorded crimes by ward, calendar month and police.uk crime type, with the ward's locality and the month's
-- financial quarter (so the publish model reads this mart only). Ward, locality and periods come from
-- int_crimes_classified (dim_geography: LSOA 2011 or 2021 -> ward May 2022), where a crime whose LSOA is not in
-- the ONS lookup is kept in ward 'unmatched', counted, never dropped.

with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
)

select
    ward_code,
    ward_name,
    locality,
    month_start,
    financial_year_quarter,
    crime_type,
    count(*) as crime_count
from crimes
group by ward_code, ward_name, locality, month_start, financial_year_quarter, crime_type
