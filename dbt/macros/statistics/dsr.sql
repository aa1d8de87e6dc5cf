{#-
    Directly age-standardised rate (DSR) with 95% confidence limits by Dobson's method, as OHID computes it
    (PHEindicatormethods calculate_dsr / phe_dsr; "Technical Guide: Confidence Intervals", section on DSRs;
    Dobson AJ et al., Stat Med 1991;10:457-62):

        DSR      = sum_i(w_i O_i / n_i) / sum_i(w_i) x multiplier
        var(DSR) = sum_i(w_i^2 O_i / n_i^2) / (sum_i w_i)^2
        limits   = DSR + sqrt(var(DSR) / O) x (O_L - O) x multiplier,  O = sum_i O_i,  O_L/O_U Byar's limits of O

    for age bands i with events O_i, population n_i and standard population w_i (the 2013 European Standard
    Population, seed esp2013, for OHID's indicators). These are aggregate expressions: the rows grouped are the
    age bands of one area and period, and every band must be present (O_i = 0 where no events). As OHID does,
    the rate is not given where the total count is under 10 (too unstable to publish).
-#}

{% macro dsr_value(count, population, standard_population, multiplier=100000) -%}
    (case when sum(coalesce({{ count }}, 0)) >= 10 then
        sum(coalesce({{ count }}, 0)::numeric * ({{ standard_population }}) / ({{ population }}))
        / sum({{ standard_population }}) * {{ multiplier }}
    end)
{%- endmacro %}

{% macro _dsr_limit(count, population, standard_population, multiplier, side) -%}
    (case when sum(coalesce({{ count }}, 0)) >= 10 then
        {{ dsr_value(count, population, standard_population, multiplier) }}
        + sqrt(
            sum(coalesce({{ count }}, 0)::numeric * power(({{ standard_population }})::numeric / ({{ population }}), 2))
            / power(sum({{ standard_population }})::numeric, 2)
            / sum(coalesce({{ count }}, 0))
        )
        * ({% if side == 'lower' %}{{ byars_lower('sum(coalesce(' ~ count ~ ', 0))') }}{% else %}{{ byars_upper('sum(coalesce(' ~ count ~ ', 0))') }}{% endif %}
           - sum(coalesce({{ count }}, 0)))
        * {{ multiplier }}
    end)
{%- endmacro %}

{% macro dsr_lower(count, population, standard_population, multiplier=100000) -%}
    {{ _dsr_limit(count, population, standard_population, multiplier, 'lower') }}
{%- endmacro %}

{% macro dsr_upper(count, population, standard_population, multiplier=100000) -%}
    {{ _dsr_limit(count, population, standard_population, multiplier, 'upper') }}
{%- endmacro %}
