{#- A recorded ethnicity reduced to the five broad groups of the Census (Asian, Black, Mixed, Other, White), or
    'Not stated'. Takes the broad group itself or a Census/police.uk detailed label such as
    'Black/African/Caribbean/Black British - African' or 'Mixed/Multiple ethnic groups - White and Asian'.
    'Not stated' is its own category wherever it appears: police.uk's self-defined
    'Other ethnic group - Not stated' is a refusal, not the Other group, and a rate must not count it as Other. -#}
{% macro broad_ethnic_group(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then 'Not stated'
        when {{ column }} ilike '%not stated%' or {{ column }} ilike '%not recorded%' then 'Not stated'
        when {{ column }} ilike 'white%' then 'White'
        when {{ column }} ilike 'black%' then 'Black'
        when {{ column }} ilike 'asian%' then 'Asian'
        when {{ column }} ilike 'mixed%' then 'Mixed'
        when {{ column }} ilike 'other%' then 'Other'
        else 'Not stated'
    end
{%- endmacro %}
