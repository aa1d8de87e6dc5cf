-- fct_asb_requests by financial year and ward, with the all-wards total ('All'), and the ward's residents
-- (census 2021, dim_geography; the city's for 'All'). Built here from council ASB and reference data only, so
-- what is published from it carries no other agency's lineage (the ward profile has the same populations,
-- but is built on police crime and is internal). The rate per 1,000, annualised by the months the year
-- covers (fct_asb_requests_by_financial_year), is worked out in its publish table.

with

requests as (
    select * from {{ ref('fct_asb_requests') }}
),

-- Residents per ward, and the city's (the rollup's null ward) for 'All'.
ward_population as (
    select coalesce(ward_code, 'All') as ward_code, sum(population) as population
    from {{ ref('dim_geography') }}
    where is_manchester
    group by rollup(ward_code)
),

cells as (
    select
        financial_year,
        case when grouping(ward_code) = 1 then 'All' else ward_code end as ward_code,
        case when grouping(ward_code) = 1 then 'All wards' else max(ward_name) end as ward_name,
        case when grouping(ward_code) = 1 then 'All' else max(locality) end as locality,
        sum(requests)::bigint as requests,
        sum(covid_related_requests)::bigint as covid_related_requests,
        round(100.0 * sum(covid_related_requests) / sum(requests), 1) as covid_related_pct
    from requests
    group by financial_year, cube(ward_code)
)

select
    cells.*,
    ward_population.population::bigint as population
from cells
left join ward_population using (ward_code)
