{#- The warehouse's standard age bands; later schemes (10-25, 15-23, 18-30) sit beside them. -#}
{% macro age_band(age) -%}
    case
        when {{ age }} is null then 'Unknown'
        when {{ age }} < 10 then '0-9'
        when {{ age }} < 18 then '10-17'
        when {{ age }} < 25 then '18-24'
        when {{ age }} < 35 then '25-34'
        when {{ age }} < 50 then '35-49'
        when {{ age }} < 65 then '50-64'
        else '65+'
    end
{%- endmacro %}
