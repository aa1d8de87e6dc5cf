{#- The periods an event is counted in, from dim_date joined on its date (as `dates`): month_start,
    financial_year, financial_year_quarter and pandemic_phase, named alike in every model so the marts group on
    one spelling. month_start: a column to use instead of dim_date's (police.uk rows carry their month, kept even
    when dim_date does not cover it). -#}
{% macro date_period_columns(dates='dates', month_start=none) -%}
    {{ month_start ~ ' as month_start' if month_start else dates ~ '.month_start' }},
    {{ dates }}.financial_year,
    {{ dates }}.financial_year_quarter,
    {{ dates }}.pandemic_phase
{%- endmacro %}
