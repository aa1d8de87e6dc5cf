{#- Each of the listed columns holds no null: one query for them all. A dbt `not_null` test per column was a dbt
    node each, and dbt's cost per node, not the query, was most of a build's time (394 such tests on models and
    seeds). Fails with one row per column that holds nulls: the column and how many rows. -#}
{% test not_null_columns(model, columns) %}
select found.column_name, found.null_rows
from (
    select
    {%- for column in columns %}
        count(*) filter (where {{ column }} is null) as nulls_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
) as counted
cross join lateral (values
{%- for column in columns %}
    ('{{ column }}', counted.nulls_{{ loop.index }}){{ "," if not loop.last }}
{%- endfor %}
) as found (column_name, null_rows)
where found.null_rows > 0
{% endtest %}
