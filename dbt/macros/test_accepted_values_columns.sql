{#- Each listed column holds only its accepted values (a null passes, as with dbt's accepted_values): one dbt node
    for the model, where an accepted_values test per column was a node each (155 tests on 68 models). The values
    are pasted into SQL literals as dbt's own test pastes them (an apostrophe is written doubled in the yml).
    Fails with one row per column and value not accepted: the column, the value and how many rows. -#}
{% test accepted_values_columns(model, columns) %}
{%- for column, values in columns.items() %}
select '{{ column }}' as column_name, {{ column }}::text as value, count(*) as n_rows
from {{ model }}
where {{ column }} not in ({% for value in values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor %})
group by {{ column }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
