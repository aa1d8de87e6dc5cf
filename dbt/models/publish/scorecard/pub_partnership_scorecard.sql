-- The publishable KPIs of the scorecard, for the scrutiny committee and the public: small counts suppressed,
-- with the rate built on them. Baselines and expected ranges stay internal: a baseline is an average of earlier
-- quarters' values, so it could give back a value suppressed there; the RAG rating is published instead.

select
    kpi_code,
    priority_code,
    kpi_name,
    financial_year_quarter,
    geography_level,
    geography,
    numerator,
    denominator,
    value,
    unit,
    rag,
    definition_version,
    data_quality_status
from {{ ref('fct_partnership_scorecard') }}
where publication_status = 'publishable'
