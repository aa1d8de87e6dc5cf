{#- A linked person's current partnership person id, for a raw row of `dataset` read as `alias`: the linkage
    index's view gives each loaded row's current id (a merge since the row was loaded counts); the id written at
    load is the fallback. -#}
{% macro current_person_id(dataset, column, alias) -%}
    coalesce(
        (
            select linked.person_id
            from {{ source('linkage', 'record_person_id') }} as linked
            where linked.source = '{{ dataset }}:{{ column }}'
                and linked.batch_id = {{ alias }}._batch_id
                and linked.source_row = {{ alias }}._source_row
        ),
        {{ alias }}.{{ column }}
    )
{%- endmacro %}
