{#-
    Victims per category and financial quarter, and how many of them were repeat victims: the victim of two or
    more crimes of the same category in the twelve months to the end of the quarter (the lookback of
    fct_repeat_victimisation). Shared by the domestic abuse / VAWG and hate crime marts, so that "repeat victim"
    means one thing.

    events: a relation (CTE name) with category, crime_reference, event_date, victim_person_key; rows without a
            victim are ignored. A crime may appear under several categories (e.g. domestic abuse and VAWG).
    dates:  a relation with date_day, financial_year_quarter, quarter_start (dim_date).
    Returns: category, financial_year_quarter, quarter_start, victims, repeat_victims.
-#}
{% macro victims_and_repeat_victims(events, dates) -%}
    select
        victim_quarters.category,
        victim_quarters.financial_year_quarter,
        victim_quarters.quarter_start,
        count(*) as victims,
        count(*) filter (where victim_quarters.crimes_in_twelve_months >= 2) as repeat_victims
    from (
        select
            quarters.category,
            quarters.financial_year_quarter,
            quarters.quarter_start,
            quarters.victim_person_key,
            count(distinct earlier.crime_reference) as crimes_in_twelve_months
        from (
            select distinct
                {{ events }}.category,
                {{ dates }}.financial_year_quarter,
                {{ dates }}.quarter_start,
                cast({{ dates }}.quarter_start + interval '3 months' - interval '1 day' as date) as quarter_end,
                {{ events }}.victim_person_key
            from {{ events }}
            inner join {{ dates }} on {{ dates }}.date_day = {{ events }}.event_date
            where {{ events }}.victim_person_key is not null
        ) as quarters
        inner join {{ events }} as earlier
            on earlier.victim_person_key = quarters.victim_person_key
            and earlier.category = quarters.category
            and earlier.event_date > quarters.quarter_end - interval '12 months'
            and earlier.event_date <= quarters.quarter_end
        group by 1, 2, 3, 4
    ) as victim_quarters
    group by 1, 2, 3
{%- endmacro %}
