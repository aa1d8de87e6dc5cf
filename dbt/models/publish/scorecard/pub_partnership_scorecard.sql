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
    -- The rating compares the value with the mean of up to four earlier quarters' values, so it bounds them:
    -- withheld where one of them is built on a small count (disclosure control withholds it with this row's).
    case
        when max(case when numerator between 1 and 9 or denominator between 1 and 9 then 1 else 0 end) over (
            partition by kpi_code, geography order by financial_year_quarter rows between 4 preceding and 1 preceding
        ) = 1 then null
        else rag
    end as rag,
    definition_version,
    data_quality_status
from {{ ref('fct_partnership_scorecard') }}
where publication_status = 'publishable'
