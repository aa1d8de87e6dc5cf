-- fct_asb_requests for publication at city level: requests by financial year, month and category, with
-- totals over months (month 'All': the financial year) and over categories (category 'All'), and Covid-19-
-- related requests by month and by category; disclosure control by partnership.publish (cells in the yml).
--
-- The year totals are cells of this table, not of another one, so secondary suppression protects the
-- months against them: a year total published elsewhere with a different suppression pattern could give a
-- suppressed month away.

with

requests as (
    select * from {{ ref('fct_asb_requests') }}
)

select
    financial_year,
    case when grouping(month_start) = 1 then 'All' else to_char(month_start, 'YYYY-MM') end as month,
    case when grouping(category) = 1 then 'All' else category end as category,
    sum(requests)::bigint as requests,
    -- Covid-19-related requests by month or by category, not both: a month's requests of one category that
    -- were about Covid-19 are a handful (most such cells were suppressed).
    case when grouping(month_start) = 1 or grouping(category) = 1 then sum(covid_related_requests)::bigint end
        as covid_related_requests,
    case when grouping(month_start) = 1 or grouping(category) = 1
        then round(100.0 * sum(covid_related_requests) / sum(requests), 1) end as covid_related_pct
from requests
group by financial_year, cube(month_start, category)
