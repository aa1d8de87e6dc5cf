-- fct_kpi_trend_vs_2019_20 for publication: the publishable KPIs only (as the scorecard publishes them), each
-- quarter and year with its count and the percentage change from 2019/20. The 2019/20 count is not repeated
-- beside every row: it is the 2019/20 row's own (declared as the change's input in the yml, so the change is
-- withheld when either count is suppressed).

select
    kpi_code,
    kpi_name,
    unit,
    financial_year,
    quarter,
    quarters_in_period,
    numerator,
    value,
    pct_change_vs_2019_20,
    value_pct_change_vs_2019_20
from {{ ref('fct_kpi_trend_vs_2019_20') }}
where publication = 'publishable'
