{#- A publish table is safe when no published count is from 1 to the threshold, no suppressed count leaks
    through its `_suppressed` flag, no rate built on a suppressed count is shown, and no suppressed cell can
    be recovered by subtracting the published cells of a group from its published total (a group never has
    exactly one suppressed cell). Returns one row per violation. -#}
{% test disclosure_safe(model) %}
{%- if not execute -%}
select 1 as violation where false  {#- the graph (and the model's meta) is there only when the test runs -#}
{%- else -%}
{%- set d = disclosure_config(model.identifier) -%}
{%- for c in d.counts %}
{% if not loop.first %}union all{% endif %}
select '{{ c }} shows a count from 1 to {{ d.threshold }}' as violation, row({{ d.dims | join(', ') }})::text as cell
from {{ model }} where {{ c }} between 1 and {{ d.threshold }}
union all
select '{{ c }} is null but not flagged as suppressed', row({{ d.dims | join(', ') }})::text
from {{ model }} where {{ c }} is null and not coalesce({{ c }}_suppressed, false)
{%- for along in d.total_dims %}
union all
select '{{ c }}: the only suppressed cell in its group along {{ along }}', grp
from (
    select {{ _group_key(d.dims, along) }} as grp, count(*) filter (where {{ c }} is null) as suppressed,
           count(*) as cells
    from {{ model }} group by 1
) groups
where suppressed = 1 and cells > 1  -- a group of one cell (a total with no parts shown) is no equation
{%- endfor %}
{%- endfor %}
{%- for rate, inputs in d.rates.items() %}
union all
select '{{ rate }} is shown on a suppressed count', row({{ d.dims | join(', ') }})::text
from {{ model }} where {{ rate }} is not null and ({% for i in inputs %}{{ i }} is null{% if not loop.last %} or {% endif %}{% endfor %})
{%- endfor %}
{%- endif %}
{% endtest %}
