-- The publishable KPIs of the scorecard, for the scrutiny committee and the public: small counts suppressed,
-- with the rate and its confidence interval built on them. The chart's centre line and process limits stay
-- internal: they are averages of earlier quarters' values, so they could give back a value suppressed there;
-- the Making Data Count rating is published instead, with which quarters are the baseline (is_baseline).

with

scorecard as (
    select * from {{ ref('fct_partnership_scorecard') }}
    where publication_status = 'publishable'
),

small_counts as (
    select kpi_code, geography, quarter_start, is_baseline
    from scorecard
    where numerator between 1 and 9 or denominator between 1 and 9
)

select
    scorecard.kpi_code,
    scorecard.priority_code,
    scorecard.kpi_name,
    scorecard.financial_year_quarter,
    scorecard.geography_level,
    scorecard.geography,
    scorecard.numerator,
    scorecard.denominator,
    scorecard.value,
    scorecard.lower_95,
    scorecard.upper_95,
    scorecard.unit,
    -- The rating compares the value with limits from the baseline quarters and with the quarters of the run
    -- rules, so it bounds them: withheld where one of them is built on a small count (disclosure control
    -- withholds it with this row's value too, declared as a label).
    case when small.kpi_code is null then scorecard.variation end as variation,
    case when small.kpi_code is null then scorecard.rating end as rating,
    -- Which quarters make the baseline, and whether it is seasonally adjusted: no figure, so a reader (the Board's
    -- report) can draw the centre line and limits from the published values of those quarters when all are shown.
    scorecard.is_baseline,
    scorecard.is_seasonally_adjusted,
    scorecard.definition_version,
    scorecard.data_quality_status
from scorecard
left join lateral (
    select small_counts.kpi_code
    from small_counts
    where small_counts.kpi_code = scorecard.kpi_code
      and small_counts.geography = scorecard.geography
      and (small_counts.is_baseline
           or (small_counts.quarter_start >= scorecard.rules_window_start
               and small_counts.quarter_start < scorecard.quarter_start))
    limit 1
) as small on true
