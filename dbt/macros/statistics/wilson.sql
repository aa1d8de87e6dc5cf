{#-
    Wilson score interval for a proportion x / n (Wilson 1927; Newcombe 1998, method 3), 95%, as a proportion
    from 0 to 1 (multiply by 100 for a percentage). OHID's method for proportions ("Technical Guide: Confidence
    Intervals"; PHEindicatormethods wilson_lower, wilson_upper, phe_proportion):
        (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - p))) / (2 (n + z^2)),  p = x / n
    Null where n is 0 or missing.
-#}

{% macro wilson_lower(x, n) -%}
    (case when ({{ n }}) > 0 then
        (2 * ({{ x }})::numeric + power({{ z_95() }}, 2)
         - {{ z_95() }} * sqrt(power({{ z_95() }}, 2) + 4 * ({{ x }})::numeric * (1 - ({{ x }})::numeric / ({{ n }}))))
        / (2 * (({{ n }})::numeric + power({{ z_95() }}, 2)))
    end)
{%- endmacro %}

{% macro wilson_upper(x, n) -%}
    (case when ({{ n }}) > 0 then
        (2 * ({{ x }})::numeric + power({{ z_95() }}, 2)
         + {{ z_95() }} * sqrt(power({{ z_95() }}, 2) + 4 * ({{ x }})::numeric * (1 - ({{ x }})::numeric / ({{ n }}))))
        / (2 * (({{ n }})::numeric + power({{ z_95() }}, 2)))
    end)
{%- endmacro %}
