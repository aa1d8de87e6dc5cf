-- Reoffending among people on the probation caseload, in the style of the Ministry of Justice's proven
-- reoffending measure: a cohort of people by the quarter they start on the caseload, followed for twelve
-- months; a reoffender commits an offence in those twelve months. Offences are police-recorded crimes where the
-- person is the suspect, linked through the pseudonymised person key; a "proven" reoffence is one whose outcome
-- so far is a charge or summons or a caution. Differences from the MoJ measure: see the yml and the
-- definitions seed (reoffending_probation).
--
-- Grain: start quarter x cohort (IOM, MAPPA, None) x accommodation at the start, with totals ('All') over both.

with

starts as (
    select * from {{ ref('int_probation_caseload_starts') }}
),

crimes as (
    select crime_reference, suspect_person_key, offence_date, recorded_date, outcome
    from {{ ref('int_crimes_classified') }}
    where suspect_person_key is not null
),

dates as (
    select date_day, financial_year_quarter from {{ ref('dim_date') }}
),

-- The follow-up is complete once the warehouse holds crimes recorded to twelve months after the start.
data_end as materialized (
    select max(recorded_date) as last_recorded_date from crimes
),

followed as (
    select
        starts.person_key,
        starts.caseload_start_month,
        starts.cohort,
        starts.accommodation,
        data_end.last_recorded_date >= cast(starts.caseload_start_month + interval '12 months' - interval '1 day' as date)
            as follow_up_complete
    from starts
    cross join data_end
),

reoffences as (
    -- Offences committed (offence date, as the MoJ's) on or after the start and before twelve months have passed.
    select
        followed.person_key,
        count(*) as offences,
        count(*) filter (where crimes.outcome in ('Charged or summonsed', 'Offender given a caution'))
            as proven_offences
    from followed
    inner join crimes
        on crimes.suspect_person_key = followed.person_key
        and crimes.offence_date >= followed.caseload_start_month
        and crimes.offence_date < followed.caseload_start_month + interval '12 months'
    group by followed.person_key
),

people as (
    select
        dates.financial_year_quarter as start_quarter,
        followed.cohort,
        followed.accommodation,
        followed.follow_up_complete,
        coalesce(reoffences.offences, 0) as offences,
        coalesce(reoffences.proven_offences, 0) as proven_offences
    from followed
    inner join dates on dates.date_day = followed.caseload_start_month
    left join reoffences using (person_key)
)

select
    start_quarter,
    case when grouping(cohort) = 1 then 'All' else cohort end as cohort,
    case when grouping(accommodation) = 1 then 'All' else accommodation end as accommodation_at_start,
    count(*) as people_starting,
    count(*) filter (where follow_up_complete) as people_followed_up,
    count(*) filter (where follow_up_complete and offences > 0) as reoffenders,
    count(*) filter (where follow_up_complete and proven_offences > 0) as proven_reoffenders,
    coalesce(sum(offences) filter (where follow_up_complete), 0)::bigint as reoffences,
    round(
        100.0 * count(*) filter (where follow_up_complete and offences > 0)
        / nullif(count(*) filter (where follow_up_complete), 0), 1
    ) as reoffending_rate_pct,
    round(
        100.0 * count(*) filter (where follow_up_complete and proven_offences > 0)
        / nullif(count(*) filter (where follow_up_complete), 0), 1
    ) as proven_reoffending_rate_pct,
    -- The MoJ's frequency measure: reoffences per reoffender.
    round(
        1.0 * sum(offences) filter (where follow_up_complete)
        / nullif(count(*) filter (where follow_up_complete and offences > 0), 0), 2
    ) as reoffences_per_reoffender
from people
group by start_quarter, cube(cohort, accommodation)
