-- fct_victim_based_crime_share for publication, with a Greater Manchester total row per year (district 'All');
-- small counts suppressed by the folder's post-hook (cells declared in the yml).

with

shares as (
    select * from {{ ref('fct_victim_based_crime_share') }}
)

select
    financial_year,
    case when grouping(district_code) = 1 then 'All' else district_code end as district_code,
    case when grouping(district_code) = 1 then 'Greater Manchester' else max(district_name) end as district_name,
    sum(victim_based_crimes)::bigint as victim_based_crimes,
    round(100.0 * sum(victim_based_crimes) / nullif(max(gm_victim_based_crimes), 0), 1) as share_of_gm_pct,
    sum(usual_residents)::bigint as usual_residents,
    round(100.0 * sum(usual_residents) / max(gm_usual_residents), 1) as population_share_pct,
    round(1000.0 * sum(victim_based_crimes) / sum(usual_residents), 2) as rate_per_1000,
    max(months_covered) as months_covered,
    max(definition_version) as definition_version
from shares
group by financial_year, cube(district_code)
