-- The partnership's quarterly scorecard: one row per KPI, financial quarter and geography (the city and its
-- localities), with the value, its numerator, denominator and 95% confidence interval, the statistical process
-- control (SPC) chart it sits on, the NHS "Making Data Count" variation rating, the definition version, the
-- data-quality status of its inputs from the ingest gate, and publication status.
--
-- Method (definition SPC-MDC-2019 in seed definitions):
--   * Interval: Wilson for proportions, exact Poisson (under 10) / Byar (from 10) for counts and rates built on
--     a count (macros/statistics; OHID, "Technical Guide: Confidence Intervals").
--   * XmR chart (individuals and moving range; Wheeler, "Understanding Variation"; NHS England and NHS
--     Improvement, "Making Data Count", 2019): centre line the mean of a clean baseline, process limits the mean
--     +/- 2.66 x the mean moving range of consecutive baseline points.
--   * Clean baseline: the KPI's first `baseline_quarters` quarters (seed kpi_definitions, 12) from
--     `baseline_from` (blank: the first quarter with data) whose inputs passed the gate and which do not
--     overlap the pandemic (PP-2020: 23 March 2020 to 18 July 2021; vars spc_exclude_from / spc_exclude_to).
--     Limits need at least var spc_min_baseline_points (6) such quarters and are provisional until the
--     baseline is complete (limits_status says which).
--   * Seasonality: where the baseline holds every quarter of the year at least twice, each quarter is compared
--     with the same quarter of the baseline years: the chart is drawn on the value less its quarter's seasonal
--     effect (mean of that quarter in the baseline less the baseline mean), and the centre line and limits
--     shown are moved back by the effect. With less history, no adjustment.
--   * Special-cause rules (Making Data Count), judged at each quarter on the clean quarters up to it, so a
--     rating never depends on later data: a point beyond a process limit; a shift of var spc_shift_points (7)
--     consecutive points on one side of the centre line; a trend of var spc_trend_points (6) consecutive points
--     each higher (or lower) than the last; two of three consecutive points in the outer third of the limits
--     on one side, this quarter one of them.
--   * Rating with the KPI's polarity (direction): special cause improvement or concern, or common cause;
--     'Not rated' where the quarter's inputs did not pass the gate; 'No baseline' before enough clean quarters.

{% set shift_points = var('spc_shift_points', 7) %}
{% set trend_points = var('spc_trend_points', 6) %}
{% set min_baseline_points = var('spc_min_baseline_points', 6) %}

with

kpi_values as (
    select * from {{ ref('int_kpi_values_by_quarter') }}
),

kpis as (
    select * from {{ ref('kpi_definitions') }}
),

definitions as (
    select * from {{ ref('definitions') }}
    where valid_to is null  -- the version in force: superseded versions stay in the seed as history
),

quarter_months as (
    select distinct financial_year_quarter, quarter_start, month_start from {{ ref('dim_date') }}
),

load_months as (
    select * from {{ ref('int_load_months') }}
),

kpi_inputs as (
    select kpis.kpi_code, trim(input.dataset) as dataset
    from kpis
    cross join lateral unnest(string_to_array(kpis.input_datasets, ';')) as input (dataset)
),

-- The gate's verdict on every month of every input of every KPI and quarter; the worst one wins.
input_quality as (
    select
        kpi_inputs.kpi_code,
        quarter_months.financial_year_quarter,
        case
            when bool_or(load_months.is_quarantined) then 'Quarantined extract'
            when bool_or(load_months.is_loaded is distinct from true) then 'Incomplete quarter'
            when bool_or(load_months.is_volume_anomaly) then 'Volume anomaly'
            when sum(load_months.failed_warnings) > 0 then 'Passed with warnings'
            else 'Passed'
        end as data_quality_status,
        coalesce(bool_or(load_months.is_loaded), false) as any_month_delivered
    from kpi_inputs
    cross join quarter_months
    left join load_months
        on load_months.dataset = kpi_inputs.dataset and load_months.data_month = quarter_months.month_start
    where quarter_months.financial_year_quarter in (select financial_year_quarter from kpi_values)
    group by 1, 2
),

quarters as (
    select distinct financial_year_quarter, quarter_start from quarter_months
),

with_quality as (
    select
        kpi_values.kpi_code,
        kpi_values.financial_year_quarter,
        kpi_values.geography_level,
        kpi_values.geography,
        kpi_values.numerator,
        kpi_values.denominator,
        kpi_values.value,
        quarters.quarter_start,
        extract(quarter from quarters.quarter_start)::int as quarter_of_year,
        input_quality.data_quality_status,
        input_quality.data_quality_status in ('Passed', 'Passed with warnings') and kpi_values.value is not null
            as is_clean
    from kpi_values
    inner join quarters using (financial_year_quarter)
    inner join input_quality using (kpi_code, financial_year_quarter)
    -- Records dated in a quarter none of whose extracts has arrived (e.g. planned treatment exits) wait for it.
    where input_quality.any_month_delivered
),

-- The clean baseline: the first baseline_quarters clean quarters from baseline_from, outside the pandemic.
baseline_ranked as (
    select
        with_quality.*,
        row_number() over (
            partition by with_quality.kpi_code, with_quality.geography
            order by with_quality.quarter_start
        ) as baseline_rank,
        kpis.baseline_quarters
    from with_quality
    inner join kpis using (kpi_code)
    where with_quality.is_clean
      and with_quality.quarter_start >= coalesce(kpis.baseline_from, date '1900-01-01')
      and not (
          with_quality.quarter_start <= date '{{ var("spc_exclude_to", "2021-07-18") }}'
          and with_quality.quarter_start + interval '3 months' > date '{{ var("spc_exclude_from", "2020-03-23") }}'
      )
),

baseline as (
    select * from baseline_ranked where baseline_rank <= baseline_quarters
),

baseline_summary as (
    select
        kpi_code,
        geography,
        avg(value) as baseline_mean,
        count(*) as baseline_points,
        max(baseline_quarters) as baseline_quarters,
        min(quarter_start) as baseline_start,
        max(quarter_start) as baseline_end,
        -- Seasonal adjustment only where every quarter of the year is in the baseline at least twice.
        count(distinct quarter_of_year) = 4
            and min(quarter_points) >= 2 as is_seasonally_adjusted
    from (
        select baseline.*, count(*) over (partition by kpi_code, geography, quarter_of_year) as quarter_points
        from baseline
    ) as counted
    group by kpi_code, geography
),

-- Each quarter of the year's seasonal effect: its baseline mean less the whole baseline's (0 when unadjusted).
seasonal_effects as (
    select
        baseline.kpi_code,
        baseline.geography,
        baseline.quarter_of_year,
        case
            when bool_and(baseline_summary.is_seasonally_adjusted)
                then avg(baseline.value) - max(baseline_summary.baseline_mean)
            else 0
        end as seasonal_effect
    from baseline
    inner join baseline_summary using (kpi_code, geography)
    group by 1, 2, 3
),

-- Every clean quarter on the (seasonally adjusted) chart; the moving range is between consecutive clean points.
charted as (
    select
        with_quality.*,
        with_quality.value - coalesce(seasonal_effects.seasonal_effect, 0) as adjusted_value,
        baseline.baseline_rank is not null as is_baseline,
        row_number() over (
            partition by with_quality.kpi_code, with_quality.geography order by with_quality.quarter_start
        ) as point_number
    from with_quality
    left join seasonal_effects using (kpi_code, geography, quarter_of_year)
    left join baseline using (kpi_code, geography, financial_year_quarter)
    where with_quality.is_clean
),

moving_ranges as (
    select
        charted.*,
        abs(charted.adjusted_value - lag(charted.adjusted_value) over (
            partition by charted.kpi_code, charted.geography order by charted.quarter_start
        )) as moving_range,
        lag(charted.is_baseline) over (
            partition by charted.kpi_code, charted.geography order by charted.quarter_start
        ) as previous_is_baseline
    from charted
),

limits as (
    select
        baseline_summary.*,
        -- The mean moving range of consecutive baseline points, on the adjusted values.
        (select avg(moving_ranges.moving_range) from moving_ranges
         where moving_ranges.kpi_code = baseline_summary.kpi_code
           and moving_ranges.geography = baseline_summary.geography
           and moving_ranges.is_baseline and moving_ranges.previous_is_baseline) as mean_moving_range
    from baseline_summary
    where baseline_summary.baseline_points >= {{ min_baseline_points }}
),

-- Where each clean point sits against the limits (on the adjusted chart).
positioned as (
    select
        moving_ranges.*,
        limits.baseline_mean,
        limits.mean_moving_range,
        limits.baseline_points,
        limits.baseline_quarters,
        limits.baseline_start,
        limits.baseline_end,
        limits.is_seasonally_adjusted,
        limits.baseline_mean + 2.66 * limits.mean_moving_range as upper_limit_adjusted,
        limits.baseline_mean - 2.66 * limits.mean_moving_range as lower_limit_adjusted,
        sign(moving_ranges.adjusted_value - limits.baseline_mean) as side,
        sign(moving_ranges.adjusted_value - lag(moving_ranges.adjusted_value) over chart) as step,
        -- The outer third of the space between the centre line and a limit: beyond 2/3 of 2.66 mean moving ranges.
        case
            when moving_ranges.adjusted_value > limits.baseline_mean + 2.66 * 2 / 3.0 * limits.mean_moving_range then 1
            when moving_ranges.adjusted_value < limits.baseline_mean - 2.66 * 2 / 3.0 * limits.mean_moving_range then -1
            else 0
        end as outer_third
    from moving_ranges
    inner join limits using (kpi_code, geography)
    window chart as (partition by moving_ranges.kpi_code, moving_ranges.geography order by moving_ranges.quarter_start)
),

-- The Making Data Count rules, each over the clean points up to this one.
rules as (
    select
        positioned.*,
        case
            when adjusted_value > upper_limit_adjusted then 1
            when adjusted_value < lower_limit_adjusted then -1
            else 0
        end as beyond_limit,
        case
            when count(*) over last_shift = {{ shift_points }} and min(side) over last_shift = 1 then 1
            when count(*) over last_shift = {{ shift_points }} and max(side) over last_shift = -1 then -1
            else 0
        end as shift,
        -- A trend of n points is n - 1 consecutive steps the same way.
        case
            when count(step) over last_trend = {{ trend_points - 1 }} and min(step) over last_trend = 1 then 1
            when count(step) over last_trend = {{ trend_points - 1 }} and max(step) over last_trend = -1 then -1
            else 0
        end as trend,
        case
            when outer_third = 1 and count(*) over last_three = 3
                and count(*) filter (where outer_third = 1) over last_three >= 2 then 1
            when outer_third = -1 and count(*) over last_three = 3
                and count(*) filter (where outer_third = -1) over last_three >= 2 then -1
            else 0
        end as two_of_three,
        -- The earliest quarter the rules looked at (publication withholds a rating built on a small count).
        min(quarter_start) over last_shift as rules_window_start
    from positioned
    window
        last_shift as (partition by kpi_code, geography order by quarter_start
                       rows between {{ shift_points - 1 }} preceding and current row),
        last_trend as (partition by kpi_code, geography order by quarter_start
                       rows between {{ trend_points - 2 }} preceding and current row),
        last_three as (partition by kpi_code, geography order by quarter_start
                       rows between 2 preceding and current row)
),

-- The first rule that fires, in order of strength, gives the side (1 high, -1 low) and the reason.
special_causes as (
    select
        rules.*,
        case
            when beyond_limit <> 0 then beyond_limit
            when two_of_three <> 0 then two_of_three
            when shift <> 0 then shift
            else trend
        end as special_cause_side,
        case
            when beyond_limit = 1 then 'Point above the upper process limit'
            when beyond_limit = -1 then 'Point below the lower process limit'
            when two_of_three = 1 then 'Two of three points close to the upper limit'
            when two_of_three = -1 then 'Two of three points close to the lower limit'
            when shift = 1 then 'Run of {{ shift_points }} points above the centre line'
            when shift = -1 then 'Run of {{ shift_points }} points below the centre line'
            when trend = 1 then 'Trend of {{ trend_points }} points increasing'
            when trend = -1 then 'Trend of {{ trend_points }} points decreasing'
        end as special_cause_rule
    from rules
),

rated as (
    select
        with_quality.*,
        special_causes.is_baseline,
        special_causes.is_seasonally_adjusted,
        special_causes.baseline_points,
        special_causes.baseline_quarters,
        special_causes.baseline_start,
        special_causes.baseline_end,
        special_causes.special_cause_side,
        special_causes.special_cause_rule,
        special_causes.rules_window_start,
        -- Centre line and limits moved back onto the KPI's own scale for this quarter of the year.
        special_causes.baseline_mean + coalesce(seasonal_effects.seasonal_effect, 0) as centre_line,
        special_causes.upper_limit_adjusted + coalesce(seasonal_effects.seasonal_effect, 0) as upper_process_limit,
        special_causes.lower_limit_adjusted + coalesce(seasonal_effects.seasonal_effect, 0) as lower_process_limit,
        kpis.priority_code,
        kpis.priority_name,
        kpis.kpi_name,
        kpis.unit,
        kpis.direction,
        kpis.statistic,
        kpis.multiplier,
        kpis.publication as publication_status,
        definitions.definition_version
    from with_quality
    inner join kpis on kpis.kpi_code = with_quality.kpi_code
    left join special_causes
        on special_causes.kpi_code = with_quality.kpi_code
        and special_causes.geography = with_quality.geography
        and special_causes.financial_year_quarter = with_quality.financial_year_quarter
    left join seasonal_effects
        on seasonal_effects.kpi_code = with_quality.kpi_code
        and seasonal_effects.geography = with_quality.geography
        and seasonal_effects.quarter_of_year = with_quality.quarter_of_year
    left join definitions on definitions.definition_code = kpis.definition_code
)

select
    kpi_code,
    priority_code,
    priority_name,
    kpi_name,
    financial_year_quarter,
    quarter_start,
    geography_level,
    geography,
    numerator,
    denominator,
    value,
    unit,
    direction,
    -- 95% confidence interval of the value: Wilson for a proportion, Poisson (exact / Byar) for a count or rate.
    round(case statistic
        when 'proportion' then multiplier * {{ wilson_lower('numerator', 'denominator') }}
        when 'rate' then {{ crude_rate_lower('numerator', 'denominator', 'multiplier') }}
        else {{ poisson_lower('numerator') }}
    end, 2) as lower_95,
    round(case statistic
        when 'proportion' then multiplier * {{ wilson_upper('numerator', 'denominator') }}
        when 'rate' then {{ crude_rate_upper('numerator', 'denominator', 'multiplier') }}
        else {{ poisson_upper('numerator') }}
    end, 2) as upper_95,
    case statistic when 'proportion' then 'Wilson score' else 'Poisson (exact under 10, Byar from 10)' end
        as interval_method,
    -- The comparator: what the chart expects of this quarter, and its limits of common-cause variation.
    round(centre_line, 2) as centre_line,
    -- A count or rate cannot fall below 0.
    -- (greatest() ignores a null, so the null of a quarter without limits is kept apart.)
    round(case when lower_process_limit is not null then greatest(lower_process_limit, 0) end, 2) as lower_process_limit,
    round(upper_process_limit, 2) as upper_process_limit,
    coalesce(is_seasonally_adjusted, false) as is_seasonally_adjusted,
    coalesce(is_baseline, false) as is_baseline,
    case
        when centre_line is null then null
        when baseline_points < baseline_quarters
            then format('Provisional: %s of %s baseline quarters', baseline_points, baseline_quarters)
        else format('Baseline %s to %s', to_char(baseline_start, 'YYYY-MM'), to_char(baseline_end, 'YYYY-MM'))
    end as limits_status,
    -- The Making Data Count variation icon.
    case
        when not is_clean then 'Not rated'
        when centre_line is null then 'No baseline'
        when special_cause_side = 0 then 'Common cause variation'
        when direction = 'higher_is_better' and special_cause_side = 1 then 'Special cause improvement (high)'
        when direction = 'higher_is_better' then 'Special cause concern (low)'
        when direction = 'lower_is_better' and special_cause_side = -1 then 'Special cause improvement (low)'
        when direction = 'lower_is_better' then 'Special cause concern (high)'
        when special_cause_side = 1 then 'Special cause variation (high)'
        else 'Special cause variation (low)'
    end as variation,
    case
        when not is_clean then 'Not rated'
        when centre_line is null then 'No baseline'
        when special_cause_side = 0 then 'Common cause'
        when direction = 'higher_is_better' and special_cause_side = 1 then 'Improvement'
        when direction = 'lower_is_better' and special_cause_side = -1 then 'Improvement'
        when direction in ('higher_is_better', 'lower_is_better') then 'Concern'
        else 'Special cause'
    end as rating,
    special_cause_rule,
    rules_window_start,
    coalesce(definition_version, 'Registry contract') as definition_version,
    data_quality_status,
    publication_status
from rated
