{#- Each raw row of the source `agency`.`table`, and for each linked person column a `current_<column>`: the
    person's current partnership person id from the linkage index's view (a merge since the row was loaded
    counts), or the id written at load when the row's record is not in the index.

    A left join, not a lookup per row: the planner hashes or merges the view once where a correlated subquery
    probed two indexes for every raw row, every time a model or test reads the staging view. The view has one
    row per source, batch and row (a unique index on linkage.loaded_record), so the join adds no rows. -#}
{% macro with_current_person_ids(agency, table, columns) -%}
    {%- set dataset = agency ~ '__' ~ table -%}
    select
        raw_rows.*
        {%- for column in columns %},
        coalesce({{ column }}_linked.person_id, raw_rows.{{ column }}) as current_{{ column }}
        {%- endfor %}
    from {{ source(agency, table) }} as raw_rows
    {%- for column in columns %}
    left join {{ source('linkage', 'record_person_id') }} as {{ column }}_linked
        on {{ column }}_linked.source = '{{ dataset }}:{{ column }}'
        and {{ column }}_linked.batch_id = raw_rows._batch_id
        and {{ column }}_linked.source_row = raw_rows._source_row
    {%- endfor %}
{%- endmacro %}
