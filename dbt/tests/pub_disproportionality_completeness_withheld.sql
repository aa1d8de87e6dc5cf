-- Ethnicity completeness and a published stage total give back the 'Not stated' count: wherever that count is
-- suppressed, completeness must be withheld too. Returns the offending cells.
select cell.financial_year, cell.stage, cell.ethnic_group
from {{ ref('pub_disproportionality') }} as cell
inner join {{ ref('pub_disproportionality') }} as not_stated
    on not_stated.financial_year = cell.financial_year
    and not_stated.stage = cell.stage
    and not_stated.ethnic_group = 'Not stated'
where not_stated.records_suppressed and cell.ethnicity_completeness_pct is not null
