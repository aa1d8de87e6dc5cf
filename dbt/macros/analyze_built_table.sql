{#- A post-hook on every model and seed (dbt_project.yml): a table dbt has just built has no planner statistics
    until autovacuum gets round to it, and the models and tests that read it straight after are planned for a
    table of one row. The cross-agency cohort's tests, for one, took 5 to 24 s each as nested loops (50 ms once
    analysed). Views have nothing to analyse. -#}
{% macro analyze_built_table() -%}
{%- if model.config.materialized in ('table', 'incremental', 'seed', 'snapshot') -%}
analyze {{ this }}
{%- endif -%}
{%- endmacro %}
