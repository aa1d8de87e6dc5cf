-- fct_cohort_match_rates for publication. No total row: a person known to several agencies is in several
-- rows, so the rows do not add up.

select * from {{ ref('fct_cohort_match_rates') }}
