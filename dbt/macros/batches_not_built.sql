{#- The source CTE of a model incremental by load batch: every row of `relation`, or on an incremental run only
    the rows of batches this model has not built yet. Staging keeps the latest version of each record, so a
    corrected record arrives in a new batch and delete+insert on the model's unique key replaces the earlier row.
    Pass the relation (ref(...)) so the model names its parent. -#}
{% macro batches_not_built(relation) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where batch_id not in (select distinct batch_id from {{ this }})
    {%- endif %}
{%- endmacro %}
