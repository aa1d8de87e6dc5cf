-- Requests for service to the council's ASB team by calendar month, ward and category, with how many were
-- flagged as Covid-19 related. Serves "The Council's ASB Team received 8,548 requests for service between
-- April 2018 and March 2022, peaking in 2021/22 with 3,027 requests, 1,224 of which were Covid-19 related."

with

requests as (
    select * from {{ ref('int_asb_requests_located') }}
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
from requests
group by month_start, financial_year, financial_year_quarter, ward_code, ward_name, locality, category
