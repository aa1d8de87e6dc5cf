{#
    Hour of the week, 0 = Monday 00:00-00:59 ... 167 = Sunday 23:00-23:59 (ISO weeks start on Monday).
    hour_of_week(ts):          from a timestamp.
    hour_of_week(day, hour):   from a date and an hour (0-23) held apart, e.g. an offence time 'HH:MM'; null when
                               the hour is null.
#}
{% macro hour_of_week(day, hour=none) -%}
    {%- if hour is none -%}
    ((cast(extract(isodow from {{ day }}) as integer) - 1) * 24 + cast(extract(hour from {{ day }}) as integer))
    {%- else -%}
    ((cast(extract(isodow from {{ day }}) as integer) - 1) * 24 + cast({{ hour }} as integer))
    {%- endif -%}
{%- endmacro %}
