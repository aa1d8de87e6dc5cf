-- Ethnicity completeness and a published stage total give back the 'Not stated' count, and the relative rate
-- index with a group's published rate gives back White's count: wherever that count is suppressed, the figure
-- must be withheld too. Returns the offending cells.
select cell.financial_year, cell.stage, cell.ethnic_group, 'completeness shown' as violation
from {{ ref('pub_disproportionality') }} as cell
inner join {{ ref('pub_disproportionality') }} as not_stated
    on not_stated.financial_year = cell.financial_year
    and not_stated.stage = cell.stage
    and not_stated.ethnic_group = 'Not stated'
where not_stated.records_suppressed and cell.ethnicity_completeness_pct is not null
union all
select cell.financial_year, cell.stage, cell.ethnic_group, 'relative rate index shown'
from {{ ref('pub_disproportionality') }} as cell
inner join {{ ref('pub_disproportionality') }} as white
    on white.financial_year = cell.financial_year
    and white.stage = cell.stage
    and white.ethnic_group = 'White'
where white.records_suppressed and cell.relative_rate_index is not null
