-- fct_cohort_overlap for publication: people by agency combination, age band and locality, with totals
-- ('All') over each.

select
    case when grouping(agency_combination) = 1 then 'All' else agency_combination end as agency_combination,
    case when grouping(age_band) = 1 then 'All' else age_band end as age_band,
    case when grouping(locality) = 1 then 'All' else locality end as locality,
    sum(people)::bigint as people
from {{ ref('fct_cohort_overlap') }}
group by cube(agency_combination, age_band, locality)
