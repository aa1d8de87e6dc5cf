-- One row per ASB Case Review (the "community trigger", latest version) with the financial periods of its
-- application, whether it met the threshold, its outcome and the days from application to an agreed action
-- plan: the base of fct_asb_case_reviews. Council data: a table under row security by agency.

with

reviews as (
    select * from {{ ref('stg_council__asb_case_reviews') }}
),

dates as (
    select * from {{ ref('dim_date') }}
)

select
    reviews.review_id,
    'council' as agency,
    reviews.application_date,
    dates.financial_year,
    dates.financial_quarter,
    dates.financial_year_quarter,
    reviews.ward_code,
    reviews.threshold_met = 'Y' as threshold_met,
    reviews.outcome,
    reviews.action_plan_date,
    reviews.action_plan_date - reviews.application_date as days_to_action_plan,
    reviews.batch_id
from reviews
inner join dates on dates.date_day = reviews.application_date
