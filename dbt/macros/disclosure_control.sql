{#- Statistical disclosure control for the publish schema.

A publish model declares, in its yml `config.meta.disclosure`:
  dims:        the columns that identify a cell (never null);
  total_dims:  those of the dims that carry a total row, whose value is `total_value` (default 'All'), so
               that for each total dim the cells with the other dims fixed sum to the total row;
  counts:      the count columns to protect;
  rates:       {rate column: [the count columns it is built on]}.

`suppress_small_counts()` (the publish folder's post-hook, inside the build's transaction, so nobody ever reads
an unsuppressed table) then, for each count column c:
  1. primary suppression: c from 1 to `threshold` (default 9) is suppressed;
  2. secondary suppression: in every group of cells that sums to a published total (one group per total dim),
     a lone suppressed cell could be recovered as total minus the others, so the group's smallest other cell
     (non-zero and not the total where possible) is suppressed too; repeated until no group has exactly one
     suppressed cell (each pass can create a lone cell in a group along another dim);
  3. c becomes null where suppressed, and c_suppressed says so.
Rates built on a suppressed count are nulled as well. The generic test `disclosure_safe` checks the result. -#}

{% macro disclosure_config(node_name=none) -%}
    {%- if node_name is none -%}
        {%- set meta = config.get('meta') or {} -%}
    {%- else -%}
        {%- set meta = {} -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == node_name -%}
            {%- do meta.update(node.config.meta or {}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set disclosure = meta.get('disclosure') -%}
    {%- if not disclosure or not disclosure.get('dims') or not disclosure.get('counts') -%}
        {{ exceptions.raise_compiler_error("publish model " ~ (node_name or this) ~ " needs config.meta.disclosure with dims and counts") }}
    {%- endif -%}
    {{ return({
        'dims': disclosure['dims'],
        'total_dims': disclosure.get('total_dims', []),
        'counts': disclosure['counts'],
        'rates': disclosure.get('rates', {}),
        'threshold': disclosure.get('threshold', 9),
        'total_value': disclosure.get('total_value', 'All'),
    }) }}
{%- endmacro %}

{#- A text key for the group a cell belongs to along one total dim: the other dims' values, nulls kept apart. -#}
{% macro _group_key(dims, along) -%}
    {%- set others = dims | reject('equalto', along) | list -%}
    {%- if others -%} row({{ others | join(', ') }})::text {%- else -%} 'all' {%- endif -%}
{%- endmacro %}

{% macro suppress_small_counts() -%}
{%- if not execute -%}{{ return('') }}{%- endif -%}  {#- yml config is not merged yet while parsing -#}
{{ suppression_sql(this, disclosure_config()) }}
{%- endmacro %}

{#- For `dbt run-operation suppress_table --args '{schema: s, table: t, disclosure: {...}}'`: the same
    suppression on any table (tests/test_disclosure_control.py checks it against hand-worked tables). -#}
{% macro suppress_table(schema, table, disclosure) -%}
{%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=table) -%}
{%- set d = {'total_dims': [], 'rates': {}, 'threshold': 9, 'total_value': 'All'} -%}
{%- do d.update(disclosure) -%}
{%- do run_query(suppression_sql(relation, d)) -%}
{%- do run_query('commit') -%}
{%- endmacro %}

{% macro suppression_sql(this, d) -%}
do $suppress$
declare
    changed bigint;
    step bigint;
begin
{%- for c in d.counts %}
    alter table {{ this }} add column if not exists {{ c }}_suppressed boolean;
    update {{ this }} set {{ c }}_suppressed = coalesce({{ c }} between 1 and {{ d.threshold }}, false);
    loop
        changed := 0;
    {%- for along in d.total_dims %}
        with cells as (
            select ctid as cell, {{ _group_key(d.dims, along) }} as grp, {{ along }} = '{{ d.total_value }}' as is_total,
                   {{ c }} as value, {{ c }}_suppressed as suppressed, row({{ d.dims | join(', ') }})::text as label
            from {{ this }}
        ),
        lone as (
            select grp from cells group by grp having count(*) filter (where suppressed) = 1
        ),
        partner as (
            select distinct on (grp) cell
            from cells inner join lone using (grp)
            where not suppressed
            order by grp, is_total, value = 0, value, label
        )
        update {{ this }} set {{ c }}_suppressed = true where ctid in (select cell from partner);
        get diagnostics step = row_count;
        changed := changed + step;
    {%- endfor %}
        exit when changed = 0;
    end loop;
    update {{ this }} set {{ c }} = null where {{ c }}_suppressed;
{%- endfor %}
{%- for rate, inputs in d.rates.items() %}
    update {{ this }} set {{ rate }} = null
    where {% for i in inputs %}{{ i }}_suppressed{% if not loop.last %} or {% endif %}{% endfor %};
{%- endfor %}
end
$suppress$
{%- endmacro %}
