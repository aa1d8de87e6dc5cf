{#-
    Victims per category and financial quarter, and how many of them were repeat victims: the victim of two or
    more crimes of the same category in the twelve months to the end of the quarter (the lookback of
    fct_repeat_victimisation). Shared by the domestic abuse / VAWG and hate crime marts, so that "repeat victim"
    means one thing.

    events: a relation (CTE name) with category, crime_reference, event_date, victim_person_key; rows without a
            victim are ignored. A crime may appear under several categories (e.g. domestic abuse and VAWG).
    dates:  a relation with date_day, financial_year_quarter, quarter_start (dim_date: financial quarters start
            in April, July, October and January, so quarter_start is the calendar quarter's first day).
    Returns: category, financial_year_quarter, quarter_start, victims, repeat_victims.
-#}
{% macro victims_and_repeat_victims(events, dates) -%}
    select
        quarters.category,
        quarters.financial_year_quarter,
        quarters.quarter_start,
        count(*) as victims,
        count(*) filter (where twelve.crimes_in_twelve_months >= 2) as repeat_victims
    from (
        select distinct
            {{ events }}.category,
            {{ dates }}.financial_year_quarter,
            {{ dates }}.quarter_start,
            {{ events }}.victim_person_key
        from {{ events }}
        inner join {{ dates }} on {{ dates }}.date_day = {{ events }}.event_date
        where {{ events }}.victim_person_key is not null
    ) as quarters
    inner join (
        -- The twelve months to a (financial, so calendar) quarter's end are that quarter and the three before: a
        -- window over each victim's quarters sums their crimes, linear in victim-quarters where joining each
        -- victim-quarter to the victim's crimes grew quadratically. A crime is in a category once, on one date,
        -- so the quarters' distinct crimes add up to the twelve months' distinct crimes.
        select
            category,
            victim_person_key,
            quarter_start,
            sum(crimes) over (
                partition by category, victim_person_key
                order by quarter_start
                range between interval '9 months' preceding and current row
            ) as crimes_in_twelve_months
        from (
            select
                category,
                victim_person_key,
                cast(date_trunc('quarter', event_date) as date) as quarter_start,
                count(distinct crime_reference) as crimes
            from {{ events }}
            where victim_person_key is not null
            group by 1, 2, 3
        ) as victim_quarter_crimes
    ) as twelve
        on twelve.category = quarters.category
        and twelve.victim_person_key = quarters.victim_person_key
        and twelve.quarter_start = quarters.quarter_start
    group by 1, 2, 3
{%- endmacro %}
