{#- Fail closed (a post-hook on every model in intermediate, from dbt_project.yml): a table gets row-level security
    and a view security_invoker (it reads its tables with the reader's rights, so their row security applies),
    whatever else the model says. A table with row security and no policy shows a restricted analyst no row until
    the model adds one (restrict_rows_to_partners); its owner, dbt, still reads every row for the marts.
    A model that is not person-level (aggregates, open data) says so in config.meta: {person_level: false, ...};
    that is written into the catalogue as the relation's comment, which `partnership warehouse check` and the
    transform DAG read (plugins/partnership/security/row_security.py, unprotected_person_relations). -#}
{% macro protect_person_level_rows() -%}
{%- set kind = 'view' if model.config.materialized == 'view' else 'table' -%}
{%- if model.config.meta.get('person_level', true) == false -%}
comment on {{ kind }} {{ this }} is 'not person-level: declared in the model''s config.meta'
{%- elif kind == 'view' -%}
alter view {{ this }} set (security_invoker = true)
{%- else -%}
alter table {{ this }} enable row level security
{%- endif -%}
{%- endmacro %}
