-- fct_serious_violence_profile for publication: each characteristic's categories with their total ('All'),
-- per type and over all types ('All'); small counts suppressed by the folder's post-hook (cells declared in
-- the yml). Percentages are published as rates on the count, so they are withheld wherever the count is.

with

profile as (
    select * from {{ ref('fct_serious_violence_profile') }}
    where sv_type <> 'All'  -- rebuilt below by the cube, beside the category totals
),

cells as (
    select
        financial_year_quarter,
        sv_definition,
        max(definition_version) as definition_version,
        case when grouping(sv_type) = 1 then 'All' else sv_type end as sv_type,
        role,
        profile_dimension,
        case when grouping(category) = 1 then 'All' else category end as category,
        sum(person_count)::bigint as person_count
    from profile
    group by financial_year_quarter, sv_definition, role, profile_dimension, cube(sv_type, category)
)

select
    *,
    round(
        100.0 * person_count / nullif(sum(person_count) filter (where category = 'All') over (
            partition by financial_year_quarter, sv_definition, sv_type, role, profile_dimension
        ), 0),
        1
    ) as pct_of_group
from cells
