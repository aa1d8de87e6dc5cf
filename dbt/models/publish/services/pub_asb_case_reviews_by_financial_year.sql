-- fct_asb_case_reviews for publication: ASB Case Reviews opened per financial year by outcome, with the
-- all-outcomes total ('All'); small counts suppressed (post-hook, cells in the yml). Published by year, not
-- quarter: a quarter holds a handful of reviews, which would all be suppressed.

with

reviews as (
    select * from {{ ref('fct_asb_case_reviews') }}
),

reviews_by_year as (
    select
        financial_year,
        sum(reviews_opened) as reviews_opened,
        sum(action_plan_agreed) as action_plan_agreed,
        sum(referred_to_another_agency) as referred_to_another_agency,
        sum(no_further_action) as no_further_action,
        sum(still_open) as still_open,
        sum(other_outcome) as other_outcome
    from reviews
    group by financial_year
)

-- One row per outcome (the mart's outcome columns add up to reviews_opened, the 'All' row).
select
    reviews_by_year.financial_year,
    outcomes.outcome,
    outcomes.reviews::bigint as reviews
from reviews_by_year
cross join lateral (
    values
        ('All', reviews_by_year.reviews_opened),
        ('Action plan agreed', reviews_by_year.action_plan_agreed),
        ('Referred to another agency', reviews_by_year.referred_to_another_agency),
        ('No further action', reviews_by_year.no_further_action),
        ('Open', reviews_by_year.still_open),
        ('Other', reviews_by_year.other_outcome)
) as outcomes (outcome, reviews)
