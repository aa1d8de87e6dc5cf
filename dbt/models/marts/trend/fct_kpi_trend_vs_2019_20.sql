-- Each scorecard KPI for the city against the strategies' pre-pandemic baseline, 2019/20: every financial
-- quarter beside the same quarter of 2019/20 (seasonality cancels), and every financial year's total ('All')
-- beside 2019/20's, with the percentage change. The counts are the scorecard's own numerators
-- (int_kpi_values_by_quarter), so the trend and the scorecard cannot disagree.

with

kpi_values as (
    select * from {{ ref('int_kpi_values_by_quarter') }}
    where geography_level = 'City'
),

kpis as (
    select kpi_code, kpi_name, unit, publication from {{ ref('kpi_definitions') }}
),

quarters as (
    select
        kpi_code,
        left(financial_year_quarter, 7) as financial_year,
        right(financial_year_quarter, 2) as quarter,
        numerator,
        value,
        1 as quarters_in_period
    from kpi_values
),

years as (
    -- A year's total; complete when all four quarters are in the warehouse.
    select kpi_code, financial_year, 'All' as quarter, sum(numerator) as numerator, null::numeric as value,
           count(*) as quarters_in_period
    from quarters
    group by kpi_code, financial_year
),

periods as (
    select * from quarters
    union all
    select * from years
),

baseline as (
    select kpi_code, quarter, numerator, value, quarters_in_period
    from periods
    where financial_year = '2019/20'
)

select
    periods.kpi_code,
    kpis.kpi_name,
    kpis.unit,
    kpis.publication,
    periods.financial_year,
    periods.quarter,
    periods.quarters_in_period,
    periods.numerator,
    periods.value,
    baseline.numerator as baseline_2019_20_numerator,
    baseline.value as baseline_2019_20_value,
    -- A year against 2019/20 only when both are complete: a part year against a whole one means nothing.
    case
        when periods.quarters_in_period = baseline.quarters_in_period
            then round(100.0 * (periods.numerator - baseline.numerator) / nullif(baseline.numerator, 0), 1)
    end as pct_change_vs_2019_20,
    case
        when periods.quarter <> 'All'
            then round(100.0 * (periods.value - baseline.value) / nullif(baseline.value, 0), 1)
    end as value_pct_change_vs_2019_20
from periods
inner join kpis using (kpi_code)
left join baseline
    on baseline.kpi_code = periods.kpi_code
    and baseline.quarter = periods.quarter
    and (periods.quarter <> 'All' or baseline.quarters_in_period = 4)
