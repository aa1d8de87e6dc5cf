{#- The source CTE of a model incremental by load batch: every row of `relation`, or on an incremental run only
    the rows of batches this model has not built yet. Staging keeps the latest version of each record, so a
    corrected record arrives in a new batch and delete+insert on the model's unique key replaces the earlier row.
    Pass the relation (ref(...)) so the model names its parent.

    A model that keeps linked persons names its `unique_key` and `person_columns`: a row built before whose person
    has a new id since (record linkage merged or split people) is built again, so no copy keeps a stale id. Each
    such row is looked up by the key: the model indexes it (unique), or this scans the table once a row. -#}
{% macro batches_not_built(relation, unique_key=none, person_columns=[]) -%}
    select * from {{ relation }} as latest
    {%- if is_incremental() %}
    where latest.batch_id not in (select distinct batch_id from {{ this }})
    {%- if person_columns %}
        or exists (
            select 1
            from {{ this }} as built
            where built.{{ unique_key }} = latest.{{ unique_key }}
                and (
                    {%- for column in person_columns %}
                    built.{{ column }} is distinct from latest.{{ column }}{{ ' or' if not loop.last }}
                    {%- endfor %}
                )
        )
    {%- endif %}
    {%- endif %}
{%- endmacro %}
