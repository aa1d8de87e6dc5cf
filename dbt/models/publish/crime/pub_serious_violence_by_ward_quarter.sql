-- fct_serious_violence_by_ward_month for publication: serious violence offences per ward and financial
-- quarter under both definitions, with the city total (ward 'All'), as the scorecard counts them.
--
-- Coarser than the mart, for what a reader could work out:
-- - no type split (94% of ward x month x type cells were suppressed); and no city-by-type either: the Duty's
--   definition is Manchester's plus sexual assault, domestic abuse with injury and domestic homicide, so the
--   two definitions' totals beside the first two types would give a quarter's domestic homicides away;
-- - offences only: the personal antisocial behaviour both definitions add is published with ASB
--   (pub_asb_*, the scorecard's ASB_POLICE), and left out of the scorecard's serious-violence KPIs, whose
--   localities are sums of these wards (declared links in the scorecard's yml).
-- Rates and the estimated GM share are built on the count beside them; disclosure control withholds them
-- with it.

with

serious_violence as (
    select * from {{ ref('fct_serious_violence_by_ward_month') }}
    where sv_type <> 'Antisocial behaviour'
),

ward_population as (
    select ward_code, max(locality) as locality, max(population) as population
    from serious_violence
    group by ward_code
    union all
    select 'All', 'All', max(city_population) from serious_violence
),

-- Manchester's share of the GM police.uk proxy over the quarter (the same for every ward).
proxy_share as (
    select
        financial_year_quarter,
        round(100.0 * sum(months.manchester_proxy_crimes) / nullif(sum(months.gm_proxy_crimes), 0), 2)
            as manchester_share_of_gm_proxy_pct
    from (
        select distinct financial_year_quarter, month_start, manchester_proxy_crimes, gm_proxy_crimes
        from serious_violence
    ) as months
    group by financial_year_quarter
),

cells as (
    select
        serious_violence.financial_year_quarter,
        serious_violence.sv_definition,
        max(serious_violence.definition_version) as definition_version,
        case when grouping(serious_violence.ward_code) = 1 then 'All' else serious_violence.ward_code end as ward_code,
        case when grouping(serious_violence.ward_code) = 1 then 'All wards' else max(serious_violence.ward_name) end
            as ward_name,
        sum(serious_violence.sv_count)::bigint as sv_count
    from serious_violence
    group by serious_violence.financial_year_quarter, serious_violence.sv_definition, rollup(serious_violence.ward_code)
)

select
    cells.financial_year_quarter,
    cells.sv_definition,
    cells.definition_version,
    cells.ward_code,
    cells.ward_name,
    ward_population.locality,
    cells.sv_count,
    ward_population.population,
    round(100000.0 * cells.sv_count / nullif(ward_population.population, 0), 2) as rate_per_100k,
    proxy_share.manchester_share_of_gm_proxy_pct,
    -- The ward's share of the estimated GM count: GM = the city's count / Manchester's share of the proxy.
    round(
        cells.sv_count * proxy_share.manchester_share_of_gm_proxy_pct
        / nullif(sum(cells.sv_count) filter (where cells.ward_code = 'All')
            over (partition by cells.financial_year_quarter, cells.sv_definition), 0),
        3
    ) as estimated_share_of_gm_pct
from cells
left join ward_population on ward_population.ward_code = cells.ward_code
left join proxy_share on proxy_share.financial_year_quarter = cells.financial_year_quarter
