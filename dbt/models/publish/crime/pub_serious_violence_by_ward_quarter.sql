-- fct_serious_violence_by_ward_month for publication, by financial quarter and definition: each ward's serious
-- violence (type 'All'), and the city's by type (ward 'All'). Not ward by type: those cells are mostly from 1
-- to 9, so nearly all would be suppressed (94% of ward x month x type cells were). Rates and the estimated GM
-- share are built on the count beside them; disclosure control withholds them with it. The estimated share
-- of Greater Manchester is the cell's share of the city's count of its type, times Manchester's share of the
-- GM police.uk proxy in the quarter.

with

serious_violence as (
    select * from {{ ref('fct_serious_violence_by_ward_month') }}
),

quarters as (
    select distinct month_start, financial_year_quarter from {{ ref('dim_date') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
    where is_manchester
),

ward_population as (
    select ward_code, max(locality) as locality, sum(population) as population from geography group by ward_code
    union all
    select 'All', 'All', sum(population) from geography
),

-- Manchester's proxy share of GM, over the quarter's proxy crimes (the same for every ward and type).
proxy_share as (
    select
        quarters.financial_year_quarter,
        round(100.0 * sum(manchester_proxy_crimes) / nullif(sum(gm_proxy_crimes), 0), 2) as manchester_share_of_gm_proxy_pct
    from (
        select distinct month_start, manchester_proxy_crimes, gm_proxy_crimes from serious_violence
    ) as months
    inner join quarters using (month_start)
    group by quarters.financial_year_quarter
),

cells as (
    select
        quarters.financial_year_quarter,
        serious_violence.sv_definition,
        max(serious_violence.definition_version) as definition_version,
        case when grouping(serious_violence.ward_code) = 1 then 'All' else serious_violence.ward_code end as ward_code,
        case when grouping(serious_violence.ward_code) = 1 then 'All wards' else max(serious_violence.ward_name) end
            as ward_name,
        case when grouping(serious_violence.sv_type) = 1 then 'All' else serious_violence.sv_type end as sv_type,
        sum(serious_violence.sv_count)::bigint as sv_count
    from serious_violence
    inner join quarters using (month_start)
    group by
        quarters.financial_year_quarter,
        serious_violence.sv_definition,
        grouping sets ((serious_violence.ward_code), (serious_violence.sv_type), ())
)

select
    cells.financial_year_quarter,
    cells.sv_definition,
    cells.definition_version,
    cells.ward_code,
    cells.ward_name,
    ward_population.locality,
    cells.sv_type,
    cells.sv_count,
    ward_population.population,
    round(100000.0 * cells.sv_count / nullif(ward_population.population, 0), 2) as rate_per_100k,
    proxy_share.manchester_share_of_gm_proxy_pct,
    round(
        cells.sv_count * proxy_share.manchester_share_of_gm_proxy_pct
        / nullif(sum(cells.sv_count) filter (where cells.ward_code = 'All')
            over (partition by cells.financial_year_quarter, cells.sv_definition, cells.sv_type), 0),
        3
    ) as estimated_share_of_gm_pct
from cells
left join ward_population on ward_population.ward_code = cells.ward_code
left join proxy_share on proxy_share.financial_year_quarter = cells.financial_year_quarter
