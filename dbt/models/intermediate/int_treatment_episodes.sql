-- One row per drug and alcohol treatment episode (latest version), classified as the substance misuse indicators
-- count it (a successful completion among exits, a criminal justice referral among starts) and dated twice: the
-- financial periods of its start (referrals into treatment) and of its exit (exits). Person-level (client key):
-- a table under row security by agency.

with

episodes as (
    select * from {{ ref('stg_health__treatment_episodes') }}
),

dates as (
    select * from {{ ref('dim_date') }}
)

select
    episodes.episode_id,
    'health' as agency,
    episodes.client_person_key,
    episodes.substance_group,
    episodes.start_date,
    start_dates.month_start as start_month,
    start_dates.financial_year as start_financial_year,
    start_dates.financial_year_quarter as start_financial_year_quarter,
    episodes.referral_source,
    episodes.referral_source = 'Criminal justice' as is_criminal_justice_referral,
    episodes.exit_date,
    exit_dates.month_start as exit_month,
    exit_dates.financial_year as exit_financial_year,
    exit_dates.financial_year_quarter as exit_financial_year_quarter,
    episodes.exit_reason,
    episodes.exit_reason = 'Successful completion' as is_successful_exit,
    episodes.age,
    episodes.sex,
    episodes.batch_id
from episodes
left join dates as start_dates on start_dates.date_day = episodes.start_date
left join dates as exit_dates on exit_dates.date_day = episodes.exit_date
