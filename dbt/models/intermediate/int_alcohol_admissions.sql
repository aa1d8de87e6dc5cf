-- Alcohol-specific hospital admission episodes (latest version) by month, LSOA of residence and the extract's age
-- band, placed in dim_geography (matched, unmatched or not recorded, never dropped) with the month's financial
-- periods: the base of the alcohol-specific admissions rate in fct_substance_misuse. Counts by LSOA, month and
-- age band are small enough to identify a patient: a table under row security by agency.

with

admissions as (
    select * from {{ ref('stg_health__alcohol_admissions') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
)

select
    'health' as agency,
    admissions.month,
    dates.financial_year,
    dates.financial_year_quarter,
    admissions.age_band,
    admissions.admissions,
    admissions.lsoa_code,
    {{ lsoa_location_status('admissions.lsoa_code') }} as location_status,
    {{ lsoa_ward_columns('admissions.lsoa_code') }},
    geography.district_name,
    coalesce(geography.is_manchester, false) as is_manchester,
    admissions.batch_id
from admissions
left join geography on geography.lsoa_code = admissions.lsoa_code
inner join dates on dates.date_day = admissions.month
