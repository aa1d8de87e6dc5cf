{#- The rows of a raw table without a record key (police.uk layouts) that count: for each period (month), those
    of the latest batch holding that period. A re-issued or re-exported file for a month already loaded
    supersedes the earlier batch's rows of that month only; raw keeps every batch (the audit trail), and the
    loader records each replacement in audit.load_batch.supersedes.

    The period comes from the registry (supersedes_by), through the source's meta that `partnership registry
    sync` writes: the first seven characters (YYYY-MM) of the named raw text column. With `within` (columns), a
    file supersedes only the rows of the month with its own values in them: police.uk files are per force, so
    British Transport Police's file for a month leaves the home force's rows of that month counted. -#}
{% macro latest_issue(source_name, table_name) -%}
{%- set relation = source(source_name, table_name) -%}
{%- if not execute -%}
    select * from {{ relation }}  {#- parsing: the graph (and the source's meta) is not there yet #}
{%- else -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
                   | selectattr('name', 'equalto', table_name) | first -%}
    {%- set rule = node.meta.get('supersedes_by') or {} -%}
    {%- if rule.get('period') != 'month' or not rule.get('column') -%}
        {{ exceptions.raise_compiler_error(source_name ~ '.' ~ table_name ~ ": latest_issue needs the registry's supersedes_by (period: month)") }}
    {%- endif -%}
    select issued.*
    from (
        select
            *,
            max(_batch_id) over (
                partition by left({{ adapter.quote(rule.column) }}, 7)
                {%- for column in rule.get('within') or [] %}, {{ adapter.quote(column) }}{% endfor %}
            ) as _latest_batch_id
        from {{ relation }}
    ) as issued
    where issued._batch_id = issued._latest_batch_id
{%- endif -%}
{%- endmacro %}
