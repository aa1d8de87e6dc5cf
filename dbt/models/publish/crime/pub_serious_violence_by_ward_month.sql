-- fct_serious_violence_by_ward_month for publication, with totals over wards and over types ('All') for each
-- definition and month; small counts suppressed by the folder's post-hook (cells declared in the yml). The
-- estimated GM share is published as a rate on the count, so it is withheld wherever the count is.

with

serious_violence as (
    select * from {{ ref('fct_serious_violence_by_ward_month') }}
),

geography as (
    select * from {{ ref('dim_geography') }}
    where is_manchester
),

ward_population as (
    select ward_code, sum(population) as population from geography group by ward_code
    union all
    select 'All', sum(population) from geography
),

-- Manchester's proxy share of GM is the same for every ward and type in a month.
proxy_share as (
    select distinct month_start, manchester_share_of_gm_proxy_pct from serious_violence
),

cells as (
    select
        month_start,
        sv_definition,
        max(definition_version) as definition_version,
        case when grouping(ward_code) = 1 then 'All' else ward_code end as ward_code,
        case when grouping(ward_code) = 1 then 'All wards' else max(ward_name) end as ward_name,
        case when grouping(sv_type) = 1 then 'All' else sv_type end as sv_type,
        sum(sv_count)::bigint as sv_count
    from serious_violence
    group by month_start, sv_definition, cube(ward_code, sv_type)
)

select
    cells.month_start,
    cells.sv_definition,
    cells.definition_version,
    cells.ward_code,
    cells.ward_name,
    cells.sv_type,
    cells.sv_count,
    ward_population.population,
    round(100000.0 * cells.sv_count / nullif(ward_population.population, 0), 2) as rate_per_100k,
    proxy_share.manchester_share_of_gm_proxy_pct,
    round(
        cells.sv_count * proxy_share.manchester_share_of_gm_proxy_pct
        / nullif(sum(cells.sv_count) filter (where cells.ward_code = 'All')
            over (partition by cells.month_start, cells.sv_definition, cells.sv_type), 0),
        3
    ) as estimated_share_of_gm_pct
from cells
left join ward_population on ward_population.ward_code = cells.ward_code
left join proxy_share on proxy_share.month_start = cells.month_start
