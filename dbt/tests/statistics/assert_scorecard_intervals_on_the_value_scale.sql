-- The scorecard's intervals are computed with kpi_definitions.multiplier, its values with the multiplier
-- int_kpi_values_by_quarter applies: the two must agree, or a Board would read an interval on another scale.
-- Fails on any KPI row whose value lies outside its own 95% interval, or whose value is not
-- numerator x multiplier / denominator (to the 2 decimal places the value is rounded to).

with

scorecard as (
    select * from {{ ref('fct_partnership_scorecard') }}
),

kpis as (
    select * from {{ ref('kpi_definitions') }}
)

select
    scorecard.kpi_code,
    scorecard.financial_year_quarter,
    scorecard.geography,
    scorecard.value,
    scorecard.lower_95,
    scorecard.upper_95
from scorecard
inner join kpis using (kpi_code)
where scorecard.value is not null
  and (
      scorecard.value < scorecard.lower_95
      or scorecard.value > scorecard.upper_95
      or (kpis.statistic in ('rate', 'proportion')
          and abs(scorecard.value - scorecard.numerator * kpis.multiplier / scorecard.denominator) > 0.005)
      or (kpis.statistic = 'count' and scorecard.value <> scorecard.numerator)
  )
