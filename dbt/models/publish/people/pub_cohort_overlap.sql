-- fct_cohort_overlap for publication: people by agency combination, age band and locality two at a time, with
-- totals ('All') over each. Not all three at once: a combination split by age band and locality leaves cells
-- of one or two young people, nearly all of which would be suppressed (94% were).

select
    case when grouping(agency_combination) = 1 then 'All' else agency_combination end as agency_combination,
    case when grouping(age_band) = 1 then 'All' else age_band end as age_band,
    case when grouping(locality) = 1 then 'All' else locality end as locality,
    sum(people)::bigint as people
from {{ ref('fct_cohort_overlap') }}
group by grouping sets (
    (agency_combination, age_band), (agency_combination, locality), (age_band, locality),
    (agency_combination), (age_band), (locality), ()
)
