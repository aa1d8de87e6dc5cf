{#-
    95% confidence limits for a Poisson count, and rates built on one.

    Methods as OHID (formerly PHE) publishes them: "Technical Guide: Confidence Intervals" (OHID Fingertips,
    https://fingertips.phe.org.uk/documents/PHDS%20Guidance%20-%20Confidence%20Intervals.pdf) and the R package
    PHEindicatormethods (byars_lower, byars_upper, phe_rate; https://github.com/ukhsa-collaboration/PHEindicatormethods).

    Byar's approximation to the exact Poisson limits of a count O (Breslow & Day 1987, vol. II, p. 69):
        lower = O * (1 - 1/(9 O) - z / (3 sqrt(O)))^3
        upper = (O + 1) * (1 - 1/(9 (O + 1)) + z / (3 sqrt(O + 1)))^3
    with z = 1.959964 (the 97.5th centile of the standard normal). For counts under 10, phe_rate uses the exact
    limits from the chi-squared distribution instead (qchisq(0.025, 2O)/2, qchisq(0.975, 2O + 2)/2); PostgreSQL
    has no chi-squared quantile, so poisson_lower/poisson_upper carry those ten values, computed once by
    bisection on the Poisson distribution function (they agree with published tables to 6 decimals).
-#}

{% macro z_95() -%} 1.959963984540054 {%- endmacro %}

{% macro byars_lower(count) -%}
    (case
        when ({{ count }}) is null then null
        when ({{ count }}) <= 0 then 0::numeric
        else ({{ count }})::numeric
            * power(1 - 1 / (9 * ({{ count }})::numeric) - {{ z_95() }} / (3 * sqrt(({{ count }})::numeric)), 3)
    end)
{%- endmacro %}

{% macro byars_upper(count) -%}
    (case
        when ({{ count }}) is null then null
        else (({{ count }}) + 1)::numeric
            * power(1 - 1 / (9 * (({{ count }}) + 1)::numeric) + {{ z_95() }} / (3 * sqrt((({{ count }}) + 1)::numeric)), 3)
    end)
{%- endmacro %}

{#- Exact limits below 10 events, Byar's from 10 (as PHEindicatormethods phe_rate). -#}
{% macro poisson_lower(count) -%}
    (case ({{ count }})::int
        when 0 then 0 when 1 then 0.025318 when 2 then 0.242209 when 3 then 0.618672 when 4 then 1.089865
        when 5 then 1.623486 when 6 then 2.201894 when 7 then 2.814363 when 8 then 3.453832 when 9 then 4.115373
        else {{ byars_lower(count) }}
    end)
{%- endmacro %}

{% macro poisson_upper(count) -%}
    (case ({{ count }})::int
        when 0 then 3.688879 when 1 then 5.571643 when 2 then 7.224688 when 3 then 8.767273 when 4 then 10.241589
        when 5 then 11.668332 when 6 then 13.059474 when 7 then 14.422675 when 8 then 15.763189
        when 9 then 17.084803
        else {{ byars_upper(count) }}
    end)
{%- endmacro %}

{#- A crude rate (count per population x multiplier) and its 95% limits; null where there is no population. -#}
{% macro crude_rate(count, population, multiplier=100000) -%}
    (case when ({{ population }}) > 0 then ({{ count }})::numeric / ({{ population }}) * {{ multiplier }} end)
{%- endmacro %}

{% macro crude_rate_lower(count, population, multiplier=100000) -%}
    (case when ({{ population }}) > 0 then {{ poisson_lower(count) }} / ({{ population }}) * {{ multiplier }} end)
{%- endmacro %}

{% macro crude_rate_upper(count, population, multiplier=100000) -%}
    (case when ({{ population }}) > 0 then {{ poisson_upper(count) }} / ({{ population }}) * {{ multiplier }} end)
{%- endmacro %}
