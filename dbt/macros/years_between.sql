{#- Whole years from one date to a later one (0 when either is missing): a person's age at the later date is
    their age at the earlier plus this, as for a suspect whose offence was recorded years after it happened. -#}
{% macro years_between(earlier, later) -%}
    coalesce(cast(extract(year from age({{ later }}, {{ earlier }})) as integer), 0)
{%- endmacro %}
