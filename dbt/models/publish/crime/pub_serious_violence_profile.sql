-- fct_serious_violence_profile for publication: each characteristic's categories with their total ('All'),
-- over all serious-violence types (a profile per type splits too few people: most cells would be suppressed).
-- Every characteristic's 'All' is the same people, and a year's victims and perpetrators by ethnic group are
-- pub_disproportionality's: both are declared links in the yml, so disclosure control protects them together.
-- Percentages are built on the count and its group's total: withheld wherever either is suppressed.

with

profile as (
    select * from {{ ref('fct_serious_violence_profile') }}
    where sv_type <> 'All'  -- summed below over types, beside the category totals
),

cells as (
    select
        financial_year_quarter,
        sv_definition,
        max(definition_version) as definition_version,
        role,
        profile_dimension,
        case when grouping(category) = 1 then 'All' else category end as category,
        sum(person_count)::bigint as person_count
    from profile
    group by financial_year_quarter, sv_definition, role, profile_dimension, rollup(category)
)

select
    *,
    round(
        100.0 * person_count / nullif(sum(person_count) filter (where category = 'All') over (
            partition by financial_year_quarter, sv_definition, role, profile_dimension
        ), 0),
        1
    ) as pct_of_group
from cells
