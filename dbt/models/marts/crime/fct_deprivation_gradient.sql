-- Crime by deprivation: crimes and the rate per 1,000 residents in each IMD 2019 decile of Manchester's LSOAs
-- (1 = most deprived nationally; dim_geography, a 2021 LSOA taking its 2011 parent's decile), per financial
-- year and crime group, with the rate ratio against the least deprived part of the city. Manchester has few
-- LSOAs in the least deprived deciles, so a single decile is too small a base: the reference pools the least
-- deprived deciles, from the top down, until they hold at least 5% of the city's residents (named in
-- reference_deciles). Residents are dim_population's Census 2021-based figures on 2021 LSOAs.
-- No crime is dropped for its place: a crime whose LSOA is not in the lookup (or missing) is counted in the
-- 'unmatched' row, and one in another GM district in 'outside Manchester'; neither has a population or rate.

with

classified as (
    select * from {{ ref('int_crimes_classified') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

crimes as (
    select
        classified.financial_year,
        classified.month_start,
        classified.is_victim_based,
        classified.is_serious_violence_mcr,
        case when geography.is_manchester then geography.imd_decile end as imd_decile,
        case
            when geography.is_manchester then geography.imd_decile::text
            when geography.lsoa_code is null then 'unmatched'
            else 'outside Manchester'
        end as deprivation_group
    from classified
    left join geography on geography.lsoa_code = classified.lsoa_code
),

-- 2021 LSOAs only: a retired 2011 code has no population of its own (dim_geography).
decile_population as (
    select imd_decile, imd_decile::text as deprivation_group, sum(population) as population, count(*) as lsoa_count
    from geography
    where is_manchester and is_lsoa21
    group by imd_decile
),

-- A decile is in the reference group when the deciles less deprived than it hold under 5% of residents.
reference_deciles as (
    select imd_decile
    from (
        select
            imd_decile,
            coalesce(sum(population) over (order by imd_decile desc rows between unbounded preceding and 1 preceding), 0)
                as residents_less_deprived,
            sum(population) over () as residents
        from decile_population
    ) as cumulative
    where residents_less_deprived < 0.05 * residents
),

crime_groups as (
    select financial_year, deprivation_group, 'All crime' as crime_group, month_start from crimes
    union all
    select financial_year, deprivation_group, 'Victim-based crime', month_start from crimes where is_victim_based
    union all
    select financial_year, deprivation_group, 'Serious violence (Manchester 2022)', month_start
    from crimes where is_serious_violence_mcr
),

counted as (
    select financial_year, crime_group, deprivation_group, count(*) as crime_count
    from crime_groups
    group by 1, 2, 3
),

-- Every decile in every year and group, so a decile with no crimes shows 0; the unmatched and outside-Manchester
-- rows appear when they hold crimes.
groups as (
    select financial_year, crime_group, count(distinct month_start) as months_covered
    from crime_groups group by 1, 2
),

cells as (
    select groups.financial_year, groups.crime_group, decile_population.*, groups.months_covered
    from groups
    cross join decile_population
    union all
    select groups.financial_year, groups.crime_group, null, counted.deprivation_group, null, null, groups.months_covered
    from groups
    inner join counted
        on counted.financial_year is not distinct from groups.financial_year
        and counted.crime_group = groups.crime_group
    where counted.deprivation_group in ('unmatched', 'outside Manchester')
),

rated as (
    select
        cells.financial_year,
        cells.crime_group,
        cells.imd_decile,
        cells.deprivation_group,
        cells.lsoa_count,
        cells.population,
        coalesce(counted.crime_count, 0) as crime_count,
        cells.months_covered,
        1000.0 * coalesce(counted.crime_count, 0) / nullif(cells.population, 0) as rate,
        cells.imd_decile in (select imd_decile from reference_deciles) as is_reference
    from cells
    left join counted
        on counted.financial_year is not distinct from cells.financial_year
        and counted.crime_group = cells.crime_group
        and counted.deprivation_group = cells.deprivation_group
),

reference_rates as (
    select
        financial_year,
        crime_group,
        1000.0 * sum(crime_count) / nullif(sum(population), 0) as reference_rate,
        concat(min(imd_decile), '-', max(imd_decile)) as reference_deciles
    from rated
    where is_reference
    group by 1, 2
)

select
    rated.financial_year,
    rated.crime_group,
    rated.imd_decile,
    rated.deprivation_group,
    'IoD2019' as imd_version,
    rated.lsoa_count,
    rated.population,
    rated.crime_count,
    rated.months_covered,
    -- Per 1,000 residents over the months loaded (see months_covered).
    round(rated.rate, 2) as rate_per_1000,
    reference_rates.reference_deciles,
    round(reference_rates.reference_rate, 2) as reference_rate_per_1000,
    round(rated.rate / nullif(reference_rates.reference_rate, 0), 2) as rate_ratio_vs_least_deprived
from rated
left join reference_rates
    on reference_rates.financial_year is not distinct from rated.financial_year
    and reference_rates.crime_group = rated.crime_group
