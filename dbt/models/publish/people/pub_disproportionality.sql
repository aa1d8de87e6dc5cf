-- fct_disproportionality for publication, with each stage's total over ethnic groups ('All'). Completeness is
-- withheld for a stage whose 'Not stated' count ends up suppressed (model post-hook): completeness and the
-- total together would give that count back. Likewise the relative rate index and its interval where White's
-- count is suppressed: with a group's published rate they give White's count back.
-- Stages whose denominator is another stage's records (arrests per search, charges per suspect) publish their
-- counts only: their denominators are counts published (and perhaps suppressed) in the other stage's rows, and a
-- rate or RRI beside them would give those back. The mart keeps them for the partnership's analysts.
-- Caveat (see fct_disproportionality): resident denominators apply Manchester's all-age Census 2021 ethnic mix to
-- the stage's ages; for children (first_time_entry) that overstates minority groups' RRIs.

with

groups as (
    select
        *,
        stage not in ('stop_search_arrest', 'sv_suspect_charged_or_summonsed') as rate_published
    from {{ ref('fct_disproportionality') }}
)

select
    financial_year,
    stage,
    case when grouping(ethnic_group) = 1 then 'All' else ethnic_group end as ethnic_group,
    max(denominator_type) as denominator_type,
    sum(records)::bigint as records,
    max(ethnicity_completeness_pct) as ethnicity_completeness_pct,
    case when bool_and(rate_published) then sum(population)::bigint end as population,
    -- On the population as published (whole people), so rate x population gives back the count beside it and
    -- nothing else: the disclosure audit relies on that relation.
    case when bool_and(rate_published) then round(
        1000.0 * sum(records) / nullif(sum(population)::bigint, 0), 3
    ) end as rate_per_1000,
    case when grouping(ethnic_group) = 0 and bool_and(rate_published) then max(relative_rate_index) end
        as relative_rate_index,
    case when grouping(ethnic_group) = 0 and bool_and(rate_published) then max(rri_lower_95) end as rri_lower_95,
    case when grouping(ethnic_group) = 0 and bool_and(rate_published) then max(rri_upper_95) end as rri_upper_95
from groups
group by financial_year, stage, rollup(ethnic_group)
