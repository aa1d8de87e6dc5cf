-- The partnership's quarterly scorecard: one row per KPI, financial quarter and geography (the city and its
-- localities), with value, baseline, expected range, RAG, definition version, the data-quality status of its
-- inputs from the ingest gate, and publication status.
--
-- Baseline: the mean of the KPI's previous (up to four) quarters that had complete, clean data. Expected range:
-- the baseline plus or minus the KPI's tolerance (seed kpi_definitions), which the partnership sets, since the
-- strategies give no numeric targets. RAG: Green within the range or better; Amber worse than the range by up to
-- one more tolerance; Red beyond; a quarter whose inputs are not clean is not rated.

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
    select * from {{ ref('stg_audit__load_months') }}
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
        kpi_values.*,
        quarters.quarter_start,
        input_quality.data_quality_status
    from kpi_values
    inner join quarters using (financial_year_quarter)
    inner join input_quality using (kpi_code, financial_year_quarter)
    -- Records dated in a quarter none of whose extracts has arrived (e.g. planned treatment exits) wait for it.
    where input_quality.any_month_delivered
),

with_baseline as (
    select
        *,
        avg(case when data_quality_status in ('Passed', 'Passed with warnings') then value end) over (
            partition by kpi_code, geography_level, geography
            order by quarter_start
            rows between 4 preceding and 1 preceding
        ) as baseline
    from with_quality
),

ranged as (
    select
        with_baseline.*,
        kpis.priority_code,
        kpis.priority_name,
        kpis.kpi_name,
        kpis.unit,
        kpis.direction,
        kpis.tolerance_pct,
        kpis.publication as publication_status,
        definitions.definition_version,
        round(with_baseline.baseline * (1 - kpis.tolerance_pct / 100.0), 2) as expected_low,
        round(with_baseline.baseline * (1 + kpis.tolerance_pct / 100.0), 2) as expected_high,
        -- How far the value is on the wrong side of the expected range (negative: inside it or better).
        case kpis.direction
            when 'lower_is_better' then with_baseline.value - with_baseline.baseline * (1 + kpis.tolerance_pct / 100.0)
            else with_baseline.baseline * (1 - kpis.tolerance_pct / 100.0) - with_baseline.value
        end as shortfall
    from with_baseline
    inner join kpis using (kpi_code)
    left join definitions using (definition_code)
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
    round(baseline, 2) as baseline,
    expected_low,
    expected_high,
    case
        when data_quality_status not in ('Passed', 'Passed with warnings') then 'Not rated'
        when baseline is null or value is null then 'No baseline'
        when shortfall <= 0 then 'Green'
        when shortfall <= baseline * tolerance_pct / 100.0 then 'Amber'
        else 'Red'
    end as rag,
    coalesce(definition_version, 'Registry contract') as definition_version,
    data_quality_status,
    publication_status
from ranged
