-- First-time entrants to the youth justice system by financial quarter and ward of residence, per 100,000
-- residents aged 10 to 17. Every Manchester ward has a row in every quarter the youth justice extract covers
-- (zero when nobody entered); children living outside the city, or with no home LSOA, have their own row.

with

cases as (
    select * from {{ ref('stg_youth_justice__cases') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

first_entries as (
    -- A child counts once, in the quarter of their first offence flagged as a first entry.
    select distinct on (child_person_key)
        child_person_key,
        offence_date,
        home_lsoa_code
    from cases
    where first_time_entrant = 'Y'
    order by child_person_key, offence_date
),

population_10_17 as (
    -- The latest mid-year estimate loaded, by single year of age, summed to wards.
    select geography.ward_code, sum(population.population) as population_10_17
    from {{ ref('stg_reference__lsoa_population') }} as population
    inner join geography on geography.lsoa_code = population.lsoa_code
    where population.age between 10 and 17
        and population.reference_date = (
            select max(reference_date) from {{ ref('stg_reference__lsoa_population') }}
        )
    group by geography.ward_code
),

wards as (
    select distinct ward_code, ward_name, locality
    from geography
    where is_manchester
    union all
    select 'Not known', 'Outside Manchester or not recorded', 'Not known'
),

quarters as (
    select distinct dates.financial_year, dates.financial_year_quarter, dates.quarter_start
    from dates
    where dates.date_day between (select min(offence_date) from cases) and (select max(offence_date) from cases)
),

entrants as (
    select
        dates.financial_year_quarter,
        case when geography.is_manchester then geography.ward_code else 'Not known' end as ward_code,
        count(*) as first_time_entrants
    from first_entries
    inner join dates on dates.date_day = first_entries.offence_date
    left join geography on geography.lsoa_code = first_entries.home_lsoa_code
    group by 1, 2
)

select
    quarters.financial_year,
    quarters.financial_year_quarter,
    quarters.quarter_start,
    wards.ward_code,
    wards.ward_name,
    wards.locality,
    coalesce(entrants.first_time_entrants, 0) as first_time_entrants,
    population_10_17.population_10_17,
    -- A quarter's entrants per 100,000 residents aged 10-17 (not annualised).
    round(100000.0 * coalesce(entrants.first_time_entrants, 0) / nullif(population_10_17.population_10_17, 0), 1)
        as fte_rate_per_100k_10_17
from quarters
cross join wards
left join entrants using (financial_year_quarter, ward_code)
left join population_10_17 using (ward_code)
