-- Recorded crimes by Manchester ward, month recorded and police.uk crime type.

with

crimes as (
    select * from {{ ref('stg_police__recorded_crime') }}
),

wards as (
    select * from {{ ref('ons_lsoa11_to_ward19') }}
)

select
    coalesce(wards.ward19_code, 'unmatched') as ward_code,
    coalesce(wards.ward19_name, 'LSOA not in the ONS lookup') as ward_name,
    cast(date_trunc('month', crimes.recorded_date) as date) as month_start,  -- counted when recorded (REC-HOCR)
    crimes.crime_type,
    count(*) as crime_count
from crimes
left join wards on crimes.lsoa_code = wards.lsoa11_code
group by 1, 2, 3, 4
