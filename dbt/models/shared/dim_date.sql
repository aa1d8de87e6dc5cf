-- One row per calendar day, with the periods the partnership reports by: calendar month, quarter and year,
-- the financial year (April to March, as the strategies use) and its quarter, and the pandemic phase.
-- Indexed on date_day: a model whose rows the planner underestimates (a filtered window in staging) then joins
-- its dates by index lookups instead of scanning all 5,844 days for each row.
{{ config(indexes=[{'columns': ['date_day'], 'unique': True}]) }}

with

days as (
    select cast(day as date) as date_day
    from generate_series(date '2015-01-01', date '2030-12-31', interval '1 day') as day
),

phases as (
    select cast(valid_from as date) as lockdown_start
    from {{ ref('definitions') }}
    where definition_code = 'pandemic_phase'
)

select
    date_day,
    cast(date_trunc('month', date_day) as date) as month_start,
    extract(year from date_day)::int as calendar_year,
    extract(quarter from date_day)::int as calendar_quarter,
    -- Financial year 2021/22 runs from 1 April 2021 to 31 March 2022.
    extract(year from date_day - interval '3 months')::int as financial_year_start,
    concat(
        extract(year from date_day - interval '3 months')::int, '/',
        lpad(((extract(year from date_day - interval '3 months')::int + 1) % 100)::text, 2, '0')
    ) as financial_year,
    extract(quarter from date_day - interval '3 months')::int as financial_quarter,
    concat(
        extract(year from date_day - interval '3 months')::int, '/',
        lpad(((extract(year from date_day - interval '3 months')::int + 1) % 100)::text, 2, '0'),
        ' Q', extract(quarter from date_day - interval '3 months')::int
    ) as financial_year_quarter,
    cast(date_trunc('quarter', date_day) as date) as quarter_start,
    extract(isodow from date_day)::int as iso_day_of_week,
    case
        when date_day < phases.lockdown_start then 'Pre-pandemic'
        when date_day < date '2021-07-19' then 'Pandemic'
        else 'After the pandemic'
    end as pandemic_phase
from days
cross join phases
