-- One row per request for service to the council's ASB team (latest version), with its periods and its ward
-- placed in dim_geography: the base of the ASB request marts. The request carries a ward code, not an LSOA, so
-- it is placed by ward; a code that is not a Manchester ward is kept as sent (totals reconcile with the
-- council's extract) and labelled, never dropped. Council data: a table under row security by agency.

with

requests as (
    select * from {{ ref('stg_council__asb_requests') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

-- dim_geography is at LSOA grain; the requests carry a ward code only, so take one row per ward.
wards as (
    select distinct ward_code, ward_name, locality
    from {{ ref('dim_geography') }}
    where is_manchester
)

select
    requests.request_id,
    'council' as agency,
    requests.received_date,
    dates.month_start,
    dates.financial_year,
    dates.financial_year_quarter,
    requests.ward_code,
    case when wards.ward_code is null then 'unmatched' else 'matched' end as location_status,
    coalesce(wards.ward_name, 'Not a Manchester ward (2019)') as ward_name,
    coalesce(wards.locality, 'Unknown') as locality,
    requests.category,
    requests.covid_related_flag = 'Y' as is_covid_related,
    requests.batch_id
from requests
inner join dates on dates.date_day = requests.received_date
left join wards on wards.ward_code = requests.ward_code
