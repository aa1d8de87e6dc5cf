{#- A percentage indicator of fct_substance_misuse: the share of `events` rows meeting `flag` (successful exits
    of all exits, criminal justice referrals of all episodes started), by financial year and by financial
    quarter, per substance group and for 'All' (the cube), with its Wilson 95% limits, in the mart's indicator
    columns (no crude rate). One definition, so the two treatment indicators are counted alike.
    events: a relation with financial_year, financial_year_quarter, substance_group, month_start and `flag`. -#}
{% macro percentage_by_period_and_substance(events, flag, indicator) -%}
    select
        period_type,
        period,
        financial_year,
        '{{ indicator }}' as indicator,
        substance_group,
        numerator,
        denominator,
        months_covered,
        100.0 * numerator / denominator as value,
        100 * {{ wilson_lower('numerator', 'denominator') }} as lower_95,
        100 * {{ wilson_upper('numerator', 'denominator') }} as upper_95,
        null::numeric as crude_value,
        null::numeric as crude_lower_95,
        null::numeric as crude_upper_95
    from (
        select
            'Financial year' as period_type,
            financial_year as period,
            financial_year,
            coalesce(substance_group, 'All') as substance_group,
            count(*) filter (where {{ flag }}) as numerator,
            count(*) as denominator,
            count(distinct month_start) as months_covered
        from {{ events }}
        group by financial_year, cube(substance_group)
        union all
        select
            'Financial quarter',
            financial_year_quarter,
            financial_year,
            coalesce(substance_group, 'All'),
            count(*) filter (where {{ flag }}),
            count(*),
            count(distinct month_start)
        from {{ events }}
        group by financial_year_quarter, financial_year, cube(substance_group)
    ) as counts
{%- endmacro %}
