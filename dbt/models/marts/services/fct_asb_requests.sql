-- Requests for service to the council's ASB team by calendar month, ward and category, with how many were
-- flagged as Covid-19 related. Serves "The Council's ASB Team received 8,548 requests for service between
-- April 2018 and March 2022, peaking in 2021/22 with 3,027 requests, 1,224 of which were Covid-19 related."

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
),

requests_dated as (
    select
        dates.month_start,
        dates.financial_year,
        dates.financial_year_quarter,
        -- A ward code that is not a 2019 Manchester ward is kept (as sent) so that totals reconcile with the
        -- council's extract; its name says why it has no locality.
        requests.ward_code,
        coalesce(wards.ward_name, 'Not a Manchester ward (2019)') as ward_name,
        coalesce(wards.locality, 'Unknown') as locality,
        requests.category,
        requests.covid_related_flag = 'Y' as is_covid_related
    from requests
    inner join dates on dates.date_day = requests.received_date
    left join wards on wards.ward_code = requests.ward_code
)

select
    month_start,
    financial_year,
    financial_year_quarter,
    ward_code,
    ward_name,
    locality,
    category,
    count(*) as requests,
    count(*) filter (where is_covid_related) as covid_related_requests,
    round(100.0 * count(*) filter (where is_covid_related) / count(*), 1) as covid_related_pct
from requests_dated
group by month_start, financial_year, financial_year_quarter, ward_code, ward_name, locality, category
