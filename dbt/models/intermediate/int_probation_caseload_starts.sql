-- One row per person on the probation caseload: when they first appear in the monthly snapshots (the start of
-- their time on the caseload as the warehouse sees it), and their cohort, accommodation and ETE status in that
-- first month. Person-level (pseudonymised key), so restricted; fct_probation_reoffending aggregates it.
--
-- The snapshots say nothing of when supervision began: a person already on the caseload in the first extract
-- gets that month as their start (starts_at_first_extract), which a later analysis may want to leave out.

with

caseload as (
    select * from {{ ref('stg_probation__caseload') }}
),

ranked as (
    select
        caseload.*,
        row_number() over (partition by person_key order by snapshot_month) as month_rank,
        max(snapshot_month) over (partition by person_key) as last_snapshot_month,
        min(snapshot_month) over () as first_extract_month
    from caseload
)

select
    person_key,
    snapshot_month as caseload_start_month,
    last_snapshot_month,
    snapshot_month = first_extract_month as starts_at_first_extract,
    cohort,
    accommodation,
    ete_status,
    age_band,
    sex,
    ethnicity
from ranked
where month_rank = 1
