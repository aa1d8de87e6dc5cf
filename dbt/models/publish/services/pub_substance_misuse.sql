-- fct_substance_misuse for publication: the indicators with their counts, small counts suppressed and the
-- value nulled where its numerator or denominator is (post-hook, cells in the yml).
--
-- Both totals a reader could subtract from are declared cells: the substance group 'All' (already in the
-- mart) and the financial year, as financial_quarter 'All' (a year's admissions, exits and referrals are
-- the sum of its quarters'). For admissions the denominator is the resident population, the same in every
-- row of a year: it never sums over quarters, but it is never small either.

select
    financial_year,
    case when period_type = 'Financial year' then 'All' else right(period, 2) end as financial_quarter,
    indicator,
    substance_group,
    numerator,
    denominator,
    months_covered,
    value,
    unit,
    england_value,
    england_period,
    england_source
from {{ ref('fct_substance_misuse') }}
