-- fct_youth_justice_fte for publication: first-time entrants in the twelve months to the latest quarter, and in
-- the same twelve months of each earlier year, by ward with the city total ('All'). Only these disjoint
-- windows: overlapping rolling years published side by side would give each quarter's count back by
-- difference, below the disclosure threshold. 'All' is the city (children living in Manchester wards); children
-- with no Manchester home are not in it, as the YJB counts residents. The rate is on the population as
-- published (whole people), so rate x population gives back only the count beside it.

with

fte as (
    select * from {{ ref('fct_youth_justice_fte') }}
),

published_quarters as (
    -- The latest quarter, and every fourth quarter before it.
    select financial_year_quarter
    from (
        select
            financial_year_quarter,
            row_number() over (order by quarter_end desc) - 1 as quarters_back
        from (select distinct financial_year_quarter, quarter_end from fte) as quarters
    ) as ranked
    where quarters_back % 4 = 0
),

rows_published as (
    select
        fte.financial_year_quarter,
        fte.window_start,
        fte.quarter_end,
        fte.months_of_data,
        case when fte.geography_level = 'City' then 'All' else fte.geography end as ward_code,
        case when fte.geography_level = 'City' then 'All wards' else fte.geography_name end as ward_name,
        case when fte.geography_level = 'City' then 'All' else fte.locality end as locality,
        fte.first_time_entrants::bigint as first_time_entrants,
        round(fte.population_10_17)::bigint as population_10_17
    from fte
    inner join published_quarters using (financial_year_quarter)
    where fte.geography_level in ('City', 'Ward')
)

select
    *,
    round(100000.0 * first_time_entrants / nullif(population_10_17, 0), 1) as fte_rate_per_100k_10_17
from rows_published
