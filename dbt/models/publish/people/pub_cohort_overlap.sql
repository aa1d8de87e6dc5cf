-- fct_cohort_overlap for publication: people by agency combination and age band, and by age band and locality,
-- with totals ('All') over each. Not a combination by locality (nor all three): the smaller combinations split
-- by locality are cells of one or two young people, and protecting them took the cohort's total with them
-- (94% of the three-way cells were suppressed; two-way with combination x locality, a third and the total).

select
    case when grouping(agency_combination) = 1 then 'All' else agency_combination end as agency_combination,
    case when grouping(age_band) = 1 then 'All' else age_band end as age_band,
    case when grouping(locality) = 1 then 'All' else locality end as locality,
    sum(people)::bigint as people
from {{ ref('fct_cohort_overlap') }}
group by grouping sets (
    (agency_combination, age_band), (age_band, locality),
    (agency_combination), (age_band), (locality), ()
)
