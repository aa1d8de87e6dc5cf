-- fct_cohort_match_rates for publication: each source's records of young people in the cohort and the share
-- that carry a linkable key. No total row: the sources' records are different things.
--
-- Not the people columns (people, known to another agency, also known to each agency): they are sums of
-- pub_cohort_overlap's agency combinations, so beside it they gave the small combinations away, and
-- protecting both together suppressed three quarters of both tables. A reader adds the combinations up.

select
    agency,
    records,
    linkable_records,
    record_match_rate_pct
from {{ ref('fct_cohort_match_rates') }}
