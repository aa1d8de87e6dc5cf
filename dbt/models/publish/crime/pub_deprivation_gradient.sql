-- fct_deprivation_gradient (IMD 2019) for publication. The least deprived deciles the mart pools as its reference
-- (reference_deciles, '6-9') are published as one cell, so the rate ratio is always against a published
-- cell; the city total is the 'All' row. Disclosure control (partnership.publish, declared in the yml)
-- withholds every ratio of a year and group whose reference cell is suppressed: a ratio would give it away.

with

gradient as (
    -- The IMD only: the crime-domain rows stay internal (their reference cell is not the declared '6-9').
    select * from {{ ref('fct_deprivation_gradient') }}
    where deprivation_measure = 'IMD 2019'
),

banded as (
    select
        *,
        case
            when imd_decile between split_part(reference_deciles, '-', 1)::int and split_part(reference_deciles, '-', 2)::int
                then reference_deciles
            -- A decile on its own, or the crimes no decile holds ('unmatched', 'outside Manchester').
            else deprivation_group
        end as imd_deciles
    from gradient
),

cells as (
    select
        financial_year,
        crime_group,
        case when grouping(imd_deciles) = 1 then 'All' else imd_deciles end as imd_deciles,
        sum(lsoa_count)::bigint as lsoa_count,
        sum(population)::bigint as population,
        sum(crime_count)::bigint as crime_count,
        max(months_covered) as months_covered,
        max(reference_deciles) as reference_deciles,
        -- on the population as published (whole residents): a reader, and the disclosure check, can work the
        -- rate out from the count and the population beside it, and must get the same figure
        1000.0 * sum(crime_count) / nullif(sum(population)::bigint, 0) as rate
    from banded
    group by financial_year, crime_group, cube(imd_deciles)
)

select
    financial_year,
    crime_group,
    imd_deciles,
    imd_deciles = reference_deciles as is_reference,
    lsoa_count,
    population,
    crime_count,
    months_covered,
    round(rate, 2) as rate_per_1000,
    round(rate / nullif(max(rate) filter (where imd_deciles = reference_deciles)
        over (partition by financial_year, crime_group), 0), 2) as rate_ratio_vs_least_deprived
from cells
