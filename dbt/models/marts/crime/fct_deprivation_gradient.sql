-- Crime by deprivation: crimes and the rate per 1,000 residents in each decile of Manchester's LSOAs, on two
-- measures from the English Indices of Deprivation 2019: the IMD itself and its crime domain (1 = most deprived
-- nationally; dim_geography, where a 2021 LSOA takes its 2011 parent's deciles). Per financial year and crime
-- group, with the rate ratio against the least deprived part of the city. Manchester has few LSOAs in the least
-- deprived deciles, so a single decile is too small a base: the reference pools the least deprived deciles,
-- from the top down, until they hold at least 5% of the city's residents (named in reference_deciles; '6-9' on
-- the IMD). Residents are dim_population's Census 2021-based figures on 2021 LSOAs.
-- No crime is dropped for its place: a crime whose LSOA is not in the lookup (or is missing) is counted in the
-- 'unmatched' row, and one in another GM district in 'outside Manchester'; neither has a population or rate.

with

classified as (
    select * from {{ ref('int_crimes_classified') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
),

-- Each LSOA's decile on each measure.
lsoa_deciles as (
    select
        geography.lsoa_code,
        geography.is_manchester,
        geography.is_lsoa21,
        geography.population,
        measures.deprivation_measure,
        measures.decile
    from geography
    cross join lateral (
        values
            ('IMD 2019', geography.imd_decile),
            ('IMD 2019 crime domain', geography.crime_decile)
    ) as measures (deprivation_measure, decile)
),

crimes as (
    select
        classified.financial_year,
        classified.month_start,
        classified.is_victim_based,
        classified.is_serious_violence_mcr,
        measures.deprivation_measure,
        case
            when lsoa_deciles.is_manchester then lsoa_deciles.decile::text
            when lsoa_deciles.lsoa_code is null then 'unmatched'
            else 'outside Manchester'
        end as deprivation_group
    from classified
    cross join (values ('IMD 2019'), ('IMD 2019 crime domain')) as measures (deprivation_measure)
    left join lsoa_deciles
        on lsoa_deciles.lsoa_code = classified.lsoa_code
        and lsoa_deciles.deprivation_measure = measures.deprivation_measure
),

-- 2021 LSOAs only: a retired 2011 code has no population of its own (dim_geography).
decile_population as (
    select
        deprivation_measure,
        decile as imd_decile,
        decile::text as deprivation_group,
        sum(population) as population,
        count(*) as lsoa_count
    from lsoa_deciles
    where is_manchester and is_lsoa21
    group by deprivation_measure, decile
),

-- A decile is in the reference group when the deciles less deprived than it hold under 5% of residents.
reference_deciles as (
    select deprivation_measure, imd_decile
    from (
        select
            deprivation_measure,
            imd_decile,
            coalesce(sum(population) over (
                partition by deprivation_measure order by imd_decile desc
                rows between unbounded preceding and 1 preceding
            ), 0) as residents_less_deprived,
            sum(population) over (partition by deprivation_measure) as residents
        from decile_population
    ) as cumulative
    where residents_less_deprived < 0.05 * residents
),

crime_groups as (
    select financial_year, deprivation_measure, deprivation_group, 'All crime' as crime_group, month_start
    from crimes
    union all
    select financial_year, deprivation_measure, deprivation_group, 'Victim-based crime', month_start
    from crimes where is_victim_based
    union all
    select financial_year, deprivation_measure, deprivation_group, 'Serious violence (Manchester 2022)', month_start
    from crimes where is_serious_violence_mcr
),

counted as (
    select financial_year, crime_group, deprivation_measure, deprivation_group, count(*) as crime_count
    from crime_groups
    group by 1, 2, 3, 4
),

groups as (
    select financial_year, crime_group, deprivation_measure, count(distinct month_start) as months_covered
    from crime_groups
    group by 1, 2, 3
),

-- Every decile in every year and group, so a decile with no crimes shows 0; the unmatched and outside-Manchester
-- rows appear when they hold crimes.
cells as (
    select
        groups.financial_year,
        groups.crime_group,
        groups.deprivation_measure,
        decile_population.imd_decile,
        decile_population.deprivation_group,
        decile_population.lsoa_count,
        decile_population.population,
        groups.months_covered
    from groups
    inner join decile_population on decile_population.deprivation_measure = groups.deprivation_measure
    union all
    select
        groups.financial_year,
        groups.crime_group,
        groups.deprivation_measure,
        null,
        counted.deprivation_group,
        null,
        null,
        groups.months_covered
    from groups
    inner join counted
        on counted.financial_year is not distinct from groups.financial_year
        and counted.crime_group = groups.crime_group
        and counted.deprivation_measure = groups.deprivation_measure
    where counted.deprivation_group in ('unmatched', 'outside Manchester')
),

rated as (
    select
        cells.*,
        coalesce(counted.crime_count, 0) as crime_count,
        1000.0 * coalesce(counted.crime_count, 0) / nullif(cells.population, 0) as rate,
        exists (
            select 1 from reference_deciles
            where reference_deciles.deprivation_measure = cells.deprivation_measure
                and reference_deciles.imd_decile = cells.imd_decile
        ) as is_reference
    from cells
    left join counted
        on counted.financial_year is not distinct from cells.financial_year
        and counted.crime_group = cells.crime_group
        and counted.deprivation_measure = cells.deprivation_measure
        and counted.deprivation_group = cells.deprivation_group
),

reference_rates as (
    select
        financial_year,
        crime_group,
        deprivation_measure,
        1000.0 * sum(crime_count) / nullif(sum(population), 0) as reference_rate,
        concat(min(imd_decile), '-', max(imd_decile)) as reference_deciles
    from rated
    where is_reference
    group by 1, 2, 3
)

select
    rated.financial_year,
    rated.crime_group,
    rated.deprivation_measure,
    -- The decile on the measure (named imd_decile on both: the crime domain is a domain of the IMD).
    rated.imd_decile,
    rated.deprivation_group,
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
    and reference_rates.deprivation_measure = rated.deprivation_measure
