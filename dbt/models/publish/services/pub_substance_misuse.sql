-- fct_substance_misuse for publication: the indicators with their counts, small counts suppressed and the
-- value nulled where its numerator or denominator is (partnership.publish, cells declared in the yml).
--
-- Both totals a reader could subtract from are declared cells: the substance group 'All' (already in the
-- mart) and the financial year, as financial_quarter 'All' (a year's admissions, exits and referrals are
-- the sum of its quarters'). For admissions the resident population is published as `population`.
-- Every figure built on a count (the value, its confidence limits, the crude rate and its limits) and the
-- comparison with England are withheld with the count (declared as rates and labels in the yml).

select
    financial_year,
    case when period_type = 'Financial year' then 'All' else right(period, 2) end as financial_quarter,
    indicator,
    substance_group,
    numerator,
    -- Admissions are per resident: the population is no count of people in treatment, and the same in every
    -- quarter of a year, so it is published apart and the denominator (exits, referrals) sums over quarters.
    case when indicator <> 'alcohol_specific_admissions_per_100k' then denominator end as denominator,
    case when indicator = 'alcohol_specific_admissions_per_100k' then denominator end as population,
    months_covered,
    value,
    lower_95,
    upper_95,
    value_type,
    unit,
    crude_value,
    crude_lower_95,
    crude_upper_95,
    england_value,
    england_value_type,
    england_period,
    england_source,
    england_source_url,
    comparison_with_england
from {{ ref('fct_substance_misuse') }}
