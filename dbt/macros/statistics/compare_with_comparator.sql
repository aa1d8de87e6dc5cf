{#-
    OHID's comparison of a local value with a benchmark (Fingertips, "Technical Guide: Confidence Intervals"):
    significantly higher (or lower) when the benchmark lies below (above) the local value's 95% confidence
    interval, similar when inside it. Null limits or no benchmark: not compared. Higher is not better or
    worse here: the indicator's polarity is for the reader (or the scorecard) to apply.
-#}
{% macro compare_with_comparator(lower, upper, comparator, comparator_name='England') -%}
    (case
        when ({{ comparator }}) is null or ({{ lower }}) is null or ({{ upper }}) is null then 'Not compared'
        when ({{ lower }}) > ({{ comparator }}) then 'Significantly higher than {{ comparator_name }}'
        when ({{ upper }}) < ({{ comparator }}) then 'Significantly lower than {{ comparator_name }}'
        else 'Similar to {{ comparator_name }}'
    end)
{%- endmacro %}
