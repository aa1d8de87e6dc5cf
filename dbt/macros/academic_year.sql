{#- The academic year (September to August) a date falls in, as '2024/25'. -#}
{% macro academic_year(date_column) -%}
    case
        when extract(month from {{ date_column }}) >= 9
            then extract(year from {{ date_column }})::int || '/' || lpad(((extract(year from {{ date_column }})::int + 1) % 100)::text, 2, '0')
        else (extract(year from {{ date_column }})::int - 1) || '/' || lpad((extract(year from {{ date_column }})::int % 100)::text, 2, '0')
    end
{%- endmacro %}
