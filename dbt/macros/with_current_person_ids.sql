{#- Each raw row of the source `agency`.`table`, and for each linked person column a `current_<column>`: the
    person's current partnership person id from the linkage index's view (a merge since the row was loaded
    counts), or the id written at load when the row's record is not in the index.

    A scalar subquery per column, not a left join: the planner drops a subquery whose column a query does not
    read, as most of the staging models' data tests do not, but not a left join to the view (it joins two tables,
    so the planner cannot prove the join leaves the rows as they are). At scale 40 the joins made each test of
    stg_police__recorded_crime take 10 to 23 s where it took 1 to 2 s. The view has one row per source, batch
    and row (a unique index on linkage.loaded_record), so each subquery finds at most one. -#}
{% macro with_current_person_ids(agency, table, columns) -%}
    {%- set dataset = agency ~ '__' ~ table -%}
    select
        raw_rows.*
        {%- for column in columns %},
        coalesce(
            (
                select linked.person_id
                from {{ source('linkage', 'record_person_id') }} as linked
                where linked.source = '{{ dataset }}:{{ column }}'
                    and linked.batch_id = raw_rows._batch_id
                    and linked.source_row = raw_rows._source_row
            ),
            raw_rows.{{ column }}
        ) as current_{{ column }}
        {%- endfor %}
    from {{ source(agency, table) }} as raw_rows
{%- endmacro %}
