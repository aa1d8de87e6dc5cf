-- First-time entrants to the youth justice system as the YJB counts them (Youth Justice Statistics; PNC-based
-- definition): children aged 10 to 17 receiving their first youth caution, youth conditional caution or court
-- conviction. One row per child, at that first qualifying disposal, dated by the disposal (outcome) date.
--
-- A community resolution is not a caution or conviction and never makes a child an entrant, nor stops a later
-- caution from doing so. A child whose first qualifying disposal came at 18 or over (offence at 17, dealt with
-- after the birthday) is an adult first-time entrant: a youth caution is only for a person under 18 (Crime and
-- Disorder Act 1998 s.66ZA) and the YJB's figures are of children aged 10-17. "First" is within the history the
-- warehouse holds: the PNC looks further back, so the earliest months overcount (see fct_youth_justice_fte).

with

cases as (
    select * from {{ ref('stg_youth_justice__cases') }}
),

qualifying_disposals as (
    -- Cautions and every court outcome the extract records (referral orders, youth rehabilitation orders and
    -- custody all follow a conviction).
    select
        *,
        -- A case id is its month and a sequence that grows a digit past 9,999 a month: the shorter id is earlier.
        row_number() over (
            partition by child_person_key order by disposal_date, length(case_id), case_id
        ) as disposal_order
    from cases
    where outcome in (
        'Youth caution', 'Youth conditional caution', 'Referral order', 'Youth rehabilitation order', 'Custody'
    )
),

first_disposals as (
    select * from qualifying_disposals where disposal_order = 1
)

select
    child_person_key,
    case_id,
    disposal_date,
    offence_date,
    outcome,
    outcome in ('Youth caution', 'Youth conditional caution') as is_out_of_court,
    age_at_disposal,
    sex,
    ethnicity,
    home_lsoa_code
from first_disposals
where age_at_disposal between 10 and 17
