-- ASB Case Reviews (the "community trigger") by financial quarter of application: how many were opened,
-- whether they met the threshold, their outcome, and how long an agreed action plan took. Serves "Between
-- April 2018 and March 2022, the CSP undertook 67 ASB Case Reviews".

with

reviews as (
    select * from {{ ref('int_asb_case_reviews') }}
)

select
    financial_year,
    financial_quarter,
    financial_year_quarter,
    count(*) as reviews_opened,
    count(*) filter (where threshold_met) as threshold_met,
    count(*) filter (where not threshold_met) as threshold_not_met,
    count(*) filter (where outcome = 'Action plan agreed') as action_plan_agreed,
    count(*) filter (where outcome = 'Referred to another agency') as referred_to_another_agency,
    count(*) filter (where outcome = 'No further action') as no_further_action,
    count(*) filter (where outcome = 'Open') as still_open,
    -- Whatever else the council sends, so that the outcome columns always add up to reviews_opened.
    count(*) filter (
        where outcome is null
           or outcome not in ('Action plan agreed', 'Referred to another agency', 'No further action', 'Open')
    ) as other_outcome,
    count(days_to_action_plan) as reviews_with_action_plan_date,
    round(avg(days_to_action_plan), 1) as mean_days_to_action_plan,
    percentile_cont(0.5) within group (order by days_to_action_plan) as median_days_to_action_plan
from reviews
group by financial_year, financial_quarter, financial_year_quarter
