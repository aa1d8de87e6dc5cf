-- fct_probation_reoffending for publication: people starting on the caseload per quarter, cohort and
-- accommodation at the start (with totals 'All'), those followed up for twelve months, reoffenders, proven
-- reoffenders and their reoffences, and the rates built on them.

select
    start_quarter,
    cohort,
    accommodation_at_start,
    people_starting,
    people_followed_up,
    reoffenders,
    proven_reoffenders,
    reoffences,
    reoffending_rate_pct,
    proven_reoffending_rate_pct,
    reoffences_per_reoffender
from {{ ref('fct_probation_reoffending') }}
