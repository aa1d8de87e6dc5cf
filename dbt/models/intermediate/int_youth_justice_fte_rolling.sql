-- YJB first-time entrants in the twelve months to the end of each financial quarter, per 100,000 residents aged
-- 10-17, for the city, its localities and wards (and 'Not known': children with no Manchester home). One model
-- for both the FTE mart and the scorecard's FTE KPI, so the two cannot disagree.
--
-- Population aged 10-17: dim_population (Census 2021 by single year of age, shared over 2021 LSOAs by the IoD 2019
-- denominators), so the city's denominator is the Census figure and the wards add up to it.

with

entrants as (
    select * from {{ ref('int_youth_justice_first_time_entrants') }}
),

cases as (
    select * from {{ ref('stg_youth_justice__cases') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

geography as (
    select * from {{ ref('dim_geography') }} where is_manchester
),

lsoa_population as (
    select population.lsoa_code, sum(population.population) as population_10_17
    from {{ ref('dim_population') }} as population
    inner join geography using (lsoa_code)
    where population.age between 10 and 17
    group by population.lsoa_code
),

-- Each Manchester LSOA counts towards the city, its locality and its ward.
places as (
    select lsoa_code, 'City' as geography_level, 'Manchester' as geography from geography
    union all
    select lsoa_code, 'Locality', locality from geography
    union all
    select lsoa_code, 'Ward', ward_code from geography
),

areas as (
    select distinct geography_level, geography from places
    union all
    select 'Not known', 'Not known'
),

area_population as (
    select places.geography_level, places.geography, sum(lsoa_population.population_10_17) as population_10_17
    from places
    inner join lsoa_population using (lsoa_code)
    group by 1, 2
),

data_months as (
    -- The months of disposals the warehouse holds.
    select min(date_trunc('month', disposal_date))::date as first_month,
           max(date_trunc('month', disposal_date))::date as last_month
    from cases
),

quarters as (
    -- Every financial quarter the disposals loaded reach into, whole (a window ends on the quarter's last day).
    select distinct
        dates.financial_year,
        dates.financial_year_quarter,
        dates.quarter_start,
        (dates.quarter_start + interval '3 months' - interval '1 day')::date as quarter_end
    from dates
    cross join data_months
    where dates.date_day between data_months.first_month
        and (data_months.last_month + interval '1 month' - interval '1 day')::date
),

window_bounds as (
    select
        quarters.*,
        (quarters.quarter_end - interval '12 months' + interval '1 day')::date as window_start,
        greatest(data_months.first_month, (quarters.quarter_end - interval '12 months' + interval '1 day')::date)
            as first_held_month,
        least(data_months.last_month, date_trunc('month', quarters.quarter_end)::date) as last_held_month
    from quarters
    cross join data_months
),

windows as (
    select
        financial_year,
        financial_year_quarter,
        quarter_start,
        quarter_end,
        window_start,
        -- Months of the twelve the warehouse holds disposals for (12 once a year is loaded).
        (
            (extract(year from last_held_month) - extract(year from first_held_month)) * 12
            + extract(month from last_held_month) - extract(month from first_held_month) + 1
        )::int as months_of_data
    from window_bounds
),

located_entrants as (
    select entrants.child_person_key, entrants.disposal_date, places.geography_level, places.geography
    from entrants
    inner join places on places.lsoa_code = entrants.home_lsoa_code
    union all
    select entrants.child_person_key, entrants.disposal_date, 'Not known', 'Not known'
    from entrants
    where not exists (select 1 from geography where geography.lsoa_code = entrants.home_lsoa_code)
),

counts as (
    select
        windows.financial_year_quarter,
        located_entrants.geography_level,
        located_entrants.geography,
        count(distinct located_entrants.child_person_key) as first_time_entrants_12m,
        count(distinct located_entrants.child_person_key)
            filter (where located_entrants.disposal_date >= windows.quarter_start) as first_time_entrants_quarter
    from windows
    inner join located_entrants
        on located_entrants.disposal_date between windows.window_start and windows.quarter_end
    group by 1, 2, 3
)

select
    windows.financial_year,
    windows.financial_year_quarter,
    windows.quarter_start,
    windows.quarter_end,
    windows.window_start,
    windows.months_of_data,
    areas.geography_level,
    areas.geography,
    coalesce(counts.first_time_entrants_quarter, 0) as first_time_entrants_quarter,
    coalesce(counts.first_time_entrants_12m, 0) as first_time_entrants_12m,
    area_population.population_10_17
from windows
cross join areas
left join counts using (financial_year_quarter, geography_level, geography)
left join area_population using (geography_level, geography)
