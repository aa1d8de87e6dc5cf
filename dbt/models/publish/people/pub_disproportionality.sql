-- fct_disproportionality for publication, with each stage's total over ethnic groups ('All'). Completeness is
-- withheld for a stage whose 'Not stated' count ends up suppressed (model post-hook): completeness and the
-- total together would give that count back. Likewise the relative rate index where White's count is
-- suppressed: with a group's published rate it gives White's count back.

with

groups as (
    select * from {{ ref('fct_disproportionality') }}
)

select
    financial_year,
    stage,
    case when grouping(ethnic_group) = 1 then 'All' else ethnic_group end as ethnic_group,
    sum(records)::bigint as records,
    max(ethnicity_completeness_pct) as ethnicity_completeness_pct,
    sum(population)::bigint as population,
    -- On the population as published (whole people), so rate x population gives back the count beside it and
    -- nothing else: the disclosure audit relies on that relation.
    round(1000.0 * sum(records) / nullif(sum(population)::bigint, 0), 3) as rate_per_1000,
    case when grouping(ethnic_group) = 0 then max(relative_rate_index) end as relative_rate_index
from groups
group by financial_year, stage, rollup(ethnic_group)
