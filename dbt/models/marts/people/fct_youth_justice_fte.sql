-- First-time entrants to the youth justice system as the YJB publishes them: children aged 10-17 receiving
-- their first youth caution, youth conditional caution or court conviction, dated by the disposal, counted over
-- the twelve months to the end of each financial quarter, per 100,000 residents aged 10-17 (comparable with
-- the YJB's annual and rolling-year rates). For the city, its localities and wards, and 'Not known' (children
-- with no Manchester home). Built on int_youth_justice_fte_rolling, as the scorecard's FTE KPI is.

with

rolling as (
    select * from {{ ref('int_youth_justice_fte_rolling') }}
),

wards as (
    select distinct ward_code, ward_name, locality from {{ ref('dim_geography') }} where is_manchester
),

named as (
    select
        rolling.*,
        case rolling.geography_level
            when 'City' then 'Manchester'
            when 'Locality' then rolling.geography
            when 'Ward' then wards.ward_name
            else 'Outside Manchester or not recorded'
        end as geography_name,
        case rolling.geography_level
            when 'Locality' then rolling.geography
            when 'Ward' then wards.locality
        end as locality
    from rolling
    left join wards on rolling.geography_level = 'Ward' and wards.ward_code = rolling.geography
)

select
    financial_year,
    financial_year_quarter,
    quarter_start,
    quarter_end,
    window_start,
    months_of_data,
    geography_level,
    geography,
    geography_name,
    locality,
    first_time_entrants_quarter,
    first_time_entrants_12m as first_time_entrants,
    round(population_10_17, 1) as population_10_17,
    round(100000.0 * first_time_entrants_12m / nullif(population_10_17, 0), 1) as fte_rate_per_100k_10_17,
    -- 95% confidence interval of the rate: exact Poisson limits by Byar's approximation (as OHID's Fingertips
    -- uses for counts), on the twelve months' entrants.
    case when population_10_17 > 0 then round(
        100000.0 * case when first_time_entrants_12m = 0 then 0 else
            first_time_entrants_12m * power(1 - 1.0 / (9 * first_time_entrants_12m)
                - 1.959964 / (3 * sqrt(first_time_entrants_12m::numeric)), 3) end / population_10_17, 1)
    end as fte_rate_lower_95,
    case when population_10_17 > 0 then round(
        100000.0 * (first_time_entrants_12m + 1) * power(1 - 1.0 / (9 * (first_time_entrants_12m + 1))
            + 1.959964 / (3 * sqrt(first_time_entrants_12m + 1.0)), 3) / population_10_17, 1)
    end as fte_rate_upper_95
from named
